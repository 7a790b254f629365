#include "handlers.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "client.h"
#include "vmctl.h"


/* An errno name the guest or the monitor answers, as the API says it. */
struct error_map {
	const char *errno_name, *code;
	unsigned int status;
};

static const struct error_map agent_errors[] = {
	{ "ENOENT", "not_found", 404 }, { "ESRCH", "not_found", 404 },
	{ "EACCES", "forbidden", 403 }, { "EPERM", "forbidden", 403 },
	{ "EEXIST", "conflict", 409 }, { "ENOTEMPTY", "conflict", 409 },
	{ "EINVAL", "invalid_request", 400 }, { "EISDIR", "invalid_request", 400 },
	{ "ENOTDIR", "invalid_request", 400 }, { "ENAMETOOLONG", "invalid_request", 400 },
};

static const struct error_map monitor_errors[] = {
	{ "EINVAL", "invalid_request", 400 }, { "ENODEV", "no_display", 409 },
	{ "EBUSY", "busy", 503 }, { "EAGAIN", "busy", 503 },
	{ "ETIMEDOUT", "guest_timeout", 504 },
};

/* The row of map (n rows) for errno name, or NULL. */
static const struct error_map *map_of(const struct error_map *map, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, map[i].errno_name))
			return &map[i];
	return NULL;
}

const char *api_str_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

bool api_known_keys(struct api_req *r, struct json_object *o, const char *const *names)
{
	json_object_object_foreach(o, key, v) {
		bool ok = false;

		(void)v;
		for (const char *const *n = names; *n && !ok; n++)
			ok = strcmp(*n, key) == 0;
		if (!ok) {
			api_reply_error(r, 400, "invalid_request", "unknown field \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

bool api_string_map(struct api_req *r, struct json_object *v, const char *what)
{
	if (!json_object_is_type(v, json_type_object)) {
		api_reply_error(r, 400, "invalid_request", "%s: want an object of strings", what);
		return false;
	}
	json_object_object_foreach(v, key, val) {
		if (!json_object_is_type(val, json_type_string) || strlen(key) > 256 ||
		    json_object_get_string_len(val) > 4096) {
			api_reply_error(r, 400, "invalid_request", "%s.%.64s: want a string (keys up to "
					"256 bytes, values up to 4096)", what, key);
			return false;
		}
	}
	return true;
}

bool api_uint_field(struct api_req *r, struct json_object *o, const char *key,
		    unsigned int lo, unsigned int hi, unsigned int *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < lo || n > hi) {
		api_reply_error(r, 400, "invalid_request", "%s: want a whole number %u..%u", key,
				lo, hi);
		return false;
	}
	*out = (unsigned int)n;
	return true;
}

bool api_name_field(struct api_req *r, struct json_object *o, const char *key, char *out,
		    size_t cap)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v) ||
	    (size_t)json_object_get_string_len(v) >= cap) {
		api_reply_error(r, 400, "invalid_request", "%s: want a name of 1..%zu characters",
				key, cap - 1);
		return false;
	}
	strcpy(out, json_object_get_string(v));
	return true;
}

void api_agent_done(struct api_req *r, int ret, const struct agent_error *e)
{
	if (ret)
		api_agent_failed(r, ret, e);
	else
		api_reply_bytes(r, 204, NULL, NULL, 0);
}

void api_agent_reply(struct api_req *r, int ret, struct json_object *reply,
		     const struct agent_error *e)
{
	if (ret) {
		json_object_put(reply);
		api_agent_failed(r, ret, e);
		return;
	}
	json_object_object_del(reply, "ok");
	api_reply_json(r, 200, reply);
}

const char *api_agent_code(int ret, const struct agent_error *e, unsigned int *status)
{
	const struct error_map *m = ret == -EREMOTEIO ?
		map_of(agent_errors, sizeof(agent_errors) / sizeof(agent_errors[0]), e->code) : NULL;

	*status = m ? m->status : 502;
	return m ? m->code : ret == -EREMOTEIO ? "agent_error" : "agent_unreachable";
}

void api_agent_failed(struct api_req *r, int ret, const struct agent_error *e)
{
	unsigned int status;
	const char *code = api_agent_code(ret, e, &status);

	if (ret != -EREMOTEIO)
		api_reply_error(r, status, code, "the guest's agent did not answer: %s",
				strerror(-ret));
	else if (!strcmp(code, "agent_error"))
		api_reply_error(r, status, code, "%s: %s", e->code, e->message);
	else
		api_reply_error(r, status, code, "%s", e->message);
}

void api_control_failed(struct api_req *r, int ret, const struct vmctl_error *e)
{
	const struct error_map *m;
	struct json_object *extra = NULL;

	if (ret != -EREMOTEIO) {
		api_reply_error(r, 502, "sandbox_unreachable", "the sandbox's monitor did not "
				"answer: %s", strerror(-ret));
		return;
	}
	/* A batch that failed midway says how many of its actions were done. */
	if (e->done >= 0) {
		extra = json_object_new_object();
		json_object_object_add(extra, "done", json_object_new_int(e->done));
	}
	m = map_of(monitor_errors, sizeof(monitor_errors) / sizeof(monitor_errors[0]), e->code);
	if (m)
		api_reply_error_with(r, m->status, m->code, extra, "%s", e->message);
	else
		api_reply_error_with(r, 502, "sandbox_error", extra, "%s: %s", e->code, e->message);
}
