#include "actions.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errf.h"
#include "keys.h"
#include "virtio_input.h"

#define MAX_ACTIONS 1000
#define MAX_TEXT (64 * 1024)        /* bytes of text in one type action */
#define MAX_PATH_POINTS 1000
#define MAX_REPEAT 100              /* clicks, key presses, scroll steps */
#define MAX_WAIT_MS 60000
#define MAX_DELAY_MS 1000

enum act_type { ACT_MOVE, ACT_CLICK, ACT_DOWN, ACT_UP, ACT_DRAG, ACT_SCROLL, ACT_TYPE,
		ACT_KEY, ACT_HOLD, ACT_WAIT, ACT_CURSOR, ACT_KEY_DOWN, ACT_KEY_UP };

static const char *const type_names[] = {
	[ACT_MOVE] = "move", [ACT_CLICK] = "click", [ACT_DOWN] = "down", [ACT_UP] = "up",
	[ACT_DRAG] = "drag", [ACT_SCROLL] = "scroll", [ACT_TYPE] = "type", [ACT_KEY] = "key",
	[ACT_HOLD] = "hold", [ACT_WAIT] = "wait", [ACT_CURSOR] = "cursor",
	[ACT_KEY_DOWN] = "key_down", [ACT_KEY_UP] = "key_up",
};

struct action {
	enum act_type type;
	bool has_xy;
	uint32_t x, y;
	enum hands_button button;
	unsigned int count;         /* clicks, key repeats, scroll steps */
	int dy, dx;                 /* scroll direction: +1 up / right */
	struct kbd_combo mods;      /* held for click, drag, scroll */
	struct kbd_combo keys;      /* key, hold */
	xkb_keysym_t *syms;         /* type: the text as keysyms */
	unsigned int nsyms;
	unsigned int ms;            /* type: per-key delay; drag: per step; hold, wait */
	uint32_t *path;             /* drag: x, y pairs */
	unsigned int npath;
};

struct action_batch {
	unsigned int n;
	struct action *a;
	struct space space;         /* what the batch's points and answers are in */
	struct kbd_keymap *km;      /* the layout it was parsed for (a reference) */
	const char *agent_vsock;    /* borrowed from the caller, who outlives the batch */
};


/*
 * A pause the batch asks for (wait, hold, drag steps, typing delay): a timed
 * pace is the point.
 */
static void pause_ms(unsigned int ms)
{
	clk_pause_ms(ms);
}

/* --- parsing ----------------------------------------------------------------- */

struct parse {
	struct hands *h;
	const struct kbd_keymap *km;
	const char *vsock;          /* the agent: keys the layout lacks can be borrowed */
	const struct space *space;
	char *err;
	size_t errlen;
};

/* A non-negative whole number field in [min, max], or def when absent. */
static int get_uint(struct parse *p, struct json_object *o, const char *key, unsigned int def,
		    unsigned int min, unsigned int max, unsigned int *out)
{
	struct json_object *v;
	int64_t n;

	*out = def;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return errf(p->err, p->errlen, "\"%s\": want a whole number", key);
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return errf(p->err, p->errlen, "\"%s\" %lld: want %u..%u", key, (long long)n, min, max);
	*out = (unsigned int)n;
	return 0;
}

