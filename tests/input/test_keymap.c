/*
 * Keymaps compiled from the installed xkeyboard-config: strokes for
 * keysyms on us, de, fr and gb; characters and strict UTF-8; spare keys;
 * agents' key names and combinations; and a VNC viewer's keys turned into
 * the exact evdev events, in order, that the guest must see.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "keymap.h"

static struct kbd_keymap *us, *de, *fr, *gb;
static char err[256];

/* sym types as code with the modifier keys mods (0-terminated), nothing else. */
static bool types_as(const struct kbd_keymap *km, xkb_keysym_t sym, uint16_t code,
		     const uint16_t *mods)
{
	struct kbd_stroke st;
	unsigned int n = 0;

	if (kbd_stroke_for_keysym(km, sym, &st) != 0)
		return false;
	while (mods[n])
		n++;
	if (st.code != code || st.nmods != n || memcmp(st.mods, mods, n * sizeof(*mods)) != 0) {
		fprintf(stderr, "  %s 0x%x: code %u with %u mods\n", kbd_keymap_layout(km), sym,
			st.code, st.nmods);
		return false;
	}
	return true;
}
#define TYPES_AS(km, sym, code, ...) types_as(km, sym, code, (const uint16_t[]){ __VA_ARGS__ 0 })

static bool absent(const struct kbd_keymap *km, xkb_keysym_t sym)
{
	struct kbd_stroke st;

	return kbd_stroke_for_keysym(km, sym, &st) == -ENOENT;
}

static void test_strokes(void)
{
	CHECK(TYPES_AS(us, XKB_KEY_a, KEY_A));
	CHECK(TYPES_AS(us, XKB_KEY_A, KEY_A, KEY_LEFTSHIFT,));
	CHECK(TYPES_AS(us, XKB_KEY_at, KEY_2, KEY_LEFTSHIFT,));
	CHECK(TYPES_AS(us, XKB_KEY_Return, KEY_ENTER));
	CHECK(TYPES_AS(us, XKB_KEY_1, KEY_1));                       /* not the keypad */
	CHECK(TYPES_AS(us, XKB_KEY_asterisk, KEY_8, KEY_LEFTSHIFT,)); /* not KP_Multiply */
	CHECK(TYPES_AS(us, XKB_KEY_KP_Enter, KEY_KPENTER));
	CHECK(TYPES_AS(us, XKB_KEY_space, KEY_SPACE));
	CHECK(TYPES_AS(us, XKB_KEY_Control_L, KEY_LEFTCTRL));
	CHECK(TYPES_AS(us, 0x1000061, KEY_A));                       /* "U0061" is "a" */
	CHECK(absent(us, XKB_KEY_eacute) && absent(us, 0x10000e9));
	CHECK(absent(us, 0x10065e5));                                /* 日 */
	CHECK(absent(us, XKB_KEY_EuroSign));
	CHECK(absent(us, XKB_KEY_ISO_Level3_Shift));                 /* only on the virtual <LVL3> */

	CHECK(TYPES_AS(de, XKB_KEY_z, KEY_Y));
	CHECK(TYPES_AS(de, XKB_KEY_y, KEY_Z));
	CHECK(TYPES_AS(de, XKB_KEY_at, KEY_Q, KEY_RIGHTALT,));
	CHECK(TYPES_AS(de, XKB_KEY_EuroSign, KEY_E, KEY_RIGHTALT,));
	CHECK(TYPES_AS(de, XKB_KEY_ssharp, KEY_MINUS));
	CHECK(TYPES_AS(de, XKB_KEY_dead_circumflex, KEY_GRAVE));
	CHECK(TYPES_AS(de, XKB_KEY_ISO_Level3_Shift, KEY_RIGHTALT));
	CHECK(absent(de, 0x10065e5));

	CHECK(TYPES_AS(fr, XKB_KEY_a, KEY_Q));
	CHECK(TYPES_AS(fr, XKB_KEY_1, KEY_1, KEY_LEFTSHIFT,));
	CHECK(TYPES_AS(fr, XKB_KEY_eacute, KEY_2));
	CHECK(TYPES_AS(fr, 0x10000e9, KEY_2));
	CHECK(absent(fr, 0x10065e5));

	CHECK(TYPES_AS(gb, XKB_KEY_quotedbl, KEY_2, KEY_LEFTSHIFT,));
	CHECK(TYPES_AS(gb, XKB_KEY_sterling, KEY_3, KEY_LEFTSHIFT,));
	CHECK(TYPES_AS(gb, XKB_KEY_backslash, KEY_102ND));
	CHECK(absent(gb, 0x10065e5));
}

