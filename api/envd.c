/*
 * E2B's envd under /e2b/envd (docs/e2b.md), the sandbox side of the e2b
 * SDK (../shared/reference/e2b-wire-protocol.md, §3), on top of the guest
 * agent: the Connect protocol's JSON codec, unary calls and server
 * streams of envelopes (a flags byte, a 32-bit big-endian length, JSON),
 * each request naming its sandbox in E2b-Sandbox-Id and proving itself
 * with that sandbox's X-Access-Token (the envdAccessToken its create
 * answered), not the API key. Served so far: process.Process/Start (the
 * start event, output as it comes, the end event; the sandbox's env under
 * the call's), List and SendSignal; filesystem.Filesystem's Stat, ListDir,
 * MakeDir, Move and Remove; /health.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fdio.h"
#include "handlers.h"
#include "routes.h"
#include "sandbox.h"
#include "screen.h"

#define ENVELOPE_MAX (1u << 20)     /* a Start request's one message */
#define HOME "/home/user"
#define OUTPUT_CHUNK 32768

/* --- the Connect protocol's answers ------------------------------------------ */

/* A Connect error code's HTTP status. */
static unsigned int status_of(const char *code)
{
	static const struct { const char *code; unsigned int status; } map[] = {
		{ "invalid_argument", 400 }, { "unauthenticated", 401 }, { "permission_denied", 403 },
		{ "not_found", 404 }, { "already_exists", 409 }, { "failed_precondition", 412 },
		{ "unimplemented", 501 }, { "unavailable", 503 }, { "deadline_exceeded", 504 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].code, code))
			return map[i].status;
	return 500;
}

/* {"code": code, "message"} as a unary error (JSON, which the client reads whatever the status). */
static void rpc_error(struct api_req *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rpc_error(struct api_req *r, const char *code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	snprintf(r->error, sizeof(r->error), "%s: %.200s", code, msg);
	api_reply_json(r, status_of(code), o);
}

/* An agent's errno name as a Connect code. */
static const char *code_of_errno(const char *e)
{
	if (!strcmp(e, "ENOENT") || !strcmp(e, "ESRCH"))
		return "not_found";
	if (!strcmp(e, "EEXIST"))
		return "already_exists";
	if (!strcmp(e, "EACCES") || !strcmp(e, "EPERM"))
		return "permission_denied";
	if (!strcmp(e, "EINVAL") || !strcmp(e, "ENOTDIR") || !strcmp(e, "EISDIR") ||
	    !strcmp(e, "ENOTEMPTY") || !strcmp(e, "ENAMETOOLONG"))
		return "invalid_argument";
	return "internal";
}

/* An agent call's failure (ret, e) as a Connect error. */
static void agent_failed(struct api_req *r, int ret, const struct agent_error *e)
{
	if (ret == -EREMOTEIO)
		rpc_error(r, code_of_errno(e->code), "%s", e->message[0] ? e->message : e->code);
	else
		rpc_error(r, "unavailable", "the sandbox's agent did not answer (%s)", strerror(-ret));
}

/* --- the sandbox a request names ------------------------------------------------ */

/* Whether two strings are equal, in time that does not depend on where they differ. */
static bool same(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char d = n != m;

	for (size_t i = 0; i < n && i < m; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

/*
 * The running sandbox E2b-Sandbox-Id names, if X-Access-Token is its token
 * (a reference: sandbox_put); NULL when answered.
 */
static struct sandbox *sandbox_of(struct api_req *r)
{
	const char *id = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "E2b-Sandbox-Id");
	const char *tok = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Access-Token");
	struct sandbox *sb = id ? sandbox_get(r->sandboxes, id) : NULL;

	if (!sb || !tok || !same(tok, sb->port_token)) {
		sandbox_put(r->sandboxes, sb);
		/* The same answer for no sandbox and a wrong token: ids are not told apart. */
		rpc_error(r, "unauthenticated", "E2b-Sandbox-Id and X-Access-Token: want a sandbox "
			  "and its envdAccessToken");
		return NULL;
	}
	if (sandbox_state(r->sandboxes, sb) != SANDBOX_RUNNING) {
		sandbox_put(r->sandboxes, sb);
		rpc_error(r, "unavailable", "sandbox %s is not running", id);
		return NULL;
	}
	r->sb = sb;     /* the request's now: put when it ends, and its activity */
	return sb;
}

/* The user Authorization: Basic names (base64 of "user:"), into out; "user" without one. */
static void user_of(struct api_req *r, char *out, size_t cap)
{
	const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	snprintf(out, cap, "user");
	if (!a || strncmp(a, "Basic ", 6))
		return;
	for (const char *p = a + 6; *p && *p != '=' && o + 1 < cap; p++) {
		const char *c = strchr(tab, *p);

		if (!c || !*c)
			return;
		acc = acc << 6 | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits);
		}
	}
	out[o] = '\0';
	if (strchr(out, ':'))
		*strchr(out, ':') = '\0';
	if (!out[0] || strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(out))
		snprintf(out, cap, "user");
}

