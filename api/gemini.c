/*
 * Gemini's computer use, taken as the model writes it and answered as its
 * loop expects (docs/agents.md): the model's function calls of one turn
 * (the generateContent answer, a candidate, its content, one part or one
 * call) answered as the user content of function responses, in order,
 * halting at the first that fails. Points are on Gemini's 0..999 grid,
 * which the monitor lays over the screen (a "grid" space, vmm/space.c);
 * the browser-level actions drive the desktop's browser (api/browser.c):
 * brought to the front, then its address bar and history keys. A
 * response carries the browser's address when there is one, and the last
 * one done the screenshot. A call the model marked require_confirmation
 * runs only once the caller acknowledges it (?acknowledge=true), and its
 * response says so; until then the turn is refused and nothing runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "browser.h"
#include "config.h"
#include "handlers.h"
#include "model.h"
#include "routes.h"
#include "screen.h"

#define GRID 1000
#define NOT_EXECUTED "Not executed: an earlier action in this turn failed."
#define SCROLL_STEP 100         /* screen pixels per wheel step, as OpenAI's route */
#define MAGNITUDE 800           /* scroll_at's default, on the grid */
#define SIDEWAYS_STEPS 5        /* scroll_document left or right */
#define URL_WAIT_MS 5000        /* for the store (written every second) to show a navigation */
#define URL_POLL_MS 200

/* One call of the model's. */
struct call {
	const char *name, *id;          /* borrowed from the body */
	bool confirmed;                 /* a require_confirmation the caller acknowledged */
	bool navigates;                 /* the browser's address is to change */
};

struct in {
	struct json_object *args;
	uint32_t w, h;                  /* the screen, for scroll magnitudes */
	char *why;
};

/* A reason for in's step; false. */
#define fail(in, ...) model_fail((in)->why, __VA_ARGS__)

static struct json_object *add(struct model_step *st, const char *type)
{
	struct json_object *a = model_action(type);

	json_object_array_add(st->actions, a);
	return a;
}

/* The grid point named x and y (or xk, yk) into action a. */
static bool point(struct in *in, const char *xk, const char *yk, struct json_object *a)
{
	static const struct vmctl_space grid = { .width = GRID, .height = GRID, .grid = true };
	struct json_object *x, *y;

	if (!json_object_object_get_ex(in->args, xk, &x) ||
	    !json_object_object_get_ex(in->args, yk, &y))
		return fail(in, "want %s and %s", xk, yk);
	return model_point(x, y, &grid, xk, a, in->why, MODEL_WHY);
}

static bool key(struct model_step *st, const char *keys)
{
	json_object_object_add(add(st, "key"), "keys", json_object_new_string(keys));
	return true;
}