static void test_layouts(void)
{
	struct kbd_keymap *km;

	CHECK(strcmp(kbd_keymap_layout(de), "de") == 0 && strcmp(kbd_keymap_variant(de), "") == 0);
	CHECK(kbd_keymap_new("xx", NULL, err, sizeof(err)) == NULL);
	CHECK(strcmp(err, "keyboard layout 'xx': not an XKB layout xkbcommon knows") == 0);
	CHECK(kbd_keymap_new("de", "nope", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "'de' variant 'nope'") != NULL);
	CHECK(kbd_keymap_new("us,de", "", err, sizeof(err)) == NULL && strstr(err, "'us,de'"));
	CHECK(kbd_keymap_new("", "", err, sizeof(err)) == NULL && kbd_keymap_new(NULL, NULL, NULL, 0) == NULL);

	km = kbd_keymap_new("de", "nodeadkeys", err, sizeof(err));
	CHECK(km && strcmp(kbd_keymap_variant(km), "nodeadkeys") == 0);
	CHECK(km && absent(km, XKB_KEY_dead_circumflex) && TYPES_AS(km, XKB_KEY_asciicircum, KEY_GRAVE));
	kbd_keymap_free(km);
	kbd_keymap_free(NULL);
}

static void test_chars(void)
{
	CHECK(kbd_keysym_for_char('\n') == XKB_KEY_Return && kbd_keysym_for_char('\r') == XKB_KEY_Return);
	CHECK(kbd_keysym_for_char('\t') == XKB_KEY_Tab);
	CHECK(kbd_keysym_for_char(0) == XKB_KEY_NoSymbol && kbd_keysym_for_char(0x1b) == XKB_KEY_NoSymbol);
	CHECK(kbd_keysym_for_char(0x7f) == XKB_KEY_NoSymbol);
	CHECK(kbd_keysym_for_char('a') == XKB_KEY_a && kbd_keysym_for_char(' ') == XKB_KEY_space);
	CHECK(kbd_keysym_for_char(0xe9) == XKB_KEY_eacute);
	CHECK(kbd_keysym_for_char(0x20ac) == XKB_KEY_EuroSign);
	CHECK(kbd_keysym_for_char(0x65e5) == 0x10065e5);
}

/* Decodes all of s; the code points in cps, or false at the first error. */
static bool decodes(const char *s, size_t len, const uint32_t *cps, unsigned int n)
{
	const char *p = s, *end = s + len;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t cp;

		if (kbd_utf8_next(&p, end, &cp) != 0 || cp != cps[i])
			return false;
	}
	return p == end;
}

static bool refused(const char *s)
{
	const char *p = s;
	uint32_t cp = 7;

	return kbd_utf8_next(&p, s + strlen(s), &cp) == -EILSEQ && p == s && cp == 7;
}

static void test_utf8(void)
{
	const char *p = "x";
	uint32_t cp;

	CHECK(decodes("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10,
		      (const uint32_t[]){ 'a', 0xe9, 0x20ac, 0x1f600 }, 4));
	CHECK(decodes("\xf4\x8f\xbf\xbf\xef\xbf\xbf", 7, (const uint32_t[]){ 0x10ffff, 0xffff }, 2));
	CHECK(decodes("\0", 1, (const uint32_t[]){ 0 }, 1));
	CHECK(refused("\xc0\x80") && refused("\xc1\xbf"));           /* overlong */
	CHECK(refused("\xe0\x80\x80") && refused("\xf0\x80\x80\x80"));
	CHECK(refused("\xed\xa0\x80") && refused("\xed\xbf\xbf"));   /* surrogates */
	CHECK(refused("\xf4\x90\x80\x80"));                          /* > U+10FFFF */
	CHECK(refused("\xe2\x82") && refused("\xc3"));               /* truncated */
	CHECK(refused("\x80") && refused("\xf8\x88\x80\x80\x80") && refused("\xff"));
	CHECK(refused("\xc3\x28"));                                  /* bad continuation */
	CHECK(kbd_utf8_next(&p, p, &cp) == -EINVAL);
}

