/*
 * Commands in a sandbox, through its guest agent (docs/agent-protocol.md):
 * run whole (the answer when it ends), streamed (NDJSON or SSE as output
 * arrives) or in the background (the pid at once); and the background
 * commands: listed, signalled, fed stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fdio.h"
#include "handlers.h"
#include "routes.h"

#define OUTPUT_MAX (16u << 20)      /* a command's stdout or stderr, answered whole */

struct output {
	char *buf[2];
	size_t len[2];
	bool truncated;
};

/* Output of a command run whole into the struct output at opaque, up to OUTPUT_MAX a stream. */
static void collect(void *opaque, int stream_no, const uint8_t *buf, uint32_t len)
{
	struct output *o = opaque;
	int i = stream_no == 2;
	char *b;

	if (o->len[i] + len > OUTPUT_MAX) {
		o->truncated = true;
		len = (uint32_t)(OUTPUT_MAX - o->len[i]);
	}
	if (!len)
		return;
	b = realloc(o->buf[i], o->len[i] + len + 1);
	if (!b) {
		o->truncated = true;
		return;
	}
	memcpy(b + o->len[i], buf, len);
	o->len[i] += len;
	b[o->len[i]] = '\0';
	o->buf[i] = b;
}

struct command {
	struct agent_exec x;
	const char **argv, **env;
	char *cmd, *cwd, *user, *stdin_data;
	char vsock[sizeof(((struct sandbox *)0)->vsock)];
	bool background, keep_stdin;
	/* streaming */
	int out_fd;
	bool sse, broken;
	pthread_t thread;
	struct agent_exit res;
	struct agent_error err;
	int ret;
};

/* Accepts NULL and a half-made command. */
static void command_free(struct command *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free((char *)c->argv[i]);
	for (size_t i = 0; c->env && c->env[i]; i++)
		free((char *)c->env[i]);
	free(c->argv);
	free(c->env);
	free(c->cmd);
	free(c->cwd);
	free(c->user);
	free(c->stdin_data);
	free(c);
}

/* map's KEY=VALUE strings (malloc'd) added to env at *n. */
static void env_add(struct json_object *map, const char **env, size_t *n)
{
	json_object_object_foreach(map, key, val) {
		size_t len = strlen(key) + (size_t)json_object_get_string_len(val) + 2;
		char *kv = malloc(len);

		if (!kv)
			continue;
		snprintf(kv, len, "%s=%s", key, json_object_get_string(val));
		env[(*n)++] = kv;
	}
}

/* The body's cmd (a shell string) or argv (a list of strings) into c; false when answered. */
static bool program_of(struct api_req *r, struct json_object *body, struct command *c)
{
	struct json_object *v;
	size_t n;

	if (json_object_object_get_ex(body, "cmd", &v) == json_object_object_get_ex(body, "argv", NULL)) {
		api_reply_error(r, 400, "invalid_request", "want one of cmd (a shell string) or "
				"argv (a list of strings)");
		return false;
	}
	if (api_str_field(body, "cmd")) {
		c->cmd = strdup(api_str_field(body, "cmd"));
		c->x.cmd = c->cmd;
		return true;
	}
	if (json_object_object_get_ex(body, "cmd", &v)) {
		api_reply_error(r, 400, "invalid_request", "cmd: want a string");
		return false;
	}
	json_object_object_get_ex(body, "argv", &v);
	n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	if (!n || n > 4096) {
		api_reply_error(r, 400, "invalid_request", "argv: want 1..4096 strings");
		return false;
	}
	c->argv = calloc(n + 1, sizeof(*c->argv));
	for (size_t i = 0; c->argv && i < n; i++) {
		struct json_object *a = json_object_array_get_idx(v, i);

		if (!json_object_is_type(a, json_type_string)) {
			api_reply_error(r, 400, "invalid_request", "argv[%zu]: want a string", i);
			return false;
		}
		c->argv[i] = strdup(json_object_get_string(a));
	}
	c->x.argv = c->argv;
	return true;
}

/* The sandbox's env, then the body's over it, into c; false when answered. */
static bool env_of(struct api_req *r, struct json_object *body, struct command *c)
{
	struct json_object *env = NULL;
	size_t n;

	if (json_object_object_get_ex(body, "env", &env) && !api_string_map(r, env, "env"))
		return false;
	n = (env ? (size_t)json_object_object_length(env) : 0) +
	    (r->sb->spec.env ? (size_t)json_object_object_length(r->sb->spec.env) : 0);
	c->env = calloc(n + 1, sizeof(*c->env));
	n = 0;
	if (c->env && r->sb->spec.env)
		env_add(r->sb->spec.env, c->env, &n);
	if (c->env && env)
		env_add(env, c->env, &n);     /* later ones win in the agent */
	c->x.env = c->env;
	return true;
}