/* A number field of a point; false if it is not one. */
static bool coord(struct json_object *v, double *out)
{
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* A point in the batch's space (space.h) to its screen pixel. */
static int to_screen(struct parse *p, struct json_object *xo, struct json_object *yo,
		     uint32_t *x, uint32_t *y)
{
	const struct space *s = p->space;
	double dx, dy;

	if (!coord(xo, &dx) || !coord(yo, &dy))
		return errf(p->err, p->errlen, "x, y: want numbers");
	if (!space_to_screen(s, dx, dy, x, y))
		return errf(p->err, p->errlen, "(%g, %g) is outside the %ux%u screen%s", dx, dy,
			    s->cw, s->ch, s->identity ? "" : " of this batch's coordinates");
	return 0;
}

/* "x" and "y", both or neither (then the pointer stays where it is). */
static int get_xy(struct parse *p, struct json_object *o, struct action *a, bool required)
{
	struct json_object *x, *y;
	bool hx = json_object_object_get_ex(o, "x", &x), hy = json_object_object_get_ex(o, "y", &y);

	if (hx != hy || (required && !hx))
		return errf(p->err, p->errlen, "want both \"x\" and \"y\"%s", required ? "" : ", or neither");
	if (!hx)
		return 0;
	a->has_xy = true;
	return to_screen(p, x, y, &a->x, &a->y);
}

static int get_button(struct parse *p, struct json_object *o, enum hands_button *b)
{
	static const char *const names[BUTTON_COUNT] = {
		[BUTTON_LEFT] = "left", [BUTTON_MIDDLE] = "middle", [BUTTON_RIGHT] = "right",
		[BUTTON_BACK] = "back", [BUTTON_FORWARD] = "forward",
	};
	struct json_object *v;
	const char *s;

	*b = BUTTON_LEFT;
	if (!json_object_object_get_ex(o, "button", &v))
		return 0;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	for (int i = 0; i < BUTTON_COUNT; i++) {
		if (strcmp(s, names[i]) == 0) {
			*b = i;
			return 0;
		}
	}
	return errf(p->err, p->errlen, "\"button\": want left, right, middle, back or forward");
}

/* A key combination: "ctrl+shift+t", or a list of names ["CTRL", "C"]. */
static int get_combo(struct parse *p, struct json_object *v, const char *key, struct kbd_combo *c)
{
	const struct kbd_keymap *km = p->km;
	const char *names[KBD_MAX_COMBO];
	size_t n;

	c->borrow_ok = p->vsock != NULL;
	if (json_object_is_type(v, json_type_string))
		return kbd_parse_combo(km, json_object_get_string(v), c, p->err, p->errlen) < 0 ? -EINVAL : 0;
	if (!json_object_is_type(v, json_type_array))
		return errf(p->err, p->errlen, "\"%s\": want \"ctrl+c\" or [\"ctrl\", \"c\"]", key);
	n = json_object_array_length(v);
	if (n == 0 || n > KBD_MAX_COMBO)
		return errf(p->err, p->errlen, "\"%s\": want 1..%d key names", key, KBD_MAX_COMBO);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string))
			return errf(p->err, p->errlen, "\"%s\": key names are strings", key);
		names[i] = json_object_get_string(e);
	}
	return kbd_combo_from_names(km, names, (unsigned int)n, c, p->err, p->errlen) < 0 ? -EINVAL : 0;
}

static int get_mods(struct parse *p, struct json_object *o, struct kbd_combo *c)
{
	struct json_object *v;

	c->n = 0;
	if (!json_object_object_get_ex(o, "modifiers", &v))
		return 0;
	if (json_object_is_type(v, json_type_string) && !*json_object_get_string(v))
		return 0;
	return get_combo(p, v, "modifiers", c);
}

/* The text of a type action as keysyms; every character must have one. */
static int get_text(struct parse *p, struct json_object *o, struct action *a, const char *vsock)
{
	struct json_object *v;
	const char *s, *start, *end;
	size_t len;

	if (!json_object_object_get_ex(o, "text", &v) || !json_object_is_type(v, json_type_string))
		return errf(p->err, p->errlen, "want \"text\"");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > MAX_TEXT)
		return errf(p->err, p->errlen, "\"text\" is %zu bytes, over %d", len, MAX_TEXT);
	if (strlen(s) != len) {
		size_t at = strlen(s), ch = 0;

		for (size_t i = 0; i < at; i++)
			ch += ((unsigned char)s[i] & 0xc0) != 0x80;
		return errf(p->err, p->errlen, "\"text\": U+0000 at character %zu (byte %zu) is a "
			    "control character with no key; nothing was typed", ch, at);
	}
	a->syms = calloc(len ? len : 1, sizeof(*a->syms));
	if (!a->syms)
		return errf(p->err, p->errlen, "out of memory");
	start = s;
	end = s + len;
	for (size_t ch = 0; s < end; ch++) {
		size_t at = (size_t)(s - start);
		struct kbd_stroke st;
		uint32_t cp;
		xkb_keysym_t ks;

		if (kbd_utf8_next(&s, end, &cp) < 0)
			return errf(p->err, p->errlen, "\"text\" is not UTF-8 at character %zu (byte %zu)",
				    ch, at);
		/* CR LF, like a lone CR or LF, is one Return: one line break, as sent. */
		if (cp == '\n' && at && start[at - 1] == '\r')
			continue;
		ks = kbd_keysym_for_char(cp);
		if (ks == XKB_KEY_NoSymbol)
			return errf(p->err, p->errlen, "\"text\": U+%04X at character %zu (byte %zu) is "
				    "a control character with no key; nothing was typed", cp, ch, at);
		if (!vsock && kbd_stroke_for_keysym(p->km, ks, &st) < 0)
			return errf(p->err, p->errlen, "\"text\": U+%04X is not on keyboard layout '%s', "
				    "and typing it needs the guest agent (--vsock)", cp,
				    kbd_keymap_layout(p->km));
		a->syms[a->nsyms++] = ks;
	}
	return 0;
}

