/*
 * The computer-use tools of Anthropic (computer_20250124, computer_20251124)
 * and OpenAI (computer_use_preview and the batched `actions`), taken as the
 * models write them and answered as the models expect, so that an agent
 * loop passes a tool call straight through. Each becomes a batch of our own
 * actions (docs/control-protocol.md), then a screenshot.
 *
 * A model works on a screen of the size it was told (display_width,
 * display_height in the query; the real size when absent). A point it names
 * is a pixel of a screenshot of that size; it maps to the middle of that
 * pixel's share of the real screen, so that what the model points at is
 * what it clicks, and the pointer's real position maps back to the same
 * declared pixel.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define OPENAI_WAIT_MS 1000         /* OpenAI's wait names no duration */
#define OPENAI_SCROLL_STEP 100      /* pixels of scroll_x/scroll_y per wheel step */
#define MAX_SECONDS 60.0            /* hold_key and wait: the monitor's limit */

struct screen {
	uint32_t rw, rh;            /* the real screen */
	uint32_t dw, dh;            /* as the model was told */
};

/* The real size (display op) and the declared one; false when answered. */
static bool get_screen(struct api_req *r, struct screen *s)
{
	struct json_object *req = json_object_new_object(), *ans;
	const char *w = api_arg(r, "display_width"), *h = api_arg(r, "display_height");
	char *end;

	json_object_object_add(req, "op", json_object_new_string("display"));
	ans = api_control(r, req, NULL, NULL, 10000);
	if (!ans)
		return false;
	s->rw = (uint32_t)json_object_get_int(json_object_object_get(ans, "width"));
	s->rh = (uint32_t)json_object_get_int(json_object_object_get(ans, "height"));
	json_object_put(ans);
	s->dw = s->rw;
	s->dh = s->rh;
	if (!w && !h)
		return true;
	if (!w || !h || (s->dw = (uint32_t)strtoul(w, &end, 10), *end) ||
	    (s->dh = (uint32_t)strtoul(h, &end, 10), *end) || s->dw < 16 || s->dh < 16 ||
	    s->dw > 8192 || s->dh > 8192) {
		api_reply_error(r, 400, "invalid_request", "display_width and display_height: want "
				"both, 16..8192");
		return false;
	}
	/* Screenshots keep the screen's aspect: a declared size must too (to a pixel). */
	if (llabs((long long)s->dw * s->rh - (long long)s->dh * s->rw) > (long long)s->rw) {
		api_reply_error(r, 400, "invalid_request", "display %ux%u does not keep the "
				"screen's aspect (%ux%u)", s->dw, s->dh, s->rw, s->rh);
		return false;
	}
	return true;
}

/* Declared pixel d of dn to the middle of its share of the real rn. */
static uint32_t to_real(uint32_t d, uint32_t dn, uint32_t rn)
{
	return (uint32_t)(((2ull * d + 1) * rn) / (2ull * dn));
}

static uint32_t to_declared(uint32_t x, uint32_t rn, uint32_t dn)
{
	return (uint32_t)(((2ull * x + 1) * dn) / (2ull * rn));
}

/* A point [x, y] (Anthropic) or x, y (OpenAI) on the declared screen; false when answered. */
static bool declared_point(struct api_req *r, const struct screen *s, struct json_object *xo,
			   struct json_object *yo, const char *what, uint32_t *x, uint32_t *y)
{
	int64_t vx = json_object_get_int64(xo), vy = json_object_get_int64(yo);

	if (!json_object_is_type(xo, json_type_int) || !json_object_is_type(yo, json_type_int)) {
		api_reply_error(r, 400, "invalid_request", "%s: want whole numbers", what);
		return false;
	}
	if (vx < 0 || vy < 0 || vx >= s->dw || vy >= s->dh) {
		api_reply_error(r, 400, "invalid_request", "%s (%lld, %lld) is off the %ux%u screen",
				what, (long long)vx, (long long)vy, s->dw, s->dh);
		return false;
	}
	*x = to_real((uint32_t)vx, s->dw, s->rw);
	*y = to_real((uint32_t)vy, s->dh, s->rh);
	return true;
}

