/*
 * OpenAI's computer tool, taken as the model writes it and answered as its
 * loop expects (docs/agents.md): the GA tool's computer_call item (a batch
 * of actions[], or the preview's one action) answered as the
 * computer_call_output item to send back, or, as before, one action or
 * {"actions": [...]} answered as that item's output. A call is one batch of
 * ours and one screenshot after it: checked whole before any of it runs,
 * so a bad action refuses the call and nothing moves. Safety checks the
 * model attached are the caller's to acknowledge (?acknowledge=ID,... or
 * all); until then the call is refused with them and nothing runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "model.h"
#include "routes.h"
#include "screen.h"

#define WAIT_MS 1000            /* OpenAI's wait names no duration */
#define SCROLL_STEP 100         /* pixels of scroll_x/scroll_y per wheel step */
#define MAX_ACTIONS 1000

struct in {
	struct json_object *o;
	const struct vmctl_space *s;
	char why[MODEL_WHY];
};

/* x, y of the action into our action a. */
static bool point(struct in *in, struct json_object *o, struct json_object *a)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, "x", &x) || !json_object_object_get_ex(o, "y", &y)) {
		snprintf(in->why, sizeof(in->why), "want x and y");
		return false;
	}
	return model_point(x, y, in->s, "x, y", a, in->why, sizeof(in->why));
}

/* The keys held during a mouse action ("keys": a list, or null) as a's modifiers. */
static bool held(struct in *in, struct json_object *a)
{
	struct json_object *v;

	if (!json_object_object_get_ex(in->o, "keys", &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_array)) {
		snprintf(in->why, sizeof(in->why), "keys: want a list of key names");
		return false;
	}
	if (json_object_array_length(v))
		json_object_object_add(a, "modifiers", json_object_get(v));
	return true;
}

static bool click(struct in *in, const char *type, struct json_object *list)
{
	const char *button = api_str_field(in->o, "button") ?: "left";
	struct json_object *a;

	if (!strcmp(button, "wheel"))
		button = "middle";
	if (strcmp(button, "left") && strcmp(button, "right") && strcmp(button, "middle") &&
	    strcmp(button, "back") && strcmp(button, "forward")) {
		snprintf(in->why, sizeof(in->why), "button: want left, right, wheel, back or forward");
		return false;
	}
	a = model_action("click");
	json_object_object_add(a, "button", json_object_new_string(button));
	json_object_object_add(a, "count", json_object_new_int(type[0] == 'd' ? 2 : 1));
	json_object_array_add(list, a);
	return point(in, in->o, a) && held(in, a);
}

static bool drag(struct in *in, struct json_object *list)
{
	struct json_object *path, *out, *a;
	size_t n;

	if (!json_object_object_get_ex(in->o, "path", &path) ||
	    !json_object_is_type(path, json_type_array) ||
	    (n = json_object_array_length(path)) < 2 || n > 1000) {
		snprintf(in->why, sizeof(in->why), "path: want 2..1000 points {x, y}");
		return false;
	}
	out = json_object_new_array();
	a = model_action("drag");
	json_object_object_add(a, "path", out);
	json_object_array_add(list, a);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pt = json_object_new_object();
		bool ok = point(in, json_object_array_get_idx(path, i), pt);

		if (ok)
			json_object_array_add(out, model_xy(pt));
		json_object_put(pt);
		if (!ok)
			return false;
	}
	return held(in, a);
}

/* scroll_x, scroll_y in pixels: wheel steps of SCROLL_STEP (at least one), at x, y. */
static bool scroll(struct in *in, struct json_object *list)
{
	static const char *const dirs[2][2] = { { "left", "right" }, { "up", "down" } };
	static const char *const keys[2] = { "scroll_x", "scroll_y" };
	struct json_object *at = model_action("move"), *v, *mods = json_object_new_object();
	bool ok;

	json_object_array_add(list, at);
	ok = point(in, in->o, at) && held(in, mods);
	for (int axis = 0; ok && axis < 2; axis++) {
		int64_t px = 0, steps;
		struct json_object *a;

		if (json_object_object_get_ex(in->o, keys[axis], &v) &&
		    !json_object_is_type(v, json_type_null) &&
		    (!json_object_is_type(v, json_type_int) ||
		     llabs(px = json_object_get_int64(v)) > 100000)) {
			snprintf(in->why, sizeof(in->why), "%s: want pixels", keys[axis]);
			ok = false;
			break;
		}
		if (!px)
			continue;
		steps = (llabs(px) + SCROLL_STEP / 2) / SCROLL_STEP;
		a = model_action("scroll");
		json_object_object_add(a, "direction", json_object_new_string(dirs[axis][px > 0]));
		json_object_object_add(a, "amount", json_object_new_int(
			(int)(steps < 1 ? 1 : steps > 100 ? 100 : steps)));
		if (json_object_object_get_ex(mods, "modifiers", &v))
			json_object_object_add(a, "modifiers", json_object_get(v));
		json_object_array_add(list, a);
	}
	json_object_put(mods);
	return ok;
}

