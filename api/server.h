/*
 * cubicled's HTTP side (libmicrohttpd, a thread per connection): API-key
 * auth, routing by method and path, bodies read whole (JSON, up to
 * max_body) or streamed to a handler (uploads), and answers: JSON, raw
 * bytes, or a stream a handler feeds from its own thread.
 */
#ifndef CUBICLE_API_SERVER_H
#define CUBICLE_API_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "activity.h"
#include "config.h"
#include "sandbox.h"

struct api_server;

/* One request, as handlers see it. */
struct api_req {
	struct api_server *srv;
	const struct api_config *cfg;
	struct sandboxes *sandboxes;
	struct MHD_Connection *conn;
	const char *method;
	const char *uri;                /* the request target as sent, query and all */
	const char *seg[8];             /* the path's segments ("sandboxes", ID, ...) */
	unsigned int nseg;
	struct sandbox *sb;             /* the path's sandbox, referenced, running */
	char *body;                     /* the whole body, NUL-terminated (not streamed routes) */
	size_t body_len;
	void *stream;                   /* a streaming route's state */
	/* The answer, set by the handler. */
	struct MHD_Response *resp;
	unsigned int status;
	/* What goes into the sandbox's activity once answered (api_note). */
	char what[32];
	char note[ACTIVITY_TEXT];
	char error[ACTIVITY_TEXT];      /* the message of an error answer */
};

/*
 * Notes what this request does to its sandbox (r->sb), for the sandbox's
 * activity: added with the status once the request is answered. Requests
 * that change a sandbox without a note are noted by route when they fail.
 */
void api_note(struct api_req *r, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether key is cubicled's API key (in constant time). */
bool api_is_key(struct api_req *r, const char *key);

/* Query argument name, or NULL. */
const char *api_arg(struct api_req *r, const char *name);

/*
 * Query flag name (true/1 or false/0) into *out, def when absent; false
 * when it is something else (then r is answered 400).
 */
bool api_flag(struct api_req *r, const char *name, bool def, bool *out);

/* Answers: json is taken. */
void api_reply_json(struct api_req *r, unsigned int status, struct json_object *json);
void api_reply_error(struct api_req *r, unsigned int status, const char *code,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, with extra's fields (taken; NULL for none) in the body too. */
void api_reply_error_with(struct api_req *r, unsigned int status, const char *code,
			  struct json_object *extra, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* data (malloc'd) is taken. */
void api_reply_bytes(struct api_req *r, unsigned int status, const char *type, void *data,
		     size_t len);
/*
 * A body read from fd (taken) as it arrives, chunked, until EOF; done(opaque)
 * runs once the answer is over or abandoned (to join a producer thread).
 */
void api_reply_fd(struct api_req *r, unsigned int status, const char *type, int fd,
		  void (*done)(void *opaque), void *opaque);

/* The body as a JSON object; on failure answers 400 itself and returns NULL. */
struct json_object *api_body_object(struct api_req *r);

struct api_routes;

/*
 * Starts serving on cfg's address with sandboxes t, the route table routes
 * (routes.h; kept, not copied) and the API key. NULL with the reason in err.
 */
struct api_server *api_server_start(const struct api_config *cfg, struct sandboxes *t,
				    const struct api_routes *routes, const char *key, char *err,
				    size_t errlen);
/* The port it listens on (the one the kernel picked for port 0). */
uint16_t api_server_port(struct api_server *s);

/* Whether api_server_stop has begun (long-lived connections end then). */
bool api_server_stopping(struct api_server *s);

/* Stops serving, waiting for requests under way; accepts NULL. */
void api_server_stop(struct api_server *s);

#endif
