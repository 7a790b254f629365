/*
 * Background commands and file operations in a sandbox, each one request to
 * its guest agent (docs/agent-protocol.md): list, kill and feed commands
 * that run on without a connection; stat, list, mkdir, remove and rename.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "handlers.h"
#include "log.h"

#define AGENT_WAIT_MS 30000

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

/* One agent request (req taken); the reply, or NULL when answered. */
static struct json_object *agent(struct api_req *r, struct json_object *req)
{
	struct json_object *reply = NULL;
	struct agent_error err = { "", "" };
	int ret = agent_call_timeout(r->sb->vsock, req, &reply, &err, AGENT_WAIT_MS);

	json_object_put(req);
	if (ret) {
		api_agent_failed(r, ret, &err);
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

static struct json_object *op(const char *name)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(name));
	return o;
}

/* The reply without its "ok". */
static void reply_plain(struct api_req *r, unsigned int status, struct json_object *reply)
{
	json_object_object_del(reply, "ok");
	api_reply_json(r, status, reply);
}

void api_processes(struct api_req *r)
{
	struct json_object *reply = agent(r, op("ps"));

	if (reply)
		reply_plain(r, 200, reply);
}

void api_process_kill(struct api_req *r)
{
	const char *sig = api_arg(r, "signal");
	struct json_object *req, *reply;
	int pid, s = 9;
	char *end;

	if (!pid_of(r, &pid))
		return;
	if (sig && ((s = (int)strtol(sig, &end, 10)), *end || s < 1 || s > 64)) {
		api_reply_error(r, 400, "invalid_request", "signal: want a signal number 1..64");
		return;
	}
	api_note(r, "kill", "signal %d to process %d", s, pid);
	req = op("kill");
	json_object_object_add(req, "pid", json_object_new_int(pid));
	json_object_object_add(req, "signal", json_object_new_int(s));
	reply = agent(r, req);
	if (reply) {
		json_object_put(reply);
		api_reply_bytes(r, 204, NULL, NULL, 0);
	}
}

#define STDIN_WAIT_MS 5000

/*
 * Waits (up to STDIN_WAIT_MS) until the agent has taken all that was sent
 * on fd: it handles a connection's frames in order and closes it at our
 * end of stream, so its close means the bytes are in the command's stdin.
 * Without this, two requests in a row could reach the command out of order.
 * The command's output, which the agent sends to attached connections too,
 * is dropped.
 */
static void wait_taken(int fd)
{
	char buf[4096];
	struct pollfd p = { fd, POLLIN, 0 };
	int64_t end = api_mono_ms() + STDIN_WAIT_MS, left;

	if (shutdown(fd, SHUT_WR) < 0)
		return;
	for (;;) {
		left = end - api_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0 || read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

/* POST .../processes/{pid}/stdin[?close=true]: the raw body to its stdin. */
void api_process_stdin(struct api_req *r)
{
	struct json_object *req, *reply = NULL;
	struct agent_error err = { "", "" };
	int pid, fd, ret;
	bool close_it;

	if (!pid_of(r, &pid) || !api_flag(r, "close", false, &close_it))
		return;
	api_note(r, "stdin", "%zu bytes to process %d's stdin%s", r->body_len, pid,
		 close_it ? ", then closed" : "");
	fd = agent_connect(r->sb->vsock, AGENT_PORT);
	if (fd < 0) {
		api_agent_failed(r, fd, &err);
		return;
	}
	req = op("attach");
	json_object_object_add(req, "pid", json_object_new_int(pid));
	ret = agent_request(fd, req, &reply, &err);
	json_object_put(req);
	json_object_put(reply);
	for (size_t off = 0; ret == 0 && off < r->body_len;) {
		uint32_t n = r->body_len - off > FRAME_DATA_CHUNK ? FRAME_DATA_CHUNK :
			     (uint32_t)(r->body_len - off);

		ret = frame_send(fd, FRAME_DATA, r->body + off, n);
		off += n;
	}
	if (ret == 0 && close_it)
		ret = frame_send(fd, FRAME_END, NULL, 0);
	if (ret == 0)
		wait_taken(fd);
	close(fd);
	if (ret) {
		api_agent_failed(r, ret, &err);
		return;
	}
	api_reply_bytes(r, 204, NULL, NULL, 0);
}

/* ?path= (absolute); NULL when answered. */
static const char *abs_path(struct api_req *r, const char *name)
{
	const char *p = api_arg(r, name);

	if (!p || p[0] != '/' || strlen(p) >= 4096) {
		api_reply_error(r, 400, "invalid_request", "%s: want an absolute path in the guest",
				name);
		return NULL;
	}
	return p;
}

void api_file_stat(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct json_object *req, *reply;

	if (!path)
		return;
	req = op("stat");
	json_object_object_add(req, "path", json_object_new_string(path));
	if ((reply = agent(r, req)))
		reply_plain(r, 200, reply);
}

void api_file_list(struct api_req *r)
{
	const char *path = abs_path(r, "path"), *depth = api_arg(r, "depth");
	struct json_object *req, *reply;
	long d = 1;
	char *end;

	if (!path)
		return;
	if (depth && ((d = strtol(depth, &end, 10)), *end || d < 1 || d > 64)) {
		api_reply_error(r, 400, "invalid_request", "depth: want 1..64");
		return;
	}
	req = op("list");
	json_object_object_add(req, "path", json_object_new_string(path));
	json_object_object_add(req, "depth", json_object_new_int((int)d));
	if ((reply = agent(r, req)))
		reply_plain(r, 200, reply);
}

void api_file_mkdir(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct json_object *req, *reply;
	bool parents;

	if (!path || !api_flag(r, "parents", true, &parents))
		return;
	api_note(r, "mkdir", "%s", path);
	req = op("mkdir");
	json_object_object_add(req, "path", json_object_new_string(path));
	json_object_object_add(req, "parents", json_object_new_boolean(parents));
	if ((reply = agent(r, req))) {
		json_object_put(reply);
		api_reply_bytes(r, 204, NULL, NULL, 0);
	}
}

void api_file_remove(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct json_object *req, *reply;
	bool recursive;

	if (!path || !api_flag(r, "recursive", false, &recursive))
		return;
	if (!strcmp(path, "/")) {
		api_reply_error(r, 400, "invalid_request", "path: not the root");
		return;
	}
	api_note(r, "remove", "%s%s", path, recursive ? " (recursive)" : "");
	req = op("remove");
	json_object_object_add(req, "path", json_object_new_string(path));
	json_object_object_add(req, "recursive", json_object_new_boolean(recursive));
	if ((reply = agent(r, req))) {
		json_object_put(reply);
		api_reply_bytes(r, 204, NULL, NULL, 0);
	}
}

void api_file_rename(struct api_req *r)
{
	const char *from = abs_path(r, "from"), *to;
	struct json_object *req, *reply;

	if (!from || !(to = abs_path(r, "to")))
		return;
	api_note(r, "rename", "%s → %s", from, to);
	req = op("rename");
	json_object_object_add(req, "from", json_object_new_string(from));
	json_object_object_add(req, "to", json_object_new_string(to));
	if ((reply = agent(r, req))) {
		json_object_put(reply);
		api_reply_bytes(r, 204, NULL, NULL, 0);
	}
}
