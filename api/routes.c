#include "routes.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "handlers.h"
#include "log.h"
#include "vmctl.h"
#include "vncproxy.h"
#include "web.h"

#define CONTROL_WAIT_MS 10000       /* screenshots, cursor, display */
#define RESIZE_WAIT_MS 90000
#define OUTPUT_MAX (16u << 20)      /* a command's stdout or stderr, answered whole */

/* --- helpers ------------------------------------------------------------------ */

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

/* Whether every key of o is one of the NULL-terminated names; answers 400 if not. */
static bool known_keys(struct api_req *r, struct json_object *o, const char *const *names)
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

/* An object of strings (metadata, env); answers 400 if v is not one. */
static bool string_map(struct api_req *r, struct json_object *v, const char *what)
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

/* A whole number field in lo..hi into *out (unchanged if absent); answers 400 if bad. */
static bool uint_field(struct api_req *r, struct json_object *o, const char *key,
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

static bool copy_name(struct api_req *r, struct json_object *o, const char *key, char *out,
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

struct json_object *api_control(struct api_req *r, struct json_object *req, uint8_t **data,
				size_t *len, int timeout_ms)
{
	struct json_object *ans = NULL, *ok, *done, *extra = NULL;
	int ret = vmctl_call(r->sb->control, req, &ans, data, len, timeout_ms);
	const char *code, *msg;
	unsigned int status = 502;

	json_object_put(req);
	if (ret) {
		api_reply_error(r, 502, "sandbox_unreachable", "the sandbox's monitor did not "
				"answer: %s", strerror(-ret));
		return NULL;
	}
	if (json_object_object_get_ex(ans, "ok", &ok) && json_object_get_boolean(ok))
		return ans;
	code = str_field(ans, "code");
	code = code ? code : "EIO";
	msg = str_field(ans, "message") ?: "";
	/* A batch that failed midway says how many of its actions were done. */
	if (json_object_object_get_ex(ans, "done", &done)) {
		extra = json_object_new_object();
		json_object_object_add(extra, "done", json_object_get(done));
	}
	if (!strcmp(code, "EINVAL"))
		status = 400;
	else if (!strcmp(code, "ENODEV"))
		status = 409;
	else if (!strcmp(code, "EBUSY") || !strcmp(code, "EAGAIN"))
		status = 503;
	else if (!strcmp(code, "ETIMEDOUT"))
		status = 504;
	if (status == 502)
		api_reply_error_with(r, status, "sandbox_error", extra, "%s: %s", code, msg);
	else
		api_reply_error_with(r, status, status == 400 ? "invalid_request" : status == 409 ?
				     "no_display" : status == 503 ? "busy" : "guest_timeout", extra,
				     "%s", msg);
	if (data) {
		free(*data);
		*data = NULL;
	}
	json_object_put(ans);
	return NULL;
}

/*
 * The API's code and status for an agent's failure: ret is -EREMOTEIO when
 * the agent answered an error e, another -errno when it could not be asked.
 */
static const char *agent_error_code(int ret, const struct agent_error *e, unsigned int *status)
{
	static const struct {
		const char *errno_name, *code;
		unsigned int status;
	} map[] = {
		{ "ENOENT", "not_found", 404 }, { "ESRCH", "not_found", 404 },
		{ "EACCES", "forbidden", 403 }, { "EPERM", "forbidden", 403 },
		{ "EEXIST", "conflict", 409 }, { "ENOTEMPTY", "conflict", 409 },
		{ "EINVAL", "invalid_request", 400 }, { "EISDIR", "invalid_request", 400 },
		{ "ENOTDIR", "invalid_request", 400 }, { "ENAMETOOLONG", "invalid_request", 400 },
	};

	*status = 502;
	if (ret != -EREMOTEIO)
		return "agent_unreachable";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(e->code, map[i].errno_name)) {
			*status = map[i].status;
			return map[i].code;
		}
	}
	return "agent_error";
}

void api_agent_failed(struct api_req *r, int ret, const struct agent_error *e)
{
	unsigned int status;
	const char *code = agent_error_code(ret, e, &status);

	if (ret != -EREMOTEIO)
		api_reply_error(r, status, code, "the guest's agent did not answer: %s",
				strerror(-ret));
	else if (!strcmp(code, "agent_error"))
		api_reply_error(r, status, code, "%s: %s", e->code, e->message);
	else
		api_reply_error(r, status, code, "%s", e->message);
}

static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* --- sandboxes ----------------------------------------------------------------- */

static void health(struct api_req *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	api_reply_json(r, 200, o);
}