/* The body's cwd, user and stdin into c; false when answered. */
static bool context_of(struct api_req *r, struct json_object *body, struct command *c)
{
	struct json_object *v;

	if (json_object_object_get_ex(body, "cwd", &v) && !api_str_field(body, "cwd")) {
		api_reply_error(r, 400, "invalid_request", "cwd: want a path");
		return false;
	}
	if (api_str_field(body, "cwd"))
		c->x.cwd = c->cwd = strdup(api_str_field(body, "cwd"));
	if (json_object_object_get_ex(body, "user", &v) && !api_str_field(body, "user")) {
		api_reply_error(r, 400, "invalid_request", "user: want a user name");
		return false;
	}
	if (api_str_field(body, "user"))
		c->x.user = c->user = strdup(api_str_field(body, "user"));
	if (json_object_object_get_ex(body, "stdin", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			api_reply_error(r, 400, "invalid_request", "stdin: want a string");
			return false;
		}
		c->stdin_data = strdup(json_object_get_string(v));
		c->x.stdin_data = c->stdin_data;
		c->x.stdin_len = (size_t)json_object_get_string_len(v);
	}
	return true;
}

/*
 * How the body wants c run: *mode (in body) "ndjson" or "sse" when
 * streamed, else NULL; background, keep_stdin. false when answered.
 */
static bool mode_of(struct api_req *r, struct json_object *body, struct command *c,
		    const char **mode)
{
	struct json_object *v;

	if (json_object_object_get_ex(body, "stream", &v) &&
	    !(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))) {
		*mode = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(*mode, "ndjson") && strcmp(*mode, "sse"))) {
			api_reply_error(r, 400, "invalid_request", "stream: want \"ndjson\" or \"sse\"");
			return false;
		}
	}
	if ((json_object_object_get_ex(body, "background", &v) &&
	     !json_object_is_type(v, json_type_boolean)) ||
	    (json_object_object_get_ex(body, "keep_stdin", &v) &&
	     !json_object_is_type(v, json_type_boolean))) {
		api_reply_error(r, 400, "invalid_request", "background, keep_stdin: want true or false");
		return false;
	}
	c->background = json_object_object_get_ex(body, "background", &v) &&
			json_object_get_boolean(v);
	c->keep_stdin = json_object_object_get_ex(body, "keep_stdin", &v) &&
			json_object_get_boolean(v);
	if ((c->background && *mode) || (c->keep_stdin && !c->background)) {
		api_reply_error(r, 400, "invalid_request", "%s", c->keep_stdin && !c->background ?
				"keep_stdin: only with background" : "background: not with stream");
		return false;
	}
	return true;
}

/*
 * The command a request body asks for (the caller's: command_free), and in
 * *mode how it is streamed (see mode_of); NULL when answered (400).
 */
static struct command *command_of(struct api_req *r, struct json_object *body, const char **mode)
{
	static const char *const fields[] = { "cmd", "argv", "env", "cwd", "user", "stdin",
					      "timeout_ms", "stream", "background", "keep_stdin",
					      NULL };
	struct command *c = calloc(1, sizeof(*c));
	unsigned int timeout = 0;

	*mode = NULL;
	if (!c || !api_known_keys(r, body, fields) || !program_of(r, body, c) ||
	    !env_of(r, body, c) || !context_of(r, body, c) ||
	    !api_uint_field(r, body, "timeout_ms", 1, 86400000, &timeout))
		goto fail;
	c->x.timeout_ms = timeout;
	if (!mode_of(r, body, c, mode))
		goto fail;
	snprintf(c->vsock, sizeof(c->vsock), "%s", r->sb->vsock);
	return c;
fail:
	if (!c)
		api_reply_error(r, 500, "internal", "out of memory");
	command_free(c);
	return NULL;
}

/* How a command ended, as the answer's and the exit event's fields. */
static void exit_fields(struct json_object *o, const struct agent_exit *e)
{
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "exit_code", e->exit_code < 0 && e->signal ? NULL :
			       json_object_new_int(e->exit_code));
	json_object_object_add(o, "signal", e->signal ? json_object_new_int(e->signal) : NULL);
	json_object_object_add(o, "timed_out", json_object_new_boolean(e->timed_out));
}