/* A path as envd takes it: relative ones under the user's home. */
static void path_of(const char *user, const char *p, char *out, size_t cap)
{
	if (p[0] == '/')
		snprintf(out, cap, "%s", p);
	else
		snprintf(out, cap, "%s/%s", strcmp(user, "root") ? HOME : "/root", p);
}

/* --- filesystem.Filesystem -------------------------------------------------------- */

/* ls -l's permissions of mode. */
static void permissions(unsigned int mode, const char *type, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = !strcmp(type, "dir") ? 'd' : !strcmp(type, "symlink") ? 'l' : '-';
	for (int i = 0; i < 9; i++)
		out[i + 1] = mode & (0400u >> i) ? rwx[i] : '-';
	out[10] = '\0';
}

/* Our agent's entry as envd's EntryInfo (NULL for a type E2B has no name for). */
static struct json_object *entry_info(struct json_object *e)
{
	const char *type = api_str_field(e, "type") ?: "", *path = api_str_field(e, "path") ?: "";
	const char *name = strrchr(path, '/');
	unsigned int mode = (unsigned int)json_object_get_int64(json_object_object_get(e, "mode"));
	int64_t uid = json_object_get_int64(json_object_object_get(e, "uid"));
	int64_t gid = json_object_get_int64(json_object_object_get(e, "gid"));
	time_t mtime = (time_t)json_object_get_int64(json_object_object_get(e, "mtime"));
	struct json_object *o;
	char perm[11], when[32], num[24];
	struct tm tm;

	if (strcmp(type, "file") && strcmp(type, "dir") && strcmp(type, "symlink"))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name ? name + 1 : path));
	json_object_object_add(o, "type", json_object_new_string(
		!strcmp(type, "file") ? "FILE_TYPE_FILE" : !strcmp(type, "dir") ?
		"FILE_TYPE_DIRECTORY" : "FILE_TYPE_SYMLINK"));
	json_object_object_add(o, "path", json_object_new_string(path));
	snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(
		json_object_object_get(e, "size")));
	json_object_object_add(o, "size", json_object_new_string(num));
	json_object_object_add(o, "mode", json_object_new_int((int)(mode & 07777)));
	permissions(mode, type, perm);
	json_object_object_add(o, "permissions", json_object_new_string(perm));
	/* The templates have root (0) and user (1000); other ids as numbers. */
	snprintf(num, sizeof(num), "%lld", (long long)uid);
	json_object_object_add(o, "owner", json_object_new_string(uid == 0 ? "root" : uid == 1000 ?
								  "user" : num));
	snprintf(num, sizeof(num), "%lld", (long long)gid);
	json_object_object_add(o, "group", json_object_new_string(gid == 0 ? "root" : gid == 1000 ?
								  "user" : num));
	gmtime_r(&mtime, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "modifiedTime", json_object_new_string(when));
	if (api_str_field(e, "target"))
		json_object_object_add(o, "symlinkTarget", json_object_new_string(
			api_str_field(e, "target")));
	return o;
}

/* A unary call's request: its JSON body, the sandbox, the user; false when answered. */
struct unary {
	struct json_object *body;
	struct sandbox *sb;
	char user[64];
};

static bool unary_begin(struct api_req *r, struct unary *u)
{
	*u = (struct unary){ NULL };
	if (!(u->sb = sandbox_of(r)))
		return false;
	u->body = r->body_len ? json_tokener_parse(r->body) : json_object_new_object();
	if (!json_object_is_type(u->body, json_type_object)) {
		json_object_put(u->body);
		u->body = NULL;
		rpc_error(r, "invalid_argument", "want the message as a JSON object");
		return false;
	}
	user_of(r, u->user, sizeof(u->user));
	return true;
}

