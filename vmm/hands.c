#include "hands.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "display.h"
#include "virtio_gpu.h"
#include "virtio_input.h"

#define FULL_WAIT_MS 1000       /* how long a send waits for room in a full queue */
#define SWITCH_SETTLE_MS 20     /* after one device's events reached the guest */

/*
 * Pacing of all sends. The guest's virtio-input driver hands every event
 * to its input core as it arrives, and evdev keeps a reader's unread events
 * in a ring of 64 (keyboard) or 128 (tablet); on overflow it throws all of
 * them away and X, on SYN_DROPPED, only resyncs which keys are down: typed
 * text vanishes, silently, when X's input thread is a little late. Nothing
 * the guest sends back says when X has read, so sends are paced by time: at
 * most PACE_BURST events at once plus PACE_PER_MS per millisecond, and a
 * reader that stalls for (64 - PACE_BURST) / PACE_PER_MS ms still loses
 * nothing. A key with Shift is 8 events, one without is 4. (Our guest
 * kernel raises the ring to 2048 events: guest-desktop/kernel/patches/0002.)
 */
#define PACE_BURST 16
#define PACE_PER_MS 1

/* RFB pointer mask bits (RFC 6143 §7.5.5). */
#define RFB_LEFT 1
#define RFB_MIDDLE 2
#define RFB_RIGHT 4
#define RFB_WHEEL_UP 8
#define RFB_WHEEL_DOWN 16
#define RFB_WHEEL_LEFT 32
#define RFB_WHEEL_RIGHT 64

static const uint16_t button_codes[BUTTON_COUNT] = {
	[BUTTON_LEFT] = BTN_LEFT, [BUTTON_MIDDLE] = BTN_MIDDLE, [BUTTON_RIGHT] = BTN_RIGHT,
	[BUTTON_BACK] = BTN_SIDE, [BUTTON_FORWARD] = BTN_EXTRA,
};

struct hands {
	struct virtio_dev *kbd, *tablet, *gpu;
	struct display *display;    /* gpu's, or NULL */
	struct kbd_keymap *km;
	pthread_mutex_t lock;
	struct virtio_dev *last;    /* the device the last ordered batch went to */
	struct pace {
		double room;        /* events that may go now (≤ PACE_BURST) */
		uint64_t at_us;     /* when room was last counted */
		uint64_t sent_us;   /* when the last ordered batch went out */
	} pace[2];                  /* keyboard, tablet */
	uint32_t x, y;              /* where the pointer was last sent */
	bool placed;                /* whether it ever was */
	int32_t abs_x, abs_y;       /* the axis values last sent */
	uint32_t buttons;           /* bit per enum hands_button, held */
	uint8_t keys[KEY_CNT / 8];  /* keys held */
	struct kbd_viewer *viewer;  /* VNC viewers' keyboard state */
	int vnc_mask;               /* the last RFB button mask */
};

/*
 * Waits (at most FULL_WAIT_MS) until dev's queued events are in the guest,
 * woken by the device as the guest takes them; whether any were queued.
 */
static bool drain(struct virtio_dev *dev)
{
	int64_t end = clk_mono_ms() + FULL_WAIT_MS, left;
	uint64_t seen = input_changes(dev);
	bool had = false;

	while (input_stats(dev).queued && input_active(dev) &&
	       (left = end - clk_mono_ms()) > 0) {
		had = true;
		seen = input_wait(dev, seen, (int)left);
	}
	return had;
}

/*
 * Queues n events on dev; a full queue is waited on (woken as the guest
 * takes events) for at most FULL_WAIT_MS. input_send()'s result.
 */
static int send_waiting(struct virtio_dev *dev, const struct input_ev *ev, unsigned int n)
{
	int64_t end = clk_mono_ms() + FULL_WAIT_MS, left;
	uint64_t seen = input_changes(dev);
	int ret;

	while ((ret = input_send(dev, ev, n)) == -ENOBUFS && (left = end - clk_mono_ms()) > 0)
		seen = input_wait(dev, seen, (int)left);
	return ret;
}

static struct pace *pace_of(struct hands *h, struct virtio_dev *dev)
{
	return &h->pace[dev == h->tablet];
}

