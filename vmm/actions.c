#include "actions.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "errf.h"
#include "virtio_input.h"

#define MAX_ACTIONS 1000
#define MAX_TEXT (64 * 1024)        /* bytes of text in one type action */
#define MAX_PATH_POINTS 1000
#define MAX_REPEAT 100              /* clicks, key presses, scroll steps */
#define MAX_WAIT_MS 60000
#define MAX_DELAY_MS 1000
#define MAX_SPARE 64                /* keys borrowed for characters the layout lacks */
#define REMAP_SETTLE_MS 50          /* lets X read keys typed before a remap */
#define LED_WAIT_MS 500             /* for the guest to show a lock key's new state */

enum act_type { ACT_MOVE, ACT_CLICK, ACT_DOWN, ACT_UP, ACT_DRAG, ACT_SCROLL, ACT_TYPE,
		ACT_KEY, ACT_HOLD, ACT_WAIT, ACT_CURSOR };

static const char *const type_names[] = {
	[ACT_MOVE] = "move", [ACT_CLICK] = "click", [ACT_DOWN] = "down", [ACT_UP] = "up",
	[ACT_DRAG] = "drag", [ACT_SCROLL] = "scroll", [ACT_TYPE] = "type", [ACT_KEY] = "key",
	[ACT_HOLD] = "hold", [ACT_WAIT] = "wait", [ACT_CURSOR] = "cursor",
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
	const struct kbd_keymap *km = hands_keymap(p->h);
	const char *names[KBD_MAX_COMBO];
	size_t n;

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
	const char *s, *end;
	size_t len;

	if (!json_object_object_get_ex(o, "text", &v) || !json_object_is_type(v, json_type_string))
		return errf(p->err, p->errlen, "want \"text\"");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > MAX_TEXT)
		return errf(p->err, p->errlen, "\"text\" is %zu bytes, over %d", len, MAX_TEXT);
	if (strlen(s) != len)
		return errf(p->err, p->errlen, "\"text\" holds a NUL character, which cannot be typed");
	a->syms = calloc(len ? len : 1, sizeof(*a->syms));
	if (!a->syms)
		return errf(p->err, p->errlen, "out of memory");
	for (end = s + len; s < end;) {
		size_t at = len - (size_t)(end - s);
		struct kbd_stroke st;
		uint32_t cp;
		xkb_keysym_t ks;

		if (kbd_utf8_next(&s, end, &cp) < 0)
			return errf(p->err, p->errlen, "\"text\" is not UTF-8 at byte %zu", at);
		ks = kbd_keysym_for_char(cp);
		if (ks == XKB_KEY_NoSymbol)
			return errf(p->err, p->errlen, "\"text\": U+%04X at byte %zu is a control "
				    "character with no key", cp, at);
		if (!vsock && kbd_stroke_for_keysym(hands_keymap(p->h), ks, &st) < 0)
			return errf(p->err, p->errlen, "\"text\": U+%04X is not on keyboard layout '%s', "
				    "and typing it needs the guest agent (--vsock)", cp,
				    kbd_keymap_layout(hands_keymap(p->h)));
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
	for (i = 0; i <= ACT_CURSOR && strcmp(t, type_names[i]); i++)
		;
	if (i > ACT_CURSOR)
		return errf(p->err, p->errlen, "unknown type '%s' (move, click, down, up, drag, scroll, "
			    "type, key, hold, wait, cursor)", t);
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
		if (!json_object_object_get_ex(o, "keys", &v))
			return errf(p->err, p->errlen, "want \"keys\": \"ctrl+c\" or [\"ctrl\", \"c\"]");
		if (get_combo(p, v, "keys", &a->keys) < 0)
			return -EINVAL;
		if (a->type == ACT_KEY)
			return get_uint(p, o, "repeat", 1, 1, MAX_REPEAT, &a->count);
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
	free(b);
}

