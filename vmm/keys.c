#include "keys.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "clock.h"

#define LED_WAIT_MS 500             /* for the guest to show a lock key's new state */
/*
 * How long a half of the borrowed keys rests after its last press before
 * it is rewritten, when the focused client cannot prove it is done with
 * the keys. The LED round trip proves the X server took every key event;
 * a client then looks its events up later, in a map it fetches anew as it
 * learns of a change (Xlib as soon as it reads the notice off its socket,
 * GDK at the notice's turn, both from the server's map of that moment), so
 * a key rewritten under events it still holds would type the new
 * character. cubicle-keys pings the focused window first (_NET_WM_PING:
 * answered once the client handled everything before it); one that does
 * not answer pings (xterm, Xt and Motif programs) is watched until it is
 * idle, every thread waiting for events with its X connection read. Only a
 * client that gives neither proof gets this rest, on top of the two halves,
 * which spare it one remap of lag.
 */
#define REUSE_MS 300
#define REMAP_SETTLE_MS 50          /* a guest without LEDs: a timed settle before a remap */

void keys_init(struct keys *k, struct hands *h, const struct kbd_keymap *km, const char *vsock)
{
	*k = (struct keys){ .h = h, .km = km, .vsock = vsock };
}

int keys_failed(struct keys *k, int ret)
{
	switch (ret) {
	case -ENOBUFS:
		k->code = "EAGAIN";
		snprintf(k->err, sizeof(k->err), "the guest is not reading input (the device "
			 "queue stayed full for a second)");
		break;
	case -ENODEV:
		k->code = "ENODEV";
		snprintf(k->err, sizeof(k->err), "the guest shows no screen to point at");
		break;
	default:
		k->code = "EINVAL";
		snprintf(k->err, sizeof(k->err), "the point is off the screen (did it change size?)");
		break;
	}
	return ret;
}

#define TRY(k, call) do { int ret_ = (call); if (ret_ < 0) return keys_failed((k), ret_); } while (0)

int keys_stroke(struct keys *k, const struct kbd_stroke *st)
{
	for (unsigned int i = 0; i < st->nmods; i++)
		TRY(k, hands_key(k->h, st->mods[i], true));
	TRY(k, hands_key(k->h, st->code, true));
	TRY(k, hands_key(k->h, st->code, false));
	for (unsigned int i = st->nmods; i-- > 0;)
		TRY(k, hands_key(k->h, st->mods[i], false));
	return 0;
}

static bool led_on(struct keys *k, unsigned int led)
{
	return hands_leds(k->h) & (1u << led);
}

/*
 * A guest that shows no LEDs gets the tap and, after LED_WAIT_MS, the next
 * action: nothing else says when X took it.
 */
int keys_set_lock(struct keys *k, int code, unsigned int led, bool on)
{
	struct kbd_stroke st = { .code = (uint16_t)code };

	if (code <= 0 || led_on(k, led) == on)
		return 0;
	if (keys_stroke(k, &st) < 0)
		return -EIO;
	hands_wait_leds(k->h, 1u << led, on ? 0 : 1u << led, LED_WAIT_MS);
	return 0;
}

/* --- borrowed keys --------------------------------------------------------- */

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
 * The spare keys come in two halves (even and odd places in k->spare; one
 * half when there is one key), and a remap writes one half, the one the
 * previous remap left alone. Slot s is key spare[s / 2] at level s % 2
 * (the second with Shift).
 */
static bool in_half(const struct keys *k, unsigned int key, unsigned int half)
{
	return k->nspare < 2 || key % 2 == half;
}

/* The stroke for slot s: key spare[s / 4] at level s % 4 (Shift, AltGr, both). */
static struct kbd_stroke slot_stroke(const struct keys *k, unsigned int s)
{
	struct kbd_stroke st = { .code = k->spare[s / 4] };

	if (s % 4 >= 2)
		st.mods[st.nmods++] = k->lvl3;
	if (s % 2)
		st.mods[st.nmods++] = KEY_LEFTSHIFT;
	return st;
}

/* The borrowed key (and its modifiers) typing sym now, into st; false if none. */
static bool borrowed(const struct keys *k, xkb_keysym_t sym, struct kbd_stroke *st)
{
	for (unsigned int s = 0; s < 4 * k->nspare; s++)
		if (k->mapped[s] == sym && sym != XKB_KEY_NoSymbol) {
			*st = slot_stroke(k, s);
			return true;
		}
	return false;
}

/* Notes that the borrowed key code was pressed just now, for its half's age. */
static void used_key(struct keys *k, uint16_t code)
{
	for (unsigned int key = 0; key < k->nspare; key++)
		if (k->spare[key] == code)
			hands_borrow_used(k->h, in_half(k, key, 0) ? 0 : 1);
}

static bool on_layout(const struct keys *k, xkb_keysym_t sym)
{
	struct kbd_stroke st;

	return kbd_stroke_for_keysym(k->km, sym, &st) == 0;
}

/*
 * The layout's spare keys, found once a batch, and how many levels a key
 * may carry: four when the keymap has an AltGr (ISO_Level3_Shift) key, its
 * own or <LVL3>, else two. 0, or -ENOSPC (said in k).
 */