/* Anthropic's "coordinate": [x, y]; absent is fine unless needed. */
static bool coordinate(struct api_req *r, const struct screen *s, struct json_object *body,
		       const char *key, bool needed, struct json_object *action)
{
	struct json_object *c;
	uint32_t x, y;

	if (!json_object_object_get_ex(body, key, &c) || json_object_is_type(c, json_type_null)) {
		if (needed)
			api_reply_error(r, 400, "invalid_request", "%s: want [x, y]", key);
		return !needed;
	}
	if (!json_object_is_type(c, json_type_array) || json_object_array_length(c) != 2) {
		api_reply_error(r, 400, "invalid_request", "%s: want [x, y]", key);
		return false;
	}
	if (!declared_point(r, s, json_object_array_get_idx(c, 0), json_object_array_get_idx(c, 1),
			    key, &x, &y))
		return false;
	json_object_object_add(action, "x", json_object_new_int((int)x));
	json_object_object_add(action, "y", json_object_new_int((int)y));
	return true;
}

static struct json_object *action_of(const char *type)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "type", json_object_new_string(type));
	return a;
}

static const char *text_of(struct json_object *body, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(body, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
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

/* Runs our batch list (taken); false when answered. */
static bool run(struct api_req *r, struct json_object *list)
{
	struct json_object *req, *ans;

	if (!json_object_array_length(list)) {
		json_object_put(list);
		return true;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("actions"));
	json_object_object_add(req, "actions", list);
	ans = api_control(r, req, NULL, NULL, ACTIONS_WAIT_MS);
	json_object_put(ans);
	return ans != NULL;
}

/* A PNG of the declared size, or of region (real pixels, full size); NULL when answered. */
static struct json_object *screenshot(struct api_req *r, const struct screen *s,
				      struct json_object *region)
{
	struct json_object *how = json_object_new_object(), *shot;

	json_object_object_add(how, "format", json_object_new_string("png"));
	if (region)
		json_object_object_add(how, "region", region);
	else if (s->dw != s->rw)
		json_object_object_add(how, "width", json_object_new_int((int)s->dw));
	shot = api_screenshot_json(r, how);
	json_object_put(how);
	return shot;
}

/* A whole number in 0..max from v, or -1. */
static int64_t corner(struct json_object *v, uint32_t max)
{
	int64_t n = json_object_get_int64(v);

	return json_object_is_type(v, json_type_int) && n >= 0 && n <= max ? n : -1;
}

/*
 * Anthropic's zoom region [x0, y0, x1, y1]: the corners of a box on the
 * declared screen, x1 and y1 past its last pixel (as a crop box is; [0, 0,
 * W, H] is the whole screen), as real [x, y, w, h]; NULL when answered.
 */
static struct json_object *zoom_region(struct api_req *r, const struct screen *s,
				       struct json_object *body)
{
	struct json_object *reg, *out;
	int64_t c[4];
	uint32_t x0, y0, x1, y1;

	if (!json_object_object_get_ex(body, "region", &reg) ||
	    !json_object_is_type(reg, json_type_array) || json_object_array_length(reg) != 4) {
		api_reply_error(r, 400, "invalid_request", "region: want [x0, y0, x1, y1]");
		return NULL;
	}
	for (size_t i = 0; i < 4; i++)
		c[i] = corner(json_object_array_get_idx(reg, i), i % 2 ? s->dh : s->dw);
	if (c[0] < 0 || c[1] < 0 || c[2] < 0 || c[3] < 0 || c[2] <= c[0] || c[3] <= c[1]) {
		api_reply_error(r, 400, "invalid_request", "region: want whole numbers with "
				"0 <= x0 < x1 <= %u and 0 <= y0 < y1 <= %u", s->dw, s->dh);
		return NULL;
	}
	/* Corners scale by the ratio; the box keeps at least one real pixel. */
	x0 = (uint32_t)((uint64_t)c[0] * s->rw / s->dw);
	y0 = (uint32_t)((uint64_t)c[1] * s->rh / s->dh);
	x1 = (uint32_t)(((uint64_t)c[2] * s->rw + s->dw - 1) / s->dw);
	y1 = (uint32_t)(((uint64_t)c[3] * s->rh + s->dh - 1) / s->dh);
	out = json_object_new_array();
	json_object_array_add(out, json_object_new_int((int)x0));
	json_object_array_add(out, json_object_new_int((int)y0));
	json_object_array_add(out, json_object_new_int((int)(x1 > x0 ? x1 - x0 : 1)));
	json_object_array_add(out, json_object_new_int((int)(y1 > y0 ? y1 - y0 : 1)));
	return out;
}

/* Adds the Anthropic action in body to list; false when answered. */
static bool anthropic_action(struct api_req *r, const struct screen *s, struct json_object *body,
			     const char *act, struct json_object *list)
{
	static const struct { const char *name, *button; int count; } clicks[] = {
		{ "left_click", "left", 1 }, { "right_click", "right", 1 },
		{ "middle_click", "middle", 1 }, { "double_click", "left", 2 },
		{ "triple_click", "left", 3 },
	};
	const char *text = text_of(body, "text");
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
		if (!coordinate(r, s, body, "coordinate", false, a))
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
		if (!coordinate(r, s, body, "coordinate", true, a))
			goto fail;
		json_object_array_add(list, a);
	} else if (!strcmp(act, "left_click_drag")) {
		struct json_object *from = json_object_new_object(), *to = json_object_new_object();
		struct json_object *path, *p0, *p1;

		if (!coordinate(r, s, body, "start_coordinate", true, from) ||
		    !coordinate(r, s, body, "coordinate", true, to)) {
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
		if (!coordinate(r, s, body, "coordinate", false, a))
			goto fail;
		json_object_array_add(list, a);
	} else if (!strcmp(act, "scroll")) {
		const char *dir = text_of(body, "scroll_direction");
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
		if (!coordinate(r, s, body, "coordinate", false, a))
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

/* {"type":"image","source":{"type":"base64","media_type":"image/png","data":...}} */
static struct json_object *image_block(struct json_object *shot)
{
	struct json_object *b = json_object_new_object(), *src = json_object_new_object();

	json_object_object_add(src, "type", json_object_new_string("base64"));
	json_object_object_add(src, "media_type", json_object_new_string("image/png"));
	json_object_object_add(src, "data", json_object_get(json_object_object_get(shot, "data")));
	json_object_object_add(b, "type", json_object_new_string("image"));
	json_object_object_add(b, "source", src);
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

void api_computer_anthropic(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *list, *content, *out, *shot, *region = NULL;
	const char *act;
	struct screen s;

	if (!body)
		return;
	note_call(r, "anthropic", body, "action");
	act = text_of(body, "action");
	if (!act) {
		api_reply_error(r, 400, "invalid_request", "action: want the tool's action name");
		goto out;
	}
	if (!get_screen(r, &s))
		goto out;
	content = json_object_new_array();
	if (!strcmp(act, "cursor_position")) {
		struct json_object *req = json_object_new_object(), *ans, *t;
		char text[64];

		json_object_object_add(req, "op", json_object_new_string("cursor"));
		ans = api_control(r, req, NULL, NULL, 10000);
		if (!ans) {
			json_object_put(content);
			goto out;
		}
		snprintf(text, sizeof(text), "X=%u,Y=%u",
			 to_declared((uint32_t)json_object_get_int(json_object_object_get(ans, "x")),
				     s.rw, s.dw),
			 to_declared((uint32_t)json_object_get_int(json_object_object_get(ans, "y")),
				     s.rh, s.dh));
		json_object_put(ans);
		t = json_object_new_object();
		json_object_object_add(t, "type", json_object_new_string("text"));
		json_object_object_add(t, "text", json_object_new_string(text));
		json_object_array_add(content, t);
	} else {
		if (!strcmp(act, "zoom")) {
			region = zoom_region(r, &s, body);
			if (!region) {
				json_object_put(content);
				goto out;
			}
		} else {
			list = json_object_new_array();
			if (!anthropic_action(r, &s, body, act, list)) {
				json_object_put(list);
				json_object_put(content);
				goto out;
			}
			if (!run(r, list)) {
				json_object_put(content);
				goto out;
			}
		}
		shot = screenshot(r, &s, region);
		if (!shot) {
			json_object_put(content);
			goto out;
		}
		json_object_array_add(content, image_block(shot));
		json_object_put(shot);
	}
	out = json_object_new_object();
	json_object_object_add(out, "content", content);
	api_reply_json(r, 200, out);
out:
	json_object_put(body);
}

/* OpenAI's x, y of action o into our action a; false when answered. */
static bool openai_point(struct api_req *r, const struct screen *s, struct json_object *o,
			 struct json_object *a)
{
	struct json_object *x, *y;
	uint32_t rx, ry;

	if (!json_object_object_get_ex(o, "x", &x) || !json_object_object_get_ex(o, "y", &y)) {
		api_reply_error(r, 400, "invalid_request", "want x and y");
		return false;
	}
	if (!declared_point(r, s, x, y, "x, y", &rx, &ry))
		return false;
	json_object_object_add(a, "x", json_object_new_int((int)rx));
	json_object_object_add(a, "y", json_object_new_int((int)ry));
	return true;
}

/* Adds OpenAI action o to list; false when answered. */
static bool openai_action(struct api_req *r, const struct screen *s, struct json_object *o,
			  struct json_object *list)
{
	const char *type = text_of(o, "type"), *button;
	struct json_object *a = NULL, *v;

	if (!type) {
		api_reply_error(r, 400, "invalid_request", "type: want the action's type");
		return false;
	}
	if (!strcmp(type, "click") || !strcmp(type, "double_click")) {
		button = text_of(o, "button") ?: "left";
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
		if (!openai_point(r, s, o, a))
			goto fail;
	} else if (!strcmp(type, "move")) {
		a = action_of("move");
		if (!openai_point(r, s, o, a))
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

			if (!openai_point(r, s, json_object_array_get_idx(path, i), pt)) {
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
		if (!text_of(o, "text")) {
			api_reply_error(r, 400, "invalid_request", "text: want a string");
			return false;
		}
		a = action_of("type");
		json_object_object_add(a, "text", json_object_new_string(text_of(o, "text")));
	} else if (!strcmp(type, "scroll")) {
		static const char *const dirs[2][2] = { { "left", "right" }, { "up", "down" } };
		static const char *const keys[2] = { "scroll_x", "scroll_y" };
		struct json_object *at = action_of("move");

		if (!openai_point(r, s, o, at)) {
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

void api_computer_openai(struct api_req *r)
{
	struct json_object *body = api_body_object(r), *list, *actions, *shot, *out;
	struct screen s;
	char *url;
	size_t n;

	if (!body)
		return;
	note_call(r, "openai", body, "type");
	if (!get_screen(r, &s))
		goto out;
	list = json_object_new_array();
	if (json_object_object_get_ex(body, "actions", &actions)) {
		n = json_object_is_type(actions, json_type_array) ? json_object_array_length(actions) : 0;
		if (!n || n > 1000) {
			json_object_put(list);
			api_reply_error(r, 400, "invalid_request", "actions: want 1..1000 actions");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!openai_action(r, &s, json_object_array_get_idx(actions, i), list)) {
				json_object_put(list);
				goto out;
			}
		}
	} else if (!openai_action(r, &s, body, list)) {
		json_object_put(list);
		goto out;
	}
	if (!run(r, list))
		goto out;
	shot = screenshot(r, &s, NULL);
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
