/*
 * Unix stream sockets by path: the control socket, the vsock socket, and
 * their clients.
 */
#ifndef CUBICLE_USOCK_H
#define CUBICLE_USOCK_H

#include <sys/socket.h>
#include <sys/un.h>

/* Fills sa with path; -ENAMETOOLONG if it does not fit sun_path. */
int usock_addr(struct sockaddr_un *sa, const char *path);

/*
 * Connects to the socket at path. flags are socket(2)'s type flags
 * (SOCK_NONBLOCK; SOCK_CLOEXEC is always set). The fd, or -errno.
 */
int usock_connect(const char *path, int flags);

/*
 * Listens at path with backlog, replacing a stale socket file there. flags
 * as for usock_connect. The fd, or -errno (nothing is left behind).
 */
int usock_listen(const char *path, int backlog, int flags);

#endif
