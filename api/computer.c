/*
 * The computer-use tools of Anthropic (computer_20250124, computer_20251124)
 * and OpenAI (computer_use_preview and the batched `actions`), taken as the
 * models write them and answered as the models expect, so that an agent
 * loop passes a tool call straight through. Each becomes a batch of our own
 * actions (docs/control-protocol.md) that answers with its screenshot: one
 * round trip to the sandbox's monitor per tool call.
 *
 * A model works on a screen of the size it was told (display_width,
 * display_height in the query; the real size when absent). Its points are
 * pixels of a screenshot of that size, and they go to the monitor as they
 * are, with that size as the batch's coordinate space: the monitor alone
 * maps them to the screen (vmm/space.c), the same way for every route, and
 * answers the cursor and screenshots in the same space.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"
#include "screen.h"
#include "vmctl.h"

#define OPENAI_WAIT_MS 1000         /* OpenAI's wait names no duration */
#define OPENAI_SCROLL_STEP 100      /* pixels of scroll_x/scroll_y per wheel step */
#define MAX_SECONDS 60.0            /* hold_key and wait: the monitor's limit */

/* A query value that must be a whole number (up to 2^32 - 1); false if it is not one. */
static bool query_uint(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * The screen the model was told of, as the batch's coordinate space
 * (zeroed: the real one); false when answered. Its range and aspect are
 * the monitor's to check.
 */
static bool model_space(struct api_req *r, struct vmctl_space *s)
{
	const char *w = api_arg(r, "display_width"), *h = api_arg(r, "display_height");

	*s = (struct vmctl_space){ 0 };
	if (!w && !h)
		return true;
	if (!query_uint(w, &s->width) || !query_uint(h, &s->height) || !s->width || !s->height) {
		api_reply_error(r, 400, "invalid_request", "display_width and display_height: want "
				"both, whole numbers");
		return false;
	}
	return true;
}

/* A point's x and y (whole numbers >= 0, on the model's screen) into our action a; false when answered. */
static bool add_point(struct api_req *r, struct json_object *xo, struct json_object *yo,
		      const char *what, struct json_object *a)
{
	if (!json_object_is_type(xo, json_type_int) || !json_object_is_type(yo, json_type_int) ||
	    json_object_get_int64(xo) < 0 || json_object_get_int64(yo) < 0) {
		api_reply_error(r, 400, "invalid_request", "%s: want whole numbers from 0", what);
		return false;
	}
	json_object_object_add(a, "x", json_object_get(xo));
	json_object_object_add(a, "y", json_object_get(yo));
	return true;
}

/* Anthropic's "coordinate": [x, y]; absent is fine unless needed. */
static bool coordinate(struct api_req *r, struct json_object *body, const char *key, bool needed,
		       struct json_object *action)
{
	struct json_object *c;

	if (!json_object_object_get_ex(body, key, &c) || json_object_is_type(c, json_type_null)) {
		if (needed)
			api_reply_error(r, 400, "invalid_request", "%s: want [x, y]", key);
		return !needed;
	}
	if (!json_object_is_type(c, json_type_array) || json_object_array_length(c) != 2) {
		api_reply_error(r, 400, "invalid_request", "%s: want [x, y]", key);
		return false;
	}
	return add_point(r, json_object_array_get_idx(c, 0), json_object_array_get_idx(c, 1), key,
			 action);
}

/* A new action of our own, {"type": type}. */
static struct json_object *action_of(const char *type)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "type", json_object_new_string(type));
	return a;
}

/* Seconds (a number 0..MAX_SECONDS) as ms; false when answered. */
static bool seconds(struct api_req *r, struct json_object *body, const char *key, int *ms)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(body, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	    (d = json_object_get_double(v)) < 0 || d > MAX_SECONDS || isnan(d)) {
		api_reply_error(r, 400, "invalid_request", "%s: want seconds, 0..%g", key, MAX_SECONDS);
		return false;
	}
	*ms = (int)lround(d * 1000);
	return true;
}

/*
 * Runs our batch list (taken) in the model's space s, and takes the
 * screenshot how asks for once it is done (how NULL: none), in one round
 * trip; a list with nothing to do is just the screenshot. The answer into
 * *ans (results, shot); false when answered.
 */
static bool run(struct api_req *r, const struct vmctl_space *s, struct json_object *list,
		const struct vmctl_shot *how, struct vmctl_batch_answer *ans)
{
	struct vmctl_batch batch = { .actions = list, .space = *s, .shot = how };
	struct vmctl_error err;
	int ret;

	*ans = (struct vmctl_batch_answer){ NULL };
	if (json_object_array_length(list))
		ret = vmctl_actions(r->sb->control, &batch, ans, &err, api_actions_wait_ms(list));
	else
		ret = how ? vmctl_screenshot(r->sb->control, s, how, &ans->shot, &err,
					     API_CONTROL_WAIT_MS) : 0;
	json_object_put(list);
	if (ret)
		api_control_failed(r, ret, &err);
	return ret == 0;
}