/*
 * Waits until n more events may go to the guest (see PACE_BURST), and takes
 * them. A timed pace is the point here: nothing in the guest says when X has
 * read its events.
 */
static void pace_take(struct pace *p, unsigned int n)
{
	uint64_t t = clk_mono_us();

	p->room += (double)(t - p->at_us) * PACE_PER_MS / 1000.0;
	if (p->room > PACE_BURST)
		p->room = PACE_BURST;
	if (p->room < n) {
		uint64_t wait = (uint64_t)((n - p->room) * 1000.0 / PACE_PER_MS) + 1;

		clk_pause_us(wait);
		t += wait;
		p->room = n;
	}
	p->room -= n;
	p->at_us = t;
}

/*
 * With the lock held: sends one batch to dev, paced (see PACE_BURST). An
 * ordered send (actions), when it changes devices, first lets the other
 * device's events reach the guest and X take them apart (SWITCH_SETTLE_MS
 * after they went out), so that X sees the two in the order sent; it waits
 * for room in a full queue. An unordered one (VNC) is refused at once when
 * the queue is full.
 */
static int deliver(struct hands *h, struct virtio_dev *dev, const struct input_ev *ev,
		   unsigned int n, bool ordered)
{
	struct pace *p = pace_of(h, dev);
	int ret;

	if (ordered && h->last && h->last != dev) {
		struct pace *o = pace_of(h, h->last);
		uint64_t since = clk_mono_us() - o->sent_us;

		/*
		 * X reads the two devices on its own schedule: once the other's
		 * events are in the guest, a timed settle lets X take them apart
		 * first (nothing the guest sends back says it has).
		 */
		if (drain(h->last))
			clk_pause_ms(SWITCH_SETTLE_MS);
		else if (since < SWITCH_SETTLE_MS * 1000ull)
			clk_pause_us(SWITCH_SETTLE_MS * 1000ull - since);
	}
	pace_take(p, n);
	ret = ordered ? send_waiting(dev, ev, n) : input_send(dev, ev, n);
	if (ret == 0 && ordered) {
		h->last = dev;
		p->sent_us = clk_mono_us();
	}
	return ret;
}

