/*
 * Files through the agent: stream contents in and out, and the tree
 * operations (stat, list, mkdir, remove, rename), as the sandbox user.
 */
#include "client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

/* A request {"op": op, "path": path} (the caller's). */
static struct json_object *path_op(const char *op, const char *path)
{
	struct json_object *req = agent_op_new(op);

	json_object_object_add(req, "path", json_object_new_string(path));
	return req;
}

/* Sends a read or write request on a new connection, *fd for what follows. */
static int file_open(const char *vsock_path, const char *op, const char *path, unsigned int mode,
		     int *fd, struct agent_error *err)
{
	struct json_object *req = path_op(op, path);

	if (mode)
		json_object_object_add(req, "mode", json_object_new_int((int)mode));
	*fd = agent_open(vsock_path, req, NULL, err);
	json_object_put(req);
	return *fd < 0 ? *fd : 0;
}

/*
 * Sends src_fd's contents as data frames, then the end. 0 or -errno; *local
 * says the error is src_fd's (the agent still waits for data then), not the
 * connection's.
 */
static int send_contents(int fd, int src_fd, bool *local)
{
	uint8_t *buf = malloc(FRAME_DATA_CHUNK);
	int ret = 0;

	*local = !buf;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(src_fd, buf, FRAME_DATA_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*local = true;
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = frame_send(fd, FRAME_END, NULL, 0);
			break;
		}
		ret = frame_send(fd, FRAME_DATA, buf, (uint32_t)n);
		if (ret < 0)
			break;
	}
	free(buf);
	return ret;
}

int agent_file_write(const char *vsock_path, const char *path, int src_fd, unsigned int mode,
		     long long *written, struct agent_error *err)
{
	struct json_object *reply = NULL, *v;
	bool local;
	int fd, ret = file_open(vsock_path, "write", path, mode, &fd, err);

	if (ret < 0)
		return ret;
	ret = send_contents(fd, src_fd, &local);
	if (local)
		goto out;
	/* After a failed send the agent may have said why (a full disk): read it. */
	if (agent_recv_json(fd, &reply) == 0 && (ret == 0 || !agent_reply_ok(reply)))
		ret = 0;
	else if (ret == 0)
		ret = -EPROTO;
	if (ret == 0 && !agent_reply_ok(reply)) {
		agent_copy_error(reply, err);
		ret = -EREMOTEIO;
	}
	if (ret == 0 && written)
		*written = json_object_object_get_ex(reply, "size", &v) ? json_object_get_int64(v) : 0;
out:
	json_object_put(reply);
	close(fd);
	return ret;
}

int agent_file_read(const char *vsock_path, const char *path, int dst_fd, long long *got,
		    struct agent_error *err)
{
	return agent_file_read_timed(vsock_path, path, dst_fd, got, err, 0);
}

int agent_file_read_timed(const char *vsock_path, const char *path, int dst_fd, long long *got,
			  struct agent_error *err, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int64_t end = clk_mono_ms() + 4LL * timeout_ms;
	uint8_t *buf = NULL, type;
	uint32_t cap = 0, len;
	long long total = 0;
	int fd, ret = file_open(vsock_path, "read", path, 0, &fd, err);

	if (ret < 0)
		return ret;
	if (timeout_ms > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	for (;;) {
		if (timeout_ms > 0 && clk_mono_ms() > end) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = frame_recv(fd, &type, &buf, &cap, &len);
		if (ret < 0 || type == FRAME_END)
			break;
		if (type == FRAME_JSON) {      /* an error while reading */
			struct json_object *o = json_tokener_parse((char *)buf);

			agent_copy_error(o, err);
			json_object_put(o);
			ret = -EREMOTEIO;
			break;
		}
		ret = fdio_write_all(dst_fd, buf, len);
		if (ret < 0)
			break;
		total += len;
	}
	if (got)
		*got = total;
	free(buf);
	close(fd);
	return ret;
}

int agent_stat(const char *vsock_path, const char *path, struct json_object **reply,
	       struct agent_error *err, int timeout_ms)
{
	return agent_call_op(vsock_path, path_op("stat", path), reply, err, timeout_ms);
}

int agent_list(const char *vsock_path, const char *path, int depth, struct json_object **reply,
	       struct agent_error *err, int timeout_ms)
{
	struct json_object *req = path_op("list", path);

	json_object_object_add(req, "depth", json_object_new_int(depth));
	return agent_call_op(vsock_path, req, reply, err, timeout_ms);
}

int agent_mkdir(const char *vsock_path, const char *path, bool parents, struct agent_error *err,
		int timeout_ms)
{
	struct json_object *req = path_op("mkdir", path);

	json_object_object_add(req, "parents", json_object_new_boolean(parents));
	return agent_call_op(vsock_path, req, NULL, err, timeout_ms);
}

int agent_remove(const char *vsock_path, const char *path, bool recursive,
		 struct agent_error *err, int timeout_ms)
{
	struct json_object *req = path_op("remove", path);

	json_object_object_add(req, "recursive", json_object_new_boolean(recursive));
	return agent_call_op(vsock_path, req, NULL, err, timeout_ms);
}

int agent_rename(const char *vsock_path, const char *from, const char *to,
		 struct agent_error *err, int timeout_ms)
{
	struct json_object *req = agent_op_new("rename");

	json_object_object_add(req, "from", json_object_new_string(from));
	json_object_object_add(req, "to", json_object_new_string(to));
	return agent_call_op(vsock_path, req, NULL, err, timeout_ms);
}
