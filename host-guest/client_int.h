/*
 * What the client library's files (client.c, client_exec.c, client_files.c)
 * share with each other; its users include client.h only.
 */
#ifndef CUBICLE_AGENT_CLIENT_INT_H
#define CUBICLE_AGENT_CLIENT_INT_H

#include "client.h"

/* Reads one frame that must be JSON, parsed into *out (the caller's). 0 or -errno. */
int agent_recv_json(int fd, struct json_object **out);

/* Whether a reply says "ok": true. */
bool agent_reply_ok(struct json_object *reply);

/* Copies an error reply's code and message into err (nothing if err is NULL). */
void agent_copy_error(struct json_object *reply, struct agent_error *err);

/*
 * A connection with req (not taken) sent and answered ok: the fd, for what
 * the operation carries next, or -errno (-EREMOTEIO with err). *reply, when
 * asked for, is the reply (the caller's), else it is dropped.
 */
int agent_open(const char *vsock_path, struct json_object *req, struct json_object **reply,
	       struct agent_error *err);

/* A new request {"op": op} (the caller's). */
struct json_object *agent_op_new(const char *op);

/*
 * One request on its own connection, req taken. On success *reply, when
 * asked for, is the reply without its "ok" (the caller's); otherwise the
 * reply is dropped. *reply is NULL on failure.
 */
int agent_call_op(const char *vsock_path, struct json_object *req, struct json_object **reply,
		  struct agent_error *err, int timeout_ms);

#endif