/* A boolean argument, def when absent. */
static bool flag(struct in *in, const char *key, bool def, bool *out)
{
	struct json_object *v;

	*out = def;
	if (!json_object_object_get_ex(in->args, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(in, "%s: want true or false", key);
	*out = json_object_get_boolean(v);
	return true;
}

/* The browser in front, then its address bar: navigate and search (the address in st->arg). */
static bool go_to(struct in *in, struct model_step *st, const char *url)
{
	struct json_object *a;

	/* The address may become the browser's argument: never an option. */
	if (url[0] == '-' || strlen(url) > 4096)
		return fail(in, "url: want an address, at most 4096 bytes, not starting with '-'");
	/* As the reference loop does, an address without a scheme is https. */
	if (!strstr(url, "://") && strncmp(url, "about:", 6)) {
		if (asprintf(&st->arg, "https://%s", url) < 0) {
			st->arg = NULL;
			return fail(in, "out of memory");
		}
	} else if (!(st->arg = strdup(url))) {
		return fail(in, "out of memory");
	}
	key(st, "ctrl+l");
	a = add(st, "type");
	json_object_object_add(a, "text", json_object_new_string(st->arg));
	return key(st, "Return");
}

/*
 * The browser in front before a browser-level step; one it had to start
 * opens the step's address itself (st->arg), and the step types nothing.
 */
static bool front(struct api_req *r, struct model_step *st)
{
	bool opened;

	if (browser_front(r->sb->vsock, st->arg, &opened, st->why, sizeof(st->why)))
		return false;
	if (opened) {
		json_object_put(st->actions);
		st->actions = json_object_new_array();
	}
	return true;
}

/*
 * type_text_at: click, clear (ctrl+a, Delete), type, Enter. press_enter
 * defaults to false as Google's reference loop and its tests have it (the
 * documentation's table says true; an Enter nobody asked for submits a
 * form), clear_before_typing to true as both say.
 */
static bool type_at(struct in *in, struct model_step *st)
{
	const char *text = api_str_field(in->args, "text");
	struct json_object *a = add(st, "click");
	bool enter, clear;

	if (!text)
		return fail(in, "text: want a string");
	if (!point(in, "x", "y", a) || !flag(in, "press_enter", false, &enter) ||
	    !flag(in, "clear_before_typing", true, &clear))
		return false;
	if (clear) {
		key(st, "ctrl+a");
		key(st, "Delete");
	}
	a = add(st, "type");
	json_object_object_add(a, "text", json_object_new_string(text));
	return !enter || key(st, "Return");
}

/* Gemini's "Control+Shift+T" as ours (the same names, any case, '+' apart). */
static bool combination(struct in *in, struct model_step *st)
{
	const char *keys = api_str_field(in->args, "keys");

	if (!keys || !*keys)
		return fail(in, "keys: want a combination such as \"Control+C\"");
	return key(st, keys);
}

static const char *direction(struct in *in)
{
	static const char *const dirs[] = { "up", "down", "left", "right" };
	const char *d = api_str_field(in->args, "direction");

	for (size_t i = 0; d && i < 4; i++)
		if (!strcmp(d, dirs[i]))
			return dirs[i];
	fail(in, "direction: want up, down, left or right");
	return NULL;
}

/*
 * scroll_at (and the newer scroll): magnitude on the grid (800) as screen
 * pixels, or magnitude_in_pixels (the newer documentation's), a wheel step
 * per SCROLL_STEP.
 */
static bool scroll_at(struct in *in, struct model_step *st)
{
	const char *dir = direction(in);
	struct json_object *a, *v;
	int64_t mag = MAGNITUDE, px = -1;

	if (!dir)
		return false;
	if (json_object_object_get_ex(in->args, "magnitude_in_pixels", &v) &&
	    !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_int) || (px = json_object_get_int64(v)) < 0 ||
	     px > 100000))
		return fail(in, "magnitude_in_pixels: want 0..100000");
	if (json_object_object_get_ex(in->args, "magnitude", &v) &&
	    !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_int) || (mag = json_object_get_int64(v)) < 0 ||
	     mag > GRID))
		return fail(in, "magnitude: want 0..%d", GRID);
	a = add(st, "scroll");
	if (!point(in, "x", "y", a))
		return false;
	if (px < 0)
		px = mag * (dir[0] == 'u' || dir[0] == 'd' ? in->h : in->w) / GRID;
	json_object_object_add(a, "direction", json_object_new_string(dir));
	json_object_object_add(a, "amount", json_object_new_int64(
		px < SCROLL_STEP ? 1 : (px + SCROLL_STEP / 2) / SCROLL_STEP));
	return true;
}

/* scroll_document: a page up or down; sideways, wheel steps in the middle of the screen. */
static bool scroll_document(struct in *in, struct model_step *st)
{
	const char *dir = direction(in);
	struct json_object *a;

	if (!dir)
		return false;
	if (dir[0] == 'u' || dir[0] == 'd')
		return key(st, dir[0] == 'u' ? "Page_Up" : "Page_Down");
	a = add(st, "scroll");
	json_object_object_add(a, "x", json_object_new_int(GRID / 2));
	json_object_object_add(a, "y", json_object_new_int(GRID / 2));
	json_object_object_add(a, "direction", json_object_new_string(dir));
	json_object_object_add(a, "amount", json_object_new_int(SIDEWAYS_STEPS));
	return true;
}