/* AltGr for borrowed keys: de's own (Right Alt), us's <LVL3> (code 84), which text never uses. */
static void test_level3(void)
{
	struct kbd_stroke st;

	CHECK(kbd_level3_code(de) == KEY_RIGHTALT);
	CHECK(kbd_level3_code(us) == 84);
	CHECK(kbd_stroke_for_keysym(us, XKB_KEY_ISO_Level3_Shift, &st) == -ENOENT);
}

static void test_spare(void)
{
	struct xkb_rule_names names = { "evdev", "pc105", "us", "", "" };
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	struct xkb_keymap *xkb = xkb_keymap_new_from_names(ctx, &names, 0);
	uint16_t codes[256], few[3];
	unsigned int n = kbd_spare_codes(us, codes, 256);
	bool empty = true, ascending = true;

	CHECK(xkb != NULL);
	CHECK(n >= 8);
	for (unsigned int i = 0; xkb && i < n; i++) {
		xkb_keycode_t kc = codes[i] + 8u;

		ascending &= codes[i] >= 1 && codes[i] <= 247 && (i == 0 || codes[i] > codes[i - 1]);
		for (xkb_level_index_t l = 0; l < xkb_keymap_num_levels_for_key(xkb, kc, 0); l++) {
			const xkb_keysym_t *syms;

			empty &= xkb_keymap_key_get_syms_by_level(xkb, kc, 0, l, &syms) == 0;
		}
	}
	CHECK(empty && ascending);
	CHECK(kbd_spare_codes(us, few, 3) == 3 && memcmp(few, codes, sizeof(few)) == 0);
	CHECK(kbd_spare_codes(us, few, 0) == 0);
	xkb_keymap_unref(xkb);
	xkb_context_unref(ctx);
}

static void test_names(void)
{
	static const struct {
		const char *name;
		xkb_keysym_t sym;
	} cases[] = {
		{ "ctrl", XKB_KEY_Control_L }, { "CTRL", XKB_KEY_Control_L },
		{ "Control", XKB_KEY_Control_L }, { "rctrl", XKB_KEY_Control_R },
		{ "shift", XKB_KEY_Shift_L }, { "SHIFT", XKB_KEY_Shift_L },
		{ "alt", XKB_KEY_Alt_L }, { "OPTION", XKB_KEY_Alt_L },
		{ "altgr", XKB_KEY_ISO_Level3_Shift }, { "super", XKB_KEY_Super_L },
		{ "CMD", XKB_KEY_Super_L }, { "META", XKB_KEY_Super_L },
		{ "WIN", XKB_KEY_Super_L }, { "Meta_L", XKB_KEY_Meta_L },
		{ "ENTER", XKB_KEY_Return }, { "Return", XKB_KEY_Return },
		{ "ESC", XKB_KEY_Escape }, { "escape", XKB_KEY_Escape },
		{ "BACKSPACE", XKB_KEY_BackSpace }, { "TAB", XKB_KEY_Tab },
		{ "SPACE", XKB_KEY_space }, { "del", XKB_KEY_Delete },
		{ "DELETE", XKB_KEY_Delete }, { "ins", XKB_KEY_Insert },
		{ "PAGEUP", XKB_KEY_Prior }, { "page_down", XKB_KEY_Next },
		{ "Page_Up", XKB_KEY_Prior }, { "pgdn", XKB_KEY_Next },
		{ "ARROWUP", XKB_KEY_Up }, { "up", XKB_KEY_Up },
		{ "ArrowLeft", XKB_KEY_Left }, { "right", XKB_KEY_Right },
		{ "HOME", XKB_KEY_Home }, { "end", XKB_KEY_End },
		{ "CAPSLOCK", XKB_KEY_Caps_Lock }, { "caps_lock", XKB_KEY_Caps_Lock },
		{ "printscreen", XKB_KEY_Print }, { "break", XKB_KEY_Pause },
		{ "f1", XKB_KEY_F1 }, { "F12", XKB_KEY_F12 }, { "f24", XKB_KEY_F24 },
		{ "KP_0", XKB_KEY_KP_0 }, { "XF86AudioMute", XKB_KEY_XF86AudioMute },
		{ "a", XKB_KEY_a }, { "A", XKB_KEY_A }, { "/", XKB_KEY_slash },
		{ "\xc3\xa9", XKB_KEY_eacute }, { "+", XKB_KEY_plus },
		{ "plus", XKB_KEY_plus }, { "minus", XKB_KEY_minus },
		{ "dead_circumflex", XKB_KEY_dead_circumflex },
		{ "foo", XKB_KEY_NoSymbol }, { "", XKB_KEY_NoSymbol },
		{ "\x01", XKB_KEY_NoSymbol }, { "ctrl+c", XKB_KEY_NoSymbol },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xkb_keysym_t got = kbd_keysym_from_name(cases[i].name);

		CHECK(got == cases[i].sym);
		if (got != cases[i].sym)
			fprintf(stderr, "  '%s' gave 0x%x\n", cases[i].name, got);
	}
	CHECK(kbd_keysym_from_name(NULL) == XKB_KEY_NoSymbol);
}

