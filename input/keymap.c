/*
 * Keyboard layouts with libxkbcommon (see keymap.h). At kbd_keymap_new the
 * layout is walked once with an xkb_state: which keys set Shift, Level3 and
 * Level5, what every key gives with each set of those held, and from that a
 * table sorted by keysym of the cheapest stroke for every symbol. After
 * that a keymap is only read, so threads (VNC viewers) may share one.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errf.h"
#include "keymap.h"

#ifndef KBD_XKB_ROOT
#define KBD_XKB_ROOT "/usr/share/X11/xkb"       /* xkeyboard-config, as the guest has it */
#endif

#define KBD_LAST_CODE 247       /* X keycodes end at 255 = evdev 247 + 8 */
#define KBD_NAME_MAX 64
#define KBD_NUMPAD_MAX 24       /* keypad keys that NumLock changes */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Level modifiers a stroke may hold, in the order a stroke presses them. */
enum { KBD_SHIFT, KBD_LEVEL3, KBD_LEVEL5, KBD_NROLES };
static const xkb_keysym_t kbd_role_syms[KBD_NROLES] = {
	XKB_KEY_Shift_L, XKB_KEY_ISO_Level3_Shift, XKB_KEY_ISO_Level5_Shift,
};

struct kbd_entry {
	xkb_keysym_t sym;
	bool keypad;
	struct kbd_stroke st;
};

struct kbd_keymap {
	struct xkb_keymap *xkb;
	char layout[KBD_NAME_MAX];
	char variant[KBD_NAME_MAX];
	uint16_t role_code[KBD_NROLES];         /* key setting each level modifier, 0 if none */
	xkb_mod_mask_t role_mods[KBD_NROLES];
	unsigned int roles;                     /* the roles that have a key (bit r: role r) */
	xkb_mod_mask_t level_mask;              /* their modifiers */
	xkb_mod_mask_t code_mods[KBD_LAST_CODE + 1];   /* what each key sets, pressed alone */
	/* What each key gives with each set of level modifiers (bit r: role r held). */
	xkb_keysym_t level_syms[KBD_LAST_CODE + 1][1 << KBD_NROLES];
	struct kbd_entry *table;                /* sorted by sym, one entry per sym */
	size_t n, cap;
	int numlock_code;                       /* the Num_Lock key, -ENOENT if none */
	struct {
		xkb_keysym_t sym;               /* what the key gives with NumLock on */
		uint16_t code;
	} numpad[KBD_NUMPAD_MAX];
	unsigned int nnumpad;
	_Atomic unsigned int refs;              /* kbd_keymap_ref; freed at 0 */
};

struct kbd_held {
	xkb_keysym_t sym;
	uint16_t code;
};

struct kbd_viewer {
	unsigned int n;
	struct kbd_held held[KBD_MAX_HELD];
};

/* "'de'" or "'de' variant 'neo'", for messages. */
static const char *kbd_describe(char *buf, size_t len, const char *layout, const char *variant)
{
	snprintf(buf, len, "'%.*s'%s%.*s%s", KBD_NAME_MAX, layout, *variant ? " variant '" : "",
		 KBD_NAME_MAX, variant, *variant ? "'" : "");
	return buf;
}

/* xkbcommon would print compile errors to stderr; the caller reports instead. */
static void kbd_log_discard(struct xkb_context *ctx, enum xkb_log_level level,
			    const char *fmt, va_list args)
{
	(void)ctx, (void)level, (void)fmt, (void)args;
}

/* Layout and variant names are plain words, so "us,de" or "us(x)" cannot pick other groups. */
static bool kbd_valid_name(const char *s, bool may_be_empty)
{
	size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return s[len] == '\0' && len < KBD_NAME_MAX && (len > 0 || may_be_empty);
}

/*
 * xkeyboard-config's virtual modifier keys (<LVL3> = evdev 84, <MDSW>,
 * <ALT>, <META>, <SUPR>, <HYPR> = 195..199) sit on codes no keyboard sends:
 * never type with them.
 */
static bool kbd_fake_key(struct xkb_keymap *xkb, xkb_keycode_t kc)
{
	static const char *const fake[] = { "LVL3", "MDSW", "ALT", "META", "SUPR", "HYPR" };
	const char *name = xkb_keymap_key_get_name(xkb, kc);

	for (size_t i = 0; name && i < ARRAY_SIZE(fake); i++)
		if (strcmp(name, fake[i]) == 0)
			return true;
	return false;
}