static int find_spares(struct keys *k)
{
	if (!k->spares_found) {
		k->nspare = kbd_spare_codes(k->km, k->spare, KEYS_MAX_SPARE);
		for (unsigned int s = 0; s < 4 * KEYS_MAX_SPARE; s++)
			k->mapped[s] = XKB_KEY_NoSymbol;
		k->lvl3 = kbd_level3_code(k->km);
		k->levels = k->lvl3 ? 4 : 2;
		k->spares_found = true;
	}
	if (k->nspare)
		return 0;
	k->code = "ENOSPC";
	snprintf(k->err, sizeof(k->err), "layout '%s' leaves no key free to borrow for "
		 "characters it lacks", kbd_keymap_layout(k->km));
	return -ENOSPC;
}

/* How many keysyms one remap maps: levels (1, 2 or 4) on each key of a half. */
static unsigned int capacity(const struct keys *k, unsigned int levels)
{
	return (k->nspare < 2 ? k->nspare : k->nspare / 2) * levels;
}

/*
 * The keysym a borrowed key is given for sym: a character past Latin-1 by
 * its Unicode spelling (0x1000000 + U), which every toolkit reads as that
 * character; GTK drops some legacy ones (permille, 0xad5, for U+2030).
 */
static xkb_keysym_t lent_spelling(xkb_keysym_t sym)
{
	uint32_t cp = xkb_keysym_to_utf32(sym);

	return cp > 0xff ? 0x1000000 | cp : sym;
}

/* Runs cubicle-keys with argv in the guest; 0, or -EIO (said in k). */
static int run_helper(struct keys *k, const char **argv)
{
	struct agent_exec x = { .argv = argv, .timeout_ms = 10000, .on_output = capture };
	struct agent_error ae = { "", "" };
	struct agent_exit res = { 0 };
	struct captured cap = { .len = 0 };
	int ret;

	x.opaque = &cap;
	ret = k->vsock ? agent_exec_run(k->vsock, &x, &res, &ae) : -ENOTCONN;
	if (ret == 0 && res.exit_code == 0)
		return 0;
	k->code = "EIO";
	snprintf(k->err, sizeof(k->err), "the guest could not map keys for characters not on "
		 "layout '%s': %.200s", kbd_keymap_layout(k->km),
		 ret == -EREMOTEIO ? ae.message : ret < 0 ? strerror(-ret) :
		 cap.len ? cap.buf : "cubicle-keys failed");
	return -EIO;
}

/*
 * Maps want (n keysyms the layout lacks, distinct, at most capacity(k,
 * levels)) on the half of the spare keys whose turn it is, levels to a key,
 * in one request (cubicle-keys, through the agent); the other half's keys
 * are not typed on again until they are rewritten. First the round trip
 * that proves X took every key event sent so far (a guest showing no LEDs
 * gets a timed settle instead): a key about to change meaning may be among
 * them. Then cubicle-keys pings the focused client (or, when it cannot
 * answer, sees it idle, or else rests what is left of REUSE_MS) before it
 * changes the map. The
 * keys rewritten were last typed on before the previous remap, so a client
 * still translating events of that time is spared too (docs/
 * control-protocol.md, "Pace and proof"). 0, or -errno (said in k).
 */
static int remap(struct keys *k, const xkb_keysym_t *want, unsigned int n, unsigned int levels)
{
	const char *argv[3 + KEYS_MAX_SPARE + 1] = { "cubicle-keys", "--rest" };
	char specs[KEYS_MAX_SPARE][64], rest[24];
	int64_t last_used, wait;
	unsigned int half = hands_borrow_turn(k->h, &last_used), argc = 3, used = 0;

	if (k->nspare < 2)
		half = 0;
	for (unsigned int key = 0; key < k->nspare; key++) {
		unsigned int take, len;

		for (unsigned int l = 0; l < 4; l++)
			k->mapped[4 * key + l] = XKB_KEY_NoSymbol;
		if (!in_half(k, key, half) || used >= n)
			continue;
		take = n - used < levels ? n - used : levels;
		len = (unsigned int)snprintf(specs[key], sizeof(specs[key]), "%u=", k->spare[key] + 8u);
		for (unsigned int l = 0; l < take; l++) {
			k->mapped[4 * key + l] = want[used + l];
			len += (unsigned int)snprintf(specs[key] + len, sizeof(specs[key]) - len, "%s0x%x",
						      l ? "," : "", lent_spelling(want[used + l]));
		}
		used += take;
		argv[argc++] = specs[key];
	}
	argv[argc] = NULL;
	/* Unless the focused client proves it is done: see the comment above REUSE_MS. */
	wait = last_used + REUSE_MS - clk_mono_ms();
	snprintf(rest, sizeof(rest), "%lld", last_used && wait > 0 ? (long long)wait : 0LL);
	argv[2] = rest;
	if (hands_sync(k->h) < 0)
		hands_flush(k->h, REMAP_SETTLE_MS);
	return run_helper(k, argv);
}