static void create(struct api_req *r)
{
	static const char *const fields[] = { "template", "resolution", "vcpus", "memory_mib",
					      "timeout", "metadata", "env", "keyboard_layout",
					      "keyboard_variant", NULL };
	const struct api_config *c = r->cfg;
	struct json_object *body = api_body_object(r), *v;
	struct sandbox_spec spec = { .width = c->width, .height = c->height, .vcpus = c->vcpus,
				     .memory_mib = c->memory_mib, .timeout_s = c->timeout_s };
	struct sandbox *sb;
	char err[512];
	const char *res;
	int ret;

	if (!body)
		return;
	strcpy(spec.template_name, c->template_name);
	strcpy(spec.keyboard_layout, c->keyboard_layout);
	if (!known_keys(r, body, fields) ||
	    !copy_name(r, body, "template", spec.template_name, sizeof(spec.template_name)) ||
	    !copy_name(r, body, "keyboard_layout", spec.keyboard_layout,
		       sizeof(spec.keyboard_layout)) ||
	    !copy_name(r, body, "keyboard_variant", spec.keyboard_variant,
		       sizeof(spec.keyboard_variant)) ||
	    !uint_field(r, body, "vcpus", 1, c->max_vcpus, &spec.vcpus) ||
	    !uint_field(r, body, "memory_mib", 256, c->max_memory_mib, &spec.memory_mib) ||
	    !uint_field(r, body, "timeout", 1, c->max_timeout_s, &spec.timeout_s))
		goto out;
	if (json_object_object_get_ex(body, "resolution", &v) &&
	    (!(res = json_object_get_string(v)) || !json_object_is_type(v, json_type_string) ||
	     !api_parse_resolution(res, &spec.width, &spec.height))) {
		api_reply_error(r, 400, "invalid_request", "resolution: want \"WxH\" within "
				"64x64..8192x8192");
		goto out;
	}
	if (json_object_object_get_ex(body, "metadata", &v)) {
		if (!string_map(r, v, "metadata"))
			goto out;
		spec.metadata = json_object_get(v);
	}
	if (json_object_object_get_ex(body, "env", &v)) {
		if (!string_map(r, v, "env")) {
			json_object_put(spec.metadata);
			goto out;
		}
		spec.env = json_object_get(v);
	}
	ret = sandbox_create(r->sandboxes, &spec, &sb, err, sizeof(err));
	if (ret == -EINVAL)
		api_reply_error(r, 400, "invalid_request", "%s", err);
	else if (ret == -EAGAIN)
		api_reply_error(r, 429, "too_many_sandboxes", "%s", err);
	else if (ret == -ETIMEDOUT)
		api_reply_error(r, 504, "boot_timeout", "%s", err);
	else if (ret)
		api_reply_error(r, 500, "boot_failed", "%s", err);
	if (ret)
		goto out;
	api_reply_json(r, 201, sandbox_json(r->sandboxes, sb));
	r->sb = sb;     /* the request's reference now: for the activity */
	api_note(r, "create", "template %s, %ux%u, %u vCPUs, %u MiB, layout %s",
		 sb->spec.template_name, sb->spec.width, sb->spec.height, sb->spec.vcpus,
		 sb->spec.memory_mib, sb->spec.keyboard_layout);
out:
	json_object_put(body);
}

/* ?metadata.KEY=VALUE arguments into the object cls. */
static enum MHD_Result collect_metadata(void *cls, enum MHD_ValueKind kind, const char *key,
					const char *value)
{
	(void)kind;
	if (strncmp(key, "metadata.", 9) == 0 && key[9])
		json_object_object_add(cls, key + 9, json_object_new_string(value ? value : ""));
	return MHD_YES;
}

static void list(struct api_req *r)
{
	const char *state = api_arg(r, "state");
	struct json_object *match, *o;

	if (state && strcmp(state, "starting") && strcmp(state, "running") &&
	    strcmp(state, "stopping") && strcmp(state, "dead")) {
		api_reply_error(r, 400, "invalid_request", "state: want starting, running, stopping "
				"or dead");
		return;
	}
	match = json_object_new_object();
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_metadata, match);
	o = json_object_new_object();
	json_object_object_add(o, "sandboxes", sandboxes_json(r->sandboxes, state,
							      json_object_object_length(match) ?
							      match : NULL));
	json_object_put(match);
	api_reply_json(r, 200, o);
}

static void get_one(struct api_req *r)
{
	api_reply_json(r, 200, sandbox_json(r->sandboxes, r->sb));
}

static void destroy(struct api_req *r)
{
	if (sandbox_destroy(r->sandboxes, r->sb->id) < 0) {
		api_reply_error(r, 404, "sandbox_not_found", "no sandbox '%s'", r->sb->id);
		return;
	}
	api_reply_bytes(r, 204, NULL, NULL, 0);
}

static void set_timeout(struct api_req *r)
{
	static const char *const fields[] = { "timeout", NULL };
	struct json_object *body = api_body_object(r);
	unsigned int t = 0;
	int ret;

	if (!body)
		return;
	if (!known_keys(r, body, fields) ||
	    !uint_field(r, body, "timeout", 1, r->cfg->max_timeout_s, &t))
		goto out;
	if (!t) {
		api_reply_error(r, 400, "invalid_request", "timeout: want a number of seconds");
		goto out;
	}
	api_note(r, "timeout", "ends in %u s", t);
	ret = sandbox_set_timeout(r->sandboxes, r->sb, t);
	if (ret == -ESRCH)
		api_reply_error(r, 409, "sandbox_not_running", "sandbox %s is not running",
				r->sb->id);
	else
		api_reply_json(r, 200, sandbox_json(r->sandboxes, r->sb));
out:
	json_object_put(body);
}

/* GET .../activity[?after=SEQ]: what was done to it, oldest first. */
static void activity(struct api_req *r)
{
	const char *after = api_arg(r, "after");
	unsigned long long seq = 0;
	char *end;

	if (after) {
		errno = 0;
		seq = strtoull(after, &end, 10);
		if (!*after || *end || errno || after[0] == '-') {
			api_reply_error(r, 400, "invalid_request", "after: want a sequence number");
			return;
		}
	}
	api_reply_json(r, 200, activity_json(&r->sb->activity, seq));
}

/* --- the screen and the hands --------------------------------------------------- */

/*
 * A query number s of `name` within [min, max] (quality and width: whole);
 * false when it is not one (then r is answered).
 */