/* Adds the model's action o to list; false with in->why. */
static bool action(struct in *in, struct json_object *o, struct json_object *list)
{
	const char *type = api_str_field(o, "type");
	struct json_object *a, *v;

	in->o = o;
	if (!type) {
		snprintf(in->why, sizeof(in->why), "type: want the action's type");
		return false;
	}
	if (!strcmp(type, "click") || !strcmp(type, "double_click"))
		return click(in, type, list);
	if (!strcmp(type, "drag"))
		return drag(in, list);
	if (!strcmp(type, "scroll"))
		return scroll(in, list);
	if (!strcmp(type, "move")) {
		a = model_action("move");
		json_object_array_add(list, a);
		return point(in, o, a) && held(in, a);
	}
	if (!strcmp(type, "keypress")) {
		if (!json_object_object_get_ex(o, "keys", &v) || !json_object_is_type(v, json_type_array) ||
		    !json_object_array_length(v)) {
			snprintf(in->why, sizeof(in->why), "keys: want a list of key names");
			return false;
		}
		a = model_action("key");
		json_object_object_add(a, "keys", json_object_get(v));
		json_object_array_add(list, a);
		return true;
	}
	if (!strcmp(type, "type")) {
		if (!api_str_field(o, "text")) {
			snprintf(in->why, sizeof(in->why), "text: want a string");
			return false;
		}
		a = model_action("type");
		json_object_object_add(a, "text", json_object_new_string(api_str_field(o, "text")));
		json_object_array_add(list, a);
		return true;
	}
	if (!strcmp(type, "wait")) {
		a = model_action("wait");
		json_object_object_add(a, "ms", json_object_new_int(WAIT_MS));
		json_object_array_add(list, a);
		return true;
	}
	if (!strcmp(type, "screenshot"))
		return true;
	snprintf(in->why, sizeof(in->why), "unknown action type '%.64s'", type);
	return false;
}

/*
 * The call's actions (an item's actions[] or action, or the body as one
 * action or {"actions": [...]}) into list; false when answered.
 */
static bool actions_of(struct api_req *r, struct json_object *body, bool item,
		       const struct vmctl_space *s, struct json_object *list)
{
	struct json_object *actions = NULL, *one = NULL;
	struct in in = { .s = s };
	size_t n = 1;

	if (json_object_object_get_ex(body, "actions", &actions) &&
	    !json_object_is_type(actions, json_type_null)) {
		n = json_object_is_type(actions, json_type_array) ? json_object_array_length(actions) : 0;
		if (!n || n > MAX_ACTIONS) {
			api_reply_error(r, 400, "invalid_request", "actions: want 1..%d actions",
					MAX_ACTIONS);
			return false;
		}
	} else if (item && !json_object_object_get_ex(body, "action", &one)) {
		api_reply_error(r, 400, "invalid_request", "a computer_call wants actions or action");
		return false;
	} else {
		actions = NULL;
		one = item ? one : body;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = actions ? json_object_array_get_idx(actions, i) : one;

		if (!action(&in, o, list)) {
			if (actions)
				api_reply_error(r, 400, "invalid_request", "actions[%zu]: %s", i, in.why);
			else
				api_reply_error(r, 400, "invalid_request", "%s", in.why);
			return false;
		}
	}
	return true;
}

