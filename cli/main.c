/*
 * cubicle: the command-line client of cubicled (docs/cli.md). main takes
 * the options before the command, and the table below names each command
 * and how many positional arguments it takes; dispatch() parses a
 * command's options, checks that count once, and runs it. Exit statuses:
 * 0; 1 a failure; 2 bad usage; exec answers the command's own status, and
 * 125 for its own failures.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "options.h"
#include "outfile.h"

static const char main_usage[] =
	"usage: cubicle [--url URL] [--key KEY | --key-file FILE] COMMAND [ARGS]\n"
	"\n"
	"The command-line client of cubicled, the Cubicle sandbox service.\n"
	"\n"
	"Sandboxes:\n"
	"  create       start a sandbox; prints its id\n"
	"  list         the sandboxes, as a table\n"
	"  get          a sandbox, as JSON\n"
	"  kill         end sandboxes\n"
	"  timeout      end a sandbox some seconds from now\n"
	"Network:\n"
	"  network      its address and egress rules; change the rules\n"
	"  port         how a server in it is reached through cubicled\n"
	"Screen and input:\n"
	"  screenshot   save the screen as PNG or JPEG\n"
	"  move, click, scroll, drag\n"
	"               the pointer\n"
	"  type, key    the keyboard\n"
	"  cursor       where the pointer is\n"
	"  actions      run a batch of actions from JSON\n"
	"  stream       how to watch it with a VNC viewer\n"
	"Commands and files:\n"
	"  exec         run a command; its output comes as it is written\n"
	"  cp           copy a file in or out\n"
	"Agents:\n"
	"  mcp          serve the Model Context Protocol on stdin and stdout\n"
	"\n"
	"Options (before COMMAND):\n"
	"  --url URL         cubicled's address (else $CUBICLE_URL, else\n"
	"                    " CLI_DEFAULT_URL ")\n"
	"  --key KEY         the API key (else $CUBICLE_API_KEY)\n"
	"  --key-file FILE   read the API key from FILE's first line (else\n"
	"                    $CUBICLE_API_KEY_FILE, else " CLI_DEFAULT_KEY_FILE "\n"
	"                    when readable)\n"
	"  --version         print cubicle's version\n"
	"  -h, --help        this text\n"
	"\n"
	"'cubicle COMMAND --help' (or 'cubicle help COMMAND') tells more of each.\n"
	"Exit status: 0 done; 1 failed (one line on stderr says why); 2 bad usage;\n"
	"exec: the command's own (125 when cubicle failed).\n";

static const char help_usage[] =
	"usage: cubicle help [COMMAND]\n"
	"\n"
	"Prints the help of COMMAND, or of cubicle.\n";

static int cmd_help(struct cli *c, void *opts, int n, char **argv);

static const struct cli_command help_command = { help_usage, NULL, 0, cmd_help };

/* A row of the table: a command, its positional arguments, and its status for a failure. */
struct command {
	const char *name;
	const struct cli_command *cmd;
	int min, max;           /* how many positional arguments (max -1: any number) */
	const char *want;       /* them, as a usage error says */
	int stop;               /* after this many the rest are its own (a -- there is dropped) */
	int failed;             /* the exit status when cubicle itself fails */
};