/* One event of a streamed command: an NDJSON line or an SSE event. */
static void emit(struct command *c, const char *type, struct json_object *o)
{
	const char *text;
	char *line;
	size_t len;
	int n;

	json_object_object_add(o, "type", json_object_new_string(type));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text) + strlen(type) + 32;
	line = malloc(len);
	if (line && !c->broken) {
		n = c->sse ? snprintf(line, len, "event: %s\ndata: %s\n\n", type, text) :
			     snprintf(line, len, "%s\n", text);
		if (fdio_write_all(c->out_fd, line, (size_t)n) < 0)
			c->broken = true;       /* the client went away; the command runs on */
	}
	free(line);
	json_object_put(o);
}

/* Output of a streamed command as an event. */
static void stream_output(void *opaque, int stream_no, const uint8_t *buf, uint32_t len)
{
	struct command *c = opaque;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "data", json_object_new_string_len((const char *)buf, (int)len));
	emit(c, stream_no == 2 ? "stderr" : "stdout", o);
}

/* A streamed command's thread: runs it, the last event says how it ended. */
static void *run_streamed(void *arg)
{
	struct command *c = arg;
	struct json_object *o = json_object_new_object();

	c->ret = agent_exec_run(c->vsock, &c->x, &c->res, &c->err);
	if (c->ret == 0) {
		exit_fields(o, &c->res);
		emit(c, "exit", o);
	} else {
		unsigned int status;

		/* The same code as an unstreamed run would answer. */
		json_object_object_add(o, "code", json_object_new_string(
			api_agent_code(c->ret, &c->err, &status)));
		json_object_object_add(o, "message", json_object_new_string(
			c->ret == -EREMOTEIO ? c->err.message : strerror(-c->ret)));
		emit(c, "error", o);
	}
	close(c->out_fd);
	return NULL;
}

/* The streamed answer is over: the command's thread is joined and c freed. */
static void streamed_done(void *opaque)
{
	struct command *c = opaque;

	pthread_join(c->thread, NULL);
	command_free(c);
}

/*
 * Starts c and answers its pid without waiting: the agent runs a command on
 * when its connection goes (docs/agent-protocol.md). Its stdin gets
 * c->stdin_data and closes, or with keep_stdin stays open for
 * POST .../processes/{pid}/stdin.
 */
static void start_background(struct api_req *r, struct command *c)
{
	struct agent_error err = { "", "" };
	struct json_object *o;
	int pid = 0, ret = agent_exec_start(c->vsock, &c->x, c->keep_stdin, &pid, &err);

	if (ret) {
		api_agent_failed(r, ret, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(pid));
	api_reply_json(r, 201, o);
}

/* Notes a command in the activity: `$ cmd` or its argv, and how it runs. */
static void note_command(struct api_req *r, struct json_object *body)
{
	struct json_object *v;
	char text[ACTIVITY_TEXT] = "$";

	if (api_str_field(body, "cmd")) {
		activity_appendf(text, sizeof(text), " %s", api_str_field(body, "cmd"));
	} else if (json_object_object_get_ex(body, "argv", &v) &&
		   json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			activity_appendf(text, sizeof(text), " %s",
					 json_object_get_string(json_object_array_get_idx(v, i)));
	}
	if (json_object_object_get_ex(body, "background", &v) && json_object_get_boolean(v))
		activity_appendf(text, sizeof(text), " &");
	api_note(r, "command", "%s", text);
}

/*
 * Starts c (taken) on a thread of its own and answers its output as it
 * arrives, NDJSON or (sse) server-sent events; the answer's end joins it.
 */
static void start_streamed(struct api_req *r, struct command *c, bool sse)
{
	int pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		command_free(c);
		api_reply_error(r, 500, "internal", "pipe: %s", strerror(errno));
		return;
	}
	c->out_fd = pipefd[1];
	c->sse = sse;
	c->x.on_output = stream_output;
	c->x.opaque = c;
	if (pthread_create(&c->thread, NULL, run_streamed, c)) {
		close(pipefd[0]);
		close(pipefd[1]);
		command_free(c);
		api_reply_error(r, 503, "busy", "no thread to run the command");
		return;
	}
	api_reply_fd(r, 200, c->sse ? "text/event-stream" : "application/x-ndjson", pipefd[0],
		     streamed_done, c);
	MHD_add_response_header(r->resp, "Cache-Control", "no-cache");
}

