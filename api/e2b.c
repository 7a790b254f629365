/*
 * E2B's control plane under /e2b (docs/e2b.md), as the `e2b` SDK speaks
 * it (../shared/reference/e2b-wire-protocol.md, §2): with
 * E2B_API_URL=http://HOST:PORT/e2b its Sandbox.create, connect, list,
 * getInfo, setTimeout and kill work on our sandboxes. Each maps onto our
 * own lifecycle (sandbox.h) and answers in E2B's shapes: templates by
 * E2B's names (base is our minimal), seconds for timeouts, envVars as the
 * sandbox's env, allow_internet_access and network's allowOut/denyOut as
 * its egress policy; errors as {"code": <status>, "message"}, which the
 * SDK reads by the body's code (404 on kill is a false, not an error).
 * What there is no lifecycle for yet (pause, autoPause) is refused plainly.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"
#include "sandbox.h"

#define ENVD_VERSION "0.6.4"    /* the SDK's features are gated on it (wire protocol, §2) */
#define LIST_LIMIT_MAX 1000

/* E2B's error body, {"code": status, "message"}: the SDK reads 404 and 409 by it. */
static void e2b_error(struct api_req *r, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void e2b_error(struct api_req *r, unsigned int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "code", json_object_new_int((int)status));
	json_object_object_add(o, "message", json_object_new_string(msg));
	snprintf(r->error, sizeof(r->error), "%.200s", msg);
	api_reply_json(r, status, o);
}

/* E2B's template names onto ours: base is minimal; the rest by their own names. */
static const char *template_of(const char *e2b)
{
	return !strcmp(e2b, "base") ? "minimal" : e2b;
}

static const char *e2b_template(const char *ours)
{
	return !strcmp(ours, "minimal") ? "base" : ours;
}

/* Field key of our description o, or NULL. */
static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void copy(struct json_object *to, const char *key, struct json_object *from, const char *k)
{
	struct json_object *v = field(from, k);

	if (v)
		json_object_object_add(to, key, json_object_get(v));
}

/* The Sandbox an E2B create or connect answers, from our description d. */
static struct json_object *e2b_sandbox(struct sandbox *sb, struct json_object *d)
{
	struct json_object *o = json_object_new_object();
	const char *t = e2b_template(api_str_field(d, "template") ?: "");

	json_object_object_add(o, "sandboxID", json_object_new_string(sb->id));
	json_object_object_add(o, "templateID", json_object_new_string(t));
	json_object_object_add(o, "alias", json_object_new_string(t));
	json_object_object_add(o, "clientID", json_object_new_string("cubicle"));
	json_object_object_add(o, "envdVersion", json_object_new_string(ENVD_VERSION));
	json_object_object_add(o, "envdAccessToken", json_object_new_string(sb->port_token));
	json_object_object_add(o, "domain", NULL);
	return o;
}

/* A ListedSandbox (detail: a SandboxDetail) from our description d. */
static struct json_object *e2b_listed(struct json_object *d, bool detail)
{
	struct json_object *o = json_object_new_object(), *net = field(d, "network");
	const char *state = api_str_field(d, "state") ?: "";
	const char *t = e2b_template(api_str_field(d, "template") ?: "");

	copy(o, "sandboxID", d, "id");
	json_object_object_add(o, "templateID", json_object_new_string(t));
	json_object_object_add(o, "alias", json_object_new_string(t));
	json_object_object_add(o, "clientID", json_object_new_string("cubicle"));
	copy(o, "cpuCount", d, "vcpus");
	copy(o, "memoryMB", d, "memory_mib");
	json_object_object_add(o, "diskSizeMB", json_object_new_int(0));
	json_object_object_add(o, "envdVersion", json_object_new_string(ENVD_VERSION));
	copy(o, "metadata", d, "metadata");
	copy(o, "startedAt", d, "created_at");
	copy(o, "endAt", d, "expires_at");
	/* E2B knows running and paused: a sandbox starting or stopping is neither yet. */
	json_object_object_add(o, "state", json_object_new_string(
		!strcmp(state, "running") ? "running" : state));
	if (detail) {
		struct json_object *in = field(net, "internet");

		json_object_object_add(o, "allowInternetAccess", json_object_new_boolean(
			json_object_get_boolean(field(net, "enabled")) &&
			(!in || json_object_get_boolean(in))));
		json_object_object_add(o, "domain", NULL);
	}
	return o;
}

/* The sandbox named by seg[i]; NULL when answered ({"code": 404}). */
static struct sandbox *named(struct api_req *r, unsigned int i)
{
	struct sandbox *sb = i < r->nseg ? sandbox_get(r->sandboxes, r->seg[i]) : NULL;

	if (!sb)
		e2b_error(r, 404, "sandbox %.64s not found", i < r->nseg ? r->seg[i] : "");
	return sb;
}

/*
 * NewSandboxV2 as our create's body (a new object); NULL when answered.
 * Fields of E2B's that we have no counterpart for are refused by name when
 * they ask for something (autoPause, volumes), ignored when they are only
 * E2B's bookkeeping.
 */
