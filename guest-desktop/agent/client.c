#include "client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNREFUSED;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

/* The handshake waits at most timeout_ms for the guest to accept. */
static int connect_timeout(const char *vsock_path, uint32_t port, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 }, none = { 0, 0 };
	char line[64];
	int fd, ret, n;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vsock_path) >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out_close;
	}
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		ret = -EIO;
		goto out_close;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret = read_line(fd, line, sizeof(line));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret < 0)
		goto out_close;
	if (strncmp(line, "OK ", 3) != 0) {
		ret = -ECONNREFUSED;
		goto out_close;
	}
	return fd;

out_close:
	close(fd);
	return ret;
}

int agent_connect(const char *vsock_path, uint32_t port)
{
	return connect_timeout(vsock_path, port, 10000);
}

static void copy_error(struct json_object *reply, struct agent_error *err)
{
	struct json_object *v;

	if (!err)
		return;
	snprintf(err->code, sizeof(err->code), "%s",
		 json_object_object_get_ex(reply, "code", &v) ? json_object_get_string(v) : "EIO");
	snprintf(err->message, sizeof(err->message), "%s",
		 json_object_object_get_ex(reply, "message", &v) ? json_object_get_string(v) : "");
}

/* Reads one frame that must be JSON; parsed into *out. */
static int recv_json(int fd, struct json_object **out)
{
	uint8_t *buf = NULL, type;
	uint32_t cap = 0, len;
	int ret = frame_recv(fd, &type, &buf, &cap, &len);

	if (ret == 0 && type != FRAME_JSON)
		ret = -EPROTO;
	if (ret == 0 && !(*out = json_tokener_parse((char *)buf)))
		ret = -EPROTO;
	free(buf);
	return ret;
}

static bool reply_is_ok(struct json_object *reply)
{
	struct json_object *v;

	return json_object_object_get_ex(reply, "ok", &v) && json_object_get_boolean(v);
}

int agent_request(int fd, struct json_object *req, struct json_object **reply,
		  struct agent_error *err)
{
	size_t len;
	const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int ret = frame_send(fd, FRAME_JSON, s, (uint32_t)len);

	*reply = NULL;
	if (ret == 0)
		ret = recv_json(fd, reply);
	if (ret == 0 && !reply_is_ok(*reply)) {
		copy_error(*reply, err);
		ret = -EREMOTEIO;
	}
	return ret;
}

int agent_call(const char *vsock_path, struct json_object *req, struct json_object **reply,
	       struct agent_error *err)
{
	return agent_call_timeout(vsock_path, req, reply, err, 0);
}

