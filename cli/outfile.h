/*
 * Files made whole or not at all: what is written goes to a temp file
 * beside the target, renamed to it on success and removed on failure, or
 * by a signal that ends cubicle. "-" is stdout. Failures are said here, in
 * one line (cli_fail). One file is open at a time.
 */
#ifndef CUBICLE_CLI_OUTFILE_H
#define CUBICLE_CLI_OUTFILE_H

#include <stdio.h>

struct outfile {
	const char *path;       /* the file to make; "-" is stdout */
	char *tmp;              /* the temp file beside it, renamed to path at the end */
	FILE *f;                /* write here */
};

/* Has SIGINT, SIGTERM and SIGHUP remove the temp file being written before they end cubicle. */
void outfile_catch_signals(void);

/* Opens o->f: stdout for "-", else a temp file beside path; 0, or -errno after saying why not. */
int outfile_open(struct outfile *o, const char *path);

/* Closes o->f and renames the temp file to its path; 0, or -errno after saying (then aborted). */
int outfile_commit(struct outfile *o);

/* Undoes outfile_open; harmless after outfile_commit and on a zeroed outfile. */
void outfile_abort(struct outfile *o);

#endif
