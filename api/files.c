/*
 * Files in a sandbox, through its guest agent (docs/agent-protocol.md):
 * downloads and uploads streamed through a pipe and a thread (a file is
 * never held whole), and stat, list, mkdir, remove and rename, each one
 * request.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fdio.h"
#include "handlers.h"
#include "routes.h"

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

/* A download or an upload: its thread moves the bytes between the agent and a pipe. */
struct transfer {
	char vsock[sizeof(((struct sandbox *)0)->vsock)];
	char path[4096];
	unsigned int mode;
	int fd;                 /* the thread's end of the pipe */
	int wfd;                /* an upload's writing end */
	pthread_t thread;
	long long bytes;
	uint64_t taken;
	struct agent_error err;
	int ret;
};

/*
 * Starts a transfer of path (with mode) in r's sandbox: run on a thread of
 * its own, with pipe end fd; other is the request's end. The transfer (the
 * caller's, once its thread is joined), or NULL when answered (then both
 * ends are closed).
 */
static struct transfer *transfer_start(struct api_req *r, const char *path, unsigned int mode,
				       int fd, int other, void *(*run)(void *))
{
	struct transfer *t = calloc(1, sizeof(*t));

	if (!t) {
		close(fd);
		close(other);
		api_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	snprintf(t->vsock, sizeof(t->vsock), "%s", r->sb->vsock);
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->mode = mode;
	t->fd = fd;
	if (pthread_create(&t->thread, NULL, run, t)) {
		close(fd);
		close(other);
		free(t);
		api_reply_error(r, 503, "busy", "no thread for the transfer");
		return NULL;
	}
	return t;
}

/* A download's thread: the guest's file into the pipe. */
static void *download_thread(void *arg)
{
	struct transfer *t = arg;

	t->ret = agent_file_read(t->vsock, t->path, t->fd, &t->bytes, &t->err);
	close(t->fd);
	return NULL;
}

/* The download's answer is over: its thread is joined. */
static void download_done(void *opaque)
{
	struct transfer *t = opaque;

	pthread_join(t->thread, NULL);
	free(t);
}

/* GET .../files?path=P: the file's bytes as the agent reads them, its size in X-File-Size. */
static void download(struct api_req *r)
{
	const char *path = abs_path(r, "path"), *type;
	struct agent_error err = { "", "" };
	struct json_object *reply = NULL;
	struct transfer *t;
	int pipefd[2], ret;
	char size[32];

	if (!path)
		return;
	ret = agent_stat(r->sb->vsock, path, &reply, &err, API_AGENT_WAIT_MS);
	if (ret) {
		api_agent_failed(r, ret, &err);
		return;
	}
	type = api_str_field(reply, "type");
	if (!type || strcmp(type, "file")) {
		api_reply_error(r, 400, "invalid_request", "%s is a %s, not a file", path,
				type ? type : "thing");
		json_object_put(reply);
		return;
	}
	snprintf(size, sizeof(size), "%lld", (long long)json_object_get_int64(
		json_object_object_get(reply, "size")));
	json_object_put(reply);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		api_reply_error(r, 500, "internal", "no pipe for the download");
		return;
	}
	t = transfer_start(r, path, 0, pipefd[1], pipefd[0], download_thread);
	if (!t)
		return;
	api_reply_fd(r, 200, "application/octet-stream", pipefd[0], download_done, t);
	MHD_add_response_header(r->resp, "X-File-Size", size);
}

/* An upload's thread: the pipe into the guest's file. */
static void *upload_thread(void *arg)
{
	struct transfer *t = arg;

	t->ret = agent_file_write(t->vsock, t->path, t->fd, t->mode, &t->bytes, &t->err);
	close(t->fd);
	return NULL;
}

/* PUT .../files?path=P[&mode=644], once the headers are in: starts the upload's thread. */
static void upload_begin(struct api_req *r)
{
	const char *path = abs_path(r, "path"), *mode = api_arg(r, "mode"), *len;
	unsigned long m = 0644;
	int pipefd[2];
	char *end;

	if (!path)
		return;
	api_note(r, "upload", "%s", path);
	len = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && strtoull(len, NULL, 10) > r->cfg->max_upload) {
		api_reply_error(r, 413, "payload_too_large", "uploads are limited to %llu bytes",
				(unsigned long long)r->cfg->max_upload);
		return;
	}
	if (mode && ((m = strtoul(mode, &end, 8)), !*mode || *end || m > 07777)) {
		api_reply_error(r, 400, "invalid_request", "mode: want octal permissions (644)");
		return;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		api_reply_error(r, 500, "internal", "pipe: %s", strerror(errno));
		return;
	}
	r->stream = transfer_start(r, path, (unsigned int)m, pipefd[0], pipefd[1], upload_thread);
	if (r->stream)
		((struct transfer *)r->stream)->wfd = pipefd[1];
}

