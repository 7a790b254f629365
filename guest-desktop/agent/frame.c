#include "proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int io_all(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int frame_send(int fd, uint8_t type, const void *payload, uint32_t len)
{
	uint8_t hdr[5];
	uint32_t n = len + 1;
	struct iovec iov[2] = { { hdr, 5 }, { (void *)payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t sent;

	if (len > FRAME_MAX)
		return -EMSGSIZE;
	hdr[0] = (uint8_t)n;
	hdr[1] = (uint8_t)(n >> 8);
	hdr[2] = (uint8_t)(n >> 16);
	hdr[3] = (uint8_t)(n >> 24);
	hdr[4] = type;
	do
		sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -errno;
	if ((size_t)sent == 5 + (size_t)len)
		return 0;
	/* A partial write: finish it byte-exact. */
	if ((size_t)sent < 5) {
		int ret = io_all(fd, hdr + sent, 5 - (size_t)sent, true);
		if (ret < 0)
			return ret;
		sent = 5;
	}
	return io_all(fd, (uint8_t *)payload + (sent - 5), len - (size_t)(sent - 5), true);
}

int frame_recv(int fd, uint8_t *type, uint8_t **buf, uint32_t *cap, uint32_t *len)
{
	uint8_t hdr[5];
	uint32_t n;
	ssize_t got;
	int ret;

	do
		got = read(fd, hdr, 1);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return -EPIPE;
	if (got < 0)
		return -errno;
	ret = io_all(fd, hdr + 1, 4, false);
	if (ret < 0)
		return ret;
	n = hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	if (n == 0)
		return -EPROTO;
	if (n - 1 > FRAME_MAX)
		return -EMSGSIZE;
	*type = hdr[4];
	*len = n - 1;
	if (*cap < *len + 1) {
		uint8_t *nb = realloc(*buf, *len + 1);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = *len + 1;
	}
	ret = io_all(fd, *buf, *len, false);
	if (ret < 0)
		return ret;
	(*buf)[*len] = '\0';    /* JSON payloads can be parsed in place */
	return 0;
}
