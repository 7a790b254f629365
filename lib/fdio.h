/*
 * Whole reads and writes on a file descriptor: the loops every protocol in
 * Cubicle needs (frames, control lines, images, file transfers). A socket
 * is written with MSG_NOSIGNAL, so a peer that went away is -EPIPE, never
 * SIGPIPE. EINTR is retried; nothing here logs.
 */
#ifndef CUBICLE_FDIO_H
#define CUBICLE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes all len bytes of buf. 0, or -errno (-EPIPE when the descriptor
 * takes no more). A partial write is continued, never reported as done.
 */
int fdio_write_all(int fd, const void *buf, size_t len);

/* Reads exactly len bytes into buf. 0, -EPIPE at end of file first, or -errno. */
int fdio_read_full(int fd, void *buf, size_t len);

/*
 * The same for a descriptor that may be non-blocking: each wait for it to
 * be ready lasts at most timeout_ms (-1: no bound), then -ETIMEDOUT.
 */
int fdio_write_all_timed(int fd, const void *buf, size_t len, int timeout_ms);
int fdio_read_full_timed(int fd, void *buf, size_t len, int timeout_ms);

/*
 * Reads the start of a small file (a config line, /proc/cmdline) into buf:
 * at most cap - 1 bytes, then a NUL. The length read, or -errno.
 */
ssize_t fdio_read_file(const char *path, char *buf, size_t cap);

/* The first line of a small file, without its newline: its length, or -errno. */
ssize_t fdio_read_line(const char *path, char *buf, size_t cap);

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or timeout_ms passes
 * (-1: no bound). 0 (ready, or hung up: the next read or write says which),
 * -ETIMEDOUT, or -errno.
 */
int fdio_wait(int fd, short events, int timeout_ms);

#endif
