#include "usock.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int usock_addr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (len == 0 || len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* A unix stream socket (flags as socket(2)'s type flags) and path's address in sa. */
static int new_socket(const char *path, int flags, struct sockaddr_un *sa)
{
	int fd, ret = usock_addr(sa, path);

	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	return fd < 0 ? -errno : fd;
}

int usock_connect(const char *path, int flags)
{
	struct sockaddr_un sa;
	int fd = new_socket(path, flags, &sa), ret;

	if (fd < 0)
		return fd;
	/* A non-blocking connect to a unix socket completes at once, or fails. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int usock_listen(const char *path, int backlog, int flags)
{
	struct sockaddr_un sa;
	int fd = new_socket(path, flags, &sa), ret;

	if (fd < 0)
		return fd;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (listen(fd, backlog) < 0) {
		ret = -errno;
		close(fd);
		unlink(path);
		return ret;
	}
	return fd;
}
