#include "activity.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

void activity_init(struct activity *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->next_seq = 1;
}

void activity_destroy(struct activity *a)
{
	pthread_mutex_destroy(&a->lock);
}

/* Drops a UTF-8 sequence left incomplete at the end of s (by a cut). */
static void trim_partial_utf8(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

void activity_appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
	trim_partial_utf8(buf);
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	trim_partial_utf8(dst);
}

void activity_add(struct activity *a, const char *what, const char *summary,
		  unsigned int status, const char *error, unsigned int ms)
{
	int64_t now = clk_wall_ms();
	struct activity_entry *e;

	pthread_mutex_lock(&a->lock);
	e = &a->ring[a->next_seq % ACTIVITY_MAX];
	e->seq = a->next_seq++;
	e->time_ms = now;
	copy_cut(e->what, sizeof(e->what), what);
	copy_cut(e->summary, sizeof(e->summary), summary);
	copy_cut(e->error, sizeof(e->error), error);
	e->status = status;
	e->ms = ms;
	pthread_mutex_unlock(&a->lock);
}

static struct json_object *entry_json(const struct activity_entry *e)
{
	struct json_object *o = json_object_new_object();
	time_t secs = (time_t)(e->time_ms / 1000);
	struct tm tm;
	char when[64];

	gmtime_r(&secs, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(e->time_ms % 1000));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)e->seq));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "what", json_object_new_string(e->what));
	json_object_object_add(o, "summary", json_object_new_string(e->summary));
	json_object_object_add(o, "status", json_object_new_int((int)e->status));
	json_object_object_add(o, "ms", json_object_new_int((int)e->ms));
	if (e->error[0])
		json_object_object_add(o, "error", json_object_new_string(e->error));
	return o;
}

struct json_object *activity_json(struct activity *a, uint64_t after)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	uint64_t first, seq;

	pthread_mutex_lock(&a->lock);
	first = a->next_seq > ACTIVITY_MAX ? a->next_seq - ACTIVITY_MAX : 1;
	for (seq = after + 1 > first ? after + 1 : first; seq < a->next_seq; seq++)
		json_object_array_add(list, entry_json(&a->ring[seq % ACTIVITY_MAX]));
	json_object_object_add(o, "entries", list);
	json_object_object_add(o, "last", json_object_new_int64((int64_t)(a->next_seq - 1)));
	pthread_mutex_unlock(&a->lock);
	return o;
}

void activity_describe(char *buf, size_t cap, struct json_object *action, const char *name_key)
{
	struct json_object *name;

	if (buf[0])
		activity_appendf(buf, cap, "; ");
	if (!json_object_is_type(action, json_type_object)) {
		activity_appendf(buf, cap, "%s", json_object_to_json_string_ext(action,
				 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	if (json_object_object_get_ex(action, name_key, &name))
		activity_appendf(buf, cap, "%s", json_object_get_string(name));
	json_object_object_foreach(action, key, v) {
		if (!strcmp(key, name_key))
			continue;
		activity_appendf(buf, cap, " %s=%s", key, json_object_to_json_string_ext(v,
				 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}
