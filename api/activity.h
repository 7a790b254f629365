/*
 * A sandbox's activity: what was done to it through the API (actions,
 * models' tool calls, commands, file changes, resizes), newest last, so a
 * person watching can see what an agent did and when. A bounded ring: the
 * oldest entries make room for new ones; sequence numbers let a reader ask
 * only for what is new.
 */
#ifndef CUBICLE_API_ACTIVITY_H
#define CUBICLE_API_ACTIVITY_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>

#define ACTIVITY_MAX 256
#define ACTIVITY_TEXT 240

struct activity_entry {
	uint64_t seq;                   /* from 1 */
	int64_t time_ms;                /* wall clock */
	char what[32];                  /* "actions", "command", "upload", ... */
	char summary[ACTIVITY_TEXT];
	char error[ACTIVITY_TEXT];      /* "" when it succeeded */
	unsigned int status;            /* the HTTP status answered */
	unsigned int ms;                /* how long it took */
};

struct activity {
	pthread_mutex_t lock;
	uint64_t next_seq;
	struct activity_entry ring[ACTIVITY_MAX];
};

void activity_init(struct activity *a);
void activity_destroy(struct activity *a);

/* Adds an entry; summary and error are cut to fit (on a UTF-8 boundary). */
void activity_add(struct activity *a, const char *what, const char *summary,
		  unsigned int status, const char *error, unsigned int ms);

/*
 * {"entries": [{"seq","time","what","summary","status","ms"[,"error"]}],
 *  "last": SEQ}: the entries after seq `after` (0: all kept), oldest first,
 * and the last seq given so far (pass it as `after` next time).
 */
struct json_object *activity_json(struct activity *a, uint64_t after);

/* Appends to buf (of size cap, NUL-terminated) as printf does, cutting on a UTF-8 boundary. */
void activity_appendf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Appends one action (an object of a batch, or a model's tool call) to buf
 * as `NAME key=value ...`, NAME being its name_key field ("type", "action"),
 * values as JSON; actions of a batch are joined with "; ".
 */
void activity_describe(char *buf, size_t cap, struct json_object *action, const char *name_key);

#endif
