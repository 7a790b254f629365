/*
 * The keyboard side of an action batch (actions.c): strokes and key
 * combinations, the lock keys kept in step with the guest's LEDs, and text
 * typed exactly on any layout. What the layout has is typed on its keys
 * with the modifiers it needs; everything else goes through borrowed keys
 * (keys the layout leaves empty), which the guest's X maps to the keysyms
 * needed, four to a key (plain, Shift, AltGr, Shift+AltGr; AltGr may be
 * the keymap's <LVL3>, which no layout types text with), with cubicle-keys (guest-desktop/keys) run through the
 * agent. A borrowed key is never mapped anew while an event that used it
 * may still be unread by X: every remap follows the round trip that proves
 * X took all earlier keys (hands_sync); then cubicle-keys pings the focused
 * client, whose answer proves it looked them all up, or, for a client that
 * does not answer pings, rests; and a remap rewrites only keys not typed on
 * since the remap before (docs/control-protocol.md, "Pace and proof").
 * One struct keys lives as long as one batch runs.
 */
#ifndef CUBICLE_KEYS_H
#define CUBICLE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "hands.h"

#define KEYS_MAX_SPARE 64       /* keys borrowed at once */

struct keys {
	struct hands *h;
	const struct kbd_keymap *km;    /* the batch's layout (hands' when it was parsed) */
	const char *vsock;          /* the guest agent, for remaps; NULL: none */
	const char *code;           /* the failure's errno name, for the answer */
	char err[512];              /* and its one-line reason */
	uint16_t spare[KEYS_MAX_SPARE];
	/*
	 * What slot s types now (key spare[s / 4] at level s % 4: none, Shift,
	 * AltGr, Shift+AltGr); NoSymbol: not typed on.
	 */
	xkb_keysym_t mapped[4 * KEYS_MAX_SPARE];
	unsigned int nspare;
	unsigned int levels;        /* on a key: 4 with an AltGr key (lvl3), else 2 */
	uint16_t lvl3;
	bool spares_found;
	bool numlock_back;          /* NumLock was turned on for a combination */
	uint32_t leds;              /* the guest's LEDs when a combination was pressed */
};

void keys_init(struct keys *k, struct hands *h, const struct kbd_keymap *km, const char *vsock);

/* Says a hands_* error ret as the batch's failure (code, err); returns ret. */
int keys_failed(struct keys *k, int ret);

/* A key with its modifiers: pressed, released. 0, or -errno (said in k). */
int keys_stroke(struct keys *k, const struct kbd_stroke *st);

/*
 * Presses (and later releases) a combination: a keypad key that needs
 * NumLock gets it on meanwhile; a key the layout lacks (c->borrow) is
 * pressed on a borrowed key; one with a lock key in it ends once the
 * guest's LEDs show its effect. 0, or -errno (said in k).
 */
int keys_press_combo(struct keys *k, const struct kbd_combo *c);
int keys_release_combo(struct keys *k, const struct kbd_combo *c);

/*
 * Types n keysyms in order, delay_ms more between characters (a timed
 * pace, as the client asked), with Caps Lock off meanwhile when the guest
 * has it on. 0, or -errno (said in k).
 */
int keys_type(struct keys *k, const xkb_keysym_t *syms, unsigned int n, unsigned int delay_ms);

/* Turns a lock key (code, its LED) on or off by the guest's LED and waits for it. */
int keys_set_lock(struct keys *k, int code, unsigned int led, bool on);

#endif
