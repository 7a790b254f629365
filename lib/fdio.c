#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
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

/*
 * Moves all len bytes between fd and buf: written when out, else read (an
 * end of file first is -EPIPE). A descriptor not ready is waited on, each
 * wait at most timeout_ms.
 */
static int move_all(int fd, void *buf, size_t len, bool out, int timeout_ms)
{
	uint8_t *p = buf;
	int sock = 1;

	while (len) {
		ssize_t n = out ? write_some(fd, p, len, &sock) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = fdio_wait(fd, out ? POLLOUT : POLLIN, timeout_ms);

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

int fdio_write_all_timed(int fd, const void *buf, size_t len, int timeout_ms)
{
	return move_all(fd, (void *)buf, len, true, timeout_ms);
}

int fdio_read_full_timed(int fd, void *buf, size_t len, int timeout_ms)
{
	return move_all(fd, buf, len, false, timeout_ms);
}

ssize_t fdio_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			close(fd);
			return -err;
		}
		len += (size_t)n;
	}
	close(fd);
	if (cap)
		buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t fdio_read_line(const char *path, char *buf, size_t cap)
{
	ssize_t n = fdio_read_file(path, buf, cap);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return (ssize_t)strlen(buf);
}

int fdio_write_all(int fd, const void *buf, size_t len)
{
	return fdio_write_all_timed(fd, buf, len, -1);
}

int fdio_read_full(int fd, void *buf, size_t len)
{
	return fdio_read_full_timed(fd, buf, len, -1);
}
