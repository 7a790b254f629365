/*
 * cubicle, the command-line client of cubicled (docs/cli.md): what every
 * part of it shares. The state of one run (struct cli), the part of a
 * command that lives beside its code (struct cli_command; main.c's table
 * names the commands and counts their arguments), the exit statuses, and
 * the two ways cubicle says a failure: one line on stderr each.
 */
#ifndef CUBICLE_CLI_H
#define CUBICLE_CLI_H

#include <curl/curl.h>
#include <stddef.h>

#define CLI_VERSION "0.1"
#define CLI_DEFAULT_URL "http://127.0.0.1:8080"
#define CLI_DEFAULT_KEY_FILE "/var/lib/cubicle/api-key"

#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_EXEC_FAILED 125    /* exec: cubicle itself failed, as env(1) and docker */

/* Text to type, a command's stdin, a batch of actions: read whole, up to this. */
#define CLI_STDIN_MAX (16u << 20)

struct opt;

struct cli {
	char url[2048];                 /* cubicled's, without a trailing slash */
	const char *key;                /* --key or CUBICLE_API_KEY, or key_buf */
	const char *key_file;           /* --key-file or CUBICLE_API_KEY_FILE */
	char key_buf[512];
	const char *cmd;                /* the command running; NULL while in the globals */
	CURL *curl;                     /* one handle: requests reuse its connection */
};

/*
 * A command's own part: its help, its options (a table of struct opt, at
 * offsets into a struct of opts_size bytes that starts zeroed; NULL: none),
 * and run. run is called once the options and the count of positional
 * arguments argv[0..n) are good; it gets that struct, whose K=V objects
 * stay the caller's, and returns the command's exit status.
 */
struct cli_command {
	const char *usage;
	const struct opt *opts;
	size_t opts_size;
	int (*run)(struct cli *c, void *opts, int n, char **argv);
};

/* Says one line on stderr, "cubicle: ...", with any control character made a space. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Says a usage error of the command running, and the help to read:
 * "cubicle: CMD: what (see 'cubicle CMD --help')". Returns -EINVAL, so that
 * a check can `return cli_usage_err(...)`.
 */
int cli_usage_err(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
