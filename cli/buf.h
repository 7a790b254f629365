/*
 * A growing byte buffer, always NUL-terminated once anything was added:
 * an answer, a URL path, a line of a stream, text read from a file.
 * Appends fail sticky: after one fails (out of memory, or over BUF_MAX)
 * later ones are dropped and `failed` stays set, so a chain of appends is
 * checked once, where the buffer is used.
 */
#ifndef CUBICLE_CLI_BUF_H
#define CUBICLE_CLI_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define BUF_MAX (256u << 20)        /* an answer (or one NDJSON line) held in memory */

struct buf {
	char *data;             /* NUL-terminated once anything was added */
	size_t len, cap;
	bool failed;            /* out of memory, or over BUF_MAX: later adds are dropped */
};

/* Appends p[0..n) (see the head of this file for failures). */
void buf_add(struct buf *b, const void *p, size_t n);

/* Frees b's bytes and zeroes it; b may be zeroed already. */
void buf_free(struct buf *b);

/*
 * Appends f, to its end, to b (whose data is not NULL after a 0): 0, -EFBIG
 * past max bytes, -ENOMEM, or the read's -errno. Says nothing.
 */
int buf_read(struct buf *b, FILE *f, size_t max);

#endif