static xkb_keysym_t kbd_first_sym(struct xkb_keymap *xkb, xkb_keycode_t kc)
{
	const xkb_keysym_t *syms;

	return xkb_keymap_key_get_syms_by_level(xkb, kc, 0, 0, &syms) == 1 ? syms[0]
									     : XKB_KEY_NoSymbol;
}

/* The modifiers of the set of level roles held (bit r: role r). */
static xkb_mod_mask_t kbd_roles_mask(const struct kbd_keymap *km, unsigned int roles)
{
	xkb_mod_mask_t mods = 0;

	for (int r = 0; r < KBD_NROLES; r++)
		if (roles & (1u << r))
			mods |= km->role_mods[r];
	return mods;
}

/*
 * Presses every real key alone in a fresh state to learn the modifiers it
 * sets, and picks the key for each level modifier: the lowest key whose
 * first symbol is Shift_L, ISO_Level3_Shift, ISO_Level5_Shift. Then notes
 * what each key gives under each set of those, so that later questions
 * need no xkb_state (whose keymap reference count is not thread-safe).
 */
static int kbd_scan_modifiers(struct kbd_keymap *km)
{
	struct xkb_state *state = xkb_state_new(km->xkb);
	xkb_keycode_t max = xkb_keymap_max_keycode(km->xkb);

	if (!state)
		return -ENOMEM;
	for (xkb_keycode_t kc = 9; kc <= max && kc <= KBD_LAST_CODE + 8; kc++) {
		uint16_t code = (uint16_t)(kc - 8);
		xkb_keysym_t sym = kbd_first_sym(km->xkb, kc);

		if (kc < xkb_keymap_min_keycode(km->xkb) || kbd_fake_key(km->xkb, kc))
			continue;
		xkb_state_update_key(state, kc, XKB_KEY_DOWN);
		km->code_mods[code] = xkb_state_serialize_mods(state, XKB_STATE_MODS_DEPRESSED);
		xkb_state_update_key(state, kc, XKB_KEY_UP);
		xkb_state_update_mask(state, 0, 0, 0, 0, 0, 0);     /* undo locks and latches */
		for (int r = 0; r < KBD_NROLES; r++)
			if (sym == kbd_role_syms[r] && !km->role_code[r] && km->code_mods[code]) {
				km->role_code[r] = code;
				km->role_mods[r] = km->code_mods[code];
				km->level_mask |= km->code_mods[code];
				km->roles |= 1u << r;
			}
	}
	for (xkb_keycode_t kc = 9; kc <= max && kc <= KBD_LAST_CODE + 8; kc++)
		for (unsigned int roles = 0; roles < (1u << KBD_NROLES); roles++) {
			xkb_state_update_mask(state, kbd_roles_mask(km, roles), 0, 0, 0, 0, 0);
			km->level_syms[kc - 8][roles] = xkb_state_key_get_one_sym(state, kc);
		}
	xkb_state_unref(state);
	return 0;
}