/* The screenshot a model gets back: a PNG of its screen's size. */
static struct vmctl_shot model_shot(const struct vmctl_space *s)
{
	return (struct vmctl_shot){ .format = VMCTL_PNG, .width = s->width };
}

/*
 * Anthropic's zoom region [x0, y0, x1, y1]: the corners of a box on the
 * model's screen, x1 and y1 past its last pixel (as a crop box is; [0, 0,
 * W, H] is the whole screen), taken at the screen's full size; the monitor
 * checks the box against the screen. false when answered.
 */
static bool zoom_box(struct api_req *r, struct json_object *body, struct vmctl_box *out)
{
	struct json_object *reg;
	uint32_t c[4];

	if (!json_object_object_get_ex(body, "region", &reg) ||
	    !json_object_is_type(reg, json_type_array) || json_object_array_length(reg) != 4)
		goto bad;
	for (size_t i = 0; i < 4; i++) {
		struct json_object *v = json_object_array_get_idx(reg, i);
		int64_t n = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || n < 0 || n > 8192)
			goto bad;
		c[i] = (uint32_t)n;
	}
	if (c[2] <= c[0] || c[3] <= c[1])
		goto bad;
	*out = (struct vmctl_box){ c[0], c[1], c[2], c[3] };
	return true;
bad:
	api_reply_error(r, 400, "invalid_request", "region: want [x0, y0, x1, y1], whole numbers "
			"with x0 < x1 and y0 < y1");
	return false;
}

/* Adds the Anthropic action in body to list; false when answered. */
static bool anthropic_action(struct api_req *r, struct json_object *body, const char *act,
			     struct json_object *list)
{
	static const struct { const char *name, *button; int count; } clicks[] = {
		{ "left_click", "left", 1 }, { "right_click", "right", 1 },
		{ "middle_click", "middle", 1 }, { "double_click", "left", 2 },
		{ "triple_click", "left", 3 },
	};
	const char *text = api_str_field(body, "text");
	struct json_object *a = NULL, *v;
	int ms;

