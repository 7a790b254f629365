/*
 * exec: a command run in a sandbox (POST /sandboxes/ID/commands), its
 * output streamed back as NDJSON events and written to ours as it comes.
 * Its exit status is the command's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "errf.h"
#include "http.h"
#include "json.h"
#include "options.h"

#define EXIT_TIMED_OUT 124          /* the command ran past --timeout-ms, as timeout(1) */

static const char exec_usage[] =
	"usage: cubicle exec [options] ID CMD [ARG...]\n"
	"\n"
	"Runs a command in sandbox ID; its stdout and stderr come to ours as it\n"
	"writes them. One CMD runs through bash (pipes, ;, $VARS work); with ARGs\n"
	"it runs as a program and its arguments. Options go before ID; a -- after\n"
	"ID is dropped.\n"
	"\n"
	"  --cwd DIR          the folder to run in\n"
	"  --user U           the user to run as\n"
	"  --env K=V          an environment variable (repeatable)\n"
	"  --timeout-ms N     kill it after N ms (1..86400000)\n"
	"  -i, --stdin        send our stdin (read to its end first) as its stdin\n"
	"\n"
	"Exit status: the command's; 128+N if signal N ended it; 124 if it timed\n"
	"out; 125 if cubicle failed (the server or the network); 2 bad usage.\n"
	"\n"
	"example: cubicle exec 3f0c9a7be21d4c55 'uname -a; ls /tmp'\n";

struct exec_args {
	const char *cwd, *user, *timeout_ms;
	struct json_object *env;
	bool in;
};

static const struct opt exec_opts[] = {
	{ "--cwd", NULL, OPT_VALUE, offsetof(struct exec_args, cwd) },
	{ "--user", NULL, OPT_VALUE, offsetof(struct exec_args, user) },
	{ "--env", NULL, OPT_PAIR, offsetof(struct exec_args, env) },
	{ "--timeout-ms", NULL, OPT_VALUE, offsetof(struct exec_args, timeout_ms) },
	{ "--stdin", "-i", OPT_FLAG, offsetof(struct exec_args, in) },
	{ NULL },
};

struct exec_run {
	struct buf line;        /* an NDJSON line not yet ended */
	int status;             /* the command's, once `ended` */
	bool ended;
};

/*
 * Adds the command cmd[0..n) and e's options but --timeout-ms to body b,
 * with our stdin under -i; 0, or -errno after saying why not.
 */
static int exec_body(const struct exec_args *e, char **cmd, int n, struct json_object *b)
{
	struct json_object *list;
	struct buf in = { 0 };
	int ret;

	if (n == 1) {
		cj_add_str(b, "cmd", cmd[0]);
	} else {
		list = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_string(cmd[i]));
		json_object_object_add(b, "argv", list);
	}
	cj_add_str(b, "cwd", e->cwd);
	cj_add_str(b, "user", e->user);
	if (e->env)
		json_object_object_add(b, "env", json_object_get(e->env));
	cj_add_str(b, "stream", "ndjson");
	if (!e->in)
		return 0;
	if ((ret = buf_read(&in, stdin, CLI_STDIN_MAX)) < 0)
		cli_fail("stdin: %s", strerror(-ret));
	else
		json_object_object_add(b, "stdin",
				       json_object_new_string_len(in.data, (int)in.len));
	buf_free(&in);
	return ret;
}