/* KP_0..KP_9 are the keypad keys with NumLock on; the combination says so. */
static void test_numpad(void)
{
	static const uint16_t kp[10] = { KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
					 KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9 };
	struct kbd_combo c = { 0 };

	for (int i = 0; i < 10; i++) {
		CHECK(absent(us, XKB_KEY_KP_0 + (xkb_keysym_t)i));
		CHECK(kbd_numpad_code(us, XKB_KEY_KP_0 + (xkb_keysym_t)i) == kp[i]);
		CHECK(kbd_numpad_code(fr, XKB_KEY_KP_0 + (xkb_keysym_t)i) == kp[i]);
	}
	CHECK(kbd_numlock_code(us) == KEY_NUMLOCK);
	CHECK(kbd_numpad_code(us, XKB_KEY_KP_Home) == -ENOENT);   /* a stroke has it */
	CHECK(kbd_numpad_code(us, XKB_KEY_a) == -ENOENT);
	CHECK(kbd_parse_combo(us, "KP_5", &c, err, sizeof(err)) == 0 && c.numlock);
	CHECK(kbd_parse_combo(us, "KP_Begin", &c, err, sizeof(err)) == 0 && !c.numlock);
	CHECK(kbd_parse_combo(us, "ctrl+c", &c, err, sizeof(err)) == 0 && !c.numlock);
	{
		const char *names[] = { "CTRL", "KP_1" };

		CHECK(kbd_combo_from_names(us, names, 2, &c, err, sizeof(err)) == 0 && c.numlock &&
		      c.n == 2 && c.codes[1] == KEY_KP1);
		CHECK(kbd_combo_from_names(us, names, 1, &c, err, sizeof(err)) == 0 && !c.numlock);
	}
}

/* combo parses on km to exactly the codes given (0-terminated). */
static bool combo_is(const struct kbd_keymap *km, const char *combo, const uint16_t *codes)
{
	struct kbd_combo c = { 0 };
	unsigned int n = 0;
	int rc = kbd_parse_combo(km, combo, &c, err, sizeof(err));

	while (codes[n])
		n++;
	if (rc != 0 || c.n != n || memcmp(c.codes, codes, n * sizeof(*codes)) != 0) {
		fprintf(stderr, "  '%s': rc %d, %u keys, first %u (%s)\n", combo, rc, c.n,
			c.n ? c.codes[0] : 0, rc ? err : "");
		return false;
	}
	return true;
}
#define COMBO_IS(km, combo, ...) combo_is(km, combo, (const uint16_t[]){ __VA_ARGS__, 0 })

static bool combo_fails(const struct kbd_keymap *km, const char *combo, int want,
			const char *msg)
{
	struct kbd_combo c = { 0 };

	err[0] = '\0';
	if (kbd_parse_combo(km, combo, &c, err, sizeof(err)) != want || !strstr(err, msg)) {
		fprintf(stderr, "  '%s': wanted '%s' in '%s'\n", combo, msg, err);
		return false;
	}
	return true;
}