struct action_batch *actions_parse(struct json_object *list, const struct space *space,
				   struct hands *h, const char *agent_vsock, char *err,
				   size_t errlen)
{
	struct action_batch *b;
	struct parse p = { .h = h, .err = err, .errlen = errlen };
	size_t n;

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
	p.space = &b->space;
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
	const char *vsock;
	const char *code;           /* errno name for the answer */
	char err[512];
	uint16_t spare[MAX_SPARE];  /* keys borrowed for characters the layout lacks */
	xkb_keysym_t mapped[MAX_SPARE];   /* what each types in the guest, this run */
	unsigned int nspare;
	bool numlock_back;          /* NumLock was turned on for a combination */
	uint32_t leds;              /* the guest's LEDs when a combination was pressed */
};

/* Turns a hands_* error into the answer's code and message; returns ret. */
static int hands_failed(struct run *r, int ret)
{
	switch (ret) {
	case -ENOBUFS:
		r->code = "EAGAIN";
		snprintf(r->err, sizeof(r->err), "the guest is not reading input (the device "
			 "queue stayed full for a second)");
		break;
	case -ENODEV:
		r->code = "ENODEV";
		snprintf(r->err, sizeof(r->err), "the guest shows no screen to point at");
		break;
	default:
		r->code = "EINVAL";
		snprintf(r->err, sizeof(r->err), "the point is off the screen (did it change size?)");
		break;
	}
	return ret;
}

#define TRY(r, call) do { int ret_ = (call); if (ret_ < 0) return hands_failed((r), ret_); } while (0)

static int stroke(struct run *r, const struct kbd_stroke *st)
{
	for (unsigned int i = 0; i < st->nmods; i++)
		TRY(r, hands_key(r->h, st->mods[i], true));
	TRY(r, hands_key(r->h, st->code, true));
	TRY(r, hands_key(r->h, st->code, false));
	for (unsigned int i = st->nmods; i-- > 0;)
		TRY(r, hands_key(r->h, st->mods[i], false));
	return 0;
}

static bool led_on(struct run *r, unsigned int led)
{
	return hands_leds(r->h) & (1u << led);
}

/*
 * Turns a lock (Caps Lock, NumLock: its key code and LED) on or off, by the
 * guest's LED, with a tap of its key, and waits for the LED to follow, so
 * that the next action reads the state this one left. A guest that shows
 * no LEDs gets the tap after LED_WAIT_MS.
 */
static int set_lock(struct run *r, int code, unsigned int led, bool on)
{
	struct kbd_stroke st = { .code = (uint16_t)code };

	if (code <= 0 || led_on(r, led) == on)
		return 0;
	if (stroke(r, &st) < 0)
		return -EIO;
	hands_wait_leds(r->h, 1u << led, on ? 0 : 1u << led, LED_WAIT_MS);
	return 0;
}

static bool has_lock_key(const struct kbd_combo *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->codes[i] == KEY_CAPSLOCK || c->codes[i] == KEY_NUMLOCK ||
		    c->codes[i] == KEY_SCROLLLOCK)
			return true;
	return false;
}

/*
 * Presses c's keys; a keypad key that needs NumLock gets it on meanwhile.
 * A combination with a lock key in it is released only once the guest's
 * LEDs show its effect (see set_lock).
 */
static int press_combo(struct run *r, const struct kbd_combo *c)
{
	r->leds = hands_leds(r->h);
	if (c->numlock && !led_on(r, LED_NUML)) {
		if (set_lock(r, kbd_numlock_code(hands_keymap(r->h)), LED_NUML, true) < 0)
			return -EIO;
		r->numlock_back = true;
	}
	for (unsigned int i = 0; i < c->n; i++)
		TRY(r, hands_key(r->h, c->codes[i], true));
	return 0;
}

static int release_combo(struct run *r, const struct kbd_combo *c)
{
	for (unsigned int i = c->n; i-- > 0;)
		TRY(r, hands_key(r->h, c->codes[i], false));
	if (has_lock_key(c))
		hands_wait_leds(r->h, ~0u, r->leds, LED_WAIT_MS);
	if (r->numlock_back) {
		r->numlock_back = false;
		return set_lock(r, kbd_numlock_code(hands_keymap(r->h)), LED_NUML, false);
	}
	return 0;
}