/* Runs c to its end and answers how it ended with its output (each up to OUTPUT_MAX). */
static void run_whole(struct api_req *r, const struct command *c)
{
	struct output out = { { NULL, NULL }, { 0, 0 }, false };
	struct agent_exec x = c->x;
	struct agent_exit res = { 0 };
	struct agent_error err = { "", "" };
	struct json_object *o;
	int ret;

	x.on_output = collect;
	x.opaque = &out;
	ret = agent_exec_run(c->vsock, &x, &res, &err);
	if (ret) {
		api_agent_failed(r, ret, &err);
	} else {
		activity_appendf(r->note, sizeof(r->note), res.signal ? "  → signal %d" :
				 "  → exit %d", res.signal ? res.signal : res.exit_code);
		o = json_object_new_object();
		exit_fields(o, &res);
		json_object_object_add(o, "stdout", json_object_new_string_len(
			out.buf[0] ? out.buf[0] : "", (int)out.len[0]));
		json_object_object_add(o, "stderr", json_object_new_string_len(
			out.buf[1] ? out.buf[1] : "", (int)out.len[1]));
		if (out.truncated)
			json_object_object_add(o, "truncated", json_object_new_boolean(1));
		api_reply_json(r, 200, o);
	}
	free(out.buf[0]);
	free(out.buf[1]);
}

/* POST .../commands: run whole, streamed, or in the background. */
static void run_command(struct api_req *r)
{
	struct json_object *body = api_body_object(r);
	struct command *c;
	const char *mode;
	bool streamed, sse;

	if (!body)
		return;
	note_command(r, body);
	c = command_of(r, body, &mode);
	/* mode lives in body: read it before body goes. */
	streamed = mode != NULL;
	sse = mode && strcmp(mode, "sse") == 0;
	json_object_put(body);
	if (!c)
		return;
	if (streamed) {
		start_streamed(r, c, sse);
		return;
	}
	if (c->background)
		start_background(r, c);
	else
		run_whole(r, c);
	command_free(c);
}

/* The {pid} segment; false when answered. */
static bool pid_of(struct api_req *r, int *pid)
{
	char *end;
	long v = strtol(r->seg[3], &end, 10);

	if (*end || v < 1 || v > 4194304) {
		api_reply_error(r, 400, "invalid_request", "'%.32s' is not a process id", r->seg[3]);
		return false;
	}
	*pid = (int)v;
	return true;
}

/* GET .../processes: the commands running in the background. */
static void process_list(struct api_req *r)
{
	struct agent_error err = { "", "" };
	struct json_object *reply = NULL;
	int ret = agent_ps(r->sb->vsock, &reply, &err, API_AGENT_WAIT_MS);

	api_agent_reply(r, ret, reply, &err);
}

/* DELETE .../processes/{pid}[?signal=N]: a signal (default 9) to its process group. */
static void process_kill(struct api_req *r)
{
	const char *sig = api_arg(r, "signal");
	struct agent_error err = { "", "" };
	int pid, s = 9;
	char *end;

	if (!pid_of(r, &pid))
		return;
	if (sig && ((s = (int)strtol(sig, &end, 10)), *end || s < 1 || s > 64)) {
		api_reply_error(r, 400, "invalid_request", "signal: want a signal number 1..64");
		return;
	}
	api_note(r, "kill", "signal %d to process %d", s, pid);
	api_agent_done(r, agent_kill(r->sb->vsock, pid, s, &err, API_AGENT_WAIT_MS), &err);
}

/*
 * How long a stdin write waits for the agent to have taken its bytes, so
 * that two writes in a row reach the command in order.
 */
#define STDIN_WAIT_MS 5000

/* POST .../processes/{pid}/stdin[?close=true]: the raw body to its stdin. */
static void process_stdin(struct api_req *r)
{
	struct agent_error err = { "", "" };
	bool close_it;
	int pid;

	if (!pid_of(r, &pid) || !api_flag(r, "close", false, &close_it))
		return;
	api_note(r, "stdin", "%zu bytes to process %d's stdin%s", r->body_len, pid,
		 close_it ? ", then closed" : "");
	api_agent_done(r, agent_stdin_write(r->sb->vsock, pid, r->body, r->body_len, close_it,
					    STDIN_WAIT_MS, &err), &err);
}

static const struct api_route rows[] = {
	{ "POST", "sandboxes/{id}/commands", ROUTE_SANDBOX, run_command, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/processes", ROUTE_SANDBOX, process_list, NULL, NULL, NULL },
	{ "DELETE", "sandboxes/{id}/processes/{pid}", ROUTE_SANDBOX, process_kill, NULL, NULL,
	  NULL },
	{ "POST", "sandboxes/{id}/processes/{pid}/stdin", ROUTE_SANDBOX, process_stdin, NULL,
	  NULL, NULL },
};

const struct api_routes api_command_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