	for (size_t i = 0; i < sizeof(clicks) / sizeof(clicks[0]); i++) {
		if (strcmp(act, clicks[i].name))
			continue;
		a = action_of("click");
		json_object_object_add(a, "button", json_object_new_string(clicks[i].button));
		json_object_object_add(a, "count", json_object_new_int(clicks[i].count));
		if (text && *text)
			json_object_object_add(a, "modifiers", json_object_new_string(text));
		if (!coordinate(r, body, "coordinate", false, a))
			goto fail;
		json_object_array_add(list, a);
		return true;
	}
	if (!strcmp(act, "key") || !strcmp(act, "type") || !strcmp(act, "hold_key")) {
		if (!text || !*text) {
			api_reply_error(r, 400, "invalid_request", "%s: want text", act);
			return false;
		}
	}
	if (!strcmp(act, "key")) {
		/* As xdotool key: several combinations, space apart ("ctrl+a Delete"). */
		char *copy = strdup(text), *save = NULL;

		for (char *k = strtok_r(copy, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
			a = action_of("key");
			json_object_object_add(a, "keys", json_object_new_string(k));
			json_object_array_add(list, a);
		}
		free(copy);
	} else if (!strcmp(act, "type")) {
		a = action_of("type");
		json_object_object_add(a, "text", json_object_new_string(text));
		json_object_array_add(list, a);
	} else if (!strcmp(act, "mouse_move")) {
		a = action_of("move");
		if (!coordinate(r, body, "coordinate", true, a))
			goto fail;
		json_object_array_add(list, a);
	} else if (!strcmp(act, "left_click_drag")) {
		struct json_object *from = json_object_new_object(), *to = json_object_new_object();
		struct json_object *path, *p0, *p1;

		if (!coordinate(r, body, "start_coordinate", true, from) ||
		    !coordinate(r, body, "coordinate", true, to)) {
			json_object_put(from);
			json_object_put(to);
			return false;
		}
		p0 = json_object_new_array();
		json_object_array_add(p0, json_object_get(json_object_object_get(from, "x")));
		json_object_array_add(p0, json_object_get(json_object_object_get(from, "y")));
		p1 = json_object_new_array();
		json_object_array_add(p1, json_object_get(json_object_object_get(to, "x")));
		json_object_array_add(p1, json_object_get(json_object_object_get(to, "y")));
		json_object_put(from);
		json_object_put(to);
		path = json_object_new_array();
		json_object_array_add(path, p0);
		json_object_array_add(path, p1);
		a = action_of("drag");
		json_object_object_add(a, "path", path);
		json_object_array_add(list, a);
	} else if (!strcmp(act, "left_mouse_down") || !strcmp(act, "left_mouse_up")) {
		a = action_of(act[11] == 'd' ? "down" : "up");
		if (!coordinate(r, body, "coordinate", false, a))
			goto fail;
		json_object_array_add(list, a);
	} else if (!strcmp(act, "scroll")) {
		const char *dir = api_str_field(body, "scroll_direction");
		int64_t amount = 1;

		a = action_of("scroll");
		if (!dir || (strcmp(dir, "up") && strcmp(dir, "down") && strcmp(dir, "left") &&
			     strcmp(dir, "right"))) {
			api_reply_error(r, 400, "invalid_request", "scroll_direction: want up, down, "
					"left or right");
			goto fail;
		}
		if (json_object_object_get_ex(body, "scroll_amount", &v) &&
		    (!json_object_is_type(v, json_type_int) || (amount = json_object_get_int64(v)) < 0 ||
		     amount > 100)) {
			api_reply_error(r, 400, "invalid_request", "scroll_amount: want 0..100");
			goto fail;
		}
		if (!coordinate(r, body, "coordinate", false, a))
			goto fail;
		json_object_object_add(a, "direction", json_object_new_string(dir));
		json_object_object_add(a, "amount", json_object_new_int((int)amount));
		if (text && *text)
			json_object_object_add(a, "modifiers", json_object_new_string(text));
		if (amount)
			json_object_array_add(list, a);
		else
			json_object_put(a);
	} else if (!strcmp(act, "hold_key")) {
		if (!seconds(r, body, "duration", &ms))
			return false;
		a = action_of("hold");
		json_object_object_add(a, "keys", json_object_new_string(text));
		json_object_object_add(a, "duration_ms", json_object_new_int(ms));
		json_object_array_add(list, a);
	} else if (!strcmp(act, "wait")) {
		if (!seconds(r, body, "duration", &ms))
			return false;
		a = action_of("wait");
		json_object_object_add(a, "ms", json_object_new_int(ms));
		json_object_array_add(list, a);
	} else if (strcmp(act, "screenshot")) {
		api_reply_error(r, 400, "invalid_request", "unknown action '%.64s'", act);
		return false;
	}
	return true;
fail:
	json_object_put(a);
	return false;
}

/* {"type":"image","source":{"type":"base64","media_type":"image/png","data":...}}; NULL when answered. */
static struct json_object *image_block(struct api_req *r, const struct vmctl_image *img)
{
	struct json_object *shot = api_image_json(r, img), *b, *src;