static bool query_number(struct api_req *r, const char *s, const char *name, double min,
			 double max, double *out)
{
	bool whole = strcmp(name, "scale") != 0;
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (!*s || *end || errno || !(*out >= min && *out <= max) || (whole && *out != (int)*out) ||
	    (!whole && *out <= 0)) {
		api_reply_error(r, 400, "invalid_request", "%s: want %s %g..%g", name,
				whole ? "a whole number" : "a number in", whole ? min : 0.0, max);
		return false;
	}
	return true;
}

/* Screenshot fields of a query (q: query args) or of an object (o) into the control request. */
static bool screenshot_request(struct api_req *r, struct json_object *o, bool from_query,
			       struct json_object *req)
{
	const char *format = "png", *s;
	struct json_object *v;

	json_object_object_add(req, "op", json_object_new_string("screenshot"));
	if (from_query) {
		if ((s = api_arg(r, "format")))
			format = s;
		bool cursor;
		double d;

		if ((s = api_arg(r, "quality")) && !query_number(r, s, "quality", 1, 100, &d))
			return false;
		if (s)
			json_object_object_add(req, "quality", json_object_new_int((int)d));
		if ((s = api_arg(r, "scale")) && !query_number(r, s, "scale", 0, 1, &d))
			return false;
		if (s)
			json_object_object_add(req, "scale", json_object_new_double(d));
		if ((s = api_arg(r, "width")) && !query_number(r, s, "width", 1, 8192, &d))
			return false;
		if (s)
			json_object_object_add(req, "width", json_object_new_int((int)d));
		if (!api_flag(r, "cursor", false, &cursor))
			return false;
		if (cursor)
			json_object_object_add(req, "cursor", json_object_new_boolean(1));
		if ((s = api_arg(r, "region"))) {
			int x, y, w, h, n = 0;
			struct json_object *a = json_object_new_array();

			if (sscanf(s, "%d,%d,%d,%d%n", &x, &y, &w, &h, &n) != 4 || s[n]) {
				json_object_put(a);
				api_reply_error(r, 400, "invalid_request", "region: want X,Y,W,H");
				return false;
			}
			json_object_array_add(a, json_object_new_int(x));
			json_object_array_add(a, json_object_new_int(y));
			json_object_array_add(a, json_object_new_int(w));
			json_object_array_add(a, json_object_new_int(h));
			json_object_object_add(req, "region", a);
		}
	} else if (o && json_object_is_type(o, json_type_object)) {
		static const char *const keys[] = { "quality", "scale", "width", "cursor", "region" };

		if ((s = str_field(o, "format")))
			format = s;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (json_object_object_get_ex(o, keys[i], &v))
				json_object_object_add(req, keys[i], json_object_get(v));
	}
	if (strcmp(format, "png") && strcmp(format, "jpeg")) {
		api_reply_error(r, 400, "invalid_request", "format: want png or jpeg");
		return false;
	}
	json_object_object_add(req, "format", json_object_new_string(format));
	return true;
}

static void screenshot(struct api_req *r)
{
	struct json_object *req = json_object_new_object(), *ans, *v;
	uint8_t *data = NULL;
	size_t len = 0;
	char num[16];

	if (!screenshot_request(r, NULL, true, req)) {
		json_object_put(req);
		return;
	}
	ans = api_control(r, req, &data, &len, CONTROL_WAIT_MS);
	if (!ans)
		return;
	api_reply_bytes(r, 200, strcmp(str_field(ans, "format") ?: "", "jpeg") ? "image/png" :
			"image/jpeg", data, len);
	if (json_object_object_get_ex(ans, "width", &v)) {
		snprintf(num, sizeof(num), "%d", json_object_get_int(v));
		MHD_add_response_header(r->resp, "X-Image-Width", num);
	}
	if (json_object_object_get_ex(ans, "height", &v)) {
		snprintf(num, sizeof(num), "%d", json_object_get_int(v));
		MHD_add_response_header(r->resp, "X-Image-Height", num);
	}
	json_object_put(ans);
}

struct json_object *api_screenshot_json(struct api_req *r, struct json_object *how)
{
	struct json_object *req = json_object_new_object(), *ans, *out, *v;
	uint8_t *data = NULL;
	size_t len = 0;
	char *b64;

	if (!screenshot_request(r, how, false, req)) {
		json_object_put(req);
		return NULL;
	}
	ans = api_control(r, req, &data, &len, CONTROL_WAIT_MS);
	if (!ans)
		return NULL;
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64) {
		free(data);
		json_object_put(ans);
		api_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	base64(data, len, b64);
	out = json_object_new_object();
	json_object_object_add(out, "format", json_object_new_string(str_field(ans, "format")));
	if (json_object_object_get_ex(ans, "width", &v))
		json_object_object_add(out, "width", json_object_get(v));
	if (json_object_object_get_ex(ans, "height", &v))
		json_object_object_add(out, "height", json_object_get(v));
	json_object_object_add(out, "data", json_object_new_string(b64));
	free(b64);
	free(data);
	json_object_put(ans);
	return out;
}

/* Notes a batch in the sandbox's activity, action by action. */
static void note_actions(struct api_req *r, struct json_object *list)
{
	char text[ACTIVITY_TEXT] = "";

	if (!json_object_is_type(list, json_type_array)) {
		activity_describe(text, sizeof(text), list, "type");
	} else {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			activity_describe(text, sizeof(text), json_object_array_get_idx(list, i),
					  "type");
	}
	api_note(r, "actions", "%s", text);
}

