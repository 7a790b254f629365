#include "fdio.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

int fdio_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* One write: send(2) with MSG_NOSIGNAL on a socket, write(2) on anything else. */
static ssize_t write_some(int fd, const void *buf, size_t len, int *sock)
{
	ssize_t n;

	if (*sock) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*sock = 0;
	}
	return write(fd, buf, len);
}

int fdio_write_all_timed(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;
	int sock = 1;

	while (len) {
		ssize_t n = write_some(fd, p, len, &sock);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = fdio_wait(fd, POLLOUT, timeout_ms);

			if (ret < 0)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fdio_read_full_timed(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = fdio_wait(fd, POLLIN, timeout_ms);

			if (ret < 0)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fdio_write_all(int fd, const void *buf, size_t len)
{
	return fdio_write_all_timed(fd, buf, len, -1);
}

int fdio_read_full(int fd, void *buf, size_t len)
{
	return fdio_read_full_timed(fd, buf, len, -1);
}