/* The status of an exit event, as a shell gives it. */
static int exit_status(struct json_object *o)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, "timed_out", &v) && json_object_get_boolean(v))
		return EXIT_TIMED_OUT;
	if (json_object_object_get_ex(o, "signal", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int(v) > 0)
		return 128 + (json_object_get_int(v) & 127);
	if (json_object_object_get_ex(o, "exit_code", &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int(v) & 255;
	return CLI_EXIT_EXEC_FAILED;
}

/* Writes an output event's data to f; 0, or -errno after noting why in h->why. */
static int write_output(struct http *h, FILE *f, struct json_object *data)
{
	size_t len = (size_t)json_object_get_string_len(data);

	if (fwrite(json_object_get_string(data), 1, len, f) == len && !fflush(f))
		return 0;
	errf(h->why, sizeof(h->why), "%s: %s", f == stderr ? "stderr" : "stdout", strerror(errno));
	return -EIO;
}

/*
 * One NDJSON event: output to ours, the exit, or an error; 0, or -errno
 * after noting why in h->why.
 */
static int exec_event(struct http *h, struct exec_run *x, const char *line, size_t len)
{
	struct json_object *o = cj_parse(line, len), *data;
	const char *type = cj_str(o, "type");
	int ret = 0;

	if (!type) {
		ret = errf(h->why, sizeof(h->why), "not an event of the command: %.*s",
			   (int)(len < 80 ? len : 80), line);
	} else if ((!strcmp(type, "stdout") || !strcmp(type, "stderr")) &&
		   json_object_object_get_ex(o, "data", &data) &&
		   json_object_is_type(data, json_type_string)) {
		ret = write_output(h, strcmp(type, "stderr") ? stdout : stderr, data);
	} else if (!strcmp(type, "exit")) {
		x->status = exit_status(o);
		x->ended = true;
	} else if (!strcmp(type, "error")) {
		ret = errf(h->why, sizeof(h->why), "%s: %s", cj_str(o, "code") ?: "error",
			   cj_str(o, "message") ?: "the command failed");
	}
	json_object_put(o);
	return ret;
}

/* The sink of exec's answer: whole lines to exec_event, the rest kept for later. */
static int exec_sink(struct http *h, const char *p, size_t n)
{
	struct exec_run *x = h->opaque;
	size_t start = 0;
	char *nl;
	int ret;

	buf_add(&x->line, p, n);
	if (x->line.failed) {
		errf(h->why, sizeof(h->why), "out of memory for a line of output (or over %u MiB)",
		     BUF_MAX >> 20);
		return -ENOMEM;
	}
	while ((nl = memchr(x->line.data + start, '\n', x->line.len - start))) {
		size_t len = (size_t)(nl - (x->line.data + start));

		if (len && (ret = exec_event(h, x, x->line.data + start, len)) < 0)
			return ret;
		start += len + 1;
	}
	memmove(x->line.data, x->line.data + start, x->line.len - start + 1);
	x->line.len -= start;
	return 0;
}

/* Runs the command body describes: 0 with its *status, or -errno after saying why not. */
static int exec_run(struct cli *c, const char *id, struct json_object *body, int *status)
{
	struct http h = { .method = "POST", .json = json_object_get(body), .sink = exec_sink };
	struct exec_run x = { 0 };
	int ret;

	h.opaque = &x;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/commands", id);
	if ((ret = http_run(c, &h)) < 0)
		goto out_free;
	if (x.line.len && (ret = exec_event(&h, &x, x.line.data, x.line.len)) < 0) {
		cli_fail("%s", h.why);
	} else if (!x.ended) {
		cli_fail("the command's output ended before its exit status");
		ret = -EPROTO;
	} else {
		*status = x.status;
	}
out_free:
	buf_free(&x.line);
	http_free(&h);
	return ret;
}

/* Runs argv[1..n) in sandbox argv[0]: the command's status, or 125 when cubicle failed. */
static int cmd_exec(struct cli *c, void *opts, int n, char **argv)
{
	const struct exec_args *e = opts;
	struct json_object *body = json_object_new_object();
	int st, status;

	if (opt_add_num(c, body, "timeout_ms", "--timeout-ms", e->timeout_ms, 1, 86400000) < 0)
		st = CLI_EXIT_USAGE;
	else if (exec_body(e, argv + 1, n - 1, body) < 0 ||
		 exec_run(c, argv[0], body, &status) < 0)
		st = CLI_EXIT_EXEC_FAILED;
	else
		st = status;
	json_object_put(body);
	return st;
}

const struct cli_command cli_exec = {
	exec_usage, exec_opts, sizeof(struct exec_args), cmd_exec,
};