static int kbd_table_push(struct kbd_keymap *km, xkb_keysym_t sym, const struct kbd_stroke *st,
			  bool keypad)
{
	if (km->n == km->cap) {
		size_t cap = km->cap ? km->cap * 2 : 512;
		struct kbd_entry *t = realloc(km->table, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		km->table = t;
		km->cap = cap;
	}
	km->table[km->n++] = (struct kbd_entry){ .sym = sym, .keypad = keypad, .st = *st };
	return 0;
}

/*
 * Files sym, and for a printable character also its other keysym spelling
 * (legacy "eacute" or Unicode "U00E9"), so either finds the key. Keypad
 * symbols keep only their own name: "*" should not come from the keypad.
 */
static int kbd_table_add(struct kbd_keymap *km, xkb_keysym_t sym, const struct kbd_stroke *st,
			 bool keypad)
{
	uint32_t cp = keypad ? 0 : xkb_keysym_to_utf32(sym);
	xkb_keysym_t legacy, unicode = 0x1000000 | cp;
	int rc = kbd_table_push(km, sym, st, keypad);

	if (rc || cp < 0x20 || cp == 0x7f)
		return rc;
	legacy = xkb_utf32_to_keysym(cp);
	if (legacy != sym && legacy != XKB_KEY_NoSymbol)
		rc = kbd_table_push(km, legacy, st, keypad);
	if (!rc && unicode != sym && unicode != legacy)
		rc = kbd_table_push(km, unicode, st, keypad);
	return rc;
}

/*
 * Every symbol key code gives with a set of level modifiers that have keys,
 * as xkb_state computes it. (xkb_keymap_key_get_mods_for_level can name a
 * mask that never reaches its level: on "dz", Shift+LevelFive for U202F on
 * the space bar, where LevelFive is bound to nothing and Shift gives space.)
 */
static int kbd_table_add_key(struct kbd_keymap *km, uint16_t code)
{
	xkb_keysym_t first = km->level_syms[code][0];
	bool keypad = first >= XKB_KEY_KP_Space && first <= XKB_KEY_KP_Equal;

	for (unsigned int roles = 0; roles < (1u << KBD_NROLES); roles++) {
		struct kbd_stroke st = { .code = code };
		xkb_keysym_t sym = km->level_syms[code][roles];
		int rc;

		if (sym == XKB_KEY_NoSymbol || (roles & ~km->roles))
			continue;
		for (int r = 0; r < KBD_NROLES; r++)
			if (roles & (1u << r))
				st.mods[st.nmods++] = km->role_code[r];
		rc = kbd_table_add(km, sym, &st, keypad);
		if (rc)
			return rc;
	}
	return 0;
}

/* Best first: by keysym, then no modifiers, fewer modifiers, main keys, lower code. */
static int kbd_entry_cmp(const void *a, const void *b)
{
	const struct kbd_entry *x = a, *y = b;

	if (x->sym != y->sym)
		return x->sym < y->sym ? -1 : 1;
	if (x->st.nmods != y->st.nmods)
		return x->st.nmods - y->st.nmods;
	if (x->keypad != y->keypad)
		return x->keypad - y->keypad;
	return x->st.code - y->st.code;
}

static int kbd_build_table(struct kbd_keymap *km)
{
	xkb_keycode_t max = xkb_keymap_max_keycode(km->xkb);
	size_t n = 0;

	for (xkb_keycode_t kc = xkb_keymap_min_keycode(km->xkb);
	     kc <= max && kc <= KBD_LAST_CODE + 8; kc++) {
		int rc = kc < 9 || kbd_fake_key(km->xkb, kc) ? 0 : kbd_table_add_key(km, (uint16_t)(kc - 8));

		if (rc)
			return rc;
	}
	if (km->n)
		qsort(km->table, km->n, sizeof(*km->table), kbd_entry_cmp);
	for (size_t i = 0; i < km->n; i++)
		if (n == 0 || km->table[n - 1].sym != km->table[i].sym)
			km->table[n++] = km->table[i];
	km->n = n;
	return 0;
}

/*
 * The keypad keys whose symbol NumLock changes, with what they give once the
 * Num_Lock key has been pressed and released (as xkb_state computes it), for
 * the symbols no stroke gives.
 */
static int kbd_scan_numpad(struct kbd_keymap *km)
{
	struct kbd_stroke st;
	struct xkb_state *state;

	km->numlock_code = -ENOENT;
	if (kbd_stroke_for_keysym(km, XKB_KEY_Num_Lock, &st) < 0 || st.nmods)
		return 0;
	km->numlock_code = st.code;
	state = xkb_state_new(km->xkb);
	if (!state)
		return -ENOMEM;
	xkb_state_update_key(state, st.code + 8u, XKB_KEY_DOWN);
	xkb_state_update_key(state, st.code + 8u, XKB_KEY_UP);
	for (uint16_t code = 1; code <= KBD_LAST_CODE && km->nnumpad < KBD_NUMPAD_MAX; code++) {
		xkb_keysym_t first = km->level_syms[code][0];
		xkb_keysym_t sym = xkb_state_key_get_one_sym(state, code + 8u);
		struct kbd_stroke other;

		if (first < XKB_KEY_KP_Space || first > XKB_KEY_KP_Equal || sym == first ||
		    sym == XKB_KEY_NoSymbol || kbd_stroke_for_keysym(km, sym, &other) == 0 ||
		    kbd_numpad_code(km, sym) >= 0)
			continue;
		km->numpad[km->nnumpad].sym = sym;
		km->numpad[km->nnumpad++].code = code;
	}
	xkb_state_unref(state);
	return 0;
}

/*
 * The layout is compiled with rules evdev, model pc105, no options, from
 * KBD_XKB_ROOT only: neither the environment nor ~/.xkb can change it.
 */
struct kbd_keymap *kbd_keymap_new(const char *layout, const char *variant,
				  char *err, size_t errlen)
{
	struct xkb_rule_names names = { .rules = "evdev", .model = "pc105" };
	char desc[2 * KBD_NAME_MAX + 16];
	struct xkb_context *ctx;
	struct kbd_keymap *km;

	layout = layout ? layout : "";
	variant = variant ? variant : "";
	kbd_describe(desc, sizeof(desc), layout, variant);
	if (!kbd_valid_name(layout, false) || !kbd_valid_name(variant, true)) {
		errf(err, errlen, "keyboard layout %s: not an XKB layout name", desc);
		return NULL;
	}
	km = calloc(1, sizeof(*km));
	if (km)
		km->refs = 1;
	ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES | XKB_CONTEXT_NO_DEFAULT_INCLUDES);
	if (!km || !ctx)
		goto out_nomem;
	xkb_context_set_log_fn(ctx, kbd_log_discard);
	if (!xkb_context_include_path_append(ctx, KBD_XKB_ROOT)) {
		errf(err, errlen, "no XKB data (xkeyboard-config) in %s", KBD_XKB_ROOT);
		goto out_free;
	}
	strcpy(km->layout, layout);
	strcpy(km->variant, variant);
	names.layout = layout;
	names.variant = variant;
	km->xkb = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (!km->xkb) {
		errf(err, errlen, "keyboard layout %s: not an XKB layout xkbcommon knows", desc);
		goto out_free;
	}
	if (kbd_scan_modifiers(km) || kbd_build_table(km) || kbd_scan_numpad(km))
		goto out_nomem;
	xkb_context_unref(ctx);
	return km;

out_nomem:
	errf(err, errlen, "keyboard layout %s: out of memory", desc);
out_free:
	xkb_context_unref(ctx);
	kbd_keymap_free(km);
	return NULL;
}