int agent_call_timeout(const char *vsock_path, struct json_object *req,
		       struct json_object **reply, struct agent_error *err, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = agent_connect(vsock_path, AGENT_PORT), ret;

	*reply = NULL;
	if (fd < 0)
		return fd;
	if (timeout_ms > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	ret = agent_request(fd, req, reply, err);
	close(fd);
	return ret;
}

int agent_wait_ready(const char *vsock_path, int timeout_ms)
{
	struct timespec t0, t;
	struct json_object *req = json_object_new_object(), *reply = NULL;
	int ret;

	json_object_object_add(req, "op", json_object_new_string("hello"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = connect_timeout(vsock_path, AGENT_PORT, 1000);
		struct timeval tv = { 1, 0 };

		ret = fd;
		if (fd >= 0) {
			/* A guest that accepts but never answers costs a second, not forever. */
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			ret = agent_request(fd, req, &reply, NULL);
			close(fd);
		}
		json_object_put(reply);
		reply = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (ret == 0 || (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			break;
		usleep(5000);
	}
	json_object_put(req);
	return ret;
}

static struct json_object *strv_json(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

struct json_object *agent_exec_request(const struct agent_exec *x)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("exec"));
	if (x->cmd)
		json_object_object_add(req, "cmd", json_object_new_string(x->cmd));
	else
		json_object_object_add(req, "argv", strv_json(x->argv));
	if (x->cwd)
		json_object_object_add(req, "cwd", json_object_new_string(x->cwd));
	if (x->user)
		json_object_object_add(req, "user", json_object_new_string(x->user));
	if (x->env) {
		struct json_object *env = json_object_new_object();

		for (const char *const *e = x->env; *e; e++) {
			const char *eq = strchr(*e, '=');
			char key[256];

			if (!eq || (size_t)(eq - *e) >= sizeof(key))
				continue;
			memcpy(key, *e, (size_t)(eq - *e));
			key[eq - *e] = '\0';
			json_object_object_add(env, key, json_object_new_string(eq + 1));
		}
		json_object_object_add(req, "env", env);
	}
	json_object_object_add(req, "stdin", json_object_new_boolean(x->stdin_data != NULL));
	json_object_object_add(req, "pty", json_object_new_boolean(x->pty));
	if (x->timeout_ms)
		json_object_object_add(req, "timeout_ms", json_object_new_int64(x->timeout_ms));
	return req;
}

int agent_exec_follow(int fd, const struct agent_exec *x, struct agent_exit *res)
{
	uint8_t *buf = NULL, type;
	uint32_t cap = 0, len;
	int ret;

	for (;;) {
		ret = frame_recv(fd, &type, &buf, &cap, &len);
		if (ret < 0)
			break;
		if (type == FRAME_STDOUT || type == FRAME_STDERR) {
			if (x && x->on_output)
				x->on_output(x->opaque, type == FRAME_STDOUT ? 1 : 2, buf, len);
			continue;
		}
		if (type == FRAME_JSON) {
			struct json_object *o = json_tokener_parse((char *)buf), *v;

			if (!o) {
				ret = -EPROTO;
				break;
			}
			res->exit_code = json_object_object_get_ex(o, "exit", &v) && v ?
						 json_object_get_int(v) : -1;
			res->signal = json_object_object_get_ex(o, "signal", &v) ? json_object_get_int(v) : 0;
			res->timed_out = json_object_object_get_ex(o, "timed_out", &v) &&
					 json_object_get_boolean(v);
			json_object_put(o);
			break;
		}
	}
	free(buf);
	return ret;
}

struct stdin_job {
	pthread_t tid;
	int fd;
	const struct agent_exec *x;
};

static void *feed_stdin(void *arg)
{
	struct stdin_job *job = arg;
	const uint8_t *p = job->x->stdin_data;
	size_t len = job->x->stdin_len;
	int ret = 0;

	for (size_t off = 0; off < len && ret == 0;) {
		uint32_t n = len - off > FRAME_DATA_CHUNK ? FRAME_DATA_CHUNK : (uint32_t)(len - off);

		ret = frame_send(job->fd, FRAME_DATA, p + off, n);
		off += n;
	}
	if (ret == 0)
		frame_send(job->fd, FRAME_END, NULL, 0);
	return NULL;
}

int agent_exec_run(const char *vsock_path, const struct agent_exec *x, struct agent_exit *res,
		   struct agent_error *err)
{
	struct json_object *req = agent_exec_request(x), *reply = NULL, *v;
	int fd = agent_connect(vsock_path, AGENT_PORT), ret;

	memset(res, 0, sizeof(*res));
	if (fd < 0) {
		json_object_put(req);
		return fd;
	}
	ret = agent_request(fd, req, &reply, err);
	json_object_put(req);
	if (ret < 0)
		goto out;
	res->pid = json_object_object_get_ex(reply, "pid", &v) ? json_object_get_int(v) : 0;
	/*
	 * Stdin goes on its own thread while output is read here: a command that
	 * writes while it reads would otherwise fill both directions and stall,
	 * and one that exits early must not cost us its output and status.
	 */
	struct stdin_job job = { .fd = fd, .x = x };
	bool feeding = x->stdin_data && pthread_create(&job.tid, NULL, feed_stdin, &job) == 0;

	ret = agent_exec_follow(fd, x, res);
	if (feeding) {
		shutdown(fd, SHUT_WR);       /* unblocks a feeder stuck on a gone command */
		pthread_join(job.tid, NULL);
	}
out:
	json_object_put(reply);
	close(fd);
	return ret;
}

static int file_open(const char *vsock_path, const char *op, const char *path, unsigned int mode,
		     int *fd, struct agent_error *err)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	int ret;

	json_object_object_add(req, "op", json_object_new_string(op));
	json_object_object_add(req, "path", json_object_new_string(path));
	if (mode)
		json_object_object_add(req, "mode", json_object_new_int((int)mode));
	*fd = agent_connect(vsock_path, AGENT_PORT);
	if (*fd < 0) {
		json_object_put(req);
		return *fd;
	}
	ret = agent_request(*fd, req, &reply, err);
	json_object_put(req);
	json_object_put(reply);
	if (ret < 0)
		close(*fd);
	return ret;
}

int agent_file_write(const char *vsock_path, const char *path, int src_fd, unsigned int mode,
		     long long *written, struct agent_error *err)
{
	struct json_object *reply = NULL, *v;
	uint8_t *buf;
	int fd, ret = file_open(vsock_path, "write", path, mode, &fd, err);

	if (ret < 0)
		return ret;
	buf = malloc(FRAME_DATA_CHUNK);
	for (;;) {
		ssize_t n = read(src_fd, buf, FRAME_DATA_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		ret = frame_send(fd, FRAME_DATA, buf, (uint32_t)n);
		if (ret < 0)
			break;
	}
	if (ret == 0)
		ret = frame_send(fd, FRAME_END, NULL, 0);
	/* After a failed send the agent may have said why (a full disk): read it. */
	if (recv_json(fd, &reply) == 0 && (ret == 0 || !reply_is_ok(reply)))
		ret = 0;
	else if (ret == 0)
		ret = -EPROTO;
	if (ret == 0 && !reply_is_ok(reply)) {
		copy_error(reply, err);
		ret = -EREMOTEIO;
	}
	if (ret == 0 && written)
		*written = json_object_object_get_ex(reply, "size", &v) ? json_object_get_int64(v) : 0;
out:
	json_object_put(reply);
	free(buf);
	close(fd);
	return ret;
}

int agent_file_read(const char *vsock_path, const char *path, int dst_fd, long long *got,
		    struct agent_error *err)
{
	uint8_t *buf = NULL, type;
	uint32_t cap = 0, len;
	long long total = 0;
	int fd, ret = file_open(vsock_path, "read", path, 0, &fd, err);

	if (ret < 0)
		return ret;
	for (;;) {
		ret = frame_recv(fd, &type, &buf, &cap, &len);
		if (ret < 0 || type == FRAME_END)
			break;
		if (type == FRAME_JSON) {      /* an error while reading */
			struct json_object *o = json_tokener_parse((char *)buf);

			copy_error(o, err);
			json_object_put(o);
			ret = -EREMOTEIO;
			break;
		}
		for (uint32_t off = 0; off < len;) {
			ssize_t n = write(dst_fd, buf + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ret = -errno;
				goto out;
			}
			off += (uint32_t)n;
		}
		total += len;
	}
out:
	if (got)
		*got = total;
	free(buf);
	close(fd);
	return ret;
}
