/*
 * The option parser: a command's arguments against a table of its
 * options, each stored at an offset into a struct the caller gives (see
 * struct cli_command), the positional arguments kept in order; and the
 * checks of values that come from the command line. A usage error is said
 * here (cli_usage_err), with the command's name.
 */
#ifndef CUBICLE_CLI_OPTIONS_H
#define CUBICLE_CLI_OPTIONS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

enum opt_kind {
	OPT_FLAG,       /* a bool, set by --name */
	OPT_VALUE,      /* a const char *: --name V, or --name=V */
	OPT_PAIR,       /* a struct json_object *, made on first use: --name K=V, repeatable */
};

struct opt {
	const char *name;       /* "--template"; a row with NULL ends the table */
	const char *alias;      /* "-o", or NULL */
	enum opt_kind kind;
	size_t at;              /* offsetof the field in the caller's struct */
};

struct opt_args {
	int n;                  /* positional arguments, moved to argv[0..n) */
	bool help;              /* --help or -h came: nothing after it was looked at */
};

/*
 * Parses a command's arguments argv[1..argc) (argv[0] is its name) against
 * opts (NULL: none) into store, and moves the positional ones to the front
 * of argv. After `stop` positional arguments (if stop > 0) the rest are
 * positional too, as is all after "--". 0, -EINVAL after saying a usage
 * error, or -ENOMEM after saying so.
 */
int opt_parse(const struct cli *c, const struct opt *opts, void *store, int argc, char **argv,
	      int stop, struct opt_args *out);

/* Puts the K=V objects opt_parse made in store (NULL: nothing). */
void opt_free(const struct opt *opts, void *store);

/* s as a whole number in lo..hi into *out; false if it is not one. */
bool opt_long(const char *s, long lo, long hi, long *out);

/* Whether s is one of the NULL-terminated words. */
bool opt_one_of(const char *s, const char *const *words);

/*
 * Adds the number s (NULL: nothing) as key to o: 0, or -EINVAL after a
 * usage error naming `what` and the range lo..hi.
 */
int opt_add_num(const struct cli *c, struct json_object *o, const char *key, const char *what,
		const char *s, long lo, long hi);

#endif