struct kbd_keymap *kbd_keymap_ref(struct kbd_keymap *km)
{
	km->refs++;
	return km;
}

void kbd_keymap_free(struct kbd_keymap *km)
{
	if (!km || --km->refs > 0)
		return;
	xkb_keymap_unref(km->xkb);
	free(km->table);
	free(km);
}

const char *kbd_keymap_layout(const struct kbd_keymap *km)
{
	return km->layout;
}

const char *kbd_keymap_variant(const struct kbd_keymap *km)
{
	return km->variant;
}

int kbd_stroke_for_keysym(const struct kbd_keymap *km, xkb_keysym_t sym, struct kbd_stroke *out)
{
	size_t lo = 0, hi = km->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (km->table[mid].sym == sym) {
			*out = km->table[mid].st;
			return 0;
		}
		if (km->table[mid].sym < sym)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

int kbd_numpad_code(const struct kbd_keymap *km, xkb_keysym_t sym)
{
	for (unsigned int i = 0; i < km->nnumpad; i++)
		if (km->numpad[i].sym == sym)
			return km->numpad[i].code;
	return -ENOENT;
}

int kbd_numlock_code(const struct kbd_keymap *km)
{
	return km->numlock_code;
}

uint16_t kbd_level3_code(const struct kbd_keymap *km)
{
	xkb_keycode_t max = xkb_keymap_max_keycode(km->xkb);

	if (km->roles & (1u << KBD_LEVEL3))
		return km->role_code[KBD_LEVEL3];
	for (xkb_keycode_t kc = 9; kc <= max && kc <= KBD_LAST_CODE + 8; kc++)
		if (kbd_first_sym(km->xkb, kc) == XKB_KEY_ISO_Level3_Shift)
			return (uint16_t)(kc - 8);
	return 0;
}

xkb_keysym_t kbd_keysym_for_char(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return XKB_KEY_Return;
	if (cp == '\t')
		return XKB_KEY_Tab;
	if (cp < 0x20 || cp == 0x7f || cp > 0x10ffff)
		return XKB_KEY_NoSymbol;
	return xkb_utf32_to_keysym(cp);
}

int kbd_utf8_next(const char **p, const char *end, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t c, min;
	size_t n;

	if (*p >= end)
		return -EINVAL;
	c = s[0];
	if (c < 0x80) {
		n = 0, min = 0;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, min = 0x10000, c &= 0x07;
	} else {
		return -EILSEQ;             /* a continuation byte, or 0xf8..0xff */
	}
	if ((size_t)(end - *p) <= n)
		return -EILSEQ;
	for (size_t i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EILSEQ;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -EILSEQ;
	*cp = c;
	*p += n + 1;
	return 0;
}

static bool kbd_key_has_syms(struct xkb_keymap *xkb, xkb_keycode_t kc)
{
	xkb_layout_index_t nlayouts = xkb_keymap_num_layouts_for_key(xkb, kc);

	for (xkb_layout_index_t l = 0; l < nlayouts; l++)
		for (xkb_level_index_t v = 0; v < xkb_keymap_num_levels_for_key(xkb, kc, l); v++) {
			const xkb_keysym_t *syms;

			if (xkb_keymap_key_get_syms_by_level(xkb, kc, l, v, &syms) > 0)
				return true;
		}
	return false;
}

unsigned int kbd_spare_codes(const struct kbd_keymap *km, uint16_t *codes, unsigned int max)
{
	xkb_keycode_t lo = xkb_keymap_min_keycode(km->xkb), hi = xkb_keymap_max_keycode(km->xkb);
	unsigned int n = 0;

	for (uint16_t code = 1; code <= KBD_LAST_CODE && n < max; code++)
		if (code + 8u >= lo && code + 8u <= hi && !kbd_key_has_syms(km->xkb, code + 8u))
			codes[n++] = code;
	return n;
}

/*
 * Names agents use that are no X keysym name, case-insensitive, space
 * separated. "meta", "cmd", "win" are the OS key as agents mean it
 * (OpenAI's META, a Mac's Command): Super_L, not X's Meta_L, which sits on
 * Shift+Alt. Names that are X names in another case ("tab", "f5",
 * "page_up", "backspace") are left to xkbcommon.
 */
static const struct {
	const char *names;
	xkb_keysym_t sym;
} kbd_aliases[] = {
	{ "ctrl control ctl lctrl ctrl_left control_left ctrl_l", XKB_KEY_Control_L },
	{ "rctrl ctrl_right control_right ctrl_r", XKB_KEY_Control_R },
	{ "shift lshift shift_left", XKB_KEY_Shift_L },
	{ "rshift shift_right", XKB_KEY_Shift_R },
	{ "alt option opt lalt alt_left option_left", XKB_KEY_Alt_L },
	{ "ralt alt_right option_right", XKB_KEY_Alt_R },
	{ "altgr alt_gr", XKB_KEY_ISO_Level3_Shift },
	{ "super win windows cmd command meta lwin super_left win_left cmd_left meta_left",
	  XKB_KEY_Super_L },
	{ "rwin super_right win_right cmd_right meta_right", XKB_KEY_Super_R },
	{ "enter return", XKB_KEY_Return },          { "esc escape", XKB_KEY_Escape },
	{ "del", XKB_KEY_Delete },                   { "ins", XKB_KEY_Insert },
	{ "pageup pgup page_up", XKB_KEY_Prior },    { "pagedown pgdn page_down", XKB_KEY_Next },
	{ "arrowup arrow_up", XKB_KEY_Up },          { "arrowdown arrow_down", XKB_KEY_Down },
	{ "arrowleft arrow_left", XKB_KEY_Left },    { "arrowright arrow_right", XKB_KEY_Right },
	{ "capslock", XKB_KEY_Caps_Lock },           { "numlock", XKB_KEY_Num_Lock },
	{ "scrolllock", XKB_KEY_Scroll_Lock },       { "break", XKB_KEY_Pause },
	{ "printscreen print_screen prtsc prtscr", XKB_KEY_Print },
	{ "apps contextmenu context_menu", XKB_KEY_Menu }, { "spacebar", XKB_KEY_space },
};

static xkb_keysym_t kbd_alias(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(kbd_aliases); i++)
		for (const char *p = kbd_aliases[i].names; *p;) {
			size_t n = strcspn(p, " ");

			if (n == len && strncasecmp(p, name, n) == 0)
				return kbd_aliases[i].sym;
			p += n + (p[n] == ' ');
		}
	return XKB_KEY_NoSymbol;
}

xkb_keysym_t kbd_keysym_from_name(const char *name)
{
	const char *p = name;
	xkb_keysym_t sym;
	uint32_t cp;

	if (!name || !*name)
		return XKB_KEY_NoSymbol;
	sym = kbd_alias(name);
	if (sym != XKB_KEY_NoSymbol)
		return sym;
	if (kbd_utf8_next(&p, name + strlen(name), &cp) == 0 && *p == '\0')
		return kbd_keysym_for_char(cp);
	sym = xkb_keysym_from_name(name, XKB_KEYSYM_NO_FLAGS);
	if (sym != XKB_KEY_NoSymbol)
		return sym;
	return xkb_keysym_from_name(name, XKB_KEYSYM_CASE_INSENSITIVE);
}

/* Modifier keysyms, with the key to use when the layout has none giving them. */
static const struct {
	xkb_keysym_t sym;
	uint16_t code;
} kbd_mod_keys[] = {
	{ XKB_KEY_Shift_L, KEY_LEFTSHIFT },        { XKB_KEY_Shift_R, KEY_RIGHTSHIFT },
	{ XKB_KEY_Control_L, KEY_LEFTCTRL },       { XKB_KEY_Control_R, KEY_RIGHTCTRL },
	{ XKB_KEY_Alt_L, KEY_LEFTALT },            { XKB_KEY_Alt_R, KEY_RIGHTALT },
	{ XKB_KEY_Super_L, KEY_LEFTMETA },         { XKB_KEY_Super_R, KEY_RIGHTMETA },
	{ XKB_KEY_Meta_L, KEY_LEFTMETA },          { XKB_KEY_Meta_R, KEY_RIGHTMETA },
	{ XKB_KEY_ISO_Level3_Shift, KEY_RIGHTALT }, { XKB_KEY_Mode_switch, KEY_RIGHTALT },
	{ XKB_KEY_Hyper_L, 0 },                    { XKB_KEY_Hyper_R, 0 },
	{ XKB_KEY_ISO_Level5_Shift, 0 },
};

/*
 * The key for modifier keysym sym: the layout's key giving it with no
 * modifier held, else the usual key (AltGr on "us" is Right Alt). 0 when
 * sym is no modifier, -ENOENT when there is no key for it.
 */
static int kbd_modifier_code(const struct kbd_keymap *km, xkb_keysym_t sym)
{
	struct kbd_stroke st;

	for (size_t i = 0; i < ARRAY_SIZE(kbd_mod_keys); i++) {
		if (kbd_mod_keys[i].sym != sym)
			continue;
		if (kbd_stroke_for_keysym(km, sym, &st) == 0 && st.nmods == 0)
			return st.code;
		return kbd_mod_keys[i].code ? kbd_mod_keys[i].code : -ENOENT;
	}
	return 0;
}

/* Adds key code, or (code 0) the keysym sym to type on a borrowed key, once. */
static int kbd_combo_add(struct kbd_combo *c, uint16_t code, xkb_keysym_t sym)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->codes[i] == code && (code || c->borrow[i] == sym))
			return 0;
	if (c->n == KBD_MAX_COMBO)
		return -E2BIG;
	c->borrow[c->n] = code ? XKB_KEY_NoSymbol : sym;
	c->codes[c->n++] = code;
	return 0;
}

