#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

#define QMP_TIMEOUT_MS 5000
#define QMP_LINE_MAX (1 << 20)

struct qmp {
	int fd;
	bool ready;                 /* capabilities negotiated */
	bool broken;                /* a command went unanswered: answers may be out of step */
	pthread_mutex_t lock;
	char *buf;
	size_t len, cap;
};

struct qmp *qmp_new(int fd)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->fd = fd;
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	close(q->fd);
	pthread_mutex_destroy(&q->lock);
	free(q->buf);
	free(q);
}

/* The next JSON object QEMU sends, before the deadline; NULL with errno. */
static struct json_object *read_object(struct qmp *q, int64_t deadline)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;

		if (nl) {
			struct json_object *o;
			size_t n = (size_t)(nl - q->buf) + 1;

			*nl = '\0';
			o = json_tokener_parse(q->buf);
			memmove(q->buf, q->buf + n, q->len - n);
			q->len -= n;
			if (o && json_object_is_type(o, json_type_object))
				return o;
			json_object_put(o);
			continue;
		}
		if (q->len + 4096 > q->cap) {
			char *b;

			if (q->cap >= QMP_LINE_MAX) {
				errno = EMSGSIZE;
				return NULL;
			}
			b = realloc(q->buf, q->cap ? q->cap * 2 : 8192);
			if (!b)
				return NULL;
			q->buf = b;
			q->cap = q->cap ? q->cap * 2 : 8192;
		}
		int64_t left = deadline - clk_mono_ms();
		int w = left > 0 ? fdio_wait(q->fd, POLLIN, (int)left) : -ETIMEDOUT;

		if (w < 0) {
			errno = -w;
			return NULL;
		}
		ssize_t r = recv(q->fd, q->buf + q->len, q->cap - q->len - 1, 0);

		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return NULL;
		}
		q->len += (size_t)r;
	}
}

static int send_command(struct qmp *q, const char *command, struct json_object *args, int pass_fd)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	size_t len;
	char *line;
	int ret = 0;

	json_object_object_add(o, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(o, "arguments", args);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	line = malloc(len + 1);
	if (!line) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(line, s, len);
	line[len] = '\n';

	struct iovec iov = { .iov_base = line, .iov_len = len + 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	if (sendmsg(q->fd, &msg, MSG_NOSIGNAL) != (ssize_t)(len + 1))
		ret = -EIO;
	free(line);
	json_object_put(o);
	return ret;
}

/* Reads until the answer to the command just sent; events are dropped. */
static int await_answer(struct qmp *q, struct json_object **ret, char *err, size_t errlen)
{
	int64_t deadline = clk_mono_ms() + QMP_TIMEOUT_MS;

	for (;;) {
		struct json_object *o = read_object(q, deadline), *v;

		if (!o) {
			int e = errno ? errno : EIO;

			snprintf(err, errlen, "QEMU's monitor: %s", strerror(e));
			return -e;
		}
		if (json_object_object_get_ex(o, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
			json_object_put(o);
			return 0;
		}
		if (json_object_object_get_ex(o, "error", &v)) {
			struct json_object *desc;

			snprintf(err, errlen, "QEMU refused: %s",
				 json_object_object_get_ex(v, "desc", &desc) ?
				 json_object_get_string(desc) : json_object_to_json_string(v));
			json_object_put(o);
			return -EREMOTEIO;
		}
		json_object_put(o);     /* an event, or the greeting */
	}
}

int qmp_execute(struct qmp *q, const char *command, struct json_object *args, int pass_fd,
		struct json_object **ret, char *err, size_t errlen)
{
	int r = 0;

	pthread_mutex_lock(&q->lock);
	if (q->broken) {
		snprintf(err, errlen, "QEMU's monitor stopped answering earlier");
		r = -EPIPE;
	} else if (!q->ready) {
		r = send_command(q, "qmp_capabilities", NULL, -1);
		if (r == 0)
			r = await_answer(q, NULL, err, errlen);
		else
			snprintf(err, errlen, "QEMU's monitor: %s", strerror(-r));
		q->ready = r == 0;
	}
	if (r == 0 && !q->broken) {
		r = send_command(q, command, args, pass_fd);
		args = NULL;
		if (r == 0)
			r = await_answer(q, ret, err, errlen);
		else
			snprintf(err, errlen, "QEMU's monitor: %s", strerror(-r));
	}
	/* Only QEMU's own refusal leaves the stream in step. */
	if (r < 0 && r != -EREMOTEIO)
		q->broken = true;
	pthread_mutex_unlock(&q->lock);
	json_object_put(args);
	return r;
}