/* Whether id is in the query's acknowledge list (ID,ID,... or all). */
static bool acknowledged(const char *ack, const char *id)
{
	size_t n = strlen(id);

	if (!ack || !n)
		return false;
	if (!strcmp(ack, "all"))
		return true;
	for (const char *p = ack; (p = strstr(p, id)); p += n)
		if ((p == ack || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/*
 * The item's pending safety checks, each acknowledged by the query, into
 * *acks (a new list, the caller's; NULL when none); false when answered:
 * 409 with the checks still pending, nothing run.
 */
static bool safety(struct api_req *r, struct json_object *body, struct json_object **acks)
{
	struct json_object *checks, *pending;
	const char *ack = api_arg(r, "acknowledge");

	*acks = NULL;
	if (!json_object_object_get_ex(body, "pending_safety_checks", &checks) ||
	    !json_object_is_type(checks, json_type_array) || !json_object_array_length(checks))
		return true;
	pending = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);
		const char *id = api_str_field(c, "id");

		if (!id || !acknowledged(ack, id))
			json_object_array_add(pending, json_object_get(c));
	}
	if (!json_object_array_length(pending)) {
		json_object_put(pending);
		*acks = json_object_get(checks);
		return true;
	}
	model_reply_pending(r, "safety_check_pending", "the model asks for a person's "
			    "acknowledgement first: ask, then call again with ?acknowledge=ID,... "
			    "(or all)", "pending_safety_checks", pending);
	return false;
}

/* A data: URL of the image; NULL when answered. */
static struct json_object *data_url(struct api_req *r, const struct vmctl_image *img)
{
	struct json_object *shot = api_image_json(r, img), *url;
	const char *b64;
	size_t n;
	char *s;

	if (!shot)
		return NULL;
	b64 = json_object_get_string(json_object_object_get(shot, "data"));
	n = strlen(b64);
	s = malloc(n + 32);
	if (!s) {
		json_object_put(shot);
		api_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	snprintf(s, n + 32, "data:%s;base64,%s", img->format == VMCTL_JPEG ? "image/jpeg" :
		 "image/png", b64);
	url = json_object_new_string(s);
	free(s);
	json_object_put(shot);
	return url;
}

/* Notes the call (its actions, or its one action) in the activity. */
static void note_call(struct api_req *r, struct json_object *body)
{
	struct json_object *list, *one;
	char text[ACTIVITY_TEXT] = "";

	if (json_object_object_get_ex(body, "actions", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			activity_describe(text, sizeof(text), json_object_array_get_idx(list, i),
					  "type");
	} else if (json_object_object_get_ex(body, "action", &one)) {
		activity_describe(text, sizeof(text), one, "type");
	} else {
		activity_describe(text, sizeof(text), body, "type");
	}
	api_note(r, "openai", "%s", text);
}

/* POST .../computer/openai: a computer_call item, one action or {"actions": [...]}. */
static void openai_call(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *list, *acks = NULL, *output, *url, *out;
	struct vmctl_error err = { .done = -1, .refused = -1 };
	struct vmctl_batch_answer ans = { NULL };
	struct vmctl_space s;
	struct vmctl_shot how;
	struct vmctl_batch b;
	const char *type, *call_id = NULL;
	bool item;
	int ret;

	if (!body)
		return;
	type = api_str_field(body, "type");
	item = type && !strcmp(type, "computer_call");
	note_call(r, body);
	if (item && !(call_id = api_str_field(body, "call_id"))) {
		api_reply_error(r, 400, "invalid_request", "call_id: want the computer_call's call_id");
		goto out;
	}
	if (!model_space_arg(r, &s))
		goto out;
	how = (struct vmctl_shot){ .format = VMCTL_PNG, .width = s.width };
	list = json_object_new_array();
	if (!actions_of(r, body, item, &s, list) || (item && !safety(r, body, &acks))) {
		json_object_put(list);
		goto out;
	}
	b = (struct vmctl_batch){ .actions = list, .space = s, .shot = &how };
	ret = json_object_array_length(list) ?
	      vmctl_actions(r->sb->control, &b, &ans, &err, api_actions_wait_ms(list)) :
	      vmctl_screenshot(r->sb->control, &s, &how, &ans.shot, &err, API_CONTROL_WAIT_MS);
	json_object_put(list);
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	url = data_url(r, &ans.shot);
	if (!url)
		goto out;
	output = json_object_new_object();
	json_object_object_add(output, "type", json_object_new_string("computer_screenshot"));
	json_object_object_add(output, "image_url", url);
	if (!item) {
		api_reply_json(r, 200, output);
		goto out;
	}
	/* At the size the model was told of, so it is not to be resized again. */
	json_object_object_add(output, "detail", json_object_new_string("original"));
	out = json_object_new_object();
	json_object_object_add(out, "type", json_object_new_string("computer_call_output"));
	json_object_object_add(out, "call_id", json_object_new_string(call_id));
	json_object_object_add(out, "output", output);
	if (acks)
		json_object_object_add(out, "acknowledged_safety_checks", json_object_get(acks));
	api_reply_json(r, 200, out);
out:
	vmctl_batch_answer_free(&ans);
	json_object_put(acks);
	json_object_put(body);
}

static const struct api_route rows[] = {
	{ "POST", "sandboxes/{id}/computer/openai", ROUTE_SANDBOX, openai_call, NULL, NULL,
	  NULL },
};

const struct api_routes api_openai_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
