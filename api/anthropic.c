/*
 * Anthropic's computer use, taken as the model writes it and answered as
 * its loop expects (docs/agents.md):
 * - the client toolset computer_toolset_20260801: a turn's tool_use blocks
 *   (the assistant message itself, or its content), each named for one of
 *   the 17 member tools with "toolset_name": "computer", answered as the
 *   user message of tool_result blocks, in order, halting at the first that
 *   fails (the rest "Not executed: ..."), the members the toolset's configs
 *   turn off refused;
 * - the older tools computer_20250124 and computer_20251124: blocks named
 *   "computer" with input.action in a turn, or one input as the body,
 *   answered as that tool result's content (a screenshot after every
 *   action), as before.
 * The screen the model works on is display_width x display_height, or,
 * when the query names none, the size GET .../computer/display recommends
 * for the query's model: the toolset rejects an image over the model's
 * limits instead of downscaling it, so screenshots come at that size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "model.h"
#include "routes.h"
#include "screen.h"

#define TOOLSET_TYPE "computer_toolset_20260801"
#define NOT_EXECUTED "Not executed: an earlier computer action in this turn failed."
#define HOLD_MAX_S 60.0     /* the monitor holds keys this long at most */
#define WAIT_MAX_S 300.0    /* the toolset's limit; waits of up to 60 s each */
#define SCROLL_MAX 100
#define MAX_STEP_ACTIONS 500    /* of ours, one call's: a batch holds 1000 */

/* The toolset's members, in its documentation's order. */
static const char *const members[] = {
	"screenshot", "left_click", "right_click", "middle_click", "double_click",
	"triple_click", "left_click_drag", "left_mouse_down", "left_mouse_up", "mouse_move",
	"scroll", "type", "key", "hold_key", "wait", "cursor_position", "zoom",
};

#define NMEMBERS (sizeof(members) / sizeof(members[0]))

static int member_index(const char *name)
{
	for (size_t i = 0; i < NMEMBERS; i++)
		if (!strcmp(members[i], name))
			return (int)i;
	return -1;
}

/* One call of the model's: which block it answers. */
struct call {
	const char *id;                 /* tool_use_id (borrowed from the body) */
	bool toolset;                   /* a member, not the older tool */
};

struct in {
	struct json_object *o;          /* the member's input */
	const struct vmctl_space *s;
	bool strict;                    /* the toolset's input, not the older tool's */
	char *why;
};

/* A reason for in's step; false. */
#define fail(in, ...) model_fail((in)->why, __VA_ARGS__)

/* "coordinate" (or key) [x, y] into action a; absent is fine unless needed. */
static bool coordinate(struct in *in, const char *key, bool needed, struct json_object *a)
{
	struct json_object *c;

	if (!json_object_object_get_ex(in->o, key, &c) || json_object_is_type(c, json_type_null))
		return needed ? fail(in, "%s: want [x, y]", key) : true;
	if (!json_object_is_type(c, json_type_array) || json_object_array_length(c) != 2)
		return fail(in, "%s: want [x, y]", key);
	return model_point(json_object_array_get_idx(c, 0), json_object_array_get_idx(c, 1),
			   in->s, key, a, in->why, MODEL_WHY);
}

/* The modifiers in "text" ("shift", "ctrl+shift") held for action a. */
static void modifiers(struct in *in, struct json_object *a)
{
	const char *text = api_str_field(in->o, "text");

	if (text && *text)
		json_object_object_add(a, "modifiers", json_object_new_string(text));
}

static bool add(struct model_step *st, struct json_object *a)
{
	json_object_array_add(st->actions, a);
	return true;
}

static bool click(struct in *in, struct model_step *st, const char *button, int count)
{
	struct json_object *a = model_action("click");

	json_object_object_add(a, "button", json_object_new_string(button));
	json_object_object_add(a, "count", json_object_new_int(count));
	modifiers(in, a);
	if (!coordinate(in, "coordinate", false, a)) {
		json_object_put(a);
		return false;
	}
	return add(st, a);
}