/* A path field of the request, resolved; false when answered. */
static bool path_field(struct api_req *r, struct unary *u, const char *key, char *out, size_t cap)
{
	const char *p = api_str_field(u->body, key);

	if (!p || !*p || strlen(p) >= cap - sizeof(HOME) - 1) {
		rpc_error(r, "invalid_argument", "%s: want a path", key);
		return false;
	}
	path_of(u->user, p, out, cap);
	return true;
}

/* {"entry": EntryInfo} of path, as Stat, MakeDir and Move answer. */
static void answer_entry(struct api_req *r, struct sandbox *sb, const char *path)
{
	struct json_object *reply = NULL, *o, *e;
	struct agent_error err = { "", "" };
	int ret = agent_stat(sb->vsock, path, &reply, &err, API_AGENT_WAIT_MS);

	if (ret) {
		agent_failed(r, ret, &err);
		return;
	}
	e = entry_info(reply);
	json_object_put(reply);
	o = json_object_new_object();
	json_object_object_add(o, "entry", e ? e : json_object_new_object());
	api_reply_json(r, 200, o);
}

static void fs_stat(struct api_req *r)
{
	struct unary u;
	char path[4096];

	if (unary_begin(r, &u) && path_field(r, &u, "path", path, sizeof(path)))
		answer_entry(r, u.sb, path);
	json_object_put(u.body);
}

static void fs_list(struct api_req *r)
{
	struct json_object *reply = NULL, *entries, *list, *o;
	struct agent_error err = { "", "" };
	struct unary u;
	char path[4096];
	int64_t depth = 1;
	int ret;

	if (!unary_begin(r, &u) || !path_field(r, &u, "path", path, sizeof(path)))
		goto out;
	if (json_object_object_get_ex(u.body, "depth", &o))
		depth = json_object_get_int64(o);
	if (depth < 1 || depth > 64) {
		rpc_error(r, "invalid_argument", "depth: want 1..64");
		goto out;
	}
	ret = agent_list(u.sb->vsock, path, (int)depth, &reply, &err, API_AGENT_WAIT_MS);
	if (ret) {
		agent_failed(r, ret, &err);
		goto out;
	}
	list = json_object_new_array();
	if (json_object_object_get_ex(reply, "entries", &entries) &&
	    json_object_is_type(entries, json_type_array))
		for (size_t i = 0; i < json_object_array_length(entries); i++) {
			struct json_object *e = entry_info(json_object_array_get_idx(entries, i));

			if (e)
				json_object_array_add(list, e);
		}
	json_object_put(reply);
	o = json_object_new_object();
	json_object_object_add(o, "entries", list);
	api_reply_json(r, 200, o);
out:
	json_object_put(u.body);
}

static void fs_mkdir(struct api_req *r)
{
	struct agent_error err = { "", "" };
	struct json_object *st = NULL;
	struct unary u;
	char path[4096];
	int ret;

	if (!unary_begin(r, &u) || !path_field(r, &u, "path", path, sizeof(path)))
		goto out;
	/* An existing folder is already_exists (the SDK's false), as envd answers it. */
	if (agent_stat(u.sb->vsock, path, &st, &err, API_AGENT_WAIT_MS) == 0) {
		json_object_put(st);
		rpc_error(r, "already_exists", "%s exists", path);
		goto out;
	}
	ret = agent_mkdir(u.sb->vsock, path, true, &err, API_AGENT_WAIT_MS);
	if (ret)
		agent_failed(r, ret, &err);
	else
		answer_entry(r, u.sb, path);
out:
	json_object_put(u.body);
}

static void fs_move(struct api_req *r)
{
	struct agent_error err = { "", "" };
	char from[4096], to[4096];
	struct unary u;
	int ret;

	if (!unary_begin(r, &u) || !path_field(r, &u, "source", from, sizeof(from)) ||
	    !path_field(r, &u, "destination", to, sizeof(to)))
		goto out;
	ret = agent_rename(u.sb->vsock, from, to, &err, API_AGENT_WAIT_MS);
	if (ret)
		agent_failed(r, ret, &err);
	else
		answer_entry(r, u.sb, to);
out:
	json_object_put(u.body);
}

static void fs_remove(struct api_req *r)
{
	struct agent_error err = { "", "" };
	struct unary u;
	char path[4096];
	int ret;

	if (!unary_begin(r, &u) || !path_field(r, &u, "path", path, sizeof(path)))
		goto out;
	ret = agent_remove(u.sb->vsock, path, true, &err, API_AGENT_WAIT_MS);
	if (ret)
		agent_failed(r, ret, &err);
	else
		api_reply_json(r, 200, json_object_new_object());
out:
	json_object_put(u.body);
}