static int get_path(struct parse *p, struct json_object *o, struct action *a)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, "path", &v) || !json_object_is_type(v, json_type_array))
		return errf(p->err, p->errlen, "want \"path\": [[x, y], ...]");
	n = json_object_array_length(v);
	if (n < 2 || n > MAX_PATH_POINTS)
		return errf(p->err, p->errlen, "\"path\": want 2..%d points", MAX_PATH_POINTS);
	a->path = calloc(n * 2, sizeof(*a->path));
	if (!a->path)
		return errf(p->err, p->errlen, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *pt = json_object_array_get_idx(v, i);

		if (!json_object_is_type(pt, json_type_array) || json_object_array_length(pt) != 2)
			return errf(p->err, p->errlen, "\"path\" point %zu: want [x, y]", i);
		if (to_screen(p, json_object_array_get_idx(pt, 0), json_object_array_get_idx(pt, 1),
			      &a->path[2 * i], &a->path[2 * i + 1]) < 0)
			return -EINVAL;
	}
	a->npath = (unsigned int)n;
	return 0;
}

static int get_scroll(struct parse *p, struct json_object *o, struct action *a)
{
	struct json_object *v;
	const char *d;

	if (!json_object_object_get_ex(o, "direction", &v) || !json_object_is_type(v, json_type_string))
		return errf(p->err, p->errlen, "want \"direction\": up, down, left or right");
	d = json_object_get_string(v);
	if (strcmp(d, "up") == 0)
		a->dy = 1;
	else if (strcmp(d, "down") == 0)
		a->dy = -1;
	else if (strcmp(d, "left") == 0)
		a->dx = -1;
	else if (strcmp(d, "right") == 0)
		a->dx = 1;
	else
		return errf(p->err, p->errlen, "\"direction\" '%s': want up, down, left or right", d);
	return get_uint(p, o, "amount", 1, 1, MAX_REPEAT, &a->count);
}