static bool drag_and_drop(struct in *in, struct model_step *st)
{
	struct json_object *from = json_object_new_object(), *to = json_object_new_object();
	/* x, y to destination_x, destination_y; or the newer documentation's start_ and end_. */
	bool newer = json_object_object_get_ex(in->args, "start_x", NULL);
	bool ok = newer ? point(in, "start_x", "start_y", from) && point(in, "end_x", "end_y", to) :
		  point(in, "x", "y", from) && point(in, "destination_x", "destination_y", to);

	if (ok) {
		struct json_object *path = json_object_new_array();

		json_object_array_add(path, model_xy(from));
		json_object_array_add(path, model_xy(to));
		json_object_object_add(add(st, "drag"), "path", path);
	}
	json_object_put(from);
	json_object_put(to);
	return ok;
}

/*
 * The newer models' names (gemini-3.5-flash on; the reference loop sends
 * the older ones to the three models it lists): true when n is one of
 * them, with in->why set if its arguments were refused.
 */
static bool newer(struct in *in, const char *n, struct model_step *st)
{
	static const struct { const char *name, *button; int count; } clicks[] = {
		{ "click", "left", 1 }, { "double_click", "left", 2 }, { "triple_click", "left", 3 },
		{ "middle_click", "middle", 1 }, { "right_click", "right", 1 },
	};
	const char *k;
	struct json_object *a, *v;
	bool enter;
	int ms;

	for (size_t i = 0; i < sizeof(clicks) / sizeof(clicks[0]); i++) {
		if (strcmp(n, clicks[i].name))
			continue;
		a = add(st, "click");
		json_object_object_add(a, "button", json_object_new_string(clicks[i].button));
		json_object_object_add(a, "count", json_object_new_int(clicks[i].count));
		point(in, "x", "y", a);
		return true;
	}
	if (!strcmp(n, "move") || !strcmp(n, "mouse_down") || !strcmp(n, "mouse_up")) {
		point(in, "x", "y", add(st, !strcmp(n, "move") ? "move" :
				    !strcmp(n, "mouse_down") ? "down" : "up"));
		return true;
	}
	if (!strcmp(n, "type")) {
		if (!api_str_field(in->args, "text"))
			return !fail(in, "text: want a string");
		if (!flag(in, "press_enter", false, &enter))
			return true;
		a = add(st, "type");
		json_object_object_add(a, "text", json_object_new_string(api_str_field(in->args, "text")));
		if (enter)
			key(st, "Return");
		return true;
	}
	if (!strcmp(n, "wait")) {
		if (!json_object_object_get_ex(in->args, "seconds", &v))
			ms = 1000;
		else if (!model_seconds(in->args, "seconds", 60, &ms, in->why, MODEL_WHY))
			return true;
		json_object_object_add(add(st, "wait"), "ms", json_object_new_int(ms));
		return true;
	}
	if (!strcmp(n, "press_key") || !strcmp(n, "key_down") || !strcmp(n, "key_up")) {
		if (!(k = api_str_field(in->args, "key")) || !*k)
			return !fail(in, "key: want a key name");
		json_object_object_add(add(st, n[0] == 'p' ? "key" : n[4] == 'd' ? "key_down" : "key_up"),
				       "keys", json_object_new_string(k));
		return true;
	}
	if (!strcmp(n, "hotkey")) {
		if (!json_object_object_get_ex(in->args, "keys", &v) ||
		    !json_object_is_type(v, json_type_array) || !json_object_array_length(v))
			return !fail(in, "keys: want a list of key names");
		json_object_object_add(add(st, "key"), "keys", json_object_get(v));
		return true;
	}
	if (!strcmp(n, "take_screenshot"))
		return true;
	if (!strcmp(n, "scroll")) {
		scroll_at(in, st);
		return true;
	}
	return false;
}