static bool drag(struct in *in, struct model_step *st)
{
	struct json_object *from = json_object_new_object(), *to = json_object_new_object();
	struct json_object *path, *a;
	bool ok = coordinate(in, "start_coordinate", true, from) &&
		  coordinate(in, "coordinate", true, to);

	if (ok) {
		path = json_object_new_array();
		json_object_array_add(path, model_xy(from));
		json_object_array_add(path, model_xy(to));
		a = model_action("drag");
		json_object_object_add(a, "path", path);
		modifiers(in, a);
		add(st, a);
	}
	json_object_put(from);
	json_object_put(to);
	return ok;
}

static bool scroll(struct in *in, struct model_step *st)
{
	static const char *const dirs[] = { "up", "down", "left", "right" };
	const char *dir = api_str_field(in->o, "scroll_direction");
	struct json_object *a, *v;
	int64_t amount = 1;
	bool known = false;

	for (size_t i = 0; dir && i < 4; i++)
		known |= !strcmp(dir, dirs[i]);
	if (!known)
		return fail(in, "scroll_direction: want up, down, left or right");
	if (!json_object_object_get_ex(in->o, "scroll_amount", &v) && in->strict)
		return fail(in, "scroll_amount: want the number of wheel clicks");
	if (v && (!json_object_is_type(v, json_type_int) ||
		  (amount = json_object_get_int64(v)) < 0 || amount > SCROLL_MAX))
		return fail(in, "scroll_amount: want 0..%d wheel clicks", SCROLL_MAX);
	a = model_action("scroll");
	json_object_object_add(a, "direction", json_object_new_string(dir));
	json_object_object_add(a, "amount", json_object_new_int((int)amount));
	modifiers(in, a);
	if (!coordinate(in, "coordinate", false, a)) {
		json_object_put(a);
		return false;
	}
	if (!amount) {
		json_object_put(a);
		return true;
	}
	return add(st, a);
}

/* key: xdotool-style combinations, several space apart ("ctrl+a Delete"), `repeat` times. */
static bool key(struct in *in, struct model_step *st, const char *text)
{
	struct json_object *v;
	int64_t repeat = 1;
	char *copy, *save = NULL;
	size_t n = 0;

	if (json_object_object_get_ex(in->o, "repeat", &v) &&
	    (!json_object_is_type(v, json_type_int) || (repeat = json_object_get_int64(v)) < 1 ||
	     repeat > 100))
		return fail(in, "repeat: want 1..100");
	copy = strdup(text);
	if (!copy)
		return fail(in, "out of memory");
	for (char *k = strtok_r(copy, " ", &save); k; k = strtok_r(NULL, " ", &save), n++) {
		struct json_object *a = model_action("key");

		json_object_object_add(a, "keys", json_object_new_string(k));
		json_object_array_add(st->actions, a);
	}
	free(copy);
	if (!n)
		return fail(in, "text: want a key or combination");
	if (n * (size_t)repeat > MAX_STEP_ACTIONS)
		return fail(in, "text: %zu combinations %lld times is more than %d key presses a call",
			    n, (long long)repeat, MAX_STEP_ACTIONS);
	if (n == 1) {
		json_object_object_add(json_object_array_get_idx(st->actions, 0), "repeat",
				       json_object_new_int((int)repeat));
		return true;
	}
	/* A sequence repeated whole. */
	for (int64_t r = 1; r < repeat; r++)
		for (size_t i = 0; i < n; i++)
			json_object_array_add(st->actions, json_object_get(
				json_object_array_get_idx(st->actions, i)));
	return true;
}

/* wait: up to the toolset's 300 s, as waits of the monitor's 60 s at most. */
static bool wait_for(struct in *in, struct model_step *st, bool hold, const char *text)
{
	struct json_object *a;
	int ms;

	if (!model_seconds(in->o, "duration", hold ? HOLD_MAX_S : WAIT_MAX_S, &ms, in->why,
			   MODEL_WHY))
		return false;
	if (hold) {
		a = model_action("hold");
		json_object_object_add(a, "keys", json_object_new_string(text));
		json_object_object_add(a, "duration_ms", json_object_new_int(ms));
		return add(st, a);
	}
	do {
		int part = ms > 60000 ? 60000 : ms;

		a = model_action("wait");
		json_object_object_add(a, "ms", json_object_new_int(part));
		add(st, a);
		ms -= part;
	} while (ms > 0);
	return true;
}