/* One action object into a; -EINVAL with the reason in p->err. */
static int parse_one(struct parse *p, struct json_object *o, struct action *a, const char *vsock)
{
	struct json_object *v;
	const char *t;
	int i;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "type", &v) ||
	    !json_object_is_type(v, json_type_string))
		return errf(p->err, p->errlen, "want an object with a \"type\"");
	t = json_object_get_string(v);
	for (i = 0; i <= ACT_KEY_UP && strcmp(t, type_names[i]); i++)
		;
	if (i > ACT_KEY_UP)
		return errf(p->err, p->errlen, "unknown type '%s' (move, click, down, up, drag, scroll, "
			    "type, key, hold, key_down, key_up, wait, cursor)", t);
	a->type = i;
	switch (a->type) {
	case ACT_MOVE:
		return get_xy(p, o, a, true);
	case ACT_CLICK:
		if (get_xy(p, o, a, false) < 0 || get_button(p, o, &a->button) < 0 ||
		    get_mods(p, o, &a->mods) < 0)
			return -EINVAL;
		return get_uint(p, o, "count", 1, 1, MAX_REPEAT, &a->count);
	case ACT_DOWN:
	case ACT_UP:
		if (get_xy(p, o, a, false) < 0)
			return -EINVAL;
		return get_button(p, o, &a->button);
	case ACT_DRAG:
		if (get_path(p, o, a) < 0 || get_button(p, o, &a->button) < 0 ||
		    get_mods(p, o, &a->mods) < 0)
			return -EINVAL;
		return get_uint(p, o, "step_ms", 10, 0, MAX_DELAY_MS, &a->ms);
	case ACT_SCROLL:
		if (get_xy(p, o, a, false) < 0 || get_mods(p, o, &a->mods) < 0)
			return -EINVAL;
		return get_scroll(p, o, a);
	case ACT_TYPE:
		if (get_text(p, o, a, vsock) < 0)
			return -EINVAL;
		return get_uint(p, o, "delay_ms", 0, 0, MAX_DELAY_MS, &a->ms);
	case ACT_KEY:
	case ACT_HOLD:
	case ACT_KEY_DOWN:
	case ACT_KEY_UP:
		if (!json_object_object_get_ex(o, "keys", &v))
			return errf(p->err, p->errlen, "want \"keys\": \"ctrl+c\" or [\"ctrl\", \"c\"]");
		if (get_combo(p, v, "keys", &a->keys) < 0)
			return -EINVAL;
		/*
		 * A key held across batches must stay what it is: a borrowed key or
		 * a NumLock tap belongs to one batch, and a later key_up would not
		 * find it.
		 */
		if (a->type == ACT_KEY_DOWN || a->type == ACT_KEY_UP) {
			for (unsigned int k = 0; k < a->keys.n; k++)
				if (!a->keys.codes[k])
					return errf(p->err, p->errlen, "keys: a key the layout has no key "
						    "for cannot be held across batches");
			if (a->keys.numlock)
				return errf(p->err, p->errlen, "keys: a keypad key under NumLock cannot "
					    "be held across batches");
		}
		if (a->type == ACT_KEY)
			return get_uint(p, o, "repeat", 1, 1, MAX_REPEAT, &a->count);
		if (a->type != ACT_HOLD)
			return 0;
		return get_uint(p, o, "duration_ms", 500, 0, MAX_WAIT_MS, &a->ms);
	case ACT_WAIT:
		return get_uint(p, o, "ms", 0, 0, MAX_WAIT_MS, &a->ms);
	case ACT_CURSOR:
		return 0;
	}
	return 0;
}

void action_batch_free(struct action_batch *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < b->n; i++) {
		free(b->a[i].syms);
		free(b->a[i].path);
	}
	free(b->a);
	kbd_keymap_free(b->km);
	free(b);
}

struct action_batch *actions_parse(struct json_object *list, const struct space *space,
				   struct hands *h, const char *agent_vsock, int *refused,
				   char *err, size_t errlen)
{
	struct action_batch *b;
	struct parse p = { .h = h, .vsock = agent_vsock, .err = err, .errlen = errlen };
	size_t n;

	*refused = -1;
	if (!json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) == 0 || n > MAX_ACTIONS) {
		errf(err, errlen, "want \"actions\": a list of 1..%d actions", MAX_ACTIONS);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->a = calloc(n, sizeof(*b->a)))) {
		free(b);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	b->space = *space;
	b->agent_vsock = agent_vsock;
	b->km = hands_keymap_ref(h);
	p.space = &b->space;
	p.km = b->km;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(list, i), *t;
		char why[400];

		b->n = (unsigned int)i + 1;
		p.err = why;
		p.errlen = sizeof(why);
		if (parse_one(&p, o, &b->a[i], agent_vsock) < 0) {
			bool named = json_object_object_get_ex(o, "type", &t) &&
				     json_object_is_type(t, json_type_string);

			snprintf(err, errlen, "action %zu%s%.32s%s: %s", i, named ? " (" : "",
				 named ? json_object_get_string(t) : "", named ? ")" : "", why);
			*refused = (int)i;
			action_batch_free(b);
			return NULL;
		}
	}
	return b;
}

/* --- running ----------------------------------------------------------------- */

struct run {
	struct hands *h;
	const struct space *space;
	struct keys k;              /* the keyboard side, and the failure said */
};

#define TRY(r, call) do { int ret_ = (call); if (ret_ < 0) return keys_failed(&(r)->k, ret_); } while (0)

static int move_to(struct run *r, const struct action *a)
{
	if (a->has_xy)
		TRY(r, hands_move(r->h, a->x, a->y));
	return 0;
}

