/*
 * The `connect` op (docs/agent-protocol.md): the host reaches a TCP port of
 * the guest through the agent, so servers bound to the guest's 127.0.0.1
 * are reached too and no guest port is opened to any network. After the
 * reply the agent connection is a plain byte stream: what the host sends
 * goes to the guest's server and back, with half-closes passed on.
 */
#include <errno.h>
#include <poll.h>
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

/*
 * One direction's step: what from has, written whole to to; on from's EOF
 * (or an error) to's sending side is shut. false once that direction is over.
 */
static bool pass(int from, int to, char *buf)
{
	ssize_t n = read(from, buf, FORWARD_CHUNK);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n > 0 && fdio_write_all(to, buf, (size_t)n) == 0)
		return true;
	shutdown(to, SHUT_WR);
	return false;
}

/* Carries bytes between a and b until both directions have ended. */
static void splice_both(int a, int b)
{
	char *buf = malloc(FORWARD_CHUNK);
	bool a_open = buf != NULL, b_open = buf != NULL;

	while (a_open || b_open) {
		struct pollfd p[2] = { { .fd = a_open ? a : -1, .events = POLLIN },
				       { .fd = b_open ? b : -1, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !pass(a, b, buf))
			a_open = false;
		if (p[1].revents && !pass(b, a, buf))
			b_open = false;
	}
	free(buf);
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
