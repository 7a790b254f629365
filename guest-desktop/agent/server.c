/*
 * The agent's server: accepts host connections on vsock, gives each a
 * thread, reads its first frame (a JSON request) and runs the operation it
 * names from the table below; the operation answers and returns, and the
 * connection closes.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "ag_conn.h"
#include "ag_json.h"
#include "ag_log.h"
#include "clock.h"
#include "exec.h"
#include "files.h"
#include "net.h"
#include "power.h"
#include "proto.h"
#include "services.h"

static void op_hello(struct ag_conn *c, struct json_object *req)
{
	struct json_object *o = json_object_new_object();
	char host[256] = "";

	(void)req;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	json_object_object_add(o, "protocol", json_object_new_int(AGENT_PROTOCOL));
	json_object_object_add(o, "agent", json_object_new_string("cubicle-agent"));
	json_object_object_add(o, "hostname", json_object_new_string(host));
	ag_reply_ok(c, o);
}

/* What the template's services are doing, and the desktop's display if any. */
static void op_status(struct ag_conn *c, struct json_object *req)
{
	struct json_object *o = json_object_new_object();
	const char *display = ag_services_display();

	(void)req;
	json_object_object_add(o, "services", json_object_new_string(ag_services_state()));
	json_object_object_add(o, "display", display ? json_object_new_string(display) : NULL);
	ag_reply_ok(c, o);
}

/* The host's screen changed size: the template's display.d hooks apply it. */
static void op_display(struct ag_conn *c, struct json_object *req)
{
	long long w = ag_jint(req, "width", 0), h = ag_jint(req, "height", 0);
	char why[256];
	int ret;

	if (w < 64 || h < 64 || w > 8192 || h > 8192) {
		ag_reply_err(c, -EINVAL, "display: want width and height from 64 to 8192");
		return;
	}
	ret = ag_services_set_display((unsigned int)w, (unsigned int)h, 20000, why, sizeof(why));
	if (ret < 0)
		ag_reply_err(c, ret, "display %lldx%lld: %s", w, h, why);
	else
		ag_reply_ok(c, NULL);
}

/* Answers first: the host learns the request arrived before the guest goes. */
static void op_poweroff(struct ag_conn *c, struct json_object *req)
{
	(void)req;
	ag_reply_ok(c, NULL);
	ag_power_off();
}

static const struct ag_op {
	const char *name;
	void (*run)(struct ag_conn *c, struct json_object *req);
} ops[] = {
	{ "hello", op_hello },
	{ "status", op_status },
	{ "display", op_display },
	{ "poweroff", op_poweroff },
	{ "exec", ag_op_exec },
	{ "ps", ag_op_ps },
	{ "attach", ag_op_attach },
	{ "kill", ag_op_kill },
	{ "read", ag_op_read },
	{ "write", ag_op_write },
	{ "stat", ag_op_stat },
	{ "list", ag_op_list },
	{ "mkdir", ag_op_mkdir },
	{ "remove", ag_op_remove },
	{ "rename", ag_op_rename },
	{ "exists", ag_op_exists },
	{ "connect", ag_op_connect },
};

/* The operation called name; NULL if there is none. */
static const struct ag_op *op_named(const char *name)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

/* One connection's thread: its request, its operation, then the connection goes (c is taken). */
static void *serve(void *arg)
{
	struct ag_conn *c = arg;
	struct json_object *req = NULL;
	const struct ag_op *op;
	uint8_t type;
	uint32_t len;
	const char *name;
	int ret = frame_recv(c->fd, &type, &c->buf, &c->cap, &len);

	if (ret < 0)
		goto out;
	if (type != FRAME_JSON || !(req = json_tokener_parse((char *)c->buf)) ||
	    !json_object_is_type(req, json_type_object)) {
		ag_reply_err(c, -EPROTO, "the first frame must be a JSON request");
		goto out;
	}
	name = ag_jstr(req, "op", "");
	op = op_named(name);
	if (op)
		op->run(c, req);
	else
		ag_reply_err(c, -EOPNOTSUPP, "unknown op '%s'", name);
out:
	json_object_put(req);
	close(c->fd);
	free(c->buf);
	free(c);
	return NULL;
}

/*
 * A bigger receive window than vsock's 256 KiB default, so a host streaming a
 * file does not stall on credit updates between packets. Without it the
 * default works, slower: said once.
 */
static void set_window(int fd)
{
	static bool said;
	unsigned long long size = 4ull << 20;

	if ((setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &size, sizeof(size)) < 0 ||
	     setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &size, sizeof(size)) < 0) && !said) {
		said = true;
		ag_say("vsock window stays at its default: %s", strerror(errno));
	}
}

int ag_server_listen(void)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = AGENT_PORT };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Gives the connection cfd (taken) a thread of its own. */
static void serve_new(int cfd, const pthread_attr_t *attr)
{
	struct ag_conn *c = calloc(1, sizeof(*c));
	pthread_t tid;
	int ret;

	if (!c) {
		ag_say("a connection refused: no memory");
		close(cfd);
		return;
	}
	c->fd = cfd;
	set_window(cfd);
	ret = pthread_create(&tid, attr, serve, c);
	if (ret) {
		ag_say("a connection refused: no thread: %s", strerror(ret));
		close(cfd);
		free(c);
	}
}

void ag_server_run(int lfd)
{
	pthread_attr_t attr;

	while (lfd < 0)
		pause();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (cfd >= 0) {
			serve_new(cfd, &attr);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		ag_say("accept: %s", strerror(errno));
		/*
		 * Out of descriptors or memory: nothing here to wait on until some
		 * connection's thread ends, so a retry pace instead of a spin.
		 */
		clk_pause_ms(100);
	}
}