/* The call named c->name with in->args into step st; false with st->why. */
static bool translate(struct api_req *r, struct in *in, struct call *c, struct model_step *st)
{
	const char *n = c->name;
	struct json_object *a;

	if (!json_object_is_type(in->args, json_type_object))
		return fail(in, "args: want an object");
	if (!strcmp(n, "click_at") || !strcmp(n, "hover_at")) {
		a = add(st, n[0] == 'c' ? "click" : "move");
		return point(in, "x", "y", a);
	}
	if (newer(in, n, st))
		return !in->why[0];
	if (!strcmp(n, "type_text_at"))
		return type_at(in, st);
	if (!strcmp(n, "key_combination"))
		return combination(in, st);
	if (!strcmp(n, "scroll_at"))
		return scroll_at(in, st);
	if (!strcmp(n, "scroll_document"))
		return scroll_document(in, st);
	if (!strcmp(n, "drag_and_drop"))
		return drag_and_drop(in, st);
	if (!strcmp(n, "wait_5_seconds")) {
		json_object_object_add(add(st, "wait"), "ms", json_object_new_int(5000));
		return true;
	}
	/* The browser-level actions: the browser in front first. */
	st->prepare = front;
	if (!strcmp(n, "open_web_browser"))
		return true;
	c->navigates = true;
	if (!strcmp(n, "go_back") || !strcmp(n, "go_forward"))
		return key(st, n[3] == 'b' ? "alt+Left" : "alt+Right");
	if (!strcmp(n, "search"))
		return go_to(in, st, r->cfg->search_url);
	if (!strcmp(n, "navigate")) {
		const char *url = api_str_field(in->args, "url");

		if (!url || !*url)
			return fail(in, "url: want an address");
		return go_to(in, st, url);
	}
	st->prepare = NULL;
	c->navigates = false;
	return fail(in, "unknown function '%.64s'", n);
}

/* A part's function call ({"functionCall": ...} or "function_call"); NULL if it is none. */
static struct json_object *call_of(struct json_object *part)
{
	struct json_object *fc;

	if (json_object_object_get_ex(part, "functionCall", &fc) ||
	    json_object_object_get_ex(part, "function_call", &fc))
		return json_object_is_type(fc, json_type_object) ? fc : NULL;
	return NULL;
}

/*
 * The model's parts from the body: an answer {"candidates": [...]} (the
 * first), a candidate {"content": ...}, a content {"parts": [...]}, one
 * part, or one call {"name", "args"}. A new list of calls (the caller's).
 */
static struct json_object *calls_in(struct json_object *body)
{
	struct json_object *v, *parts = NULL, *calls = json_object_new_array();

	if (json_object_object_get_ex(body, "candidates", &v) &&
	    json_object_is_type(v, json_type_array) && json_object_array_length(v))
		body = json_object_array_get_idx(v, 0);
	if (json_object_object_get_ex(body, "content", &v) && json_object_is_type(v, json_type_object))
		body = v;
	if (json_object_object_get_ex(body, "parts", &v) && json_object_is_type(v, json_type_array))
		parts = v;
	for (size_t i = 0; parts && i < json_object_array_length(parts); i++) {
		struct json_object *fc = call_of(json_object_array_get_idx(parts, i));

		if (fc)
			json_object_array_add(calls, json_object_get(fc));
	}
	if (!parts && call_of(body))
		json_object_array_add(calls, json_object_get(call_of(body)));
	else if (!parts && api_str_field(body, "name"))
		json_object_array_add(calls, json_object_get(body));
	return calls;
}

/* A call's safety decision: whether it asks for confirmation. */
static bool asks_confirmation(struct json_object *args, struct json_object **decision)
{
	const char *d;

	if (!json_object_object_get_ex(args, "safety_decision", decision))
		return false;
	d = api_str_field(*decision, "decision");
	return d && !strcmp(d, "require_confirmation");
}

