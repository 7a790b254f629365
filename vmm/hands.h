/*
 * The sandbox's hands: its virtio-input keyboard and tablet, driven in
 * screen pixels and evdev keys, with the state they hold (pointer position,
 * buttons and keys down). Actions from the control socket and VNC viewers'
 * input both come through here. Safe from any thread; calls are serialised.
 *
 * The keyboard and the tablet are two devices, so the guest reads them
 * through two queues in no fixed order. When an action goes from one to the
 * other (ctrl held, then a click), the first one's events are let reach the
 * guest before the second one's are sent (hands_* wait for that; the VNC
 * path never waits).
 */
#ifndef CUBICLE_HANDS_H
#define CUBICLE_HANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "keymap.h"
#include "virtio_dev.h"
#include "vnc.h"

struct hands;

/* Mouse buttons, as actions name them. */
enum hands_button { BUTTON_LEFT, BUTTON_MIDDLE, BUTTON_RIGHT, BUTTON_BACK, BUTTON_FORWARD,
		    BUTTON_COUNT };

/*
 * Hands on kbd and tablet (input_new() devices), for the screen of gpu,
 * typing on km (taken: freed by hands_free). NULL without memory.
 */
struct hands *hands_new(struct virtio_dev *kbd, struct virtio_dev *tablet,
			struct virtio_dev *gpu, struct kbd_keymap *km);
void hands_free(struct hands *h);   /* accepts NULL */

/*
 * The layout typed on now, as a reference of the caller's (kbd_keymap_free
 * it): another thread may switch layouts meanwhile.
 */
struct kbd_keymap *hands_keymap_ref(struct hands *h);

/*
 * Types on km from now on (taken); keys and buttons still held are let go
 * first, as they were pressed for the old one.
 */
void hands_set_keymap(struct hands *h, struct kbd_keymap *km);

/* The scanout size now (0 x 0 with no scanout). */
void hands_screen(struct hands *h, uint32_t *w, uint32_t *h_out);

/*
 * Each of these sends one batch of events (ending in SYN_REPORT) and returns
 * 0, -EINVAL for a point outside the screen, -ENOBUFS when the device queue
 * stayed full for a second (the guest is not reading input), -ENODEV with
 * no scanout to point at.
 */
int hands_move(struct hands *h, uint32_t x, uint32_t y);
int hands_button(struct hands *h, enum hands_button b, bool down);
int hands_wheel(struct hands *h, int vertical, int horizontal);   /* ticks; + is up/right */
int hands_key(struct hands *h, uint16_t code, bool down);

/*
 * Where the guest's pointer is: its cursor, else (hidden, or no screen)
 * where it was last sent. While the cursor shows elsewhere, waits up to
 * wait_ms (woken by each cursor update) for it to reach the point sent.
 */
void hands_cursor(struct hands *h, uint32_t *x, uint32_t *y, unsigned int wait_ms);
#define HANDS_CURSOR_WAIT_MS 1000   /* for the guest's cursor to follow a move (TCG: 0.5 s seen) */

/*
 * Waits (up to a second) until both devices' events reached the guest, then
 * settle_ms more: a timed settle, since nothing the guest sends back says
 * when X has taken them.
 */
void hands_flush(struct hands *h, unsigned int settle_ms);

/*
 * The round trip that proves the guest's X has taken every key event sent
 * so far: a lock key tapped twice, each tap waited for on the LED X sets
 * (docs/control-protocol.md, "Pace and proof"). 0; -ETIMEDOUT when the
 * guest shows no LEDs (nothing reads the keyboard), -ENODEV when the
 * layout has no lock key. Typing makes it by itself every SYNC_WINDOW
 * events; call it before anything that changes what keys mean.
 */
int hands_sync(struct hands *h);

/*
 * Which half of the borrowed keys (vmm/keys.c) the next remap may write: 0
 * or 1, alternating from one call to the next, batch after batch, so keys
 * typed in one request are not rewritten by the next request's first remap;
 * and when a key of that half was last pressed (hands_borrow_used; 0 never).
 */
unsigned int hands_borrow_turn(struct hands *h, int64_t *last_used_ms);
void hands_borrow_used(struct hands *h, unsigned int half);

/* Keyboard LEDs as the guest set them (bit LED_CAPSL, ...). */
uint32_t hands_leds(struct hands *h);

/*
 * Waits (up to wait_ms, woken by the keyboard's status queue) until the
 * LEDs under mask differ from from's; the LEDs then.
 */
uint32_t hands_wait_leds(struct hands *h, uint32_t mask, uint32_t from, unsigned int wait_ms);

/* Releases every key and button held (after a failed action). */
void hands_release_all(struct hands *h);

/* The hooks that carry VNC viewers' keys and pointer to the devices. */
struct vnc_input hands_vnc_input(struct hands *h);

#endif