struct captured {
	char buf[256];
	size_t len;
};

static void capture(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	struct captured *c = opaque;

	if (stream != 2)
		return;
	while (len-- && c->len + 1 < sizeof(c->buf))
		c->buf[c->len++] = *buf == '\n' ? ' ' : (char)*buf, buf++;
	c->buf[c->len] = '\0';
}

/*
 * Characters the layout has no key for: borrows spare keys (no symbol on this
 * layout) and has the guest's X map them to the keysyms still to be typed
 * from a->syms[from] on, with xmodmap through the agent. Keys typed before
 * are let reach X first, since a borrowed key may change meaning.
 */
static int remap(struct run *r, const struct action *a, unsigned int from)
{
	const char *argv[1 + 2 * MAX_SPARE + 1] = { "xmodmap" };
	char lines[MAX_SPARE][160];
	struct agent_exec x = { .argv = argv, .timeout_ms = 10000, .on_output = capture };
	struct agent_error ae = { "", "" };
	struct agent_exit res = { 0 };
	struct captured cap = { .len = 0 };
	unsigned int n = 0, argc = 1;
	struct kbd_stroke st;
	int ret;

	for (unsigned int i = from; i < a->nsyms && n < r->nspare; i++) {
		char name[64];
		bool dup = false;

		if (kbd_stroke_for_keysym(hands_keymap(r->h), a->syms[i], &st) == 0)
			continue;
		for (unsigned int k = 0; k < n && !dup; k++)
			dup = r->mapped[k] == a->syms[i];
		if (dup)
			continue;
		r->mapped[n] = a->syms[i];
		xkb_keysym_get_name(a->syms[i], name, sizeof(name));
		snprintf(lines[n], sizeof(lines[n]), "keycode %u = %s %s", r->spare[n] + 8u, name, name);
		argv[argc++] = "-e";
		argv[argc++] = lines[n++];
	}
	for (unsigned int k = n; k < r->nspare; k++)
		r->mapped[k] = XKB_KEY_NoSymbol;
	argv[argc] = NULL;
	hands_flush(r->h, REMAP_SETTLE_MS);
	x.opaque = &cap;
	ret = agent_exec_run(r->vsock, &x, &res, &ae);
	if (ret < 0 || res.exit_code != 0) {
		r->code = "EIO";
		snprintf(r->err, sizeof(r->err), "the guest could not map keys for characters not on "
			 "layout '%s': %.200s", kbd_keymap_layout(hands_keymap(r->h)),
			 ret == -EREMOTEIO ? ae.message : ret < 0 ? strerror(-ret) :
			 cap.len ? cap.buf : "xmodmap failed");
		return -EIO;
	}
	return 0;
}

static int borrowed_key(const struct run *r, xkb_keysym_t ks)
{
	for (unsigned int k = 0; k < r->nspare; k++)
		if (r->mapped[k] == ks)
			return r->spare[k];
	return -1;
}

static int run_type(struct run *r, const struct action *a)
{
	const struct kbd_keymap *km = hands_keymap(r->h);
	struct kbd_stroke caps = { 0 };
	bool caps_on = led_on(r, LED_CAPSL);

	/* Caps Lock on would change letters: off while typing, then on again. */
	if (caps_on && (kbd_stroke_for_keysym(km, XKB_KEY_Caps_Lock, &caps) < 0 || caps.nmods))
		caps.code = 0;
	if (caps_on && set_lock(r, caps.code, LED_CAPSL, false) < 0)
		return -EIO;
	for (unsigned int i = 0; i < a->nsyms; i++) {
		struct kbd_stroke st;
		int code;

		if (i && a->ms)
			pause_ms(a->ms);
		if (kbd_stroke_for_keysym(km, a->syms[i], &st) == 0) {
			if (stroke(r, &st) < 0)
				return -EIO;
			continue;
		}
		code = borrowed_key(r, a->syms[i]);
		if (code < 0) {
			if (!r->nspare) {
				r->nspare = kbd_spare_codes(km, r->spare, MAX_SPARE);
				for (unsigned int k = 0; k < MAX_SPARE; k++)
					r->mapped[k] = XKB_KEY_NoSymbol;
			}
			if (!r->nspare) {
				r->code = "ENOSPC";
				snprintf(r->err, sizeof(r->err), "layout '%s' leaves no key free to borrow "
					 "for characters it lacks", kbd_keymap_layout(km));
				return -ENOSPC;
			}
			if (remap(r, a, i) < 0)
				return -EIO;
			code = borrowed_key(r, a->syms[i]);
		}
		st = (struct kbd_stroke){ .code = (uint16_t)code };
		if (stroke(r, &st) < 0)
			return -EIO;
	}
	return caps_on ? set_lock(r, caps.code, LED_CAPSL, true) : 0;
}

