/*
 * A small HTTP client of cubicled for the tests that drive a real one
 * (libcurl, json-c): requests with the API key (or another), answers held
 * whole, and the checks every such test makes of them.
 */
#ifndef CUBICLE_TEST_HTTP_CLIENT_H
#define CUBICLE_TEST_HTTP_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct tc_resp {
	long status;
	char *body;                 /* NUL-terminated; the caller frees it */
	size_t len, cap;
	char type[64];              /* Content-Type */
	char headers[8192];         /* the answer's head, as it came (tc_http_with) */
};

extern char tc_base[128], tc_key[128];

/* Where cubicled is (http://127.0.0.1:PORT) and its API key. */
void tc_init(const char *base, const char *key);

/* One request with key k (NULL: none); false if it did not complete. */
bool tc_http_key(const char *method, const char *path, const char *k, const void *body,
		 size_t len, struct tc_resp *out);
/*
 * One request to tc_base with the header lines in headers (NULL-terminated,
 * "Name: value"; no key of its own); its head in out->headers. false if it
 * did not complete.
 */
bool tc_http_with(const char *method, const char *path, const char *const *headers,
		  const void *body, size_t len, struct tc_resp *out);

/* The same with the API key and a text body (or NULL). */
bool tc_http(const char *method, const char *path, const char *body, struct tc_resp *out);

/* A request whose answer must have status want: its body parsed, or NULL (said on stderr). */
struct json_object *tc_expect(const char *method, const char *path, const char *body, long want);

/* An error answer: status want, a JSON {code, message} with code want_code. */
bool tc_refused(const char *method, const char *path, const char *body, long want,
		const char *want_code);

/* A base64 PNG's size, read from its IHDR; false if it is not one. */
bool tc_png_b64_size(const char *b64, unsigned int *w, unsigned int *h);

/* A string member of o, or "". */
const char *tc_str(struct json_object *o, const char *key);

#endif
