/*
 * Frames of the agent protocol (proto.h), the same code in the guest's agent
 * and in the host's client library.
 */
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdio.h"

/*
 * The rest of a frame once it has begun. fdio is told not to wait (0 ms)
 * when a socket timeout set by the caller runs out, so that timeout bounds
 * the whole call; an end of stream inside a frame is a truncated frame.
 */
static int send_rest(int fd, const void *buf, size_t len)
{
	return fdio_write_all_timed(fd, buf, len, 0);
}

static int recv_rest(int fd, void *buf, size_t len)
{
	int ret = fdio_read_full_timed(fd, buf, len, 0);

	return ret == -EPIPE ? -EPROTO : ret;
}

/* One sendmsg for header and payload: a frame is one vsock packet when it fits. */
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
		int ret = send_rest(fd, hdr + sent, 5 - (size_t)sent);

		if (ret < 0)
			return ret;
		sent = 5;
	}
	return send_rest(fd, (const uint8_t *)payload + (sent - 5), len - (size_t)(sent - 5));
}

int frame_recv(int fd, uint8_t *type, uint8_t **buf, uint32_t *cap, uint32_t *len)
{
	uint8_t hdr[5];
	uint32_t n;
	ssize_t got;
	int ret;

	/* The first byte alone: its absence is a clean end, not a truncated frame. */
	do
		got = read(fd, hdr, 1);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return -EPIPE;
	if (got < 0)
		return -errno;
	ret = recv_rest(fd, hdr + 1, 4);
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
	ret = recv_rest(fd, *buf, *len);
	if (ret < 0)
		return ret;
	(*buf)[*len] = '\0';    /* JSON payloads can be parsed in place */
	return 0;
}

int frame_send_data(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	int ret = 0;

	for (size_t off = 0; off < len && ret == 0;) {
		uint32_t n = len - off > FRAME_DATA_CHUNK ? FRAME_DATA_CHUNK : (uint32_t)(len - off);

		ret = frame_send(fd, FRAME_DATA, p + off, n);
		off += n;
	}
	return ret;
}