static const struct command commands[] = {
	/* name         command          min max  want               stop  failed */
	{ "create",     &cli_create,     0,  0,  "no arguments",      0,   CLI_EXIT_FAILED },
	{ "list",       &cli_list,       0,  0,  "no arguments",      0,   CLI_EXIT_FAILED },
	{ "get",        &cli_get,        1,  1,  "ID",                0,   CLI_EXIT_FAILED },
	{ "kill",       &cli_kill,       1, -1,  "ID...",             0,   CLI_EXIT_FAILED },
	{ "timeout",    &cli_timeout,    2,  2,  "ID SECONDS",        0,   CLI_EXIT_FAILED },
	{ "network",    &cli_network,    1,  1,  "ID",                0,   CLI_EXIT_FAILED },
	{ "port",       &cli_port,       2,  2,  "ID PORT",           0,   CLI_EXIT_FAILED },
	{ "screenshot", &cli_screenshot, 1,  1,  "ID",                0,   CLI_EXIT_FAILED },
	{ "move",       &cli_move,       3,  3,  "ID X Y",            0,   CLI_EXIT_FAILED },
	{ "click",      &cli_click,      1,  3,  "ID [X Y]",          0,   CLI_EXIT_FAILED },
	{ "scroll",     &cli_scroll,     1,  3,  "ID [X Y]",          0,   CLI_EXIT_FAILED },
	{ "type",       &cli_type,       2,  2,  "ID TEXT",           0,   CLI_EXIT_FAILED },
	{ "key",        &cli_key,        2, -1,  "ID KEYS...",        0,   CLI_EXIT_FAILED },
	{ "drag",       &cli_drag,       5,  5,  "ID X1 Y1 X2 Y2",    0,   CLI_EXIT_FAILED },
	{ "cursor",     &cli_cursor,     1,  1,  "ID",                0,   CLI_EXIT_FAILED },
	{ "actions",    &cli_actions,    1,  2,  "ID [FILE]",         0,   CLI_EXIT_FAILED },
	{ "stream",     &cli_stream,     1,  1,  "ID",                0,   CLI_EXIT_FAILED },
	{ "exec",       &cli_exec,       2, -1,  "ID CMD...",         1,   CLI_EXIT_EXEC_FAILED },
	{ "cp",         &cli_cp,         2,  2,  "SRC DST",           0,   CLI_EXIT_FAILED },
	{ "mcp",        &cli_mcp,        0,  0,  "no arguments",      0,   CLI_EXIT_FAILED },
	{ "help",       &help_command,   0,  1,  "[COMMAND]",         0,   CLI_EXIT_FAILED },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Prints the help of command argv[0], or cubicle's. */
static int cmd_help(struct cli *c, void *opts, int n, char **argv)
{
	const struct command *cmd = n ? find_command(argv[0]) : NULL;
	int st;

	(void)opts;
	if (!n) {
		fputs(main_usage, stdout);
		st = 0;
	} else if (!cmd) {
		cli_usage_err(c, "unknown command '%s'", argv[0]);
		st = CLI_EXIT_USAGE;
	} else {
		fputs(cmd->cmd->usage, stdout);
		st = 0;
	}
	return st;
}

/* Drops a "--" right after the first r->stop positional arguments of the n (exec ID -- CMD). */
static void drop_dashes(const struct command *r, int *n, char **argv)
{
	if (r->stop && *n > r->stop && !strcmp(argv[r->stop], "--")) {
		memmove(argv + r->stop, argv + r->stop + 1,
			(size_t)(*n - r->stop - 1) * sizeof(*argv));
		(*n)--;
	}
}

/* Checks there are r->min..r->max positional arguments; 0, or -EINVAL after a usage error. */
static int check_count(const struct cli *c, const struct command *r, int n, char **argv)
{
	if (n < r->min)
		return cli_usage_err(c, "missing arguments: want %s", r->want);
	if (r->min && !*argv[0])
		return cli_usage_err(c, "an empty first argument: want %s", r->want);
	if (r->max >= 0 && n > r->max)
		return cli_usage_err(c, "unexpected argument '%s'", argv[r->max]);
	return 0;
}

/*
 * Runs command r on its arguments argv[1..argc) (argv[0] is its name):
 * its help, a usage error, or what it answers. The exit status.
 */
static int dispatch(struct cli *c, const struct command *r, int argc, char **argv)
{
	const struct cli_command *cmd = r->cmd;
	struct opt_args a = { 0 };
	void *opts = NULL;
	int ret = 0, st;

	c->cmd = r->name;
	if (cmd->opts_size && !(opts = calloc(1, cmd->opts_size))) {
		cli_fail("out of memory");
		ret = -ENOMEM;
	}
	if (!ret)
		ret = opt_parse(c, cmd->opts, opts, argc, argv, r->stop, &a);
	if (!ret && !a.help) {
		drop_dashes(r, &a.n, argv);
		ret = check_count(c, r, a.n, argv);
	}
	if (ret == -ENOMEM) {
		st = r->failed;
	} else if (ret < 0) {
		st = CLI_EXIT_USAGE;
	} else if (a.help) {
		fputs(cmd->usage, stdout);
		st = 0;
	} else {
		st = cmd->run(c, opts, a.n, argv);
	}
	opt_free(cmd->opts, opts);
	free(opts);
	return st;
}

/* The options before the command. */
struct globals {
	const char *url, *key, *key_file;
	bool version;
};

static const struct opt global_opts[] = {
	{ "--url", NULL, OPT_VALUE, offsetof(struct globals, url) },
	{ "--key", NULL, OPT_VALUE, offsetof(struct globals, key) },
	{ "--key-file", NULL, OPT_VALUE, offsetof(struct globals, key_file) },
	{ "--version", NULL, OPT_FLAG, offsetof(struct globals, version) },
	{ NULL },
};

/* s, or NULL when s is NULL or empty. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* The URL (without trailing slashes) and where the key comes from; 0, or -EINVAL after saying. */
static int settle(struct cli *c, const struct globals *g)
{
	const char *url = nonempty(g->url) ?: nonempty(getenv("CUBICLE_URL")) ?: CLI_DEFAULT_URL;
	size_t len = strlen(url);

	while (len > 1 && url[len - 1] == '/')
		len--;
	if (len >= sizeof(c->url))
		return cli_usage_err(c, "--url: too long a URL");
	memcpy(c->url, url, len);
	c->url[len] = '\0';
	c->key = g->key;
	c->key_file = g->key_file;
	if (!c->key && !c->key_file) {
		c->key = nonempty(getenv("CUBICLE_API_KEY"));
		if (!c->key)
			c->key_file = nonempty(getenv("CUBICLE_API_KEY_FILE"));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct cli c;
	struct globals g = { 0 };
	const struct command *r;
	struct opt_args a;
	int ret, st;

	if ((ret = opt_parse(&c, global_opts, &g, argc, argv, 1, &a)) < 0)
		return ret == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
	if (a.help) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (g.version) {
		puts("cubicle " CLI_VERSION);
		return 0;
	}
	if (!a.n) {
		cli_usage_err(&c, "no command given");
		return CLI_EXIT_USAGE;
	}
	if (!(r = find_command(argv[0]))) {
		cli_usage_err(&c, "unknown command '%s'", argv[0]);
		return CLI_EXIT_USAGE;
	}
	if (settle(&c, &g) < 0)
		return CLI_EXIT_USAGE;
	outfile_catch_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c.curl = curl_easy_init())) {
		cli_fail("cannot start libcurl");
		return r->failed;
	}
	st = dispatch(&c, r, a.n, argv);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return st;
}
