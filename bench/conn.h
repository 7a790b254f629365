/*
 * A line-oriented connection to cubicle-vmm's control socket, for the
 * benchmarks that time requests on it: answers are read through one buffer,
 * so an answer line and the image bytes after it cost few reads. Each wait
 * is bounded. One thread uses a connection at a time.
 */
#ifndef CUBICLE_BENCH_CONN_H
#define CUBICLE_BENCH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_ANSWER_MS 10000        /* for an answer (line or bytes) to come */

struct conn {
	int fd;
	size_t len;                  /* bytes in buf past the last line taken */
	char buf[1 << 16];
};

/* Connects to the control socket at path; NULL if it cannot. conn_close() frees it. */
struct conn *conn_open(const char *path);
void conn_close(struct conn *c);

/* Writes the request req (a line, newline included) whole. */
bool conn_send(struct conn *c, const char *req);

/* The next answer line, without its newline, into line; false after timeout_ms. */
bool conn_line(struct conn *c, char *line, size_t size, int timeout_ms);

/* The next n bytes into dst (NULL: dropped); false after timeout_ms. */
bool conn_bytes(struct conn *c, uint8_t *dst, size_t n, int timeout_ms);

/* One request and its answer line; false unless it says ok (line then says why). */
bool conn_call(struct conn *c, const char *req, char *line, size_t size);

/*
 * One request whose answer carries bytes (a screenshot): they go to dst
 * (cap bytes; NULL: dropped). Their count, or -1 if the answer was no ok,
 * had no bytes, more than cap, or did not come whole.
 */
long long conn_image(struct conn *c, const char *req, uint8_t *dst, size_t cap);

#endif