/*
 * Appends the keys of one trimmed key name (len bytes at name) of
 * combination text; with fold, a capital ASCII letter names its key.
 */
static int kbd_combo_add_name(const struct kbd_keymap *km, const char *name, size_t len,
			      const char *text, bool fold, struct kbd_combo *out, char *err,
			      size_t errlen)
{
	char buf[KBD_NAME_MAX], desc[2 * KBD_NAME_MAX + 16];
	xkb_keysym_t sym = XKB_KEY_NoSymbol;
	struct kbd_stroke st;
	int code, rc = 0;

	if (len < sizeof(buf)) {
		memcpy(buf, name, len);
		buf[len] = '\0';
		if (fold && len == 1 && buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
		sym = kbd_keysym_from_name(buf);
	}
	if (sym == XKB_KEY_NoSymbol) {
		errf(err, errlen, "unknown key name '%.*s'", (int)(len < 64 ? len : 64), name);
		return -EINVAL;
	}
	code = kbd_modifier_code(km, sym);
	if (code == 0 && kbd_stroke_for_keysym(km, sym, &st) == 0) {
		for (unsigned int i = 0; i < st.nmods && !rc; i++)
			rc = kbd_combo_add(out, st.mods[i], XKB_KEY_NoSymbol);
		code = st.code;
	} else if (code == 0 && kbd_numpad_code(km, sym) >= 0) {
		code = kbd_numpad_code(km, sym);
		out->numlock = true;
	} else if (code == 0) {
		code = out->borrow_ok ? 0 : -ENOENT;    /* 0: a borrowed key will type it */
	}
	if (code < 0) {
		errf(err, errlen, "key '%s' is not on keyboard layout %s", buf,
			kbd_describe(desc, sizeof(desc), km->layout, km->variant));
		return -ENOENT;
	}
	rc = rc ? rc : kbd_combo_add(out, (uint16_t)code, sym);
	if (rc)
		errf(err, errlen, "'%.64s' has more than %d keys", text, KBD_MAX_COMBO);
	return rc;
}

/* A trimmed name from s to e (not included). */
static void kbd_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * Appends the keys of text to out. Names are split at '+'; two empty names
 * in a row are the plus key itself ("+", "ctrl++", "a+++b"), one alone is
 * an error ("ctrl+", "+ctrl", "").
 */
static int kbd_combo_add_text(const struct kbd_keymap *km, const char *text, bool fold,
			      struct kbd_combo *out, char *err, size_t errlen)
{
	for (const char *p = text;;) {
		const char *sep = strchrnul(p, '+'), *s = p, *e = sep;
		int rc;

		kbd_trim(&s, &e);
		if (s == e && *sep == '+') {
			const char *sep2 = strchrnul(sep + 1, '+'), *s2 = sep + 1, *e2 = sep2;

			kbd_trim(&s2, &e2);
			if (s2 == e2) {
				s = sep, e = sep + 1, sep = sep2;
			}
		}
		if (s == e) {
			errf(err, errlen, "empty key name in '%.64s'", text);
			return -EINVAL;
		}
		rc = kbd_combo_add_name(km, s, (size_t)(e - s), text, fold, out, err, errlen);
		if (rc || *sep == '\0')
			return rc;
		p = sep + 1;
	}
}

int kbd_parse_combo(const struct kbd_keymap *km, const char *combo, struct kbd_combo *out,
		    char *err, size_t errlen)
{
	out->n = 0;
	out->numlock = false;
	return kbd_combo_add_text(km, combo ? combo : "", false, out, err, errlen);
}

int kbd_combo_from_names(const struct kbd_keymap *km, const char *const *names, unsigned int n,
			 struct kbd_combo *out, char *err, size_t errlen)
{
	int rc = n ? 0 : -EINVAL;

	out->n = 0;
	out->numlock = false;
	if (rc)
		errf(err, errlen, "no key names");
	for (unsigned int i = 0; i < n && !rc; i++)
		rc = kbd_combo_add_text(km, names[i] ? names[i] : "", true, out, err, errlen);
	return rc;
}


struct kbd_viewer *kbd_viewer_new(void)
{
	return calloc(1, sizeof(struct kbd_viewer));
}

void kbd_viewer_free(struct kbd_viewer *v)
{
	free(v);
}

/* Events of one viewer key, gathered before any is handed out. */
struct kbd_events {
	unsigned int n;
	struct kbd_key_event ev[2 * KBD_MAX_HELD + 2 * KBD_MAX_MODS + 1];
};

static void kbd_push(struct kbd_events *e, uint16_t code, bool down)
{
	if (e->n < ARRAY_SIZE(e->ev))
		e->ev[e->n++] = (struct kbd_key_event){ .code = code, .down = down };
}

/* Whether a held key other than held[skip] is down on code. */
static bool kbd_code_down(const struct kbd_viewer *v, uint16_t code, unsigned int skip)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (i != skip && v->held[i].code == code)
			return true;
	return false;
}

