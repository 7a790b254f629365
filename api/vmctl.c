#include "vmctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX 65536        /* an answer line without its image */
#define IMAGE_MAX (256u << 20)  /* more than any screenshot the monitor makes */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

static int write_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	while (len) {
		ssize_t w;
		int ret = wait_fd(fd, POLLOUT, timeout_ms);

		if (ret < 0)
			return ret;
		w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_full(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	while (len) {
		ssize_t r;
		int ret = wait_fd(fd, POLLIN, timeout_ms);

		if (ret < 0)
			return ret;
		r = read(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Reads up to '\n' into line (NUL-terminated, without it); what came after stays in rest. */
static int read_line(int fd, char *line, size_t cap, uint8_t *rest, size_t *nrest, int timeout_ms)
{
	size_t n = 0;

	for (;;) {
		char *nl;
		ssize_t r;
		int ret = wait_fd(fd, POLLIN, timeout_ms);

		if (ret < 0)
			return ret;
		r = read(fd, line + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		n += (size_t)r;
		line[n] = '\0';
		nl = memchr(line, '\n', n);
		if (nl) {
			*nrest = n - (size_t)(nl + 1 - line);
			memcpy(rest, nl + 1, *nrest);
			*nl = '\0';
			return 0;
		}
		if (n + 1 >= cap)
			return -EMSGSIZE;
	}
}

int vmctl_call(const char *path, struct json_object *req, struct json_object **answer,
	       uint8_t **data, size_t *len, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *line = malloc(ANSWER_MAX);
	uint8_t *rest = malloc(ANSWER_MAX);
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	struct json_object *bytes;
	size_t nrest = 0;
	int fd = -1, ret;

	*answer = NULL;
	if (data) {
		*data = NULL;
		*len = 0;
	}
	if (!line || !rest) {
		ret = -ENOMEM;
		goto out;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, text, strlen(text), timeout_ms);
	ret = ret ? ret : write_all(fd, "\n", 1, timeout_ms);
	ret = ret ? ret : read_line(fd, line, ANSWER_MAX, rest, &nrest, timeout_ms);
	if (ret)
		goto out;
	*answer = json_tokener_parse(line);
	if (!*answer || !json_object_is_type(*answer, json_type_object)) {
		ret = -EPROTO;
		goto out;
	}
	if (data && json_object_object_get_ex(*answer, "bytes", &bytes)) {
		int64_t n = json_object_get_int64(bytes);

		if (n < 0 || (uint64_t)n > IMAGE_MAX || (size_t)n < nrest) {
			ret = -EPROTO;
			goto out;
		}
		*data = malloc(n ? (size_t)n : 1);
		if (!*data) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(*data, rest, nrest);
		ret = read_full(fd, *data + nrest, (size_t)n - nrest, timeout_ms);
		*len = (size_t)n;
	}
out:
	if (ret) {
		json_object_put(*answer);
		*answer = NULL;
		if (data) {
			free(*data);
			*data = NULL;
			*len = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	free(line);
	free(rest);
	return ret;
}