/*
 * calls into t's steps and c[]; false when answered (a malformed call, or
 * a confirmation not acknowledged).
 */
static bool turn_steps(struct api_req *r, struct json_object *calls, struct model_turn *t,
		       struct call *c, uint32_t w, uint32_t h)
{
	const char *ack = api_arg(r, "acknowledge");
	bool acked = ack && (!strcmp(ack, "true") || !strcmp(ack, "all"));
	struct json_object *pending = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(calls); i++) {
		struct json_object *fc = json_object_array_get_idx(calls, i), *args, *decision;
		struct model_step *st;
		struct in in;

		c[i] = (struct call){ api_str_field(fc, "name"), api_str_field(fc, "id"), false, false };
		if (!c[i].name) {
			json_object_put(pending);
			api_reply_error(r, 400, "invalid_request", "function call %zu: want a name", i);
			return false;
		}
		if (!json_object_object_get_ex(fc, "args", &args))
			args = NULL;
		if (asks_confirmation(args, &decision)) {
			if (!acked)
				json_object_array_add(pending, json_object_get(fc));
			c[i].confirmed = true;
		}
		if (!(st = model_step_add(t))) {
			json_object_put(pending);
			api_reply_error(r, 500, "internal", "out of memory");
			return false;
		}
		in = (struct in){ args ? args : json_object_new_object(), w, h, st->why };
		translate(r, &in, &c[i], st);
		if (!args)
			json_object_put(in.args);
	}
	if (!json_object_array_length(pending)) {
		json_object_put(pending);
		return true;
	}
	model_reply_pending(r, "safety_confirmation_pending", "the model asks a person to confirm "
			    "first: ask, then call again with ?acknowledge=true", "pending", pending);
	return false;
}

/* The browser's address, waiting (bounded) for it to leave before when the turn navigated. */
static char *address(struct api_req *r, const char *before, bool navigated)
{
	struct timespec now, end;
	char *url = NULL;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += (long)URL_WAIT_MS % 1000 * 1000000L;
	end.tv_sec += URL_WAIT_MS / 1000 + end.tv_nsec / 1000000000L;
	end.tv_nsec %= 1000000000L;
	for (;;) {
		/*
		 * The store is the guest's file, written at most every second
		 * (policies.json): it is read again until it shows the change,
		 * a bounded wait with no event to wait on.
		 */
		if (browser_url(r->sb->vsock, &r->sb->browser, navigated, &url) || !navigated ||
		    !before || strcmp(url, before))
			return url;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return url;
		free(url);
		url = NULL;
		nanosleep(&(struct timespec){ 0, URL_POLL_MS * 1000000L }, NULL);
	}
}

/* The function response part for step st, answering call c. */
static struct json_object *response_part(struct api_req *r, const struct model_step *st,
					 const struct call *c, const char *url)
{
	struct json_object *part = json_object_new_object(), *fr = json_object_new_object();
	struct json_object *resp = json_object_new_object();

	json_object_object_add(fr, "name", json_object_new_string(c->name));
	if (c->id)
		json_object_object_add(fr, "id", json_object_new_string(c->id));
	if (st->status == MODEL_DONE) {
		if (url)
			json_object_object_add(resp, "url", json_object_new_string(url));
		if (c->confirmed)
			json_object_object_add(resp, "safety_acknowledgement",
					       json_object_new_string("true"));
	} else {
		json_object_object_add(resp, "error", json_object_new_string(
			st->status == MODEL_FAILED ? st->why : NOT_EXECUTED));
	}
	json_object_object_add(fr, "response", resp);
	if (st->shot.data) {
		struct json_object *img = api_image_json(r, &st->shot), *parts, *inl, *data;

		if (!img) {
			json_object_put(fr);
			json_object_put(part);
			return NULL;
		}
		inl = json_object_new_object();
		data = json_object_new_object();
		json_object_object_add(data, "mimeType", json_object_new_string("image/png"));
		json_object_object_add(data, "data", json_object_get(json_object_object_get(img, "data")));
		json_object_object_add(inl, "inlineData", data);
		parts = json_object_new_array();
		json_object_array_add(parts, inl);
		json_object_object_add(fr, "parts", parts);
		json_object_put(img);
	}
	json_object_object_add(part, "functionResponse", fr);
	return part;
}