	if (!shot)
		return NULL;
	b = json_object_new_object();
	src = json_object_new_object();
	json_object_object_add(src, "type", json_object_new_string("base64"));
	json_object_object_add(src, "media_type", json_object_new_string("image/png"));
	json_object_object_add(src, "data", json_object_get(json_object_object_get(shot, "data")));
	json_object_object_add(b, "type", json_object_new_string("image"));
	json_object_object_add(b, "source", src);
	json_object_put(shot);
	return b;
}

/* Notes a model's tool call (one action, or OpenAI's {"actions": [...]}) in the activity. */
static void note_call(struct api_req *r, const char *what, struct json_object *body,
		      const char *name_key)
{
	struct json_object *list;
	char text[ACTIVITY_TEXT] = "";

	if (json_object_object_get_ex(body, "actions", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			activity_describe(text, sizeof(text), json_object_array_get_idx(list, i),
					  name_key);
	} else {
		activity_describe(text, sizeof(text), body, name_key);
	}
	api_note(r, what, "%s", text);
}

/* cursor_position's text block, X=..,Y=.. on the model's screen; NULL when answered. */
static struct json_object *cursor_block(struct api_req *r, const struct vmctl_space *s)
{
	struct json_object *list = json_object_new_array(), *res, *t;
	struct vmctl_batch_answer ans;
	char text[64];

	json_object_array_add(list, action_of("cursor"));
	if (!run(r, s, list, NULL, &ans))
		return NULL;
	/* The monitor answers in the batch's space: the model's. */
	res = json_object_array_get_idx(ans.results, 0);
	snprintf(text, sizeof(text), "X=%d,Y=%d",
		 json_object_get_int(json_object_object_get(res, "x")),
		 json_object_get_int(json_object_object_get(res, "y")));
	vmctl_batch_answer_free(&ans);
	t = json_object_new_object();
	json_object_object_add(t, "type", json_object_new_string("text"));
	json_object_object_add(t, "text", json_object_new_string(text));
	return t;
}

/*
 * The tool result's block for Anthropic's action act in body: a screenshot
 * after it (of the zoom's box at full size for zoom), or the cursor's text;
 * NULL when answered.
 */
static struct json_object *anthropic_block(struct api_req *r, const struct vmctl_space *s,
					   struct json_object *body, const char *act)
{
	struct json_object *list = json_object_new_array(), *block;
	struct vmctl_shot how = model_shot(s);
	struct vmctl_batch_answer ans;

	if (!strcmp(act, "cursor_position")) {
		json_object_put(list);
		return cursor_block(r, s);
	}
	if (!strcmp(act, "zoom")) {
		how.width = 0;
		if (!zoom_box(r, body, &how.box)) {
			json_object_put(list);
			return NULL;
		}
	} else if (!anthropic_action(r, body, act, list)) {
		json_object_put(list);
		return NULL;
	}
	if (!run(r, s, list, &how, &ans))
		return NULL;
	block = image_block(r, &ans.shot);
	vmctl_batch_answer_free(&ans);
	return block;
}

/* POST .../computer/anthropic: one tool call, answered as the tool result's content. */
static void anthropic_call(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *block, *content, *out;
	const char *act;
	struct vmctl_space s;

	if (!body)
		return;
	note_call(r, "anthropic", body, "action");
	act = api_str_field(body, "action");
	if (!act) {
		api_reply_error(r, 400, "invalid_request", "action: want the tool's action name");
		goto out;
	}
	if (!model_space(r, &s) || !(block = anthropic_block(r, &s, body, act)))
		goto out;
	content = json_object_new_array();
	json_object_array_add(content, block);
	out = json_object_new_object();
	json_object_object_add(out, "content", content);
	api_reply_json(r, 200, out);
out:
	json_object_put(body);
}

/* OpenAI's x, y of action o into our action a; false when answered. */
static bool openai_point(struct api_req *r, struct json_object *o, struct json_object *a)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, "x", &x) || !json_object_object_get_ex(o, "y", &y)) {
		api_reply_error(r, 400, "invalid_request", "want x and y");
		return false;
	}
	return add_point(r, x, y, "x, y", a);
}