static void actions(struct api_req *r)
{
	static const char *const fields[] = { "actions", "scale", "screenshot", NULL };
	struct json_object *body = api_body_object(r), *req, *ans, *v, *out, *shot = NULL;

	if (!body)
		return;
	if (!known_keys(r, body, fields))
		goto out;
	if (!json_object_object_get_ex(body, "actions", &v)) {
		api_reply_error(r, 400, "invalid_request", "actions: want a list of actions");
		goto out;
	}
	note_actions(r, v);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("actions"));
	json_object_object_add(req, "actions", json_object_get(v));
	if (json_object_object_get_ex(body, "scale", &v))
		json_object_object_add(req, "scale", json_object_get(v));
	ans = api_control(r, req, NULL, NULL, ACTIONS_WAIT_MS);
	if (!ans) {
		/* A batch that failed midway says how far it got. */
		goto out;
	}
	out = json_object_new_object();
	if (json_object_object_get_ex(ans, "results", &v))
		json_object_object_add(out, "results", json_object_get(v));
	json_object_put(ans);
	if (json_object_object_get_ex(body, "screenshot", &v) &&
	    !(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))) {
		shot = api_screenshot_json(r, v);
		if (!shot) {
			json_object_put(out);
			goto out;
		}
		json_object_object_add(out, "screenshot", shot);
	}
	api_reply_json(r, 200, out);
out:
	json_object_put(body);
}

static void cursor(struct api_req *r)
{
	struct json_object *req = json_object_new_object(), *ans, *o, *v;

	json_object_object_add(req, "op", json_object_new_string("cursor"));
	ans = api_control(r, req, NULL, NULL, CONTROL_WAIT_MS);
	if (!ans)
		return;
	o = json_object_new_object();
	if (json_object_object_get_ex(ans, "x", &v))
		json_object_object_add(o, "x", json_object_get(v));
	if (json_object_object_get_ex(ans, "y", &v))
		json_object_object_add(o, "y", json_object_get(v));
	json_object_put(ans);
	api_reply_json(r, 200, o);
}

static void display_get(struct api_req *r)
{
	struct json_object *req = json_object_new_object(), *ans, *o, *v;

	json_object_object_add(req, "op", json_object_new_string("display"));
	ans = api_control(r, req, NULL, NULL, CONTROL_WAIT_MS);
	if (!ans)
		return;
	o = json_object_new_object();
	if (json_object_object_get_ex(ans, "width", &v))
		json_object_object_add(o, "width", json_object_get(v));
	if (json_object_object_get_ex(ans, "height", &v))
		json_object_object_add(o, "height", json_object_get(v));
	if (json_object_object_get_ex(ans, "cursor", &v))
		json_object_object_add(o, "cursor", json_object_get(v));
	json_object_put(ans);
	api_reply_json(r, 200, o);
}

static void display_set(struct api_req *r)
{
	static const char *const fields[] = { "width", "height", NULL };
	struct json_object *body = api_body_object(r), *req, *ans;
	unsigned int w = 0, h = 0;

	if (!body)
		return;
	if (!known_keys(r, body, fields) || !uint_field(r, body, "width", 64, 8192, &w) ||
	    !uint_field(r, body, "height", 64, 8192, &h))
		goto out;
	if (!w || !h) {
		api_reply_error(r, 400, "invalid_request", "want width and height (64..8192)");
		goto out;
	}
	api_note(r, "resize", "%ux%u", w, h);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("resize"));
	json_object_object_add(req, "width", json_object_new_int((int)w));
	json_object_object_add(req, "height", json_object_new_int((int)h));
	ans = api_control(r, req, NULL, NULL, RESIZE_WAIT_MS);
	if (ans) {
		json_object_put(ans);
		sandbox_set_resolution(r->sandboxes, r->sb, w, h);
		display_get(r);
	}
out:
	json_object_put(body);
}

static void stream(struct api_req *r)
{
	struct json_object *o, *vnc;
	char url[128], ticket[VNC_TICKET_LEN + 1];
	bool view;

	/* A misspelt flag must not hand out the control password. */
	if (!api_flag(r, "view_only", false, &view))
		return;
	o = json_object_new_object();
	vnc = json_object_new_object();

	json_object_object_add(vnc, "host", json_object_new_string(r->cfg->vnc_host));
	json_object_object_add(vnc, "port", json_object_new_int(r->sb->vnc_port));
	json_object_object_add(vnc, "password", json_object_new_string(
		view ? r->sb->vnc_view_password : r->sb->vnc_password));
	json_object_object_add(vnc, "view_only", json_object_new_boolean(view));
	json_object_object_add(o, "vnc", vnc);
	/* libvncserver takes websockets (noVNC) on the same port. */
	snprintf(url, sizeof(url), "ws://%s:%d/websockify", r->cfg->vnc_host, r->sb->vnc_port);
	json_object_object_add(o, "websocket_url", json_object_new_string(url));
	/* The same through cubicled's own port, with a ticket for one connection. */
	if (api_vnc_ticket(r->sb->id, ticket) == 0) {
		snprintf(url, sizeof(url), "/sandboxes/%s/vnc?ticket=%s", r->sb->id, ticket);
		json_object_object_add(o, "websocket_path", json_object_new_string(url));
	}
	api_reply_json(r, 200, o);
}

/* --- commands ------------------------------------------------------------------ */

struct output {
	char *buf[2];
	size_t len[2];
	bool truncated;
};

static void collect(void *opaque, int stream_no, const uint8_t *buf, uint32_t len)
{
	struct output *o = opaque;
	int i = stream_no == 2;
	char *b;

	if (o->len[i] + len > OUTPUT_MAX) {
		o->truncated = true;
		len = (uint32_t)(OUTPUT_MAX - o->len[i]);
	}
	if (!len)
		return;
	b = realloc(o->buf[i], o->len[i] + len + 1);
	if (!b) {
		o->truncated = true;
		return;
	}
	memcpy(b + o->len[i], buf, len);
	o->len[i] += len;
	b[o->len[i]] = '\0';
	o->buf[i] = b;
}

