/*
 * cubicle-agent internals: one thread per connection, each running one
 * operation. Replies and errors are JSON frames (proto.h).
 */
#ifndef CUBICLE_AGENT_H
#define CUBICLE_AGENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"

/* One client connection, owned by its thread. */
struct conn {
	int fd;
	uint8_t *buf;
	uint32_t cap;
};

/* Who an operation runs as: the sandbox user unless the request says root. */
struct who {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[256];
	char shell[128];
};

/* Sends {"ok":true, ...fields of extra (taken, may be NULL)}. */
int reply_ok(struct conn *c, struct json_object *extra);
/* Sends {"ok":false,"code":"<errno name>","errno":N,"message":"<what>: <strerror>"}. */
int reply_err(struct conn *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sends one JSON object (not taken). */
int send_json(struct conn *c, struct json_object *obj);

/* Fills w from the request's "user" (default "user"); -errno if unknown. */
int who_from_request(struct json_object *req, struct who *w);

/* A string field of obj, or def. */
const char *jstr(struct json_object *obj, const char *key, const char *def);
long long jint(struct json_object *obj, const char *key, long long def);
bool jbool(struct json_object *obj, const char *key, bool def);

/* Operations (exec.c, files.c). Each answers on c and returns when done. */
void op_exec(struct conn *c, struct json_object *req);
void op_ps(struct conn *c, struct json_object *req);
void op_attach(struct conn *c, struct json_object *req);
void op_kill(struct conn *c, struct json_object *req);
void op_file(struct conn *c, const char *op, struct json_object *req);

/* Called by the reaper for every child that ends; false if not ours. */
bool exec_reaped(pid_t pid, int status);

/* One line on the console, prefixed "cubicle-agent: ". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The template's services (services.c): start.d at boot, display.d on a
 * monitor hotplug, and the desktop's DISPLAY when the template has one.
 */
void services_init(void);
void services_start(void);
void services_watch_display(void);
bool services_reaped(pid_t pid, int status);
const char *services_state(void);	/* "starting", "ready" or "failed" */
const char *services_display(void);	/* ":0", or NULL without a desktop */
/*
 * Runs the display.d hooks with CUBICLE_DISPLAY_WIDTH/HEIGHT (none when width
 * is 0: take the preferred mode) and waits for them, killing them after
 * timeout_ms: 0, or -errno with a reason in why.
 */
int services_set_display(unsigned int width, unsigned int height, int timeout_ms, char *why,
			 size_t whylen);

#endif
