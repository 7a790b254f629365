#include "ag_conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

int ag_send_json(struct ag_conn *c, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	return frame_send(c->fd, FRAME_JSON, s, (uint32_t)len);
}

int ag_reply_ok(struct ag_conn *c, struct json_object *extra)
{
	struct json_object *o = extra ? extra : json_object_new_object();
	int ret;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	ret = ag_send_json(c, o);
	json_object_put(o);
	return ret;
}

int ag_reply_err(struct ag_conn *c, int err, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char what[1024], msg[1200];
	const char *name = strerrorname_np(-err);
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(name ? name : "EIO"));
	json_object_object_add(o, "errno", json_object_new_int(-err));
	json_object_object_add(o, "message", json_object_new_string(msg));
	ret = ag_send_json(c, o);
	json_object_put(o);
	return ret;
}