/*
 * The keysyms to map next: syms[from..] the layout lacks, distinct, in the
 * order they come, as many as one remap maps. How many, into want.
 */
static unsigned int upcoming(const struct keys *k, const xkb_keysym_t *syms, unsigned int n,
			     unsigned int from, xkb_keysym_t *want)
{
	unsigned int m = 0, cap = capacity(k, k->levels);

	for (unsigned int i = from; i < n && m < cap; i++) {
		bool dup = on_layout(k, syms[i]);

		for (unsigned int j = 0; j < m && !dup; j++)
			dup = want[j] == syms[i];
		if (!dup)
			want[m++] = syms[i];
	}
	return m;
}

/* The stroke typing syms[from], mapping the next of syms first when no key has it. */
static int stroke_for(struct keys *k, const xkb_keysym_t *syms, unsigned int n,
		      unsigned int from, struct kbd_stroke *st)
{
	xkb_keysym_t want[4 * KEYS_MAX_SPARE];

	if (borrowed(k, syms[from], st))
		return 0;
	if (find_spares(k) < 0 || remap(k, want, upcoming(k, syms, n, from, want), k->levels) < 0)
		return -EIO;
	return borrowed(k, syms[from], st) ? 0 : -EIO;
}

/* --- combinations and text --------------------------------------------------- */

static bool has_lock_key(const struct kbd_combo *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->codes[i] == KEY_CAPSLOCK || c->codes[i] == KEY_NUMLOCK ||
		    c->codes[i] == KEY_SCROLLLOCK)
			return true;
	return false;
}

/*
 * The combination's keys, its borrowed ones (ctrl+c on a layout without
 * c) mapped now, each alone on its key so that Shift in the combination
 * keeps its keysym.
 */
static int combo_codes(struct keys *k, const struct kbd_combo *c, uint16_t *codes)
{
	xkb_keysym_t need[KBD_MAX_COMBO];
	struct kbd_stroke st;
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		if (!c->codes[i] && (!borrowed(k, c->borrow[i], &st) || st.nmods))
			need[n++] = c->borrow[i];
	if (n && find_spares(k) < 0)
		return -EIO;
	if (n > capacity(k, 1)) {
		k->code = "ENOSPC";
		snprintf(k->err, sizeof(k->err), "layout '%s' has too few free keys for this "
			 "combination's keys it lacks", kbd_keymap_layout(k->km));
		return -ENOSPC;
	}
	if (n && remap(k, need, n, 1) < 0)
		return -EIO;
	for (unsigned int i = 0; i < c->n; i++) {
		codes[i] = c->codes[i];
		if (!codes[i] && borrowed(k, c->borrow[i], &st))
			codes[i] = st.code;
	}
	return 0;
}

int keys_press_combo(struct keys *k, const struct kbd_combo *c)
{
	uint16_t codes[KBD_MAX_COMBO];

	k->leds = hands_leds(k->h);
	if (combo_codes(k, c, codes) < 0)
		return -EIO;
	if (c->numlock && !led_on(k, LED_NUML)) {
		if (keys_set_lock(k, kbd_numlock_code(k->km), LED_NUML, true) < 0)
			return -EIO;
		k->numlock_back = true;
	}
	for (unsigned int i = 0; i < c->n; i++)
		TRY(k, hands_key(k->h, codes[i], true));
	return 0;
}

int keys_release_combo(struct keys *k, const struct kbd_combo *c)
{
	for (unsigned int i = c->n; i-- > 0;) {
		struct kbd_stroke st = { .code = c->codes[i] };

		if (st.code || borrowed(k, c->borrow[i], &st))
			TRY(k, hands_key(k->h, st.code, false));
	}
	if (has_lock_key(c))
		hands_wait_leds(k->h, ~0u, k->leds, LED_WAIT_MS);
	if (k->numlock_back) {
		k->numlock_back = false;
		return keys_set_lock(k, kbd_numlock_code(k->km), LED_NUML, false);
	}
	return 0;
}

int keys_type(struct keys *k, const xkb_keysym_t *syms, unsigned int n, unsigned int delay_ms)
{
	const struct kbd_keymap *km = k->km;
	struct kbd_stroke caps = { 0 };
	bool caps_on = led_on(k, LED_CAPSL);

	/* Caps Lock on would change letters: off while typing, then on again. */
	if (caps_on && (kbd_stroke_for_keysym(km, XKB_KEY_Caps_Lock, &caps) < 0 || caps.nmods))
		caps.code = 0;
	if (caps_on && keys_set_lock(k, caps.code, LED_CAPSL, false) < 0)
		return -EIO;
	for (unsigned int i = 0; i < n; i++) {
		struct kbd_stroke st;

		if (i && delay_ms)
			clk_pause_ms(delay_ms);     /* the client's own pace */
		bool lent = kbd_stroke_for_keysym(km, syms[i], &st) < 0;

		if (lent && stroke_for(k, syms, n, i, &st) < 0)
			return -EIO;
		if (keys_stroke(k, &st) < 0)
			return -EIO;
		if (lent)
			used_key(k, st.code);
	}
	return caps_on ? keys_set_lock(k, caps.code, LED_CAPSL, true) : 0;
}
