#include "conn.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "fdio.h"
#include "usock.h"

struct conn *conn_open(const char *path)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c && (c->fd = usock_connect(path, 0)) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

/* Reads more into c->buf within timeout_ms; false on timeout, end or error. */
static bool conn_fill(struct conn *c, int timeout_ms)
{
	ssize_t n;

	if (c->len == sizeof(c->buf) || fdio_wait(c->fd, POLLIN, timeout_ms) < 0)
		return false;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return false;
	c->len += (size_t)n;
	return true;
}

bool conn_send(struct conn *c, const char *req)
{
	return fdio_write_all(c->fd, req, strlen(req)) == 0;
}

bool conn_line(struct conn *c, char *line, size_t size, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	char *nl;

	while (!(nl = memchr(c->buf, '\n', c->len))) {
		int left = (int)(end - now_ms());

		if (left < 0 || !conn_fill(c, left))
			return false;
	}
	size_t n = (size_t)(nl - c->buf);
	snprintf(line, size, "%.*s", (int)n, c->buf);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return true;
}

bool conn_bytes(struct conn *c, uint8_t *dst, size_t n, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < n) {
		size_t take = c->len < n - got ? c->len : n - got;

		if (dst)
			memcpy(dst + got, c->buf, take);
		memmove(c->buf, c->buf + take, c->len - take);
		c->len -= take;
		got += take;
		int left = (int)(end - now_ms());
		if (got < n && (left < 0 || !conn_fill(c, left)))
			return false;
	}
	return true;
}

bool conn_call(struct conn *c, const char *req, char *line, size_t size)
{
	if (!conn_send(c, req) || !conn_line(c, line, size, CONN_ANSWER_MS)) {
		snprintf(line, size, "no answer");
		return false;
	}
	return strstr(line, "\"ok\":true") != NULL;
}

long long conn_image(struct conn *c, const char *req, uint8_t *dst, size_t cap)
{
	char line[512];
	const char *b;
	size_t n;

	if (!conn_call(c, req, line, sizeof(line)) || !(b = strstr(line, "\"bytes\":")))
		return -1;
	n = strtoull(b + 8, NULL, 10);
	if ((dst && n > cap) || !conn_bytes(c, dst, n, CONN_ANSWER_MS))
		return -1;
	return (long long)n;
}
