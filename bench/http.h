/* One HTTP request to cubicled for the benchmarks that drive it (libcurl). */
#ifndef CUBICLE_BENCH_HTTP_H
#define CUBICLE_BENCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

/* An answer's body, NUL-ended (malloc'd; the caller frees p). */
struct bench_buf {
	char *p;
	size_t n;
};

/*
 * method base+path with header line auth ("Authorization: Bearer KEY") and
 * a body (NULL: none) on handle c (NULL: a handle of its own, so a new
 * connection); the status (0 if none came), the body in *out.
 */
long bench_http(CURL *c, const char *base, const char *auth, const char *method,
		const char *path, const char *body, struct bench_buf *out);

#endif