struct command {
	struct agent_exec x;
	const char **argv, **env;
	char *cmd, *cwd, *user, *stdin_data;
	char vsock[sizeof(((struct sandbox *)0)->vsock)];
	bool background, keep_stdin;
	/* streaming */
	int out_fd;
	bool sse, broken;
	pthread_t thread;
	struct agent_exit res;
	struct agent_error err;
	int ret;
};

static void command_free(struct command *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free((char *)c->argv[i]);
	for (size_t i = 0; c->env && c->env[i]; i++)
		free((char *)c->env[i]);
	free(c->argv);
	free(c->env);
	free(c->cmd);
	free(c->cwd);
	free(c->user);
	free(c->stdin_data);
	free(c);
}

static void env_add(struct json_object *map, const char **env, size_t *n)
{
	json_object_object_foreach(map, key, val) {
		size_t len = strlen(key) + (size_t)json_object_get_string_len(val) + 2;
		char *kv = malloc(len);

		if (!kv)
			continue;
		snprintf(kv, len, "%s=%s", key, json_object_get_string(val));
		env[(*n)++] = kv;
	}
}

/* The command a request body asks for; NULL when answered (400). */
static struct command *command_of(struct api_req *r, struct json_object *body, const char **mode)
{
	static const char *const fields[] = { "cmd", "argv", "env", "cwd", "user", "stdin",
					      "timeout_ms", "stream", "background", "keep_stdin",
					      NULL };
	struct command *c = calloc(1, sizeof(*c));
	struct json_object *v, *env = NULL;
	unsigned int timeout = 0;
	size_t n = 0;

	*mode = NULL;
	if (!c || !known_keys(r, body, fields))
		goto fail;
	if (json_object_object_get_ex(body, "cmd", &v) == json_object_object_get_ex(body, "argv", NULL)) {
		api_reply_error(r, 400, "invalid_request", "want one of cmd (a shell string) or "
				"argv (a list of strings)");
		goto fail;
	}
	if (str_field(body, "cmd")) {
		c->cmd = strdup(str_field(body, "cmd"));
		c->x.cmd = c->cmd;
	} else if (json_object_object_get_ex(body, "cmd", &v)) {
		api_reply_error(r, 400, "invalid_request", "cmd: want a string");
		goto fail;
	} else {
		json_object_object_get_ex(body, "argv", &v);
		n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
		if (!n || n > 4096) {
			api_reply_error(r, 400, "invalid_request", "argv: want 1..4096 strings");
			goto fail;
		}
		c->argv = calloc(n + 1, sizeof(*c->argv));
		for (size_t i = 0; c->argv && i < n; i++) {
			struct json_object *a = json_object_array_get_idx(v, i);

			if (!json_object_is_type(a, json_type_string)) {
				api_reply_error(r, 400, "invalid_request", "argv[%zu]: want a string", i);
				goto fail;
			}
			c->argv[i] = strdup(json_object_get_string(a));
		}
		c->x.argv = c->argv;
	}
	if (json_object_object_get_ex(body, "env", &env) && !string_map(r, env, "env"))
		goto fail;
	n = (env ? (size_t)json_object_object_length(env) : 0) +
	    (r->sb->spec.env ? (size_t)json_object_object_length(r->sb->spec.env) : 0);
	c->env = calloc(n + 1, sizeof(*c->env));
	n = 0;
	if (c->env && r->sb->spec.env)
		env_add(r->sb->spec.env, c->env, &n);
	if (c->env && env)
		env_add(env, c->env, &n);     /* later ones win in the agent */
	c->x.env = c->env;
	if ((v = NULL, json_object_object_get_ex(body, "cwd", &v)) && !str_field(body, "cwd")) {
		api_reply_error(r, 400, "invalid_request", "cwd: want a path");
		goto fail;
	}
	if (str_field(body, "cwd"))
		c->x.cwd = c->cwd = strdup(str_field(body, "cwd"));
	if (json_object_object_get_ex(body, "user", &v) && !str_field(body, "user")) {
		api_reply_error(r, 400, "invalid_request", "user: want a user name");
		goto fail;
	}
	if (str_field(body, "user"))
		c->x.user = c->user = strdup(str_field(body, "user"));
	if (json_object_object_get_ex(body, "stdin", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			api_reply_error(r, 400, "invalid_request", "stdin: want a string");
			goto fail;
		}
		c->stdin_data = strdup(json_object_get_string(v));
		c->x.stdin_data = c->stdin_data;
		c->x.stdin_len = (size_t)json_object_get_string_len(v);
	}
	if (!uint_field(r, body, "timeout_ms", 1, 86400000, &timeout))
		goto fail;
	c->x.timeout_ms = timeout;
	if (json_object_object_get_ex(body, "stream", &v) &&
	    !(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))) {
		*mode = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(*mode, "ndjson") && strcmp(*mode, "sse"))) {
			api_reply_error(r, 400, "invalid_request", "stream: want \"ndjson\" or \"sse\"");
			goto fail;
		}
	}
	if ((json_object_object_get_ex(body, "background", &v) &&
	     !json_object_is_type(v, json_type_boolean)) ||
	    (json_object_object_get_ex(body, "keep_stdin", &v) &&
	     !json_object_is_type(v, json_type_boolean))) {
		api_reply_error(r, 400, "invalid_request", "background, keep_stdin: want true or false");
		goto fail;
	}
	c->background = json_object_object_get_ex(body, "background", &v) &&
			json_object_get_boolean(v);
	c->keep_stdin = json_object_object_get_ex(body, "keep_stdin", &v) &&
			json_object_get_boolean(v);
	if ((c->background && *mode) || (c->keep_stdin && !c->background)) {
		api_reply_error(r, 400, "invalid_request", "%s", c->keep_stdin && !c->background ?
				"keep_stdin: only with background" : "background: not with stream");
		goto fail;
	}
	snprintf(c->vsock, sizeof(c->vsock), "%s", r->sb->vsock);
	return c;