static int move_to(struct run *r, const struct action *a)
{
	if (a->has_xy)
		TRY(r, hands_move(r->h, a->x, a->y));
	return 0;
}

static int run_drag(struct run *r, const struct action *a)
{
	TRY(r, hands_move(r->h, a->path[0], a->path[1]));
	if (press_combo(r, &a->mods) < 0)
		return -EIO;
	TRY(r, hands_button(r->h, a->button, true));
	for (unsigned int i = 1; i < a->npath; i++) {
		pause_ms(a->ms);
		TRY(r, hands_move(r->h, a->path[2 * i], a->path[2 * i + 1]));
	}
	pause_ms(a->ms);
	TRY(r, hands_button(r->h, a->button, false));
	return release_combo(r, &a->mods);
}

/* Runs one action; adds what it reports to result. */
static int run_one(struct run *r, const struct action *a, struct json_object *result)
{
	uint32_t x, y;

	switch (a->type) {
	case ACT_MOVE:
		return move_to(r, a);
	case ACT_CLICK:
		if (move_to(r, a) < 0 || press_combo(r, &a->mods) < 0)
			return -EIO;
		for (unsigned int i = 0; i < a->count; i++) {
			TRY(r, hands_button(r->h, a->button, true));
			TRY(r, hands_button(r->h, a->button, false));
		}
		return release_combo(r, &a->mods);
	case ACT_DOWN:
	case ACT_UP:
		if (move_to(r, a) < 0)
			return -EIO;
		TRY(r, hands_button(r->h, a->button, a->type == ACT_DOWN));
		return 0;
	case ACT_DRAG:
		return run_drag(r, a);
	case ACT_SCROLL:
		if (move_to(r, a) < 0 || press_combo(r, &a->mods) < 0)
			return -EIO;
		for (unsigned int i = 0; i < a->count; i++)
			TRY(r, hands_wheel(r->h, a->dy, a->dx));
		return release_combo(r, &a->mods);
	case ACT_TYPE:
		return run_type(r, a);
	case ACT_KEY:
		for (unsigned int i = 0; i < a->count; i++)
			if (press_combo(r, &a->keys) < 0 || release_combo(r, &a->keys) < 0)
				return -EIO;
		return 0;
	case ACT_HOLD:
		if (press_combo(r, &a->keys) < 0)
			return -EIO;
		pause_ms(a->ms);
		return release_combo(r, &a->keys);
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
	struct run r = { .h = h, .space = &b->space, .vsock = b->agent_vsock };
	struct json_object *out = json_object_new_object(), *results = json_object_new_array();

	for (unsigned int i = 0; i < b->n; i++) {
		struct json_object *res = json_object_new_object();

		json_object_object_add(res, "type", json_object_new_string(type_names[b->a[i].type]));
		if (run_one(&r, &b->a[i], res) < 0) {
			char msg[640];

			json_object_put(res);
			json_object_put(results);
			hands_release_all(h);
			snprintf(msg, sizeof(msg), "action %u (%s): %s", i, type_names[b->a[i].type], r.err);
			json_object_object_add(out, "ok", json_object_new_boolean(0));
			json_object_object_add(out, "code", json_object_new_string(r.code ? r.code : "EIO"));
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