static void test_combos(void)
{
	CHECK(COMBO_IS(us, "ctrl+c", KEY_LEFTCTRL, KEY_C));
	CHECK(COMBO_IS(us, "ctrl+shift+t", KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_T));
	CHECK(COMBO_IS(us, "alt+Tab", KEY_LEFTALT, KEY_TAB));
	CHECK(COMBO_IS(us, "ctrl+A", KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_A));
	CHECK(COMBO_IS(us, "shift+A", KEY_LEFTSHIFT, KEY_A));
	CHECK(COMBO_IS(us, "ctrl++", KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_EQUAL));
	CHECK(COMBO_IS(us, "+", KEY_LEFTSHIFT, KEY_EQUAL));
	CHECK(COMBO_IS(us, "a+++b", KEY_A, KEY_LEFTSHIFT, KEY_EQUAL, KEY_B));
	CHECK(COMBO_IS(us, " ctrl + c ", KEY_LEFTCTRL, KEY_C));
	CHECK(COMBO_IS(us, "ctrl + +", KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_EQUAL));
	CHECK(COMBO_IS(us, "Return", KEY_ENTER));
	CHECK(COMBO_IS(us, "KP_Enter", KEY_KPENTER));
	CHECK(COMBO_IS(us, "KP_0", KEY_KP0));
	CHECK(COMBO_IS(us, "ctrl+KP_7", KEY_LEFTCTRL, KEY_KP7));
	CHECK(COMBO_IS(de, "KP_9", KEY_KP9));
	CHECK(COMBO_IS(us, "KP_Home", KEY_KP7));
	CHECK(COMBO_IS(us, "CMD+META+super+l", KEY_LEFTMETA, KEY_L));
	CHECK(COMBO_IS(us, "ctrl_right+alt_right+shift_right", KEY_RIGHTCTRL, KEY_RIGHTALT,
		       KEY_RIGHTSHIFT));
	CHECK(COMBO_IS(us, "altgr", KEY_RIGHTALT));
	CHECK(COMBO_IS(us, "ctrl+alt+shift+super+a+b+c+d", KEY_LEFTCTRL, KEY_LEFTALT,
		       KEY_LEFTSHIFT, KEY_LEFTMETA, KEY_A, KEY_B, KEY_C, KEY_D));
	CHECK(COMBO_IS(de, "ctrl+@", KEY_LEFTCTRL, KEY_RIGHTALT, KEY_Q));
	CHECK(COMBO_IS(de, "altgr+e", KEY_RIGHTALT, KEY_E));
	CHECK(COMBO_IS(de, "ctrl+z", KEY_LEFTCTRL, KEY_Y));
	CHECK(COMBO_IS(de, "alt_right+x", KEY_RIGHTALT, KEY_X));    /* no Alt_R on de: AltGr's key */
	CHECK(COMBO_IS(fr, "ctrl+a", KEY_LEFTCTRL, KEY_Q));

	CHECK(combo_fails(us, "ctrl+", -EINVAL, "empty key name in 'ctrl+'"));
	CHECK(combo_fails(us, "+ctrl", -EINVAL, "empty key name"));
	CHECK(combo_fails(us, "", -EINVAL, "empty key name") && combo_fails(us, NULL, -EINVAL, "empty"));
	CHECK(combo_fails(us, "ctrl+ +c", -EINVAL, "empty key name"));
	CHECK(combo_fails(us, "ctrl+foo", -EINVAL, "unknown key name 'foo'"));
	CHECK(combo_fails(us, "ctrl+\xc3\xa9", -ENOENT,
			  "key '\xc3\xa9' is not on keyboard layout 'us'"));
	CHECK(combo_fails(us, "Hyper_L+a", -ENOENT, "key 'Hyper_L' is not on"));
	CHECK(combo_fails(us, "ctrl+alt+shift+super+a+b+c+d+e", -E2BIG, "more than 8 keys"));
}