fail:
	if (!c)
		api_reply_error(r, 500, "internal", "out of memory");
	command_free(c);
	return NULL;
}

static void exit_fields(struct json_object *o, const struct agent_exit *e)
{
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "exit_code", e->exit_code < 0 && e->signal ? NULL :
			       json_object_new_int(e->exit_code));
	json_object_object_add(o, "signal", e->signal ? json_object_new_int(e->signal) : NULL);
	json_object_object_add(o, "timed_out", json_object_new_boolean(e->timed_out));
}

/* One event of a streamed command: an NDJSON line or an SSE event. */
static void emit(struct command *c, const char *type, struct json_object *o)
{
	const char *text;
	char *line;
	size_t len;
	int n;

	json_object_object_add(o, "type", json_object_new_string(type));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text) + strlen(type) + 32;
	line = malloc(len);
	if (line && !c->broken) {
		n = c->sse ? snprintf(line, len, "event: %s\ndata: %s\n\n", type, text) :
			     snprintf(line, len, "%s\n", text);
		for (ssize_t off = 0, w; off < n; off += w) {
			w = write(c->out_fd, line + off, (size_t)(n - off));
			if (w <= 0) {
				c->broken = true;       /* the client went away; the command runs on */
				break;
			}
		}
	}
	free(line);
	json_object_put(o);
}

static void stream_output(void *opaque, int stream_no, const uint8_t *buf, uint32_t len)
{
	struct command *c = opaque;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "data", json_object_new_string_len((const char *)buf, (int)len));
	emit(c, stream_no == 2 ? "stderr" : "stdout", o);
}

static void *run_streamed(void *arg)
{
	struct command *c = arg;
	struct json_object *o = json_object_new_object();

	c->ret = agent_exec_run(c->vsock, &c->x, &c->res, &c->err);
	if (c->ret == 0) {
		exit_fields(o, &c->res);
		emit(c, "exit", o);
	} else {
		unsigned int status;

		/* The same code as an unstreamed run would answer. */
		json_object_object_add(o, "code", json_object_new_string(
			agent_error_code(c->ret, &c->err, &status)));
		json_object_object_add(o, "message", json_object_new_string(
			c->ret == -EREMOTEIO ? c->err.message : strerror(-c->ret)));
		emit(c, "error", o);
	}
	close(c->out_fd);
	return NULL;
}

static void streamed_done(void *opaque)
{
	struct command *c = opaque;

	pthread_join(c->thread, NULL);
	command_free(c);
}

/*
 * Starts c and answers its pid without waiting: the agent runs a command on
 * when its connection goes (docs/agent-protocol.md). Its stdin gets
 * c->stdin_data and closes, or with keep_stdin stays open for
 * POST .../processes/{pid}/stdin.
 */
static void start_background(struct api_req *r, struct command *c)
{
	struct json_object *req = agent_exec_request(&c->x), *reply = NULL, *o;
	struct agent_error err = { "", "" };
	int fd = agent_connect(c->vsock, AGENT_PORT), ret = fd < 0 ? fd : 0, pid = 0;

	json_object_object_add(req, "stdin", json_object_new_boolean(c->stdin_data || c->keep_stdin));
	if (ret == 0)
		ret = agent_request(fd, req, &reply, &err);
	json_object_put(req);
	if (ret == 0)
		pid = json_object_get_int(json_object_object_get(reply, "pid"));
	json_object_put(reply);
	for (size_t off = 0; ret == 0 && c->stdin_data && off < c->x.stdin_len;) {
		uint32_t n = c->x.stdin_len - off > FRAME_DATA_CHUNK ? FRAME_DATA_CHUNK :
			     (uint32_t)(c->x.stdin_len - off);

		ret = frame_send(fd, FRAME_DATA, c->stdin_data + off, n);
		off += n;
	}
	if (ret == 0 && c->stdin_data && !c->keep_stdin)
		ret = frame_send(fd, FRAME_END, NULL, 0);
	if (fd >= 0)
		close(fd);
	if (ret) {
		api_agent_failed(r, ret, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(pid));
	api_reply_json(r, 201, o);
}

/* Notes a command in the activity: `$ cmd` or its argv, and how it runs. */
static void note_command(struct api_req *r, struct json_object *body)
{
	struct json_object *v;
	char text[ACTIVITY_TEXT] = "$";

	if (str_field(body, "cmd")) {
		activity_appendf(text, sizeof(text), " %s", str_field(body, "cmd"));
	} else if (json_object_object_get_ex(body, "argv", &v) &&
		   json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			activity_appendf(text, sizeof(text), " %s",
					 json_object_get_string(json_object_array_get_idx(v, i)));
	}
	if (json_object_object_get_ex(body, "background", &v) && json_object_get_boolean(v))
		activity_appendf(text, sizeof(text), " &");
	api_note(r, "command", "%s", text);
}

static void run_command(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *o;
	struct output out = { { NULL, NULL }, { 0, 0 }, false };
	struct agent_exit res = { 0 };
	struct agent_error err = { "", "" };
	struct command *c;
	const char *mode;
	bool streamed, sse;
	int pipefd[2], ret;

	if (!body)
		return;
	note_command(r, body);
	c = command_of(r, body, &mode);
	/* mode lives in body: read it before body goes. */
	streamed = mode != NULL;
	sse = mode && strcmp(mode, "sse") == 0;
	json_object_put(body);
	if (!c)
		return;
	if (streamed) {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			command_free(c);
			api_reply_error(r, 500, "internal", "pipe: %s", strerror(errno));
			return;
		}
		c->out_fd = pipefd[1];
		c->sse = sse;
		c->x.on_output = stream_output;
		c->x.opaque = c;
		if (pthread_create(&c->thread, NULL, run_streamed, c)) {
			close(pipefd[0]);
			close(pipefd[1]);
			command_free(c);
			api_reply_error(r, 503, "busy", "no thread to run the command");
			return;
		}
		api_reply_fd(r, 200, c->sse ? "text/event-stream" : "application/x-ndjson",
			     pipefd[0], streamed_done, c);
		MHD_add_response_header(r->resp, "Cache-Control", "no-cache");
		return;
	}
	if (c->background) {
		start_background(r, c);
		command_free(c);
		return;
	}
	c->x.on_output = collect;
	c->x.opaque = &out;
	ret = agent_exec_run(c->vsock, &c->x, &res, &err);
	if (ret) {
		api_agent_failed(r, ret, &err);
	} else {
		activity_appendf(r->note, sizeof(r->note), res.signal ? "  → signal %d" :
				 "  → exit %d", res.signal ? res.signal : res.exit_code);
		o = json_object_new_object();
		exit_fields(o, &res);
		json_object_object_add(o, "stdout", json_object_new_string_len(
			out.buf[0] ? out.buf[0] : "", (int)out.len[0]));
		json_object_object_add(o, "stderr", json_object_new_string_len(
			out.buf[1] ? out.buf[1] : "", (int)out.len[1]));
		if (out.truncated)
			json_object_object_add(o, "truncated", json_object_new_boolean(1));
		api_reply_json(r, 200, o);
	}
	free(out.buf[0]);
	free(out.buf[1]);
	command_free(c);
}