/* zoom's region [x0, y0, x1, y1] on the model's screen, x1 and y1 past its last pixel. */
static bool zoom(struct in *in, struct model_step *st)
{
	struct json_object *reg;
	uint32_t c[4];

	if (!json_object_object_get_ex(in->o, "region", &reg) ||
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
	if (in->s->width && (c[2] > in->s->width || c[3] > in->s->height))
		return fail(in, "region: [%u, %u, %u, %u] is off the screen, which is %ux%u", c[0],
			    c[1], c[2], c[3], in->s->width, in->s->height);
	st->want = MODEL_ZOOM;
	st->box = (struct vmctl_box){ c[0], c[1], c[2], c[3] };
	return true;
bad:
	return fail(in, "region: want [x0, y0, x1, y1], whole numbers with x0 < x1 and y0 < y1");
}

/* Member (or the older tool's action) with its input into step st; false with st->why. */
static bool translate(struct in *in, const char *member, struct model_step *st)
{
	static const struct { const char *name, *button; int count; } clicks[] = {
		{ "left_click", "left", 1 }, { "right_click", "right", 1 },
		{ "middle_click", "middle", 1 }, { "double_click", "left", 2 },
		{ "triple_click", "left", 3 },
	};
	const char *text = api_str_field(in->o, "text");
	struct json_object *a;

	if (!json_object_is_type(in->o, json_type_object))
		return fail(in, "input: want an object");
	for (size_t i = 0; i < sizeof(clicks) / sizeof(clicks[0]); i++)
		if (!strcmp(member, clicks[i].name))
			return click(in, st, clicks[i].button, clicks[i].count);
	if ((!strcmp(member, "key") || !strcmp(member, "type") || !strcmp(member, "hold_key")) &&
	    (!text || !*text))
		return fail(in, "text: want a string");
	if (!strcmp(member, "screenshot")) {
		st->want = MODEL_SHOT;
		return true;
	}
	if (!strcmp(member, "cursor_position")) {
		st->want = MODEL_CURSOR;
		return true;
	}
	if (!strcmp(member, "zoom"))
		return zoom(in, st);
	if (!strcmp(member, "left_click_drag"))
		return drag(in, st);
	if (!strcmp(member, "scroll"))
		return scroll(in, st);
	if (!strcmp(member, "key"))
		return key(in, st, text);
	if (!strcmp(member, "hold_key") || !strcmp(member, "wait"))
		return wait_for(in, st, member[0] == 'h', text);
	if (!strcmp(member, "type")) {
		a = model_action("type");
		json_object_object_add(a, "text", json_object_new_string(text));
		return add(st, a);
	}
	if (!strcmp(member, "mouse_move") || !strcmp(member, "left_mouse_down") ||
	    !strcmp(member, "left_mouse_up")) {
		a = model_action(member[0] == 'm' ? "move" : member[11] == 'd' ? "down" : "up");
		if (!coordinate(in, "coordinate", member[0] == 'm', a)) {
			json_object_put(a);
			return false;
		}
		return add(st, a);
	}
	return fail(in, "unknown computer tool '%.64s'", member);
}

/*
 * The screen the model works on: the query's display_width x
 * display_height, else what GET .../computer/display recommends for the
 * query's model. false when answered.
 */
static bool turn_space(struct api_req *r, struct vmctl_space *s)
{
	struct model_display d;
	uint32_t w, h;

	if (!model_space_arg(r, s))
		return false;
	if (s->width)
		return true;
	if (!model_screen(r, &w, &h))
		return false;
	model_recommend("anthropic", api_arg(r, "model"), w, h, &d);
	s->width = d.width;
	s->height = d.height;
	return true;
}

/* An image block of the screenshot img; NULL when answered. */
static struct json_object *image_block(struct api_req *r, const struct vmctl_image *img)
{
	struct json_object *shot = api_image_json(r, img), *b, *src;

	if (!shot)
		return NULL;
	b = json_object_new_object();
	src = json_object_new_object();
	json_object_object_add(src, "type", json_object_new_string("base64"));
	json_object_object_add(src, "media_type", json_object_new_string(
		img->format == VMCTL_JPEG ? "image/jpeg" : "image/png"));
	json_object_object_add(src, "data", json_object_get(json_object_object_get(shot, "data")));
	json_object_object_add(b, "type", json_object_new_string("image"));
	json_object_object_add(b, "source", src);
	json_object_put(shot);
	return b;
}

/* A step's result content: its image, its cursor, or "OK"; NULL when answered. */
static struct json_object *step_content(struct api_req *r, const struct model_step *st)
{
	struct json_object *c = json_object_new_array(), *img;
	char text[64];

	if (st->want == MODEL_CURSOR) {
		snprintf(text, sizeof(text), "X=%u,Y=%u", st->x, st->y);
		json_object_array_add(c, model_text(text));
	} else if (!st->shot.data) {
		json_object_array_add(c, model_text("OK"));
	}
	if (st->shot.data) {
		if (!(img = image_block(r, &st->shot))) {
			json_object_put(c);
			return NULL;
		}
		json_object_array_add(c, img);
	}
	return c;
}

/* --- the older tool, one input as the body ----------------------------------- */

/* POST .../computer/anthropic with {"action": ...}: that call's tool result content. */
static void single_call(struct api_req *r, struct json_object *body, const char *act)
{
	/*
	 * The older tool answers every action with a screenshot, cursor_position
	 * with its text, zoom at full size (its API downscales what is larger).
	 */
	struct model_turn t = { .last_shot = strcmp(act, "cursor_position") != 0 };
	struct vmctl_error err;
	struct json_object *content, *out;
	struct model_step *st;
	struct in in;
	int ret;

	if (!model_space_arg(r, &t.space))
		return;
	t.shot = (struct vmctl_shot){ .format = VMCTL_PNG, .width = t.space.width };
	st = model_step_add(&t);
	in = (struct in){ .o = body, .s = &t.space, .why = st ? st->why : NULL };
	if (!st) {
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	if (!translate(&in, act, st)) {
		api_reply_error(r, 400, "invalid_request", "%s", st->why);
		goto out;
	}
	ret = model_turn_run(r, &t, &err);
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	if (st->status != MODEL_DONE) {
		api_reply_error(r, 400, "invalid_request", "%s", st->why);
		goto out;
	}
	if (!(content = step_content(r, st)))
		goto out;
	out = json_object_new_object();
	json_object_object_add(out, "content", content);
	api_reply_json(r, 200, out);
out:
	model_turn_free(&t);
}

/* --- a turn ------------------------------------------------------------------ */

/*
 * The toolset entry the caller declared (body "toolset", optional): which
 * members its configs turn off into off[]; false when answered, as the
 * API would refuse the entry.
 */
static bool toolset_configs(struct api_req *r, struct json_object *body, bool off[NMEMBERS])
{
	struct json_object *ts, *configs;
	const char *type;
	size_t on = NMEMBERS;

	memset(off, 0, NMEMBERS * sizeof(*off));
	if (!json_object_object_get_ex(body, "toolset", &ts))
		return true;
	type = api_str_field(ts, "type");
	if (!type || strcmp(type, TOOLSET_TYPE)) {
		api_reply_error(r, 400, "invalid_request", "toolset.type: want %s", TOOLSET_TYPE);
		return false;
	}
	if (!json_object_object_get_ex(ts, "configs", &configs))
		return true;
	if (!json_object_is_type(configs, json_type_object))
		goto bad;
	json_object_object_foreach(configs, name, cfg) {
		int m = member_index(name);
		struct json_object *en;

		if (m < 0) {
			api_reply_error(r, 400, "invalid_request", "toolset.configs: no member '%.64s'",
					name);
			return false;
		}
		if (!json_object_is_type(cfg, json_type_object))
			goto bad;
		json_object_object_foreach(cfg, k, v) {
			if ((strcmp(k, "enabled") && strcmp(k, "defer_loading")) ||
			    !json_object_is_type(v, json_type_boolean))
				goto bad;
		}
		if (json_object_object_get_ex(cfg, "enabled", &en) && !json_object_get_boolean(en) &&
		    !off[m]) {
			off[m] = true;
			on--;
		}
	}
	if (on)
		return true;
	api_reply_error(r, 400, "invalid_request", "toolset.configs: every member is turned off");
	return false;
bad:
	api_reply_error(r, 400, "invalid_request", "toolset.configs: want {member: {\"enabled\": "
			"bool, \"defer_loading\": bool}}");
	return false;
}

/*
 * The computer calls among blocks into t and calls[] (as many as t's
 * steps), each translated or refused in its step; other tools' blocks are
 * left to the caller. false when answered (a block that is not a model's).
 */
static bool turn_steps(struct api_req *r, struct json_object *blocks, const bool off[NMEMBERS],
		       struct model_turn *t, struct call **calls)
{
	size_t n = json_object_array_length(blocks);

	*calls = calloc(n ? n : 1, sizeof(**calls));
	if (!*calls) {
		api_reply_error(r, 500, "internal", "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i), *input;
		const char *type = api_str_field(b, "type"), *name = api_str_field(b, "name");
		const char *id = api_str_field(b, "id"), *ts = api_str_field(b, "toolset_name");
		const char *member;
		struct model_step *st;
		struct in in;
		int m;

		if (!type || strcmp(type, "tool_use"))
			continue;
		if (!id || !name || !json_object_object_get_ex(b, "input", &input)) {
			api_reply_error(r, 400, "invalid_request", "content[%zu]: a tool_use block "
					"wants id, name and input", i);
			return false;
		}
		if (ts ? strcmp(ts, "computer") != 0 : strcmp(name, "computer") != 0)
			continue;
		member = ts ? name : api_str_field(input, "action");
		if (!(st = model_step_add(t))) {
			api_reply_error(r, 500, "internal", "out of memory");
			return false;
		}
		(*calls)[t->n - 1] = (struct call){ id, ts != NULL };
		in = (struct in){ .o = input, .s = &t->space, .strict = ts != NULL, .why = st->why };
		m = member ? member_index(member) : -1;
		if (!member)
			fail(&in, "action: want the tool's action name");
		else if (ts && m >= 0 && off[m])
			fail(&in, "the %s tool is turned off in this toolset's configs", member);
		else if (ts && m < 0)
			fail(&in, "unknown computer tool '%.64s'", member);
		else
			translate(&in, member, st);
	}
	if (t->n)
		return true;
	api_reply_error(r, 400, "invalid_request", "content: no computer tool_use block");
	return false;
}

/* The tool_result block for step st, answering call c; NULL when answered. */
static struct json_object *result_block(struct api_req *r, const struct model_step *st,
					const struct call *c)
{
	struct json_object *b = json_object_new_object(), *content;

	json_object_object_add(b, "type", json_object_new_string("tool_result"));
	json_object_object_add(b, "tool_use_id", json_object_new_string(c->id));
	if (c->toolset)
		json_object_object_add(b, "toolset_name", json_object_new_string("computer"));
	if (st->status == MODEL_DONE) {
		if (!(content = step_content(r, st))) {
			json_object_put(b);
			return NULL;
		}
	} else {
		content = json_object_new_array();
		json_object_array_add(content, model_text(st->status == MODEL_FAILED ? st->why :
							  NOT_EXECUTED));
		json_object_object_add(b, "is_error", json_object_new_boolean(1));
	}
	json_object_object_add(b, "content", content);
	return b;
}

/*
 * POST .../computer/anthropic with a turn: the assistant message (or any
 * object with its "content"), or one tool_use block; answered as the user
 * message that carries the tool results.
 */
static void turn_call(struct api_req *r, struct json_object *body)
{
	/* The toolset never downscales an image: zoom comes fitted into the model's screen. */
	struct model_turn t = { .last_shot = true, .zoom_fit = true };
	struct json_object *blocks = NULL, *results, *out;
	struct call *calls = NULL;
	struct vmctl_error err;
	bool off[NMEMBERS];
	int ret;

	if (json_object_object_get_ex(body, "content", &blocks)) {
		if (!json_object_is_type(blocks, json_type_array)) {
			api_reply_error(r, 400, "invalid_request", "content: want a list of blocks");
			return;
		}
		json_object_get(blocks);
	} else {
		blocks = json_object_new_array();
		json_object_array_add(blocks, json_object_get(body));
	}
	if (!toolset_configs(r, body, off) || !turn_space(r, &t.space))
		goto out;
	t.shot = (struct vmctl_shot){ .format = VMCTL_PNG, .width = t.space.width };
	if (!turn_steps(r, blocks, off, &t, &calls))
		goto out;
	ret = model_turn_run(r, &t, &err);
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	results = json_object_new_array();
	for (size_t i = 0; i < t.n; i++) {
		struct json_object *b = result_block(r, &t.steps[i], &calls[i]);

		if (!b) {
			json_object_put(results);
			goto out;
		}
		json_object_array_add(results, b);
	}
	out = json_object_new_object();
	json_object_object_add(out, "role", json_object_new_string("user"));
	json_object_object_add(out, "content", results);
	api_reply_json(r, 200, out);
out:
	free(calls);
	json_object_put(blocks);
	model_turn_free(&t);
}

/* Notes a call (one input, or a turn's blocks) in the activity. */
static void note_call(struct api_req *r, struct json_object *body)
{
	struct json_object *blocks;
	char text[ACTIVITY_TEXT] = "";

	if (!json_object_object_get_ex(body, "content", &blocks) ||
	    !json_object_is_type(blocks, json_type_array)) {
		activity_describe(text, sizeof(text), body, "action");
	} else {
		for (size_t i = 0; i < json_object_array_length(blocks); i++) {
			struct json_object *b = json_object_array_get_idx(blocks, i), *in;
			const char *name = api_str_field(b, "name");

			if (!name || !json_object_object_get_ex(b, "input", &in))
				continue;
			if (!strcmp(name, "computer")) {
				activity_describe(text, sizeof(text), in, "action");
			} else {
				struct json_object *copy = NULL;

				/* A member's name is its action. */
				if (json_object_deep_copy(in, &copy, NULL) == 0 &&
				    json_object_is_type(copy, json_type_object)) {
					json_object_object_add(copy, "action", json_object_new_string(name));
					activity_describe(text, sizeof(text), copy, "action");
				}
				json_object_put(copy);
			}
		}
	}
	api_note(r, "anthropic", "%s", text);
}

/* POST .../computer/anthropic: a turn, or one input of the older tool. */
static void anthropic_call(struct api_req *r)
{
	struct json_object *body = api_body_object(r);
	const char *act;

	if (!body)
		return;
	note_call(r, body);
	act = api_str_field(body, "action");
	if (act && !json_object_object_get_ex(body, "content", NULL))
		single_call(r, body, act);
	else if (json_object_object_get_ex(body, "content", NULL) ||
		 json_object_object_get_ex(body, "input", NULL))
		turn_call(r, body);
	else
		api_reply_error(r, 400, "invalid_request", "want a turn (\"content\": the model's "
				"blocks, or one tool_use block) or an input with \"action\"");
	json_object_put(body);
}

/* GET .../computer/display?model=M: the display a model should be told of. */
static void display_call(struct api_req *r)
{
	const char *model = api_arg(r, "model"), *vendor = api_arg(r, "vendor");
	struct model_display d;
	uint32_t w, h;

	if (vendor && strcmp(vendor, "anthropic") && strcmp(vendor, "openai") &&
	    strcmp(vendor, "gemini")) {
		api_reply_error(r, 400, "invalid_request", "vendor: want anthropic, openai or gemini");
		return;
	}
	if (!model_screen(r, &w, &h))
		return;
	if (!model_recommend(vendor, model, w, h, &d)) {
		api_reply_error(r, 400, "invalid_request", "model: '%.64s' is no model we know; "
				"name its vendor", model);
		return;
	}
	api_reply_json(r, 200, model_display_json(&d, w, h));
}

static const struct api_route rows[] = {
	{ "POST", "sandboxes/{id}/computer/anthropic", ROUTE_SANDBOX, anthropic_call, NULL,
	  NULL, NULL },
	{ "GET", "sandboxes/{id}/computer/display", ROUTE_SANDBOX, display_call, NULL, NULL,
	  NULL },
};

const struct api_routes api_anthropic_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