/* --- process.Process ---------------------------------------------------------------- */

static void proc_list(struct api_req *r)
{
	struct json_object *reply = NULL, *ps, *list, *o;
	struct agent_error err = { "", "" };
	struct unary u;
	int ret;

	if (!unary_begin(r, &u))
		goto out;
	ret = agent_ps(u.sb->vsock, &reply, &err, API_AGENT_WAIT_MS);
	if (ret) {
		agent_failed(r, ret, &err);
		goto out;
	}
	list = json_object_new_array();
	if (json_object_object_get_ex(reply, "processes", &ps) && json_object_is_type(ps, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ps); i++) {
			struct json_object *p = json_object_array_get_idx(ps, i);
			struct json_object *e = json_object_new_object(), *cfg = json_object_new_object();

			json_object_object_add(cfg, "cmd", json_object_new_string(api_str_field(p, "cmd") ?: ""));
			json_object_object_add(e, "config", cfg);
			json_object_object_add(e, "pid", json_object_get(json_object_object_get(p, "pid")));
			json_object_array_add(list, e);
		}
	json_object_put(reply);
	o = json_object_new_object();
	json_object_object_add(o, "processes", list);
	api_reply_json(r, 200, o);
out:
	json_object_put(u.body);
}

/* The selector's pid ({"process": {"pid": N}}), or 0. */
static int pid_of(struct json_object *body)
{
	struct json_object *p = json_object_object_get(body, "process");

	return (int)json_object_get_int64(json_object_object_get(p, "pid"));
}

static void proc_signal(struct api_req *r)
{
	struct agent_error err = { "", "" };
	const char *sig;
	struct unary u;
	int pid, ret;

	if (!unary_begin(r, &u))
		goto out;
	pid = pid_of(u.body);
	sig = api_str_field(u.body, "signal") ?: "";
	if (pid <= 0 || (strcmp(sig, "SIGNAL_SIGKILL") && strcmp(sig, "SIGNAL_SIGTERM"))) {
		rpc_error(r, "invalid_argument", "want process.pid and signal SIGNAL_SIGKILL or "
			  "SIGNAL_SIGTERM");
		goto out;
	}
	ret = agent_kill(u.sb->vsock, pid, !strcmp(sig, "SIGNAL_SIGKILL") ? 9 : 15, &err,
			 API_AGENT_WAIT_MS);
	if (ret)
		agent_failed(r, ret, &err);
	else
		api_reply_json(r, 200, json_object_new_object());
out:
	json_object_put(u.body);
}

/* A streamed Start: the agent's command, its output as envelopes into out. */
struct start {
	struct agent_exec x;
	char *vsock;
	char **argv, **env, *cwd, user[64];
	int fd;                         /* the agent's connection, opened before answering */
	int out;                        /* the pipe the answer reads */
	int pid;
	pthread_t thread;
};

/* One envelope: flags, a 32-bit big-endian length, the JSON of o (taken). */
static void envelope(int fd, uint8_t flags, struct json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	uint8_t head[5] = { flags, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			    (uint8_t)n };

	/* A reader gone (the client disconnected) fails the write: the command runs on. */
	if (fdio_write_all(fd, head, 5) == 0)
		fdio_write_all(fd, s, n);
	json_object_put(o);
}

/* {"event": {kind: body}} (body taken). */
static struct json_object *event(const char *kind, struct json_object *body)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, kind, body);
	json_object_object_add(o, "event", e);
	return o;
}

static void start_output(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	struct start *s = opaque;
	char *enc;

	while (len) {
		uint32_t n = len > OUTPUT_CHUNK ? OUTPUT_CHUNK : len;
		struct json_object *d = json_object_new_object();

		enc = malloc(4 * ((n + 2) / 3) + 1);
		if (!enc) {
			json_object_put(d);
			return;
		}
		api_base64(buf, n, enc);
		json_object_object_add(d, stream == 2 ? "stderr" : "stdout", json_object_new_string(enc));
		free(enc);
		envelope(s->out, 0, event("data", d));
		buf += n;
		len -= n;
	}
}

static void start_free(struct start *s)
{
	for (size_t i = 0; s->argv && s->argv[i]; i++)
		free(s->argv[i]);
	for (size_t i = 0; s->env && s->env[i]; i++)
		free(s->env[i]);
	free(s->argv);
	free(s->env);
	free(s->cwd);
	free(s->vsock);
	if (s->fd >= 0)
		close(s->fd);
	if (s->out >= 0)
		close(s->out);
	free(s);
}