/* The user content answering the turn t (calls c); NULL when answered. */
static struct json_object *answer(struct api_req *r, struct model_turn *t, const struct call *c,
				  const char *before)
{
	struct json_object *parts = json_object_new_array(), *out;
	bool navigated = false;
	char *url;

	for (size_t i = 0; i < t->n; i++)
		navigated |= c[i].navigates && t->steps[i].status == MODEL_DONE;
	url = address(r, before, navigated);
	for (size_t i = 0; i < t->n; i++) {
		struct json_object *p = response_part(r, &t->steps[i], &c[i], url);

		if (!p) {
			free(url);
			json_object_put(parts);
			return NULL;
		}
		json_object_array_add(parts, p);
	}
	free(url);
	out = json_object_new_object();
	json_object_object_add(out, "role", json_object_new_string("user"));
	json_object_object_add(out, "parts", parts);
	return out;
}

static void note_calls(struct api_req *r, struct json_object *calls)
{
	char text[ACTIVITY_TEXT] = "";

	for (size_t i = 0; i < json_object_array_length(calls); i++)
		activity_describe(text, sizeof(text), json_object_array_get_idx(calls, i), "name");
	api_note(r, "gemini", "%s", text);
}

/* POST .../computer/gemini: a turn's function calls, answered as the function responses. */
static void gemini_call(struct api_req *r)
{
	static const struct vmctl_space grid = { .width = GRID, .height = GRID, .grid = true };
	struct json_object *body = api_body_object(r), *calls, *out;
	struct model_turn t = { .space = grid, .shot = { .format = VMCTL_PNG }, .last_shot = true,
				.halt_shot = MODEL_HALT_FAILED };
	struct vmctl_error err;
	struct call *c = NULL;
	char *before = NULL;
	uint32_t w = 0, h = 0;
	size_t n;
	int ret;

	if (!body)
		return;
	calls = calls_in(body);
	note_calls(r, calls);
	n = json_object_array_length(calls);
	if (!n) {
		api_reply_error(r, 400, "invalid_request", "no function call: want the model's answer, "
				"a candidate, its content, a part or a call");
		goto out;
	}
	if (n > 100) {
		api_reply_error(r, 400, "invalid_request", "%zu function calls: want at most 100", n);
		goto out;
	}
	if (!(c = calloc(n, sizeof(*c)))) {
		api_reply_error(r, 500, "internal", "out of memory");
		goto out;
	}
	/* The screen's size is for scroll magnitudes only: asked for when a call scrolls. */
	for (size_t i = 0; i < n && !w; i++) {
		const char *name = api_str_field(json_object_array_get_idx(calls, i), "name");

		if (name && (!strcmp(name, "scroll_at") || !strcmp(name, "scroll")) &&
		    !model_screen(r, &w, &h))
			goto out;
	}
	if (!turn_steps(r, calls, &t, c, w, h))
		goto out;
	for (size_t i = 0; i < n && !before; i++)
		if (c[i].navigates && !t.steps[i].why[0])
			browser_url(r->sb->vsock, &r->sb->browser, true, &before);
	ret = model_turn_run(r, &t, &err);
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	if ((out = answer(r, &t, c, before)))
		api_reply_json(r, 200, out);
out:
	free(before);
	free(c);
	model_turn_free(&t);
	json_object_put(calls);
	json_object_put(body);
}

static const struct api_route rows[] = {
	{ "POST", "sandboxes/{id}/computer/gemini", ROUTE_SANDBOX, gemini_call, NULL, NULL, NULL },
};

const struct api_routes api_gemini_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
