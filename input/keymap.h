/*
 * The sandbox's keyboard layout, with libxkbcommon: which evdev key, with
 * which modifier keys held, gives a keysym on that layout; key names as
 * agents write them; text split into keysyms; and the key state of a VNC
 * viewer that sends keysyms. The guest's X server compiles the same layout
 * (rules evdev, model pc105) from the same xkeyboard-config, so an evdev key
 * sent here means the same keysym there.
 *
 * Library code: nothing here logs; errors come back as -errno with a reason.
 */
#ifndef CUBICLE_KEYMAP_H
#define CUBICLE_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xkbcommon/xkbcommon.h>

#define KBD_MAX_MODS 4          /* modifier keys held for one stroke */
#define KBD_MAX_COMBO 8         /* keys in one combination */
#define KBD_MAX_HELD 32         /* keys one VNC viewer holds at once */

struct kbd_keymap;

/* A key (evdev code) pressed with modifier keys held, pressed in order first. */
struct kbd_stroke {
	uint16_t code;
	uint8_t nmods;
	uint16_t mods[KBD_MAX_MODS];
};

/*
 * A combination: keys pressed in order and released in reverse. With
 * numlock, a keypad key in it gives the named keysym only while NumLock is
 * on (KP_0..KP_9): the sender turns NumLock on around it. A key the layout
 * does not have (ctrl+c on "ru") is code 0 with its keysym in borrow[],
 * for the sender to type on a borrowed key, when the parse was asked to
 * allow that (borrow_ok set before the call); otherwise it is an error.
 */
struct kbd_combo {
	unsigned int n;
	bool numlock;
	bool borrow_ok;             /* in: keys the layout lacks may be borrowed */
	uint16_t codes[KBD_MAX_COMBO];
	xkb_keysym_t borrow[KBD_MAX_COMBO];     /* where codes[i] is 0 */
};

/* One key event for the device: evdev code, pressed or released. */
struct kbd_key_event {
	uint16_t code;
	bool down;
};

/*
 * Compiles layout (an XKB layout name: "us", "de", "fr", "gb", ...) with an
 * optional variant (NULL or ""). NULL with a reason in err when xkbcommon
 * knows no such layout or variant, or a name is not one plain word ("us,de").
 * Once made, a keymap is only read: threads may share it.
 */
struct kbd_keymap *kbd_keymap_new(const char *layout, const char *variant,
				  char *err, size_t errlen);
/*
 * A keymap is counted: kbd_keymap_ref() takes one more reference (for a
 * thread that keeps using it while another replaces it), and
 * kbd_keymap_free() gives one back, freeing it with the last. Accepts NULL.
 */
struct kbd_keymap *kbd_keymap_ref(struct kbd_keymap *km);
void kbd_keymap_free(struct kbd_keymap *km);
const char *kbd_keymap_layout(const struct kbd_keymap *km);
const char *kbd_keymap_variant(const struct kbd_keymap *km);   /* "" if none */

/*
 * How to type sym on this layout: the key and the modifier keys (Shift,
 * AltGr/Level3, Level5) to hold. Keys that need no modifier win, then fewer
 * modifiers, then main keys over the keypad. Never uses Ctrl, Alt, Super,
 * Lock or NumLock, so KP_0..KP_9, which need NumLock on, have no stroke
 * (kbd_numpad_code has their keys).
 * A character's keysym is found in either spelling ("eacute" or "U00E9").
 * 0, or -ENOENT when no key of the layout gives sym.
 */
int kbd_stroke_for_keysym(const struct kbd_keymap *km, xkb_keysym_t sym,
			  struct kbd_stroke *out);

/*
 * The keypad key that gives sym while NumLock is on, for a sym with no
 * stroke (KP_0..KP_9, and KP_Decimal or KP_Separator where the layout has
 * them only there); -ENOENT if none. kbd_numlock_code() is the Num_Lock key,
 * or -ENOENT when the layout has none.
 */
int kbd_numpad_code(const struct kbd_keymap *km, xkb_keysym_t sym);
int kbd_numlock_code(const struct kbd_keymap *km);

/*
 * The key that is AltGr (ISO_Level3_Shift) for keys with four levels: the
 * layout's own (RALT on "de"), else the keymap's <LVL3> (evdev code 84),
 * which layouts without AltGr ("us") still bind, and which text never
 * types with but a borrowed key may. 0 if there is neither.
 */
uint16_t kbd_level3_code(const struct kbd_keymap *km);

/*
 * The keysym that types Unicode code point cp: '\n' and '\r' give Return,
 * '\t' Tab, other characters their keysym (xkb_utf32_to_keysym). NoSymbol
 * for other control characters, which cannot be typed.
 */