/* The command's life on its own thread: start, output, end, end of stream. */
static void *run_start(void *arg)
{
	struct start *s = arg;
	struct agent_exit res = { 0 };
	struct json_object *start = json_object_new_object(), *end = json_object_new_object();
	char status[64];
	int ret;

	json_object_object_add(start, "pid", json_object_new_int(s->pid));
	envelope(s->out, 0, event("start", start));
	ret = agent_exec_follow(s->fd, &s->x, &res);
	if (ret) {
		struct json_object *e = json_object_new_object(), *err = json_object_new_object();

		json_object_object_add(err, "code", json_object_new_string("unavailable"));
		json_object_object_add(err, "message", json_object_new_string(
			"the sandbox's agent stopped answering"));
		json_object_object_add(e, "error", err);
		envelope(s->out, 2, e);
		json_object_put(end);
		goto out;
	}
	if (res.signal)
		snprintf(status, sizeof(status), "signal: %s", res.signal == 9 ? "killed" :
			 res.signal == 15 ? "terminated" : "signalled");
	else
		snprintf(status, sizeof(status), "exit status %d", res.exit_code);
	if (res.signal || res.exit_code)
		json_object_object_add(end, "exitCode", json_object_new_int(res.signal ? -1 :
									    res.exit_code));
	json_object_object_add(end, "exited", json_object_new_boolean(!res.signal));
	json_object_object_add(end, "status", json_object_new_string(status));
	if (res.signal || res.exit_code)
		json_object_object_add(end, "error", json_object_new_string(status));
	envelope(s->out, 0, event("end", end));
	envelope(s->out, 2, json_object_new_object());
out:
	/* The answer ends at the pipe's end. */
	close(s->out);
	s->out = -1;
	return NULL;
}

static void start_done(void *opaque)
{
	struct start *s = opaque;

	pthread_join(s->thread, NULL);
	start_free(s);
}

/* The request's one envelope's message; NULL (and answered) if it is not one. */
static struct json_object *one_envelope(struct api_req *r)
{
	const uint8_t *b = (const uint8_t *)r->body;
	uint32_t n;
	struct json_object *o;

	if (r->body_len < 5 || b[0] != 0 ||
	    (n = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4]) !=
	    r->body_len - 5 || n > ENVELOPE_MAX) {
		rpc_error(r, "invalid_argument", "want one uncompressed envelope");
		return NULL;
	}
	o = json_tokener_parse(r->body + 5);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		rpc_error(r, "invalid_argument", "want the message as a JSON object");
		return NULL;
	}
	return o;
}

/* s's argv (cmd, then args), env (the sandbox's, then the call's) and cwd from p; false if bad. */
static bool start_config(struct start *s, struct sandbox *sb, struct json_object *p)
{
	struct json_object *args = json_object_object_get(p, "args"), *envs = json_object_object_get(p, "envs");
	size_t na = json_object_is_type(args, json_type_array) ? json_object_array_length(args) : 0;
	size_t ne = (json_object_is_type(envs, json_type_object) ? (size_t)json_object_object_length(envs) : 0) +
		    (sb->spec.env ? (size_t)json_object_object_length(sb->spec.env) : 0);
	size_t k = 0;

	if (!api_str_field(p, "cmd") || na > 4096 || ne > 4096)
		return false;
	s->argv = calloc(na + 2, sizeof(*s->argv));
	s->env = calloc(ne + 1, sizeof(*s->env));
	if (!s->argv || !s->env)
		return false;
	s->argv[0] = strdup(api_str_field(p, "cmd"));
	for (size_t i = 0; i < na; i++)
		s->argv[i + 1] = strdup(json_object_get_string(json_object_array_get_idx(args, i)) ?: "");
	for (int pass = 0; pass < 2; pass++) {
		struct json_object *m = pass ? envs : sb->spec.env;

		if (!json_object_is_type(m, json_type_object))
			continue;
		json_object_object_foreach(m, key, v) {
			if (asprintf(&s->env[k], "%s=%s", key, json_object_get_string(v) ?: "") < 0)
				return false;
			k++;
		}
	}
	if (api_str_field(p, "cwd"))
		s->cwd = strdup(api_str_field(p, "cwd"));
	return true;
}