/* The level roles (Shift, Level3, Level5) the viewer's held keys set on the device. */
static unsigned int kbd_held_roles(const struct kbd_viewer *v, const struct kbd_keymap *km)
{
	xkb_mod_mask_t mods = 0;
	unsigned int roles = 0;

	for (unsigned int i = 0; i < v->n; i++)
		mods |= km->code_mods[v->held[i].code];
	for (int r = 0; r < KBD_NROLES; r++)
		if ((km->roles & (1u << r)) && (mods & km->role_mods[r]) == km->role_mods[r])
			roles |= 1u << r;
	return roles;
}

/*
 * The events that press a non-modifier key for sym: its key alone when the
 * level modifiers the viewer holds already give sym there (Shift then "A",
 * Shift then Left), else held level keys it must not have released and
 * missing ones pressed around it, then put back in reverse order.
 */
static int kbd_viewer_press(const struct kbd_viewer *v, const struct kbd_keymap *km,
			    xkb_keysym_t sym, struct kbd_events *e)
{
	uint16_t released[KBD_MAX_HELD], pressed[KBD_MAX_MODS];
	unsigned int nrel = 0, npress = 0;
	xkb_mod_mask_t need = 0, have = 0;
	struct kbd_stroke st;
	int rc = kbd_stroke_for_keysym(km, sym, &st);

	if (rc || kbd_code_down(v, st.code, KBD_MAX_HELD))
		return rc ? rc : st.code;       /* a key already down stays down */
	if (km->level_syms[st.code][kbd_held_roles(v, km)] == sym) {
		kbd_push(e, st.code, true);
		return st.code;
	}
	for (unsigned int m = 0; m < st.nmods; m++)
		need |= km->code_mods[st.mods[m]];
	for (unsigned int i = 0; i < v->n; i++) {
		uint16_t c = v->held[i].code;
		xkb_mod_mask_t bits = km->code_mods[c] & km->level_mask;
		bool seen = false;

		for (unsigned int j = 0; j < nrel; j++)
			seen |= released[j] == c;
		if (!(bits & ~need)) {
			have |= bits;
		} else if (!seen) {
			released[nrel++] = c;
			kbd_push(e, c, false);
		}
	}
	for (unsigned int m = 0; m < st.nmods; m++)
		if (km->code_mods[st.mods[m]] & ~have) {
			pressed[npress++] = st.mods[m];
			kbd_push(e, st.mods[m], true);
		}
	kbd_push(e, st.code, true);
	while (npress)
		kbd_push(e, pressed[--npress], false);
	while (nrel)
		kbd_push(e, released[--nrel], true);
	return st.code;
}