/* Keys a layout lacks, borrowed when the caller can (ctrl+c on ru, ctrl+é on us). */
static void test_combo_borrow(void)
{
	struct kbd_keymap *ru = kbd_keymap_new("ru", NULL, NULL, 0);
	struct kbd_combo c = { .borrow_ok = true };

	CHECK(ru != NULL);
	CHECK(ru && kbd_parse_combo(ru, "ctrl+c", &c, err, sizeof(err)) == 0 && c.n == 2 &&
	      c.codes[0] == KEY_LEFTCTRL && c.codes[1] == 0 && c.borrow[1] == XKB_KEY_c);
	CHECK(kbd_parse_combo(us, "ctrl+\xc3\xa9", &c, err, sizeof(err)) == 0 && c.n == 2 &&
	      c.codes[1] == 0 && c.borrow[1] == XKB_KEY_eacute);
	/* On the layout: its own key, nothing borrowed (z is on the Y key on de). */
	CHECK(kbd_parse_combo(de, "ctrl+z", &c, err, sizeof(err)) == 0 && c.n == 2 &&
	      c.codes[1] == KEY_Y);
	/* A modifier the layout lacks cannot be borrowed. */
	CHECK(kbd_parse_combo(us, "Hyper_L+a", &c, err, sizeof(err)) == -ENOENT);
	c.borrow_ok = false;
	CHECK(ru && kbd_parse_combo(ru, "ctrl+c", &c, err, sizeof(err)) == -ENOENT);
	kbd_keymap_free(ru);
}

static void test_combo_names(void)
{
	struct kbd_combo c = { 0 };

	CHECK(kbd_combo_from_names(us, (const char *const[]){ "CTRL", "C" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 2 && c.codes[0] == KEY_LEFTCTRL && c.codes[1] == KEY_C);
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "ctrl+shift", "t" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 3 && c.codes[1] == KEY_LEFTSHIFT && c.codes[2] == KEY_T);
	/* In a list a capital letter is its key, as OpenAI writes every name; "ctrl+A" still shifts. */
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "SHIFT", "A" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 2 && c.codes[0] == KEY_LEFTSHIFT && c.codes[1] == KEY_A);
	CHECK(kbd_combo_from_names(de, (const char *const[]){ "CTRL", "Z" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 2 && c.codes[0] == KEY_LEFTCTRL && c.codes[1] == KEY_Y);
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "ALT", "!" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 3 && c.codes[1] == KEY_LEFTSHIFT && c.codes[2] == KEY_1);
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "CTRL", "+" }, 2, &c, err, sizeof(err)) == 0);
	CHECK(c.n == 3 && c.codes[1] == KEY_LEFTSHIFT && c.codes[2] == KEY_EQUAL);
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "ctrl", "nope" }, 2, &c, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "unknown key name 'nope'") != NULL);
	CHECK(kbd_combo_from_names(us, (const char *const[]){ "ctrl", NULL }, 2, &c, err, sizeof(err)) == -EINVAL);
	CHECK(kbd_combo_from_names(us, NULL, 0, &c, err, sizeof(err)) == -EINVAL);
}

/*
 * One viewer key gives exactly the events want: key codes, positive for a
 * press and negative for a release, in order.
 */
static bool gives(struct kbd_viewer *v, const struct kbd_keymap *km, xkb_keysym_t sym, bool down,
		  const int *want, unsigned int nwant)
{
	struct kbd_key_event ev[16];
	int n = kbd_viewer_key(v, km, sym, down, ev, 16);
	bool same = n == (int)nwant;

	for (int i = 0; same && i < n; i++)
		same = ev[i].code == abs(want[i]) && ev[i].down == (want[i] > 0);
	if (!same) {
		fprintf(stderr, "  0x%x %s on %s gave %d:", sym, down ? "down" : "up",
			kbd_keymap_layout(km), n);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s%u", ev[i].down ? "+" : "-", ev[i].code);
		fprintf(stderr, "\n");
	}
	return same;
}
#define DOWN(v, km, sym, ...) gives(v, km, sym, true, (const int[]){ __VA_ARGS__ }, \
				    sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))
#define UP(v, km, sym, ...) gives(v, km, sym, false, (const int[]){ __VA_ARGS__ }, \
				  sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

static int key(struct kbd_viewer *v, const struct kbd_keymap *km, xkb_keysym_t sym, bool down)
{
	struct kbd_key_event ev[16];

	return kbd_viewer_key(v, km, sym, down, ev, 16);
}