/* --- files --------------------------------------------------------------------- */

/* The path argument, an absolute guest path; answers 400 and returns NULL if bad. */
static const char *path_arg(struct api_req *r)
{
	const char *p = api_arg(r, "path");

	if (!p || p[0] != '/' || strlen(p) >= 4096) {
		api_reply_error(r, 400, "invalid_request", "path: want an absolute path in the guest");
		return NULL;
	}
	return p;
}

struct transfer {
	char vsock[sizeof(((struct sandbox *)0)->vsock)];
	char path[4096];
	unsigned int mode;
	int fd;                 /* the thread's end of the pipe */
	int wfd;                /* an upload's writing end */
	pthread_t thread;
	bool started;
	long long bytes;
	uint64_t taken;
	struct agent_error err;
	int ret;
};

static void *download_thread(void *arg)
{
	struct transfer *t = arg;

	t->ret = agent_file_read(t->vsock, t->path, t->fd, &t->bytes, &t->err);
	close(t->fd);
	return NULL;
}

static void download_done(void *opaque)
{
	struct transfer *t = opaque;

	pthread_join(t->thread, NULL);
	free(t);
}

static void download(struct api_req *r)
{
	const char *path = path_arg(r), *type;
	struct json_object *req, *reply = NULL;
	struct agent_error err = { "", "" };
	struct transfer *t;
	int pipefd[2], ret;
	char size[32];

	if (!path)
		return;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("stat"));
	json_object_object_add(req, "path", json_object_new_string(path));
	ret = agent_call_timeout(r->sb->vsock, req, &reply, &err, 30000);
	json_object_put(req);
	if (ret) {
		api_agent_failed(r, ret, &err);
		return;
	}
	type = str_field(reply, "type");
	if (!type || strcmp(type, "file")) {
		json_object_put(reply);
		api_reply_error(r, 400, "invalid_request", "%s is a %s, not a file", path,
				type ? type : "thing");
		return;
	}
	snprintf(size, sizeof(size), "%lld", (long long)json_object_get_int64(
		json_object_object_get(reply, "size")));
	json_object_put(reply);
	t = calloc(1, sizeof(*t));
	if (!t || pipe2(pipefd, O_CLOEXEC) < 0) {
		free(t);
		api_reply_error(r, 500, "internal", "no pipe for the download");
		return;
	}
	snprintf(t->vsock, sizeof(t->vsock), "%s", r->sb->vsock);
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->fd = pipefd[1];
	if (pthread_create(&t->thread, NULL, download_thread, t)) {
		close(pipefd[0]);
		close(pipefd[1]);
		free(t);
		api_reply_error(r, 503, "busy", "no thread for the download");
		return;
	}
	api_reply_fd(r, 200, "application/octet-stream", pipefd[0], download_done, t);
	MHD_add_response_header(r->resp, "X-File-Size", size);
}

static void *upload_thread(void *arg)
{
	struct transfer *t = arg;

	t->ret = agent_file_write(t->vsock, t->path, t->fd, t->mode, &t->bytes, &t->err);
	close(t->fd);
	return NULL;
}