/*
 * The held key a release of sym ends: the one pressed for sym, else the
 * one on sym's key (Shift, "A", Shift up, then "a" up); -1 if none.
 */
static int kbd_viewer_find(const struct kbd_viewer *v, const struct kbd_keymap *km,
			   xkb_keysym_t sym)
{
	struct kbd_stroke st;
	int code = kbd_modifier_code(km, sym);

	for (unsigned int i = v->n; i-- > 0;)
		if (v->held[i].sym == sym)
			return (int)i;
	if (code <= 0)
		code = kbd_stroke_for_keysym(km, sym, &st) == 0 ? st.code : -1;
	for (unsigned int i = v->n; i-- > 0;)
		if (v->held[i].code == code)
			return (int)i;
	return -1;
}

int kbd_viewer_key(struct kbd_viewer *v, const struct kbd_keymap *km, uint32_t keysym, bool down,
		   struct kbd_key_event *out, unsigned int max)
{
	struct kbd_events e = { 0 };
	int i = kbd_viewer_find(v, km, keysym), code;

	if (!down) {
		if (i < 0)
			return 0;
		if (!kbd_code_down(v, v->held[i].code, (unsigned int)i))
			kbd_push(&e, v->held[i].code, false);
	} else {
		if ((i >= 0 && v->held[i].sym == keysym) || v->n == KBD_MAX_HELD)
			return 0;       /* a viewer's repeat: the guest repeats on its own */
		code = kbd_modifier_code(km, keysym);
		if (code > 0 && !kbd_code_down(v, (uint16_t)code, KBD_MAX_HELD))
			kbd_push(&e, (uint16_t)code, true);
		else if (code == 0)
			code = kbd_viewer_press(v, km, keysym, &e);
		if (code < 0)
			return code;
	}
	if (e.n > max)
		return -ENOSPC;
	memcpy(out, e.ev, e.n * sizeof(*out));
	if (down) {
		v->held[v->n++] = (struct kbd_held){ .sym = keysym, .code = (uint16_t)code };
	} else {
		v->n--;
		memmove(&v->held[i], &v->held[i + 1], (v->n - (unsigned int)i) * sizeof(v->held[0]));
	}
	return (int)e.n;
}

int kbd_viewer_release_all(struct kbd_viewer *v, struct kbd_key_event *out, unsigned int max)
{
	unsigned int n = 0;

	while (v && v->n > 0 && n < max) {
		struct kbd_held h = v->held[--v->n];

		if (!kbd_code_down(v, h.code, KBD_MAX_HELD))
			out[n++] = (struct kbd_key_event){ .code = h.code, .down = false };
	}
	return (int)n;
}
