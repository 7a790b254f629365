/*
 * The client library's transport: connections through cubicle-vmm's vsock
 * socket, one request and its reply, waiting for a guest to answer, and the
 * one-shot requests that need nothing more (display).
 */
#include "client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "usock.h"

/* Reads up to a newline one byte at a time: what follows it is the guest's stream. */
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

/* Bounds (or, with 0, unbounds) each receive on fd; a failure is -errno. */
static int set_rcv_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

/* The handshake waits at most timeout_ms for the guest to accept. The fd, or -errno. */
static int connect_timeout(const char *vsock_path, uint32_t port, int timeout_ms)
{
	char line[64];
	int fd, ret, n;

	fd = usock_connect(vsock_path, 0);
	if (fd < 0)
		return fd;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	ret = fdio_write_all(fd, line, (size_t)n);
	if (ret == 0)
		ret = set_rcv_timeout(fd, timeout_ms);
	if (ret == 0)
		ret = read_line(fd, line, sizeof(line));
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret == 0)
		ret = set_rcv_timeout(fd, 0);
	if (ret == 0 && strncmp(line, "OK ", 3) != 0)
		ret = -ECONNREFUSED;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int agent_connect(const char *vsock_path, uint32_t port)
{
	return connect_timeout(vsock_path, port, 10000);
}

void agent_copy_error(struct json_object *reply, struct agent_error *err)
{
	struct json_object *v;

	if (!err)
		return;
	snprintf(err->code, sizeof(err->code), "%s",
		 json_object_object_get_ex(reply, "code", &v) ? json_object_get_string(v) : "EIO");
	snprintf(err->message, sizeof(err->message), "%s",
		 json_object_object_get_ex(reply, "message", &v) ? json_object_get_string(v) : "");
}

int agent_recv_json(int fd, struct json_object **out)
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

bool agent_reply_ok(struct json_object *reply)
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
		ret = agent_recv_json(fd, reply);
	if (ret == 0 && !agent_reply_ok(*reply)) {
		agent_copy_error(*reply, err);
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
	int fd = agent_connect(vsock_path, AGENT_PORT), ret = 0;

	*reply = NULL;
	if (fd < 0)
		return fd;
	if (timeout_ms > 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
			       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
		ret = -errno;
	if (ret == 0)
		ret = agent_request(fd, req, reply, err);
	close(fd);
	return ret;
}

int agent_open(const char *vsock_path, struct json_object *req, struct json_object **reply,
	       struct agent_error *err)
{
	struct json_object *got = NULL;
	int fd = agent_connect(vsock_path, AGENT_PORT), ret;

	if (reply)
		*reply = NULL;
	if (fd < 0)
		return fd;
	ret = agent_request(fd, req, &got, err);
	if (ret == 0 && reply)
		*reply = got;
	else
		json_object_put(got);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

struct json_object *agent_op_new(const char *op)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(op));
	return o;
}

int agent_call_op(const char *vsock_path, struct json_object *req, struct json_object **reply,
		  struct agent_error *err, int timeout_ms)
{
	struct json_object *got = NULL;
	int ret = agent_call_timeout(vsock_path, req, &got, err, timeout_ms);

	json_object_put(req);
	if (ret == 0 && reply) {
		json_object_object_del(got, "ok");
		*reply = got;
		return 0;
	}
	if (reply)
		*reply = NULL;
	json_object_put(got);
	return ret;
}

int agent_wait_ready(const char *vsock_path, int timeout_ms)
{
	struct json_object *req = agent_op_new("hello"), *reply = NULL;
	int64_t end = clk_mono_ms() + timeout_ms;
	int ret;

	for (;;) {
		int fd = connect_timeout(vsock_path, AGENT_PORT, 1000);

		ret = fd;
		/* A guest that accepts but never answers costs a second, not forever. */
		if (fd >= 0 && (ret = set_rcv_timeout(fd, 1000)) == 0)
			ret = agent_request(fd, req, &reply, NULL);
		if (fd >= 0)
			close(fd);
		json_object_put(reply);
		reply = NULL;
		if (ret == 0 || clk_mono_ms() > end)
			break;
		/*
		 * A retry pace, and the pace is the point: until the agent listens
		 * there is nothing to wait on (the monitor refuses a connection to a
		 * port nobody listens on at once), so 5 ms between tries keeps a
		 * booting guest from being asked in a spin.
		 */
		clk_pause_ms(5);
	}
	json_object_put(req);
	return ret;
}

int agent_set_display(const char *vsock_path, unsigned int width, unsigned int height,
		      struct agent_error *err, int timeout_ms)
{
	struct json_object *req = agent_op_new("display");

	json_object_object_add(req, "width", json_object_new_int((int)width));
	json_object_object_add(req, "height", json_object_new_int((int)height));
	return agent_call_op(vsock_path, req, NULL, err, timeout_ms);
}

/* --- the agent itself -------------------------------------------------------- */

int agent_hello(const char *vsock_path, struct agent_error *err, int timeout_ms)
{
	return agent_call_op(vsock_path, agent_op_new("hello"), NULL, err, timeout_ms);
}

int agent_status(const char *vsock_path, struct json_object **reply, struct agent_error *err,
		 int timeout_ms)
{
	return agent_call_op(vsock_path, agent_op_new("status"), reply, err, timeout_ms);
}

int agent_poweroff(const char *vsock_path, struct agent_error *err, int timeout_ms)
{
	return agent_call_op(vsock_path, agent_op_new("poweroff"), NULL, err, timeout_ms);
}

/* --- an attached command's connection ------------------------------------------ */

int agent_send_stdin(int fd, const void *data, size_t len)
{
	return len ? frame_send_data(fd, data, len) : frame_send(fd, FRAME_END, NULL, 0);
}

int agent_send_resize(int fd, unsigned int rows, unsigned int cols)
{
	struct json_object *req = agent_op_new("resize");
	const char *s;
	size_t len;
	int ret;

	json_object_object_add(req, "rows", json_object_new_int((int)rows));
	json_object_object_add(req, "cols", json_object_new_int((int)cols));
	s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	ret = frame_send(fd, FRAME_JSON, s, (uint32_t)len);
	json_object_put(req);
	return ret;
}
