/*
 * One host connection to the agent and its answers. A connection is owned
 * by the thread that serves it (server.c), which frees it; an operation
 * answers on it and returns when done.
 */
#ifndef CUBICLE_AG_CONN_H
#define CUBICLE_AG_CONN_H

#include <json-c/json.h>
#include <stdint.h>

struct ag_conn {
	int fd;
	uint8_t *buf;           /* the last frame received, frame_recv()'s */
	uint32_t cap;
};

/* Sends one JSON object (not taken) as a frame. 0 or -errno. */
int ag_send_json(struct ag_conn *c, struct json_object *obj);

/* Sends {"ok":true, ...fields of extra (taken, may be NULL)}. 0 or -errno. */
int ag_reply_ok(struct ag_conn *c, struct json_object *extra);

/*
 * Sends {"ok":false,"code":"<errno name>","errno":N,"message":"<what>: <strerror>"}
 * for err, a -errno (the wire carries N = -err). 0 or -errno.
 */
int ag_reply_err(struct ag_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