/* A piece of the upload's body into the pipe; false to stop taking it. */
static bool upload_data(struct api_req *r, const char *buf, size_t len)
{
	struct transfer *t = r->stream;

	if (!t)
		return false;
	t->taken += len;
	if (t->taken > r->cfg->max_upload)
		return false;
	/* A failed write: the agent stopped taking it; its error is answered. */
	return fdio_write_all(t->wfd, buf, len) == 0;
}

/* Ends the upload's pipe and thread; true if it was started. */
static bool upload_end(struct api_req *r)
{
	struct transfer *t = r->stream;

	if (!t)
		return false;
	close(t->wfd);
	pthread_join(t->thread, NULL);
	return true;
}

/* The upload's body is in: answers what the agent wrote. */
static void upload(struct api_req *r)
{
	struct transfer *t = r->stream;
	struct json_object *o;

	if (!upload_end(r))
		return;
	r->stream = NULL;
	api_note(r, "upload", "%s (%llu bytes)", t->path, (unsigned long long)t->taken);
	if (t->taken > r->cfg->max_upload) {
		api_reply_error(r, 413, "payload_too_large", "uploads are limited to %llu bytes",
				(unsigned long long)r->cfg->max_upload);
	} else if (t->ret) {
		api_agent_failed(r, t->ret, &t->err);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(t->path));
		json_object_object_add(o, "size", json_object_new_int64(t->bytes));
		api_reply_json(r, 201, o);
	}
	free(t);
}

/* The upload ended without its body: its thread is joined. */
static void upload_abandon(struct api_req *r)
{
	if (upload_end(r))
		free(r->stream);
	r->stream = NULL;
}

/* GET .../files/stat?path=P */
static void file_stat(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct agent_error err = { "", "" };
	struct json_object *reply = NULL;
	int ret;

	if (!path)
		return;
	ret = agent_stat(r->sb->vsock, path, &reply, &err, API_AGENT_WAIT_MS);
	api_agent_reply(r, ret, reply, &err);
}

/* GET .../files/list?path=P[&depth=1..64] */
static void file_list(struct api_req *r)
{
	const char *path = abs_path(r, "path"), *depth = api_arg(r, "depth");
	struct agent_error err = { "", "" };
	struct json_object *reply = NULL;
	long d = 1;
	int ret;
	char *end;

	if (!path)
		return;
	if (depth && ((d = strtol(depth, &end, 10)), *end || d < 1 || d > 64)) {
		api_reply_error(r, 400, "invalid_request", "depth: want 1..64");
		return;
	}
	ret = agent_list(r->sb->vsock, path, (int)d, &reply, &err, API_AGENT_WAIT_MS);
	api_agent_reply(r, ret, reply, &err);
}

/* POST .../files/mkdir?path=P[&parents=false] */
static void file_mkdir(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct agent_error err = { "", "" };
	bool parents;

	if (!path || !api_flag(r, "parents", true, &parents))
		return;
	api_note(r, "mkdir", "%s", path);
	api_agent_done(r, agent_mkdir(r->sb->vsock, path, parents, &err, API_AGENT_WAIT_MS), &err);
}

/* DELETE .../files?path=P[&recursive=true]: never the root. */
static void file_remove(struct api_req *r)
{
	const char *path = abs_path(r, "path");
	struct agent_error err = { "", "" };
	bool recursive;

	if (!path || !api_flag(r, "recursive", false, &recursive))
		return;
	if (!strcmp(path, "/")) {
		api_reply_error(r, 400, "invalid_request", "path: not the root");
		return;
	}
	api_note(r, "remove", "%s%s", path, recursive ? " (recursive)" : "");
	api_agent_done(r, agent_remove(r->sb->vsock, path, recursive, &err, API_AGENT_WAIT_MS),
		       &err);
}

/* POST .../files/rename?from=P&to=Q */
static void file_rename(struct api_req *r)
{
	const char *from = abs_path(r, "from"), *to;
	struct agent_error err = { "", "" };

	if (!from || !(to = abs_path(r, "to")))
		return;
	api_note(r, "rename", "%s → %s", from, to);
	api_agent_done(r, agent_rename(r->sb->vsock, from, to, &err, API_AGENT_WAIT_MS), &err);
}

static const struct api_route rows[] = {
	{ "GET", "sandboxes/{id}/files", ROUTE_SANDBOX, download, NULL, NULL, NULL },
	{ "PUT", "sandboxes/{id}/files", ROUTE_SANDBOX | ROUTE_UPLOAD, upload, upload_begin,
	  upload_data, upload_abandon },
	{ "DELETE", "sandboxes/{id}/files", ROUTE_SANDBOX, file_remove, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/files/stat", ROUTE_SANDBOX, file_stat, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/files/list", ROUTE_SANDBOX, file_list, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/files/mkdir", ROUTE_SANDBOX, file_mkdir, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/files/rename", ROUTE_SANDBOX, file_rename, NULL, NULL, NULL },
};

const struct api_routes api_file_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