struct hands *hands_new(struct virtio_dev *kbd, struct virtio_dev *tablet,
			struct virtio_dev *gpu, struct kbd_keymap *km)
{
	struct hands *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->viewer = kbd_viewer_new();
	if (!h->viewer) {
		free(h);
		return NULL;
	}
	h->kbd = kbd;
	h->tablet = tablet;
	h->pace[0] = (struct pace){ .room = PACE_BURST, .at_us = clk_mono_us() };
	h->pace[1] = (struct pace){ .room = PACE_BURST, .at_us = clk_mono_us() };
	h->gpu = gpu;
	h->display = gpu ? gpu_display(gpu) : NULL;
	h->km = km;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void hands_free(struct hands *h)
{
	if (!h)
		return;
	kbd_viewer_free(h->viewer);
	kbd_keymap_free(h->km);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

const struct kbd_keymap *hands_keymap(const struct hands *h)
{
	return h->km;
}

void hands_screen(struct hands *h, uint32_t *w, uint32_t *h_out)
{
	uint64_t s = h->gpu ? gpu_scanout_size(h->gpu) : 0;

	*w = (uint32_t)(s >> 32);
	*h_out = (uint32_t)s;
}

/*
 * The guest's input core drops an axis value equal to the last one, so a
 * move back to where the pointer was sent last would vanish if something in
 * the guest moved the pointer meanwhile (a warp, xdotool). Such a value is
 * sent one step off instead: every pixel spans at least 4 steps and values
 * are the middle of a pixel's span, so it is still the same pixel.
 */
static int32_t nudge(int32_t v, int32_t last)
{
	return v != last ? v : v > 0 ? v - 1 : v + 1;
}

/* With the lock held: an absolute move to a pixel of a w x hh screen. */
static int move_locked(struct hands *h, uint32_t x, uint32_t y, bool ordered)
{
	uint32_t w, hh;
	struct input_ev ev[3];
	int ret;

	hands_screen(h, &w, &hh);
	if (!w || !hh)
		return -ENODEV;
	if (x >= w || y >= hh)
		return -EINVAL;
	ev[0] = (struct input_ev){ EV_ABS, ABS_X, nudge(input_abs_from_pixel(x, w), h->abs_x) };
	ev[1] = (struct input_ev){ EV_ABS, ABS_Y, nudge(input_abs_from_pixel(y, hh), h->abs_y) };
	ev[2] = (struct input_ev){ EV_SYN, SYN_REPORT, 0 };
	ret = deliver(h, h->tablet, ev, 3, ordered);
	if (ret == 0) {
		h->x = x;
		h->y = y;
		h->abs_x = ev[0].value;
		h->abs_y = ev[1].value;
		h->placed = true;
	}
	return ret;
}

int hands_move(struct hands *h, uint32_t x, uint32_t y)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = move_locked(h, x, y, true);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static int button_locked(struct hands *h, enum hands_button b, bool down, bool ordered)
{
	struct input_ev ev[2] = {
		{ EV_KEY, button_codes[b], down },
		{ EV_SYN, SYN_REPORT, 0 },
	};
	int ret = deliver(h, h->tablet, ev, 2, ordered);

	if (ret == 0) {
		if (down)
			h->buttons |= 1u << b;
		else
			h->buttons &= ~(1u << b);
	}
	return ret;
}

int hands_button(struct hands *h, enum hands_button b, bool down)
{
	int ret;

	if ((unsigned int)b >= BUTTON_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	ret = button_locked(h, b, down, true);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static int wheel_locked(struct hands *h, int vertical, int horizontal, bool ordered)
{
	struct input_ev ev[3];
	unsigned int n = 0;

	if (vertical)
		ev[n++] = (struct input_ev){ EV_REL, REL_WHEEL, vertical };
	if (horizontal)
		ev[n++] = (struct input_ev){ EV_REL, REL_HWHEEL, horizontal };
	if (!n)
		return 0;
	ev[n++] = (struct input_ev){ EV_SYN, SYN_REPORT, 0 };
	return deliver(h, h->tablet, ev, n, ordered);
}

int hands_wheel(struct hands *h, int vertical, int horizontal)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = wheel_locked(h, vertical, horizontal, true);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static int key_locked(struct hands *h, uint16_t code, bool down, bool ordered)
{
	struct input_ev ev[2] = {
		{ EV_KEY, code, down },
		{ EV_SYN, SYN_REPORT, 0 },
	};
	int ret;

	if (code == 0 || code >= KEY_CNT)
		return -EINVAL;
	ret = deliver(h, h->kbd, ev, 2, ordered);
	if (ret == 0) {
		if (down)
			h->keys[code / 8] |= (uint8_t)(1u << (code % 8));
		else
			h->keys[code / 8] &= (uint8_t)~(1u << (code % 8));
	}
	return ret;
}

int hands_key(struct hands *h, uint16_t code, bool down)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = key_locked(h, code, down, true);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void hands_cursor(struct hands *h, uint32_t *x, uint32_t *y, unsigned int wait_ms)
{
	int64_t end = clk_mono_ms() + wait_ms, left;
	uint32_t sent_x, sent_y, cx = 0, cy = 0;
	bool placed, visible = false;
	uint64_t seen;

	pthread_mutex_lock(&h->lock);
	sent_x = h->x;
	sent_y = h->y;
	placed = h->placed;
	pthread_mutex_unlock(&h->lock);
	if (h->display) {
		/* Woken by each change of the screen, until the cursor is where we sent it. */
		seen = display_changes(h->display);
		display_cursor_pos(h->display, &cx, &cy, &visible);
		/*
		 * A hidden cursor (xterm hides it while one types) says nothing of
		 * where the pointer is: then the point sent is the answer at once.
		 */
		while (placed && visible && !(cx == sent_x && cy == sent_y) &&
		       (left = end - clk_mono_ms()) > 0) {
			seen = display_wait(h->display, seen, (int)left);
			display_cursor_pos(h->display, &cx, &cy, &visible);
		}
	}
	/*
	 * The guest's own cursor also knows of moves it made itself (a warp);
	 * a hidden one was last seen where it hid.
	 */
	*x = visible ? cx : sent_x;
	*y = visible ? cy : sent_y;
}

void hands_flush(struct hands *h, unsigned int settle_ms)
{
	drain(h->kbd);
	drain(h->tablet);
	clk_pause_ms(settle_ms);    /* a timed settle: see hands.h */
}

uint32_t hands_leds(struct hands *h)
{
	return input_stats(h->kbd).leds;
}

uint32_t hands_wait_leds(struct hands *h, uint32_t mask, uint32_t from, unsigned int wait_ms)
{
	int64_t end = clk_mono_ms() + wait_ms, left;
	uint64_t seen = input_changes(h->kbd);
	uint32_t leds;

	while (((leds = hands_leds(h)) & mask) == (from & mask) && (left = end - clk_mono_ms()) > 0)
		seen = input_wait(h->kbd, seen, (int)left);
	return leds;
}

static void release_locked(struct hands *h, bool ordered)
{
	for (unsigned int code = 1; code < KEY_CNT; code++)
		if (h->keys[code / 8] & (1u << (code % 8)))
			key_locked(h, (uint16_t)code, false, ordered);
	for (unsigned int b = 0; b < BUTTON_COUNT; b++)
		if (h->buttons & (1u << b))
			button_locked(h, b, false, ordered);
}

void hands_release_all(struct hands *h)
{
	pthread_mutex_lock(&h->lock);
	release_locked(h, true);
	pthread_mutex_unlock(&h->lock);
}

/* --- VNC viewers ------------------------------------------------------------ */

static void vnc_key(void *opaque, bool down, uint32_t keysym)
{
	struct hands *h = opaque;
	struct kbd_key_event out[16];
	int n;

	pthread_mutex_lock(&h->lock);
	n = kbd_viewer_key(h->viewer, h->km, keysym, down, out, 16);
	/* A keysym this layout lacks is not typed (docs/architecture.md, "The hands"). */
	for (int i = 0; i < n; i++)
		key_locked(h, out[i].code, out[i].down, false);
	pthread_mutex_unlock(&h->lock);
}

static void vnc_pointer(void *opaque, int mask, int x, int y)
{
	struct hands *h = opaque;
	static const struct { int bit; enum hands_button b; } btn[] = {
		{ RFB_LEFT, BUTTON_LEFT }, { RFB_MIDDLE, BUTTON_MIDDLE }, { RFB_RIGHT, BUTTON_RIGHT },
	};
	int pressed;

	pthread_mutex_lock(&h->lock);
	if (x >= 0 && y >= 0 && ((uint32_t)x != h->x || (uint32_t)y != h->y))
		move_locked(h, (uint32_t)x, (uint32_t)y, false);
	for (unsigned int i = 0; i < sizeof(btn) / sizeof(btn[0]); i++)
		if ((mask ^ h->vnc_mask) & btn[i].bit)
			button_locked(h, btn[i].b, mask & btn[i].bit, false);
	/* A wheel bit is a press and a release per step. */
	pressed = mask & ~h->vnc_mask;
	wheel_locked(h, (pressed & RFB_WHEEL_UP ? 1 : 0) - (pressed & RFB_WHEEL_DOWN ? 1 : 0),
		     (pressed & RFB_WHEEL_RIGHT ? 1 : 0) - (pressed & RFB_WHEEL_LEFT ? 1 : 0), false);
	h->vnc_mask = mask;
	pthread_mutex_unlock(&h->lock);
}

static void vnc_gone(void *opaque)
{
	struct hands *h = opaque;
	struct kbd_key_event out[64];
	int n;

	pthread_mutex_lock(&h->lock);
	n = kbd_viewer_release_all(h->viewer, out, 64);
	for (int i = 0; i < n; i++)
		key_locked(h, out[i].code, out[i].down, false);
	for (int b = BUTTON_LEFT; b <= BUTTON_RIGHT; b++)
		if (h->buttons & (1u << b))
			button_locked(h, b, false, false);
	h->vnc_mask = 0;
	pthread_mutex_unlock(&h->lock);
}

struct vnc_input hands_vnc_input(struct hands *h)
{
	return (struct vnc_input){ .key = vnc_key, .pointer = vnc_pointer, .gone = vnc_gone,
				   .opaque = h };
}