static void upload_begin(struct api_req *r)
{
	const char *path = path_arg(r), *mode = api_arg(r, "mode"), *len;
	struct transfer *t;
	int pipefd[2];
	char *end;

	if (!path)
		return;
	api_note(r, "upload", "%s", path);
	len = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && strtoull(len, NULL, 10) > r->cfg->max_upload) {
		api_reply_error(r, 413, "payload_too_large", "uploads are limited to %llu bytes",
				(unsigned long long)r->cfg->max_upload);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	t->mode = 0644;
	if (mode) {
		unsigned long m = strtoul(mode, &end, 8);

		if (!*mode || *end || m > 07777) {
			free(t);
			api_reply_error(r, 400, "invalid_request", "mode: want octal permissions "
					"(644)");
			return;
		}
		t->mode = (unsigned int)m;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(t);
		api_reply_error(r, 500, "internal", "pipe: %s", strerror(errno));
		return;
	}
	snprintf(t->vsock, sizeof(t->vsock), "%s", r->sb->vsock);
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->fd = pipefd[0];
	if (pthread_create(&t->thread, NULL, upload_thread, t)) {
		close(pipefd[0]);
		close(pipefd[1]);
		free(t);
		api_reply_error(r, 503, "busy", "no thread for the upload");
		return;
	}
	t->started = true;
	t->wfd = pipefd[1];
	r->stream = t;
}

static bool upload_data(struct api_req *r, const char *buf, size_t len)
{
	struct transfer *t = r->stream;

	if (!t)
		return false;
	t->taken += len;
	if (t->taken > r->cfg->max_upload)
		return false;
	while (len) {
		ssize_t w = write(t->wfd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;   /* the agent stopped taking it; its error is answered */
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

/* Ends the upload's pipe and thread; true if it was started. */
static bool upload_end(struct api_req *r)
{
	struct transfer *t = r->stream;

	if (!t)
		return false;
	close(t->wfd);
	pthread_join(t->thread, NULL);
	return true;
}

static void upload(struct api_req *r)
{
	struct transfer *t = r->stream;
	struct json_object *o;

	if (!upload_end(r))
		return;
	r->stream = NULL;
	api_note(r, "upload", "%s (%llu bytes)", t->path, (unsigned long long)t->taken);
	if (t->taken > r->cfg->max_upload) {
		api_reply_error(r, 413, "payload_too_large", "uploads are limited to %llu bytes",
				(unsigned long long)r->cfg->max_upload);
	} else if (t->ret) {
		api_agent_failed(r, t->ret, &t->err);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(t->path));
		json_object_object_add(o, "size", json_object_new_int64(t->bytes));
		api_reply_json(r, 201, o);
	}
	free(t);
}

static void upload_abandon(struct api_req *r)
{
	if (upload_end(r))
		free(r->stream);
	r->stream = NULL;
}

/* --- the table ----------------------------------------------------------------- */

const struct api_route api_routes[] = {
	{ "GET", "health", ROUTE_PUBLIC, health, NULL, NULL, NULL },
	{ "GET", "", ROUTE_PUBLIC | ROUTE_WEB, api_web_file, NULL, NULL, NULL },
	{ "GET", "console/*", ROUTE_PUBLIC | ROUTE_WEB, api_web_file, NULL, NULL, NULL },
	{ "GET", "novnc/*", ROUTE_PUBLIC | ROUTE_WEB, api_web_file, NULL, NULL, NULL },
	{ "POST", "sandboxes", 0, create, NULL, NULL, NULL },
	{ "GET", "sandboxes", 0, list, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}", ROUTE_SANDBOX | ROUTE_ANY_STATE, get_one, NULL, NULL, NULL },
	{ "DELETE", "sandboxes/{id}", ROUTE_SANDBOX | ROUTE_ANY_STATE, destroy, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/timeout", ROUTE_SANDBOX, set_timeout, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/activity", ROUTE_SANDBOX | ROUTE_ANY_STATE, activity, NULL, NULL,
	  NULL },
	{ "GET", "sandboxes/{id}/screenshot", ROUTE_SANDBOX, screenshot, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/actions", ROUTE_SANDBOX, actions, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/cursor", ROUTE_SANDBOX, cursor, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/display", ROUTE_SANDBOX, display_get, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/display", ROUTE_SANDBOX, display_set, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/stream", ROUTE_SANDBOX, stream, NULL, NULL, NULL },
	/* Public: browsers send no key with a websocket; a ticket from stream instead. */
	{ "GET", "sandboxes/{id}/vnc", ROUTE_PUBLIC | ROUTE_SANDBOX, api_vnc_proxy,
	  NULL, NULL, api_vnc_proxy_done },
	{ "POST", "sandboxes/{id}/commands", ROUTE_SANDBOX, run_command, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/files", ROUTE_SANDBOX, download, NULL, NULL, NULL },
	{ "PUT", "sandboxes/{id}/files", ROUTE_SANDBOX | ROUTE_UPLOAD, upload, upload_begin,
	  upload_data, upload_abandon },
	{ "DELETE", "sandboxes/{id}/files", ROUTE_SANDBOX, api_file_remove, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/files/stat", ROUTE_SANDBOX, api_file_stat, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/files/list", ROUTE_SANDBOX, api_file_list, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/files/mkdir", ROUTE_SANDBOX, api_file_mkdir, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/files/rename", ROUTE_SANDBOX, api_file_rename, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/processes", ROUTE_SANDBOX, api_processes, NULL, NULL, NULL },
	{ "DELETE", "sandboxes/{id}/processes/{pid}", ROUTE_SANDBOX, api_process_kill, NULL, NULL,
	  NULL },
	{ "POST", "sandboxes/{id}/processes/{pid}/stdin", ROUTE_SANDBOX, api_process_stdin, NULL,
	  NULL, NULL },
	{ "POST", "sandboxes/{id}/computer/anthropic", ROUTE_SANDBOX, api_computer_anthropic, NULL,
	  NULL, NULL },
	{ "POST", "sandboxes/{id}/computer/openai", ROUTE_SANDBOX, api_computer_openai, NULL, NULL,
	  NULL },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