static struct json_object *our_create(struct api_req *r, struct json_object *e)
{
	struct json_object *o = json_object_new_object(), *v, *net = NULL;
	const char *t = api_str_field(e, "templateID");

	if (!t) {
		e2b_error(r, 400, "templateID: want a template name");
		goto fail;
	}
	if ((json_object_object_get_ex(e, "autoPause", &v) && json_object_get_boolean(v)) ||
	    (json_object_object_get_ex(e, "volumeMounts", &v) && json_object_array_length(v))) {
		e2b_error(r, 400, "%s: not supported by this Cubicle yet",
			  json_object_object_get_ex(e, "autoPause", NULL) ? "autoPause" :
			  "volumeMounts");
		goto fail;
	}
	json_object_object_add(o, "template", json_object_new_string(template_of(t)));
	copy(o, "metadata", e, "metadata");
	copy(o, "env", e, "envVars");
	copy(o, "timeout", e, "timeout");
	if (json_object_object_get_ex(e, "allow_internet_access", &v)) {
		net = json_object_new_object();
		json_object_object_add(net, "internet", json_object_get(v));
	}
	if (json_object_object_get_ex(e, "network", &v) && json_object_is_type(v, json_type_object)) {
		if (!net)
			net = json_object_new_object();
		copy(net, "allow_out", v, "allowOut");
		copy(net, "deny_out", v, "denyOut");
	}
	if (net)
		json_object_object_add(o, "network", net);
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* POST /e2b/v2/sandboxes: Sandbox.create. */
static void create(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *ours;
	struct sandbox_spec spec;
	struct sandbox *sb;
	char err[512];
	int ret;

	if (!body)
		return;
	ours = our_create(r, body);
	if (!ours || !api_sandbox_spec(r, ours, &spec))
		goto out;
	ret = sandbox_create(r->sandboxes, &spec, &sb, err, sizeof(err));
	if (ret == -EINVAL && strstr(err, "template"))
		e2b_error(r, 404, "%s", err);
	else if (ret == -EINVAL)
		e2b_error(r, 400, "%s", err);
	else if (ret == -EAGAIN)
		e2b_error(r, 429, "%s", err);
	else if (ret)
		e2b_error(r, ret == -ETIMEDOUT ? 504 : 500, "%s", err);
	if (!ret) {
		struct json_object *d = sandbox_json(r->sandboxes, sb);

		api_reply_json(r, 201, e2b_sandbox(sb, d));
		json_object_put(d);
		r->sb = sb;     /* for the activity */
		api_note(r, "create", "E2B: template %s", sb->spec.template_name);
	}
out:
	json_object_put(ours);
	json_object_put(body);
}

/* POST /e2b/v2/sandboxes/{id}/connect: a running sandbox, its timeout renewed when asked. */
static void connect_to(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *d;
	struct sandbox *sb;
	unsigned int t = 0;

	if (!body)
		return;
	if (!api_uint_field(r, body, "timeout", 1, r->cfg->max_timeout_s, &t) ||
	    !(sb = named(r, 3)))
		goto out;
	if (sandbox_state(r->sandboxes, sb) != SANDBOX_RUNNING) {
		e2b_error(r, 404, "sandbox %s is not running", sb->id);
	} else if (t && sandbox_set_timeout(r->sandboxes, sb, t) < 0) {
		e2b_error(r, 404, "sandbox %s is not running", sb->id);
	} else {
		d = sandbox_json(r->sandboxes, sb);
		api_reply_json(r, 200, e2b_sandbox(sb, d));
		json_object_put(d);
	}
	sandbox_put(r->sandboxes, sb);
out:
	json_object_put(body);
}

/* state=running,paused: whether s is one of the listed states (NULL: any). */
static bool state_wanted(const char *list, const char *s)
{
	size_t n = strlen(s);

	if (!list || !*list)
		return true;
	if (!n)
		return false;
	for (const char *p = list; (p = strstr(p, s)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* Decodes %XX in s in place, and '+' as a space for a form (form). */
static void unescape(char *s, bool form)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		unsigned int c;

		if (*p == '%' && sscanf(p + 1, "%2x", &c) == 1 && p[1] && p[2]) {
			*o++ = (char)c;
			p += 2;
		} else {
			*o++ = form && *p == '+' ? ' ' : *p;
		}
	}
	*o = '\0';
}

/*
 * The SDK's metadata filter (its keys and values encodeURIComponent'd, as a
 * form, which the query encodes again: MHD has undone that last) into an
 * object to match; NULL if none.
 */
static struct json_object *metadata_filter(const char *q)
{
	struct json_object *m;
	char *copy, *save = NULL;

	if (!q || !*q)
		return NULL;
	m = json_object_new_object();
	copy = strdup(q);
	for (char *kv = copy ? strtok_r(copy, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			continue;
		*eq = '\0';
		/* A form of encodeURIComponent's keys and values: decoded as a form, then once more. */
		unescape(kv, true);
		unescape(kv, false);
		unescape(eq + 1, true);
		unescape(eq + 1, false);
		json_object_object_add(m, kv, json_object_new_string(eq + 1));
	}
	free(copy);
	return m;
}

/* Our descriptions by id (json_object_array_sort hands pointers to the elements). */
static int by_id(const void *a, const void *b)
{
	const char *x = api_str_field(*(struct json_object *const *)a, "id") ?: "";
	const char *y = api_str_field(*(struct json_object *const *)b, "id") ?: "";

	return strcmp(x, y);
}

/* GET /e2b/v2/sandboxes: Sandbox.list, a page at a time (X-Next-Token: the last id given). */
static void list(struct api_req *r)
{
	const char *limit_s = api_arg(r, "limit"), *next = api_arg(r, "nextToken");
	struct json_object *match = metadata_filter(api_arg(r, "metadata"));
	struct json_object *all = sandboxes_json(r->sandboxes, NULL, match), *out;
	const char *states = api_arg(r, "state"), *tmpl = api_arg(r, "template");
	long limit = limit_s ? strtol(limit_s, NULL, 10) : 100;
	size_t n = json_object_array_length(all), given = 0, i;
	char last[SANDBOX_ID_LEN + 1] = "";
	bool more = false;

	if (limit < 1 || limit > LIST_LIMIT_MAX) {
		json_object_put(all);
		json_object_put(match);
		e2b_error(r, 400, "limit: want 1..%d", LIST_LIMIT_MAX);
		return;
	}
	out = json_object_new_array();
	/* Ids order the pages: a sandbox made between two pages never moves one already given. */
	json_object_array_sort(all, by_id);
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(all, i);
		const char *id = api_str_field(d, "id") ?: "";
		const char *st = api_str_field(d, "state") ?: "";

		if ((next && strcmp(id, next) <= 0) || !state_wanted(states, st) ||
		    (tmpl && *tmpl && strcmp(template_of(tmpl), api_str_field(d, "template") ?: "")) ||
		    !strcmp(st, "dead"))
			continue;
		if (given == (size_t)limit) {
			more = true;
			break;
		}
		json_object_array_add(out, e2b_listed(d, false));
		snprintf(last, sizeof(last), "%s", id);
		given++;
	}
	json_object_put(all);
	json_object_put(match);
	api_reply_json(r, 200, out);
	if (more)
		MHD_add_response_header(r->resp, "X-Next-Token", last);
}

/* GET /e2b/sandboxes/{id}: getInfo. */
static void get_info(struct api_req *r)
{
	struct sandbox *sb = named(r, 2);
	struct json_object *d;

	if (!sb)
		return;
	d = sandbox_json(r->sandboxes, sb);
	api_reply_json(r, 200, e2b_listed(d, true));
	json_object_put(d);
	sandbox_put(r->sandboxes, sb);
}

/* DELETE /e2b/sandboxes/{id}: kill. */
static void kill_one(struct api_req *r)
{
	if (r->nseg < 3 || sandbox_destroy(r->sandboxes, r->seg[2]) < 0) {
		e2b_error(r, 404, "sandbox %.64s not found", r->nseg > 2 ? r->seg[2] : "");
		return;
	}
	api_reply_bytes(r, 204, NULL, NULL, 0);
}

/* POST /e2b/sandboxes/{id}/timeout: setTimeout, seconds from now. */
static void set_timeout(struct api_req *r)
{
	struct json_object *body = api_body_object(r);
	struct sandbox *sb = NULL;
	unsigned int t = 0;

	if (!body)
		return;
	if (!api_uint_field(r, body, "timeout", 1, r->cfg->max_timeout_s, &t) || !(sb = named(r, 2)))
		goto out;
	if (!t)
		e2b_error(r, 400, "timeout: want a number of seconds");
	else if (sandbox_set_timeout(r->sandboxes, sb, t) < 0)
		e2b_error(r, 404, "sandbox %s is not running", sb->id);
	else
		api_reply_bytes(r, 204, NULL, NULL, 0);
out:
	sandbox_put(r->sandboxes, sb);
	json_object_put(body);
}

/* POST /e2b/sandboxes/{id}/pause: no pause in this Cubicle yet. */
static void pause_one(struct api_req *r)
{
	struct sandbox *sb = named(r, 2);

	if (!sb)
		return;
	e2b_error(r, 501, "pausing sandboxes is not supported by this Cubicle yet");
	sandbox_put(r->sandboxes, sb);
}

static const struct api_route rows[] = {
	{ "POST", "e2b/v2/sandboxes", 0, create, NULL, NULL, NULL },
	{ "GET", "e2b/v2/sandboxes", 0, list, NULL, NULL, NULL },
	{ "POST", "e2b/v2/sandboxes/{id}/connect", 0, connect_to, NULL, NULL, NULL },
	{ "GET", "e2b/sandboxes/{id}", 0, get_info, NULL, NULL, NULL },
	{ "DELETE", "e2b/sandboxes/{id}", 0, kill_one, NULL, NULL, NULL },
	{ "POST", "e2b/sandboxes/{id}/timeout", 0, set_timeout, NULL, NULL, NULL },
	{ "POST", "e2b/sandboxes/{id}/pause", 0, pause_one, NULL, NULL, NULL },
};

const struct api_routes api_e2b_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