static void test_viewer_us(void)
{
	struct kbd_viewer *v = kbd_viewer_new();
	struct kbd_key_event ev[4];

	CHECK(DOWN(v, us, XKB_KEY_a, KEY_A) && UP(v, us, XKB_KEY_a, -KEY_A));
	/* Shift held, then "A": the key alone. */
	CHECK(DOWN(v, us, XKB_KEY_Shift_L, KEY_LEFTSHIFT) && DOWN(v, us, XKB_KEY_A, KEY_A));
	CHECK(UP(v, us, XKB_KEY_A, -KEY_A) && UP(v, us, XKB_KEY_Shift_L, -KEY_LEFTSHIFT));
	/* "A" with no Shift held: Shift around it. */
	CHECK(DOWN(v, us, XKB_KEY_A, KEY_LEFTSHIFT, KEY_A, -KEY_LEFTSHIFT));
	CHECK(UP(v, us, XKB_KEY_A, -KEY_A));
	/* Shift held and "a" (Caps Lock on the viewer's side): Shift lifted around it. */
	CHECK(DOWN(v, us, XKB_KEY_Shift_R, KEY_RIGHTSHIFT));
	CHECK(DOWN(v, us, XKB_KEY_a, -KEY_RIGHTSHIFT, KEY_A, KEY_RIGHTSHIFT));
	CHECK(UP(v, us, XKB_KEY_a, -KEY_A));
	/* Shift held and Left selects: Shift stays. */
	CHECK(DOWN(v, us, XKB_KEY_Left, KEY_LEFT) && UP(v, us, XKB_KEY_Left, -KEY_LEFT));
	/* Shift, "A", Shift up, then "a" up: the key still comes up. */
	CHECK(DOWN(v, us, XKB_KEY_A, KEY_A) && UP(v, us, XKB_KEY_Shift_R, -KEY_RIGHTSHIFT));
	CHECK(UP(v, us, XKB_KEY_a, -KEY_A));
	/* Ctrl passes through; a repeat and an unknown release give nothing. */
	CHECK(DOWN(v, us, XKB_KEY_Control_L, KEY_LEFTCTRL) && DOWN(v, us, XKB_KEY_c, KEY_C));
	CHECK(key(v, us, XKB_KEY_c, true) == 0 && key(v, us, XKB_KEY_x, false) == 0);
	CHECK(UP(v, us, XKB_KEY_c, -KEY_C) && UP(v, us, XKB_KEY_Control_L, -KEY_LEFTCTRL));
	CHECK(DOWN(v, us, XKB_KEY_Alt_R, KEY_RIGHTALT) && UP(v, us, XKB_KEY_Alt_R, -KEY_RIGHTALT));
	CHECK(DOWN(v, us, XKB_KEY_Super_L, KEY_LEFTMETA) && UP(v, us, XKB_KEY_Super_L, -KEY_LEFTMETA));
	/* AltGr on a layout without Level3 is Right Alt anyway. */
	CHECK(DOWN(v, us, XKB_KEY_ISO_Level3_Shift, KEY_RIGHTALT));
	CHECK(UP(v, us, XKB_KEY_ISO_Level3_Shift, -KEY_RIGHTALT));
	CHECK(key(v, us, 0x10065e5, true) == -ENOENT);
	/* Too small a buffer: refused, nothing changed. */
	CHECK(kbd_viewer_key(v, us, XKB_KEY_A, true, ev, 2) == -ENOSPC);
	CHECK(kbd_viewer_release_all(v, ev, 4) == 0);
	kbd_viewer_free(v);
	kbd_viewer_free(NULL);
}

