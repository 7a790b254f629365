/*
 * The HTTP layer (libcurl): one request to cubicled at a time over the one
 * handle in struct cli, with the API key. A JSON body or a file to upload
 * goes out; the answer comes into a buffer, a FILE * or a sink called as
 * it arrives. Any failure is said in one line on stderr, here: an error
 * answer as "CODE: MESSAGE", else what went wrong.
 */
#ifndef CUBICLE_CLI_HTTP_H
#define CUBICLE_CLI_HTTP_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "cli.h"

/*
 * One request. The caller fills the first part (path with http_path_add
 * and http_query_add) and frees it with http_free(), which puts json but
 * closes no file.
 */
struct http {
	const char *method;
	struct buf path;                /* after the URL, escaped */
	struct json_object *json;       /* a body to send (taken), */
	FILE *upload;                   /* or a file to PUT, */
	curl_off_t upload_size;         /* of this many bytes (-1: unknown, sent chunked) */
	FILE *out;                      /* a 2xx answer goes here, */
	/* or here: 0, or -errno to stop after filling `why` */
	int (*sink)(struct http *h, const char *p, size_t n);
	void *opaque;
	const char *out_name;           /* out's name, for errors */
	const char *progress;           /* what to show on a tty stderr while waiting */
	const char *quiet;              /* an error code the caller handles: not said */
	/* What came back: */
	long status;
	struct buf body;                /* a 2xx answer without out or sink; an error's body */
	long long received;             /* bytes given to out or sink */
	long long file_size;            /* X-File-Size, or -1 */
	char code[64];                  /* an error's code */
	char why[1024];                 /* why out or sink failed */
	CURL *curl;
	int64_t started_ms, shown_s;    /* for the progress line: since when, and shown at */
};

void http_free(struct http *h);

/* Appends fmt to b; %s is the only conversion, and its argument is URL-escaped. */
void http_path_add(CURL *curl, struct buf *b, const char *fmt, ...);

/* Appends "?name=value" or "&name=value" to b: name raw, value escaped. */
void http_query_add(CURL *curl, struct buf *b, const char *name, const char *value);

/*
 * Makes the request h describes: 0 once a 2xx answer is in (its body where
 * h says); else -EIO (or -ENOMEM, or the key file's -errno) after saying in
 * one line what failed. The API key is settled on the first request.
 */
int http_run(struct cli *c, struct http *h);

/* Runs h, and returns its answer as a JSON object; NULL after saying what failed. */
struct json_object *http_json(struct cli *c, struct http *h);

#endif