/* POST .../process.Process/Start: the command's events as a stream of envelopes. */
static void proc_start(struct api_req *r)
{
	const char *to = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Connect-Timeout-Ms");
	struct agent_error err = { "", "" };
	struct json_object *msg, *p, *v;
	struct start *s = NULL;
	struct sandbox *sb;
	int pipefd[2];

	if (!(sb = sandbox_of(r)) || !(msg = one_envelope(r)))
		return;
	p = json_object_object_get(msg, "process");
	if (json_object_object_get_ex(msg, "pty", &v) ||
	    (json_object_object_get_ex(msg, "stdin", &v) && json_object_get_boolean(v))) {
		rpc_error(r, "unimplemented", "pty and stdin are not served by this Cubicle yet");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	s->fd = s->out = -1;
	if (!start_config(s, sb, p)) {
		rpc_error(r, "invalid_argument", "process: want cmd, args, envs of strings");
		goto out;
	}
	user_of(r, s->user, sizeof(s->user));
	s->vsock = strdup(sb->vsock);
	s->x = (struct agent_exec){ .argv = (const char *const *)s->argv, .cwd = s->cwd,
				    .user = s->user, .env = (const char *const *)s->env,
				    .timeout_ms = to && strtoll(to, NULL, 10) > 0 ?
						  strtoll(to, NULL, 10) : 0,
				    .on_output = start_output, .opaque = s };
	s->fd = agent_exec_open(sb->vsock, &s->x, &s->pid, &err);
	if (s->fd < 0) {
		if (s->fd == -EREMOTEIO)
			rpc_error(r, strcmp(err.code, "ENOENT") ? code_of_errno(err.code) :
				  "invalid_argument", "%s", err.message[0] ? err.message : err.code);
		else
			rpc_error(r, "unavailable", "the sandbox's agent did not answer");
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		goto oom;
	s->out = pipefd[1];
	if (pthread_create(&s->thread, NULL, run_start, s)) {
		close(pipefd[0]);
		goto oom;
	}
	api_reply_fd(r, 200, "application/connect+json", pipefd[0], start_done, s);
	json_object_put(msg);
	return;
oom:
	rpc_error(r, "resource_exhausted", "out of memory or threads");
out:
	if (s)
		start_free(s);
	json_object_put(msg);
}

/*
 * GET .../health: the sandbox is running (204), or not (502, which the SDK
 * reads as gone). Its token is checked too, so that it tells nobody else
 * whether an id runs.
 */
static void health(struct api_req *r)
{
	const char *id = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "E2b-Sandbox-Id");
	const char *tok = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Access-Token");
	struct sandbox *sb = id ? sandbox_get(r->sandboxes, id) : NULL;
	bool up = sb && tok && same(tok, sb->port_token) &&
		  sandbox_state(r->sandboxes, sb) == SANDBOX_RUNNING;

	sandbox_put(r->sandboxes, sb);
	if (up) {
		api_reply_bytes(r, 204, NULL, NULL, 0);
	} else {
		/* 502 is what the SDK reads as "not running" (isRunning false). */
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "code", json_object_new_string("unavailable"));
		json_object_object_add(o, "message", json_object_new_string("no such sandbox running"));
		api_reply_json(r, 502, o);
	}
}

static const struct api_route rows[] = {
	{ "POST", "e2b/envd/process.Process/Start", ROUTE_PUBLIC, proc_start, NULL, NULL, NULL },
	{ "POST", "e2b/envd/process.Process/List", ROUTE_PUBLIC, proc_list, NULL, NULL, NULL },
	{ "POST", "e2b/envd/process.Process/SendSignal", ROUTE_PUBLIC, proc_signal, NULL, NULL, NULL },
	{ "POST", "e2b/envd/filesystem.Filesystem/Stat", ROUTE_PUBLIC, fs_stat, NULL, NULL, NULL },
	{ "POST", "e2b/envd/filesystem.Filesystem/ListDir", ROUTE_PUBLIC, fs_list, NULL, NULL, NULL },
	{ "POST", "e2b/envd/filesystem.Filesystem/MakeDir", ROUTE_PUBLIC, fs_mkdir, NULL, NULL, NULL },
	{ "POST", "e2b/envd/filesystem.Filesystem/Move", ROUTE_PUBLIC, fs_move, NULL, NULL, NULL },
	{ "POST", "e2b/envd/filesystem.Filesystem/Remove", ROUTE_PUBLIC, fs_remove, NULL, NULL, NULL },
	{ "GET", "e2b/envd/health", ROUTE_PUBLIC, health, NULL, NULL, NULL },
};

const struct api_routes api_envd_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
