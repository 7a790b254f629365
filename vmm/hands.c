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
 * How many events X may have unread. The guest's virtio-input driver hands
 * every event to its input core as it arrives, and evdev keeps a reader's
 * unread events in a ring (2048 in our guest kernel,
 * guest-desktop/kernel/patches/0002; 64 in stock Linux); on overflow it
 * throws all of them away and X, on SYN_DROPPED, only resyncs which keys
 * are down: typed text would vanish, silently.
 *
 * The keyboard's ordered sends (actions) are held to a window instead of a
 * pace: once SYNC_WINDOW events went out since X last proved it took them
 * (hands_sync, the round trip through the keyboard's LEDs), the next send
 * first makes that round trip. So they go as fast as X reads, and never
 * more than half the ring ahead of it.
 *
 * The rest is paced by time, as nothing says when X read it: VNC viewers'
 * keys and every tablet event go at most PACE_BURST at once plus PACE_PER_MS
 * per millisecond; and the keyboard too while the guest does not echo its LEDs
 * (no X reads it). A key with Shift is 8 events, one without is 4.
 */
#define SYNC_WINDOW 1024
#define SYNC_WAIT_MS 2000       /* for X to show a tap of the lock key on its LED */
#define ECHO_RETRY_MS 10000     /* after an unechoed tap, before the round trip is tried again */
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
	unsigned int unsynced;      /* ordered keyboard events sent since X proved it took all */
	bool syncing;               /* hands_sync's own taps are under way */
	int64_t no_echo_ms;         /* when a tap last went unechoed (pace by time); 0: never */
	unsigned int turn;           /* hands_borrow_turn's next answer */
	int64_t borrow_used_ms[2];  /* when a key of each half was last pressed */
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
static int sync_locked(struct hands *h);
static void release_locked(struct hands *h, bool ordered);

/*
 * Whether the guest is taken to echo the lock keys' LEDs: yes until a tap
 * goes unechoed (X not started yet, or not reading), and again
 * ECHO_RETRY_MS after that, when the round trip is tried anew.
 */
static bool echoes(const struct hands *h)
{
	return !h->no_echo_ms || clk_mono_ms() - h->no_echo_ms >= ECHO_RETRY_MS;
}

static int deliver(struct hands *h, struct virtio_dev *dev, const struct input_ev *ev,
		   unsigned int n, bool ordered)
{
	struct pace *p = pace_of(h, dev);
	bool windowed = ordered && dev == h->kbd && echoes(h);
	int ret;

	if (windowed && !h->syncing && h->unsynced + n > SYNC_WINDOW)
		sync_locked(h);     /* on failure no_echo_ms is set: paced below instead */
	windowed = windowed && echoes(h);

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
	if (!windowed)
		pace_take(p, n);
	ret = ordered ? send_waiting(dev, ev, n) : input_send(dev, ev, n);
	if (ret == 0 && ordered) {
		h->last = dev;
		p->sent_us = clk_mono_us();
		if (dev == h->kbd)
			h->unsynced += n;
	}
	return ret;
}

/*
 * The lock key whose LED the round trip watches: NumLock (keypad keys only
 * care, and they never come between the two taps), else Caps Lock. Its
 * key and LED bit; false if the layout has neither without a modifier.
 */
static bool sync_key(const struct hands *h, uint16_t *code, unsigned int *led)
{
	struct kbd_stroke st;
	int num = kbd_numlock_code(h->km);

	if (num > 0) {
		*code = (uint16_t)num;
		*led = LED_NUML;
		return true;
	}
	if (kbd_stroke_for_keysym(h->km, XKB_KEY_Caps_Lock, &st) == 0 && !st.nmods) {
		*code = st.code;
		*led = LED_CAPSL;
		return true;
	}
	return false;
}

static int key_locked(struct hands *h, uint16_t code, bool down, bool ordered);

/*
 * With the lock held: taps code and waits until the guest's LED under bit
 * flips, woken by the keyboard's status queue; whether it did within
 * SYNC_WAIT_MS.
 */
static bool tap_echoed(struct hands *h, uint16_t code, uint32_t bit)
{
	int64_t end = clk_mono_ms() + SYNC_WAIT_MS, left;
	uint64_t seen = input_changes(h->kbd);
	uint32_t before = input_stats(h->kbd).leds & bit;

	if (key_locked(h, code, true, true) < 0 || key_locked(h, code, false, true) < 0)
		return false;
	while ((input_stats(h->kbd).leds & bit) == before && (left = end - clk_mono_ms()) > 0)
		seen = input_wait(h->kbd, seen, (int)left);
	return (input_stats(h->kbd).leds & bit) != before;
}

/*
 * The round trip the guest must answer (docs/control-protocol.md, "Pace
 * and proof"): the lock key tapped twice. X sets the keyboard's LEDs while
 * it processes a lock key's press, after every event this keyboard sent
 * before it, and the guest's driver sends the new LED state back through
 * the status queue; so a flipped LED proves X has taken every earlier key.
 * The second tap puts the lock back (and is waited for too, so the next
 * round trip starts from a settled LED). 0, or -ETIMEDOUT when the guest
 * shows no LED (then sends fall back to pacing by time), -ENODEV without a
 * lock key.
 */
static int sync_locked(struct hands *h)
{
	unsigned int led;
	uint16_t code;
	bool first;

	if (!sync_key(h, &code, &led))
		return -ENODEV;
	h->syncing = true;
	first = tap_echoed(h, code, 1u << led);
	/* Even unechoed, the second tap puts the lock back once X reads both. */
	if (!tap_echoed(h, code, 1u << led) || !first) {
		h->no_echo_ms = clk_mono_ms();
		h->syncing = false;
		return -ETIMEDOUT;
	}
	h->syncing = false;
	h->no_echo_ms = 0;
	h->unsynced = 0;
	return 0;
}

int hands_sync(struct hands *h)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = echoes(h) ? sync_locked(h) : -ETIMEDOUT;
	pthread_mutex_unlock(&h->lock);
	return ret;
}

unsigned int hands_borrow_turn(struct hands *h, int64_t *last_used_ms)
{
	unsigned int t;

	pthread_mutex_lock(&h->lock);
	t = h->turn;
	h->turn ^= 1;
	*last_used_ms = h->borrow_used_ms[t];
	pthread_mutex_unlock(&h->lock);
	return t;
}

void hands_borrow_used(struct hands *h, unsigned int half)
{
	pthread_mutex_lock(&h->lock);
	h->borrow_used_ms[half & 1] = clk_mono_ms();
	pthread_mutex_unlock(&h->lock);
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

struct kbd_keymap *hands_keymap_ref(struct hands *h)
{
	struct kbd_keymap *km;

	pthread_mutex_lock(&h->lock);
	km = kbd_keymap_ref(h->km);
	pthread_mutex_unlock(&h->lock);
	return km;
}

void hands_set_keymap(struct hands *h, struct kbd_keymap *km)
{
	struct kbd_keymap *old;

	pthread_mutex_lock(&h->lock);
	old = h->km;
	h->km = km;
	/* The viewers' held keys were pressed on the old layout's keys: let them go. */
	release_locked(h, false);
	pthread_mutex_unlock(&h->lock);
	kbd_keymap_free(old);
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