static void test_viewer_de(void)
{
	struct kbd_viewer *v = kbd_viewer_new();

	CHECK(DOWN(v, de, XKB_KEY_z, KEY_Y) && UP(v, de, XKB_KEY_z, -KEY_Y));
	/* A US viewer types "@" (Shift+2) into a German guest. */
	CHECK(DOWN(v, de, XKB_KEY_Shift_L, KEY_LEFTSHIFT));
	CHECK(DOWN(v, de, XKB_KEY_at, -KEY_LEFTSHIFT, KEY_RIGHTALT, KEY_Q, -KEY_RIGHTALT,
		   KEY_LEFTSHIFT));
	CHECK(UP(v, de, XKB_KEY_at, -KEY_Q) && UP(v, de, XKB_KEY_Shift_L, -KEY_LEFTSHIFT));
	/* A German viewer holds AltGr itself: the key alone. */
	CHECK(DOWN(v, de, XKB_KEY_ISO_Level3_Shift, KEY_RIGHTALT) && DOWN(v, de, XKB_KEY_at, KEY_Q));
	CHECK(DOWN(v, de, XKB_KEY_EuroSign, KEY_E));
	CHECK(UP(v, de, XKB_KEY_at, -KEY_Q) && UP(v, de, XKB_KEY_EuroSign, -KEY_E));
	/* AltGr held and a plain letter: AltGr lifted around it. */
	CHECK(DOWN(v, de, XKB_KEY_a, -KEY_RIGHTALT, KEY_A, KEY_RIGHTALT));
	CHECK(UP(v, de, XKB_KEY_a, -KEY_A) && UP(v, de, XKB_KEY_ISO_Level3_Shift, -KEY_RIGHTALT));
	/* Mode_switch is AltGr too; "@" with nothing held presses it around Q. */
	CHECK(DOWN(v, de, XKB_KEY_Mode_switch, KEY_RIGHTALT) && UP(v, de, XKB_KEY_Mode_switch, -KEY_RIGHTALT));
	CHECK(DOWN(v, de, XKB_KEY_at, KEY_RIGHTALT, KEY_Q, -KEY_RIGHTALT) && UP(v, de, XKB_KEY_at, -KEY_Q));
	kbd_viewer_free(v);
}

static void test_viewer_release_all(void)
{
	struct kbd_viewer *v = kbd_viewer_new();
	struct kbd_key_event ev[KBD_MAX_HELD + 1];
	xkb_keysym_t syms[KBD_MAX_HELD + 1];
	bool ok = true;

	CHECK(DOWN(v, us, XKB_KEY_Control_L, KEY_LEFTCTRL) && DOWN(v, us, XKB_KEY_Shift_L, KEY_LEFTSHIFT));
	CHECK(DOWN(v, us, XKB_KEY_X, KEY_X));
	CHECK(kbd_viewer_release_all(v, ev, 1) == 1 && ev[0].code == KEY_X && !ev[0].down);
	CHECK(kbd_viewer_release_all(v, ev, 4) == 2);
	CHECK(ev[0].code == KEY_LEFTSHIFT && !ev[0].down && ev[1].code == KEY_LEFTCTRL && !ev[1].down);
	CHECK(kbd_viewer_release_all(v, ev, 4) == 0);

	/* Up to KBD_MAX_HELD keys; one more press is ignored. */
	for (int i = 0; i < KBD_MAX_HELD + 1; i++)
		syms[i] = i < 26 ? XKB_KEY_a + i : XKB_KEY_0 + (i - 26);
	for (int i = 0; i < KBD_MAX_HELD; i++)
		ok &= key(v, us, syms[i], true) == 1;
	CHECK(ok);
	CHECK(key(v, us, syms[KBD_MAX_HELD], true) == 0);
	CHECK(key(v, us, syms[KBD_MAX_HELD], false) == 0);
	CHECK(kbd_viewer_release_all(v, ev, KBD_MAX_HELD + 1) == KBD_MAX_HELD);
	CHECK(ev[0].code == KEY_5 && ev[KBD_MAX_HELD - 1].code == KEY_A);
	CHECK(kbd_viewer_release_all(NULL, ev, 4) == 0);
	kbd_viewer_free(v);
}

int main(void)
{
	us = kbd_keymap_new("us", NULL, err, sizeof(err));
	de = kbd_keymap_new("de", "", err, sizeof(err));
	fr = kbd_keymap_new("fr", NULL, err, sizeof(err));
	gb = kbd_keymap_new("gb", NULL, err, sizeof(err));
	if (!us || !de || !fr || !gb) {
		fprintf(stderr, "cannot compile the test layouts: %s\n", err);
		return 1;
	}
	RUN(test_strokes);
	RUN(test_layouts);
	RUN(test_chars);
	RUN(test_utf8);
	RUN(test_spare);
	RUN(test_level3);
	RUN(test_names);
	RUN(test_combos);
	RUN(test_combo_borrow);
	RUN(test_combo_names);
	RUN(test_numpad);
	RUN(test_viewer_us);
	RUN(test_viewer_de);
	RUN(test_viewer_release_all);
	kbd_keymap_free(us);
	kbd_keymap_free(de);
	kbd_keymap_free(fr);
	kbd_keymap_free(gb);
	return check_done();
}