xkb_keysym_t kbd_keysym_for_char(uint32_t cp);

/*
 * Decodes the UTF-8 character at *p (before end) into *cp and advances *p.
 * 0, or -EILSEQ for a malformed, overlong, truncated or surrogate sequence
 * or one beyond U+10FFFF (*p unchanged), -EINVAL when *p is at end.
 */
int kbd_utf8_next(const char **p, const char *end, uint32_t *cp);

/*
 * Keys this layout leaves without any symbol, which a guest-side remap can
 * borrow for a keysym the layout does not have (X keycode = code + 8 must be
 * ≤ 255). Fills up to max evdev codes, lowest first; returns how many.
 */
unsigned int kbd_spare_codes(const struct kbd_keymap *km, uint16_t *codes, unsigned int max);

/*
 * A key name as agents send it, to a keysym: X keysym names as xdotool and
 * Anthropic's `key` take them ("Return", "KP_0", "super", "ctrl"), OpenAI's
 * keypress names ("CTRL", "ENTER", "ARROWLEFT", "ESC", "SPACE", "CMD"),
 * E2B's ("enter", "ctrl", "cmd", "win", "page_down", "caps_lock"), and a
 * single character ("a", "A", "/", "é"). Case-insensitive where the exact
 * name is not a keysym. NoSymbol when unknown.
 */
xkb_keysym_t kbd_keysym_from_name(const char *name);

/*
 * "ctrl+shift+t", "alt+Tab", "Return", "KP_Enter", "ctrl++" (plus itself), to
 * a combination: modifier names give their keys, the left ones unless named
 * ("ctrl_right"; "altgr" is Right Alt where the layout has no Level3 key,
 * as is "alt_right" where Right Alt is AltGr); a key whose keysym
 * needs Shift or AltGr on this layout adds those (as xdotool does, so
 * "ctrl+A" is ctrl+shift+a). A key already in the combination is not added
 * twice. Names are trimmed of spaces; two empty names in a row are the plus
 * key ("+", "ctrl++"), one alone is an error ("ctrl+", "+ctrl", "").
 * -EINVAL with err naming an unknown or empty name, -ENOENT naming a key
 * this layout does not have (a modifier; or any key unless out->borrow_ok),
 * -E2BIG beyond KBD_MAX_COMBO keys.
 */
int kbd_parse_combo(const struct kbd_keymap *km, const char *combo, struct kbd_combo *out,
		    char *err, size_t errlen);

/*
 * The same for a list of names (OpenAI's ["CTRL", "C"]); an element may
 * itself be a combination (["ctrl+c"]) and "+" is the plus key. As OpenAI
 * writes every name in capitals, a single capital letter here names its
 * key ("C" is c; ["SHIFT", "A"] for a capital), unlike kbd_parse_combo.
 */
int kbd_combo_from_names(const struct kbd_keymap *km, const char *const *names, unsigned int n,
			 struct kbd_combo *out, char *err, size_t errlen);

/*
 * A VNC viewer's keyboard: it sends keysyms already shaped by its own
 * layout and modifiers (Shift held, then "A"). kbd_viewer_key() turns each
 * into evdev key events on this layout, pressing or releasing Shift/AltGr
 * around a key when the viewer's held level modifiers would not give the
 * keysym here, and releases a key with the code it was pressed with. A
 * release of a keysym not held ends the held key on that keysym's key
 * (Shift, "A", Shift up, "a" up), if any. Shift, AltGr, Ctrl, Alt and Super
 * pass through as held (AltGr is Right Alt where the layout has no Level3
 * key). A press of a keysym already held (the viewer's autorepeat), or
 * beyond KBD_MAX_HELD keys, gives no event. Returns the number of events
 * written to out (at most max; 16 always suffices, -ENOSPC and nothing
 * changed when max is too small), 0 for a release of a key not held, or
 * -ENOENT when this layout has no key for keysym.
 */
struct kbd_viewer;
struct kbd_viewer *kbd_viewer_new(void);
void kbd_viewer_free(struct kbd_viewer *v);    /* accepts NULL */
int kbd_viewer_key(struct kbd_viewer *v, const struct kbd_keymap *km, uint32_t keysym, bool down,
		   struct kbd_key_event *out, unsigned int max);
/*
 * Releases what the viewer holds (it left), newest first; returns events
 * written. Keys beyond max stay held: call again until it returns 0.
 * KBD_MAX_HELD events always suffice.
 */
int kbd_viewer_release_all(struct kbd_viewer *v, struct kbd_key_event *out, unsigned int max);

#endif
