/*
 * Commands through the agent: run one to its end with its output streamed,
 * start one in the background and feed its stdin later, list and signal
 * the running ones.
 */
#include "client_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

static struct json_object *strv_json(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

/* {"KEY": "VALUE"} from "KEY=VALUE" strings; entries without '=' or with a long key are skipped. */
static struct json_object *env_json(const char *const *env)
{
	struct json_object *o = json_object_new_object();

	for (const char *const *e = env; *e; e++) {
		const char *eq = strchr(*e, '=');
		char key[256];

		if (!eq || (size_t)(eq - *e) >= sizeof(key))
			continue;
		memcpy(key, *e, (size_t)(eq - *e));
		key[eq - *e] = '\0';
		json_object_object_add(o, key, json_object_new_string(eq + 1));
	}
	return o;
}

struct json_object *agent_exec_request(const struct agent_exec *x)
{
	struct json_object *req = agent_op_new("exec");

	if (x->cmd)
		json_object_object_add(req, "cmd", json_object_new_string(x->cmd));
	else
		json_object_object_add(req, "argv", strv_json(x->argv));
	if (x->cwd)
		json_object_object_add(req, "cwd", json_object_new_string(x->cwd));
	if (x->user)
		json_object_object_add(req, "user", json_object_new_string(x->user));
	if (x->env)
		json_object_object_add(req, "env", env_json(x->env));
	json_object_object_add(req, "stdin", json_object_new_boolean(x->stdin_data != NULL));
	json_object_object_add(req, "pty", json_object_new_boolean(x->pty));
	if (x->timeout_ms)
		json_object_object_add(req, "timeout_ms", json_object_new_int64(x->timeout_ms));
	return req;
}

/* The final status frame's fields into res. */
static void parse_exit(struct json_object *o, struct agent_exit *res)
{
	struct json_object *v;

	res->exit_code = json_object_object_get_ex(o, "exit", &v) && v ? json_object_get_int(v) : -1;
	res->signal = json_object_object_get_ex(o, "signal", &v) ? json_object_get_int(v) : 0;
	res->timed_out = json_object_object_get_ex(o, "timed_out", &v) && json_object_get_boolean(v);
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
			struct json_object *o = json_tokener_parse((char *)buf);

			if (!o) {
				ret = -EPROTO;
				break;
			}
			parse_exit(o, res);
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

	/* A failed send means the command or the connection is gone: the status says which. */
	if (frame_send_data(job->fd, job->x->stdin_data, job->x->stdin_len) == 0)
		frame_send(job->fd, FRAME_END, NULL, 0);
	return NULL;
}

/* The "pid" of a reply, 0 if it has none. */
static int reply_pid(struct json_object *reply)
{
	struct json_object *v;

	return json_object_object_get_ex(reply, "pid", &v) ? json_object_get_int(v) : 0;
}

int agent_exec_run(const char *vsock_path, const struct agent_exec *x, struct agent_exit *res,
		   struct agent_error *err)
{
	struct json_object *req = agent_exec_request(x), *reply = NULL;
	int fd, ret;

	memset(res, 0, sizeof(*res));
	fd = agent_open(vsock_path, req, &reply, err);
	json_object_put(req);
	if (fd < 0)
		return fd;
	res->pid = reply_pid(reply);
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
	json_object_put(reply);
	close(fd);
	return ret;
}

int agent_exec_open(const char *vsock_path, const struct agent_exec *x, int *pid,
		    struct agent_error *err)
{
	struct json_object *req = agent_exec_request(x), *reply = NULL;
	int fd = agent_open(vsock_path, req, &reply, err);

	json_object_put(req);
	*pid = fd < 0 ? 0 : reply_pid(reply);
	json_object_put(reply);
	return fd;
}

int agent_exec_start(const char *vsock_path, const struct agent_exec *x, bool keep_stdin,
		     int *pid, struct agent_error *err)
{
	struct json_object *req = agent_exec_request(x), *reply = NULL;
	int fd, ret = 0;

	json_object_object_add(req, "stdin", json_object_new_boolean(x->stdin_data || keep_stdin));
	fd = agent_open(vsock_path, req, &reply, err);
	json_object_put(req);
	*pid = fd < 0 ? 0 : reply_pid(reply);
	json_object_put(reply);
	if (fd < 0)
		return fd;
	/* The agent takes a connection's frames in order, even after we close it. */
	if (x->stdin_data)
		ret = frame_send_data(fd, x->stdin_data, x->stdin_len);
	if (ret == 0 && x->stdin_data && !keep_stdin)
		ret = frame_send(fd, FRAME_END, NULL, 0);
	close(fd);
	return ret;
}

/*
 * Waits up to wait_ms until the agent closes fd: it handles a connection's
 * frames in order and closes it at our end of stream, so its close means
 * every byte is in the command's stdin. What it sends meanwhile (the
 * command's output) is dropped. Running out of time is not reported.
 */
static void wait_taken(int fd, int wait_ms)
{
	int64_t end = clk_mono_ms() + wait_ms, left;
	char buf[4096];

	if (shutdown(fd, SHUT_WR) < 0)
		return;
	while ((left = end - clk_mono_ms()) > 0) {
		if (fdio_wait(fd, POLLIN, (int)left) < 0 || read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

int agent_stdin_write(const char *vsock_path, int pid, const void *data, size_t len,
		      bool close_stdin, int wait_ms, struct agent_error *err)
{
	struct json_object *req = agent_op_new("attach");
	int fd, ret;

	json_object_object_add(req, "pid", json_object_new_int(pid));
	fd = agent_open(vsock_path, req, NULL, err);
	json_object_put(req);
	if (fd < 0)
		return fd;
	ret = frame_send_data(fd, data, len);
	if (ret == 0 && close_stdin)
		ret = frame_send(fd, FRAME_END, NULL, 0);
	if (ret == 0 && wait_ms > 0)
		wait_taken(fd, wait_ms);
	close(fd);
	return ret;
}

int agent_ps(const char *vsock_path, struct json_object **reply, struct agent_error *err,
	     int timeout_ms)
{
	return agent_call_op(vsock_path, agent_op_new("ps"), reply, err, timeout_ms);
}

int agent_kill(const char *vsock_path, int pid, int signal, struct agent_error *err,
	       int timeout_ms)
{
	struct json_object *req = agent_op_new("kill");

	json_object_object_add(req, "pid", json_object_new_int(pid));
	json_object_object_add(req, "signal", json_object_new_int(signal));
	return agent_call_op(vsock_path, req, NULL, err, timeout_ms);
}
