/*
 * The `connect` op (docs/agent-protocol.md): the host reaches a TCP port of
 * the guest through the agent, so servers bound to the guest's 127.0.0.1
 * are reached too and no guest port is opened to any network. After the
 * reply the agent connection is a plain byte stream: what the host sends
 * goes to the guest's server and back, with half-closes passed on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "ag_conn.h"
#include "ag_json.h"
#include "fdio.h"
#include "net.h"

#define FORWARD_CHUNK 65536

/* A TCP connection to addr:port, or -errno. */
static int dial(struct in_addr addr, unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr = addr };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

struct direction {
	int from, to;
};

/*
 * Copies from -> to until from ends (or either fails), then shuts to's
 * sending side so the other end sees the EOF. Each direction has a thread
 * of its own: one blocked writing (a peer slow to read) never stops the
 * other, which that peer may be waiting on.
 */
static void *pass(void *arg)
{
	struct direction *d = arg;
	char *buf = malloc(FORWARD_CHUNK);

	while (buf) {
		ssize_t n = read(d->from, buf, FORWARD_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fdio_write_all(d->to, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	shutdown(d->to, SHUT_WR);
	return NULL;
}

/* Carries bytes between a and b until both directions have ended. */
static void splice_both(int a, int b)
{
	struct direction up = { a, b }, down = { b, a };
	pthread_t t;

	if (pthread_create(&t, NULL, pass, &down) != 0)
		return;
	pass(&up);
	pthread_join(t, NULL);
}

void ag_op_connect(struct ag_conn *c, struct json_object *req)
{
	long long port = ag_jint(req, "port", 0);
	struct in_addr lo = { htonl(INADDR_LOOPBACK) }, eth;
	int fd;

	if (port < 1 || port > 65535) {
		ag_reply_err(c, -EINVAL, "connect: port must be 1 to 65535");
		return;
	}
	fd = dial(lo, (unsigned int)port);
	if (fd == -ECONNREFUSED && ag_net_guest_addr(&eth))
		fd = dial(eth, (unsigned int)port);
	if (fd < 0) {
		ag_reply_err(c, fd, "connect to port %lld", port);
		return;
	}
	if (ag_reply_ok(c, NULL) == 0)
		splice_both(c->fd, fd);
	close(fd);
}