/* Adds OpenAI action o to list; false when answered. */
static bool openai_action(struct api_req *r, struct json_object *o, struct json_object *list)
{
	const char *type = api_str_field(o, "type"), *button;
	struct json_object *a = NULL, *v;

	if (!type) {
		api_reply_error(r, 400, "invalid_request", "type: want the action's type");
		return false;
	}
	if (!strcmp(type, "click") || !strcmp(type, "double_click")) {
		button = api_str_field(o, "button") ?: "left";
		if (!strcmp(button, "wheel"))
			button = "middle";
		if (strcmp(button, "left") && strcmp(button, "right") && strcmp(button, "middle") &&
		    strcmp(button, "back") && strcmp(button, "forward")) {
			api_reply_error(r, 400, "invalid_request", "button: want left, right, wheel, "
					"back or forward");
			return false;
		}
		a = action_of("click");
		json_object_object_add(a, "button", json_object_new_string(button));
		json_object_object_add(a, "count", json_object_new_int(type[0] == 'd' ? 2 : 1));
		if (!openai_point(r, o, a))
			goto fail;
	} else if (!strcmp(type, "move")) {
		a = action_of("move");
		if (!openai_point(r, o, a))
			goto fail;
	} else if (!strcmp(type, "drag")) {
		struct json_object *path, *out = json_object_new_array();
		size_t n;

		if (!json_object_object_get_ex(o, "path", &path) ||
		    !json_object_is_type(path, json_type_array) ||
		    (n = json_object_array_length(path)) < 2 || n > 1000) {
			json_object_put(out);
			api_reply_error(r, 400, "invalid_request", "path: want 2..1000 points {x, y}");
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *pt = action_of("point"), *xy;

			if (!openai_point(r, json_object_array_get_idx(path, i), pt)) {
				json_object_put(pt);
				json_object_put(out);
				return false;
			}
			xy = json_object_new_array();
			json_object_array_add(xy, json_object_get(json_object_object_get(pt, "x")));
			json_object_array_add(xy, json_object_get(json_object_object_get(pt, "y")));
			json_object_array_add(out, xy);
			json_object_put(pt);
		}
		a = action_of("drag");
		json_object_object_add(a, "path", out);
	} else if (!strcmp(type, "keypress")) {
		if (!json_object_object_get_ex(o, "keys", &v) || !json_object_is_type(v, json_type_array)) {
			api_reply_error(r, 400, "invalid_request", "keys: want a list of key names");
			return false;
		}
		a = action_of("key");
		json_object_object_add(a, "keys", json_object_get(v));
	} else if (!strcmp(type, "type")) {
		if (!api_str_field(o, "text")) {
			api_reply_error(r, 400, "invalid_request", "text: want a string");
			return false;
		}
		a = action_of("type");
		json_object_object_add(a, "text", json_object_new_string(api_str_field(o, "text")));
	} else if (!strcmp(type, "scroll")) {
		static const char *const dirs[2][2] = { { "left", "right" }, { "up", "down" } };
		static const char *const keys[2] = { "scroll_x", "scroll_y" };
		struct json_object *at = action_of("move");

		if (!openai_point(r, o, at)) {
			json_object_put(at);
			return false;
		}
		json_object_array_add(list, at);
		for (int axis = 0; axis < 2; axis++) {
			int64_t px = 0, steps;

			if (json_object_object_get_ex(o, keys[axis], &v) &&
			    (!json_object_is_type(v, json_type_int) ||
			     llabs(px = json_object_get_int64(v)) > 100000)) {
				api_reply_error(r, 400, "invalid_request", "%s: want pixels", keys[axis]);
				return false;
			}
			if (!px)
				continue;
			steps = (llabs(px) + OPENAI_SCROLL_STEP / 2) / OPENAI_SCROLL_STEP;
			a = action_of("scroll");
			json_object_object_add(a, "direction", json_object_new_string(
				dirs[axis][px > 0]));
			json_object_object_add(a, "amount", json_object_new_int(
				(int)(steps < 1 ? 1 : steps > 100 ? 100 : steps)));
			json_object_array_add(list, a);
		}
		return true;
	} else if (!strcmp(type, "wait")) {
		a = action_of("wait");
		json_object_object_add(a, "ms", json_object_new_int(OPENAI_WAIT_MS));
	} else if (strcmp(type, "screenshot")) {
		api_reply_error(r, 400, "invalid_request", "unknown action type '%.64s'", type);
		return false;
	}
	if (a)
		json_object_array_add(list, a);
	return true;
fail:
	json_object_put(a);
	return false;
}

/* POST .../computer/openai: one action or {"actions": [...]}, answered as a computer_call_output. */
static void openai_call(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *list, *actions, *shot, *out;
	struct vmctl_batch_answer ans;
	struct vmctl_space s;
	struct vmctl_shot how;
	char *url;
	size_t n;

	if (!body)
		return;
	note_call(r, "openai", body, "type");
	if (!model_space(r, &s))
		goto out;
	how = model_shot(&s);
	list = json_object_new_array();
	if (json_object_object_get_ex(body, "actions", &actions)) {
		n = json_object_is_type(actions, json_type_array) ? json_object_array_length(actions) : 0;
		if (!n || n > 1000) {
			json_object_put(list);
			api_reply_error(r, 400, "invalid_request", "actions: want 1..1000 actions");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!openai_action(r, json_object_array_get_idx(actions, i), list)) {
				json_object_put(list);
				goto out;
			}
		}
	} else if (!openai_action(r, body, list)) {
		json_object_put(list);
		goto out;
	}
	if (!run(r, &s, list, &how, &ans))
		goto out;
	shot = api_image_json(r, &ans.shot);
	vmctl_batch_answer_free(&ans);
	if (!shot)
		goto out;
	n = (size_t)json_object_get_string_len(json_object_object_get(shot, "data"));
	url = malloc(n + 32);
	if (!url) {
		json_object_put(shot);
		api_reply_error(r, 500, "internal", "out of memory");
		goto out;
	}
	snprintf(url, n + 32, "data:image/png;base64,%s",
		 json_object_get_string(json_object_object_get(shot, "data")));
	json_object_put(shot);
	out = json_object_new_object();
	json_object_object_add(out, "type", json_object_new_string("computer_screenshot"));
	json_object_object_add(out, "image_url", json_object_new_string(url));
	free(url);
	api_reply_json(r, 200, out);
out:
	json_object_put(body);
}

static const struct api_route rows[] = {
	{ "POST", "sandboxes/{id}/computer/anthropic", ROUTE_SANDBOX, anthropic_call, NULL,
	  NULL, NULL },
	{ "POST", "sandboxes/{id}/computer/openai", ROUTE_SANDBOX, openai_call, NULL, NULL,
	  NULL },
};

const struct api_routes api_computer_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