static int run_drag(struct run *r, const struct action *a)
{
	TRY(r, hands_move(r->h, a->path[0], a->path[1]));
	if (keys_press_combo(&r->k, &a->mods) < 0)
		return -EIO;
	TRY(r, hands_button(r->h, a->button, true));
	for (unsigned int i = 1; i < a->npath; i++) {
		pause_ms(a->ms);
		TRY(r, hands_move(r->h, a->path[2 * i], a->path[2 * i + 1]));
	}
	pause_ms(a->ms);
	TRY(r, hands_button(r->h, a->button, false));
	return keys_release_combo(&r->k, &a->mods);
}

/* Runs one action; adds what it reports to result. */
static int run_one(struct run *r, const struct action *a, struct json_object *result)
{
	uint32_t x, y;

	switch (a->type) {
	case ACT_MOVE:
		return move_to(r, a);
	case ACT_CLICK:
		if (move_to(r, a) < 0 || keys_press_combo(&r->k, &a->mods) < 0)
			return -EIO;
		for (unsigned int i = 0; i < a->count; i++) {
			TRY(r, hands_button(r->h, a->button, true));
			TRY(r, hands_button(r->h, a->button, false));
		}
		return keys_release_combo(&r->k, &a->mods);
	case ACT_DOWN:
	case ACT_UP:
		if (move_to(r, a) < 0)
			return -EIO;
		TRY(r, hands_button(r->h, a->button, a->type == ACT_DOWN));
		return 0;
	case ACT_DRAG:
		return run_drag(r, a);
	case ACT_SCROLL:
		if (move_to(r, a) < 0 || keys_press_combo(&r->k, &a->mods) < 0)
			return -EIO;
		for (unsigned int i = 0; i < a->count; i++)
			TRY(r, hands_wheel(r->h, a->dy, a->dx));
		return keys_release_combo(&r->k, &a->mods);
	case ACT_TYPE:
		return keys_type(&r->k, a->syms, a->nsyms, a->ms);
	case ACT_KEY:
		for (unsigned int i = 0; i < a->count; i++)
			if (keys_press_combo(&r->k, &a->keys) < 0 || keys_release_combo(&r->k, &a->keys) < 0)
				return -EIO;
		return 0;
	case ACT_HOLD:
		if (keys_press_combo(&r->k, &a->keys) < 0)
			return -EIO;
		pause_ms(a->ms);
		return keys_release_combo(&r->k, &a->keys);
	case ACT_KEY_DOWN:
		/* Held across batches, as a button is, until key_up or a failure. */
		return keys_press_combo(&r->k, &a->keys);
	case ACT_KEY_UP:
		return keys_release_combo(&r->k, &a->keys);
	case ACT_WAIT:
		pause_ms(a->ms);
		return 0;
	case ACT_CURSOR:
		/* In the batch's own coordinates: what the client sends is what it reads. */
		hands_cursor(r->h, &x, &y, HANDS_CURSOR_WAIT_MS);
		space_from_screen(r->space, x, y, &x, &y);
		json_object_object_add(result, "x", json_object_new_int((int)x));
		json_object_object_add(result, "y", json_object_new_int((int)y));
		return 0;
	}
	return 0;
}

struct json_object *actions_run(struct action_batch *b, struct hands *h)
{
	struct run r = { .h = h, .space = &b->space };
	struct json_object *out = json_object_new_object(), *results = json_object_new_array();

	keys_init(&r.k, h, b->km, b->agent_vsock);
	for (unsigned int i = 0; i < b->n; i++) {
		struct json_object *res = json_object_new_object();

		json_object_object_add(res, "type", json_object_new_string(type_names[b->a[i].type]));
		if (run_one(&r, &b->a[i], res) < 0) {
			char msg[640];

			json_object_put(res);
			json_object_put(results);
			hands_release_all(h);
			snprintf(msg, sizeof(msg), "action %u (%s): %s", i, type_names[b->a[i].type], r.k.err);
			json_object_object_add(out, "ok", json_object_new_boolean(0));
			json_object_object_add(out, "code", json_object_new_string(r.k.code ? r.k.code : "EIO"));
			json_object_object_add(out, "message", json_object_new_string(msg));
			json_object_object_add(out, "done", json_object_new_int((int)i));
			return out;
		}
		json_object_array_add(results, res);
	}
	json_object_object_add(out, "ok", json_object_new_boolean(1));
	json_object_object_add(out, "results", results);
	return out;
}
