/*
 * The sandboxes themselves: the service's health, and a sandbox's life:
 * create, list, get, delete, its timeout and its activity.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"

/* GET /health: answers whenever cubicled runs. */
static void health(struct api_req *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	api_reply_json(r, 200, o);
}

/*
 * The sandbox a create's body asks for, over the configuration's defaults,
 * into *spec (its metadata and env referenced, the caller's); false when
 * answered (400).
 */
bool api_sandbox_spec(struct api_req *r, struct json_object *body, struct sandbox_spec *spec)
{
	static const char *const fields[] = { "template", "resolution", "vcpus", "memory_mib",
					      "timeout", "metadata", "env", "keyboard_layout",
					      "keyboard_variant", "network", NULL };
	const struct api_config *c = r->cfg;
	struct json_object *v;
	const char *res;
	char why[300];

	*spec = (struct sandbox_spec){ .width = c->width, .height = c->height, .vcpus = c->vcpus,
				       .memory_mib = c->memory_mib, .timeout_s = c->timeout_s };
	strcpy(spec->template_name, c->template_name);
	strcpy(spec->keyboard_layout, c->keyboard_layout);
	if (!api_known_keys(r, body, fields) ||
	    !api_name_field(r, body, "template", spec->template_name,
			    sizeof(spec->template_name)) ||
	    !api_name_field(r, body, "keyboard_layout", spec->keyboard_layout,
			    sizeof(spec->keyboard_layout)) ||
	    !api_name_field(r, body, "keyboard_variant", spec->keyboard_variant,
			    sizeof(spec->keyboard_variant)) ||
	    !api_uint_field(r, body, "vcpus", 1, c->max_vcpus, &spec->vcpus) ||
	    !api_uint_field(r, body, "memory_mib", 256, c->max_memory_mib, &spec->memory_mib) ||
	    !api_uint_field(r, body, "timeout", 1, c->max_timeout_s, &spec->timeout_s))
		return false;
	if (json_object_object_get_ex(body, "resolution", &v) &&
	    (!(res = json_object_get_string(v)) || !json_object_is_type(v, json_type_string) ||
	     !api_parse_resolution(res, &spec->width, &spec->height))) {
		api_reply_error(r, 400, "invalid_request", "resolution: want \"WxH\" within "
				"64x64..8192x8192");
		return false;
	}
	net_policy_default(&spec->policy);
	if (json_object_object_get_ex(body, "network", &v) &&
	    net_policy_from_json(v, sandboxes_net_open(r->sandboxes), &spec->policy, why,
				 sizeof(why))) {
		api_reply_error(r, 400, "invalid_request", "%s", why);
		return false;
	}
	if (json_object_object_get_ex(body, "metadata", &v) && !api_string_map(r, v, "metadata"))
		return false;
	if (json_object_object_get_ex(body, "env", &v) && !api_string_map(r, v, "env"))
		return false;
	spec->metadata = json_object_get(json_object_object_get(body, "metadata"));
	spec->env = json_object_get(json_object_object_get(body, "env"));
	return true;
}

/* POST /sandboxes: answers once the sandbox is ready, or nothing is left of it. */
static void create(struct api_req *r)
{
	struct json_object *body = api_body_object(r);
	struct sandbox_spec spec;
	struct sandbox *sb;
	char err[512];
	int ret;

	if (!body)
		return;
	if (!api_sandbox_spec(r, body, &spec))
		goto out;
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

/* GET /sandboxes[?state=S&metadata.KEY=VALUE...] */
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

/* GET /sandboxes/{id}, in any state. */
static void get_one(struct api_req *r)
{
	api_reply_json(r, 200, sandbox_json(r->sandboxes, r->sb));
}

/* DELETE /sandboxes/{id}: answers once its monitor and files are gone. */
static void destroy(struct api_req *r)
{
	if (sandbox_destroy(r->sandboxes, r->sb->id) < 0) {
		api_reply_error(r, 404, "sandbox_not_found", "no sandbox '%s'", r->sb->id);
		return;
	}
	api_reply_bytes(r, 204, NULL, NULL, 0);
}

/* POST /sandboxes/{id}/timeout: ends it that many seconds from now. */
static void set_timeout(struct api_req *r)
{
	static const char *const fields[] = { "timeout", NULL };
	struct json_object *body = api_body_object(r);
	unsigned int t = 0;
	int ret;

	if (!body)
		return;
	if (!api_known_keys(r, body, fields) ||
	    !api_uint_field(r, body, "timeout", 1, r->cfg->max_timeout_s, &t))
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

static const struct api_route rows[] = {
	{ "GET", "health", ROUTE_PUBLIC, health, NULL, NULL, NULL },
	{ "POST", "sandboxes", 0, create, NULL, NULL, NULL },
	{ "GET", "sandboxes", 0, list, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}", ROUTE_SANDBOX | ROUTE_ANY_STATE, get_one, NULL, NULL, NULL },
	{ "DELETE", "sandboxes/{id}", ROUTE_SANDBOX | ROUTE_ANY_STATE, destroy, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/timeout", ROUTE_SANDBOX, set_timeout, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/activity", ROUTE_SANDBOX | ROUTE_ANY_STATE, activity, NULL, NULL,
	  NULL },
};

const struct api_routes api_lifecycle_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
