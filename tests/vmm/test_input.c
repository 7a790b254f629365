/*
 * virtio-input against a hand-driven "guest": config space selected and read
 * as the Linux driver does and written whole as QEMU's vhost-user-input does,
 * events taken through split virtqueues in test memory, LEDs sent back on the
 * status queue, and a guest that breaks the rules.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "virtio_input.h"

#define GPA 0x100000ull
#define MEM (1u << 20)
#define NUM 16
#define RING(q) (GPA + (uint64_t)(q) * 0x3000)
#define BUF (GPA + 0x10000)      /* event buffers, 16 bytes apart */
#define STATUS (GPA + 0x20000)   /* status buffers */
#define CFG_SIZE 136             /* select, subsel, size, 5 reserved, 128 of data */

/* virtio 1.2 §5.8.2 */
enum { ID_NAME = 0x01, ID_DEVIDS = 0x03, EV_BITS = 0x11, ABS_INFO = 0x12 };

struct seg {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;
};

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_dev *dev;
static uint16_t next_desc[2], used_seen[2];
static unsigned int signals[2], fails[2];
static const char *fail_why;

static void *at(uint64_t gpa) { return ram + (gpa - GPA); }
static struct vring_desc *desc(int q) { return at(RING(q)); }
static uint16_t *avail(int q) { return at(RING(q) + 0x1000); }
static uint16_t *used(int q) { return at(RING(q) + 0x2000); }

static struct vring_used_elem *used_elem(int q, uint16_t i)
{
	return (struct vring_used_elem *)(used(q) + 2) + i % NUM;
}

static void on_signal(struct virtio_dev *d, unsigned int q)
{
	(void)d;
	if (q < 2)
		signals[q]++;
}

static void on_fail(struct virtio_dev *d, unsigned int q, const char *why)
{
	(void)d;
	if (q < 2)
		fails[q]++;
	fail_why = why;
}

/* Fresh, empty rings for both queues, as a transport starting them. */
static void rings_setup(void)
{
	memset(at(RING(0)), 0, 2 * 0x3000);
	memset(next_desc, 0, sizeof(next_desc));
	memset(used_seen, 0, sizeof(used_seen));
	for (int q = 0; q < 2; q++) {
		vq_reset(&dev->vqs[q], 0);
		CHECK(vq_setup(&dev->vqs[q], &gm, NUM, RING(q), RING(q) + 0x1000, RING(q) + 0x2000) == 0);
	}
}

static void setup(enum input_kind kind)
{
	memset(ram, 0, MEM);
	memset(signals, 0, sizeof(signals));
	memset(fails, 0, sizeof(fails));
	fail_why = NULL;
	dev = input_new(kind, NULL);
	CHECK(dev != NULL);
	if (!dev)
		abort();
	dev->vqs = calloc(2, sizeof(*dev->vqs));
	dev->signal = on_signal;
	dev->fail = on_fail;
	rings_setup();
}

static void teardown(void)
{
	free(dev->vqs);
	dev->vqs = NULL;
	vdev_free(dev);
	dev = NULL;
}

static void notify(int q)
{
	dev->ops->queue_notify(dev, (unsigned int)q);
}

/* Offers one chain of n segments on queue q; returns its head. */
static uint16_t offer(int q, const struct seg *s, int n)
{
	uint16_t head = next_desc[q] % NUM, idx = avail(q)[1];

	for (int i = 0; i < n; i++) {
		uint16_t d = next_desc[q]++ % NUM;
		uint16_t more = i + 1 < n ? VRING_DESC_F_NEXT : 0;

		desc(q)[d] = (struct vring_desc){ s[i].gpa, s[i].len, (uint16_t)(s[i].flags | more),
						  (uint16_t)((d + 1) % NUM) };
	}
	avail(q)[2 + idx % NUM] = head;
	avail(q)[1] = (uint16_t)(idx + 1);
	return head;
}

/* Offers a device-writable event buffer of len bytes at gpa, filled with 0xee. */
static uint16_t offer_buf(uint64_t gpa, uint32_t len)
{
	memset(at(gpa), 0xee, len);
	return offer(0, &(struct seg){ gpa, len, VRING_DESC_F_WRITE }, 1);
}

/* struct virtio_input_event (§5.8.6): le16 type, le16 code, le32 value. */
static void encode(struct input_ev e, uint8_t out[8])
{
	uint32_t v = (uint32_t)e.value;

	out[0] = (uint8_t)e.type;
	out[1] = (uint8_t)(e.type >> 8);
	out[2] = (uint8_t)e.code;
	out[3] = (uint8_t)(e.code >> 8);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(v >> (8 * i));
}

/* Whether the next used entry of the event queue is head, 8 bytes long, holding e at gpa. */
static bool took(uint16_t head, uint64_t gpa, struct input_ev e)
{
	struct vring_used_elem *u;
	uint8_t want[8];

	if (used(0)[1] == used_seen[0])
		return false;
	u = used_elem(0, used_seen[0]++);
	encode(e, want);
	return u->id == head && u->len == 8 && memcmp(at(gpa), want, 8) == 0;
}

static struct input_ev scan(int32_t v)
{
	return (struct input_ev){ EV_MSC, MSC_SCAN, v };
}

/* Offers buffers, a few at a time, until n events came out; each must be scan((*next)++). */
static bool drain(unsigned int n, int32_t *next)
{
	bool ok = true;

	while (n) {
		unsigned int k = n < 8 ? n : 8;
		uint16_t h[8];

		for (unsigned int i = 0; i < k; i++)
			h[i] = offer_buf(BUF + i * 16, 8);
		notify(0);
		for (unsigned int i = 0; i < k; i++)
			ok &= took(h[i], BUF + i * 16, scan((*next)++));
		n -= k;
	}
	return ok && used(0)[1] == used_seen[0];
}

/* --- config space ------------------------------------------------------------ */

/* One-byte writes of select and subsel, as the Linux driver does (§5.8.4). */
static void cfg_select(uint8_t sel, uint8_t sub)
{
	CHECK(dev->ops->set_config(dev, 0, &sel, 1) == 0);
	CHECK(dev->ops->set_config(dev, 1, &sub, 1) == 0);
}

/* Selects (sel, sub) and reads the whole config into cfg; returns its size byte. */
static uint8_t cfg_read(uint8_t sel, uint8_t sub, uint8_t cfg[CFG_SIZE])
{
	cfg_select(sel, sub);
	memset(cfg, 0xcc, CFG_SIZE);
	dev->ops->get_config(dev, 0, cfg, CFG_SIZE);
	CHECK(cfg[0] == sel && cfg[1] == sub);
	return cfg[2];
}

/* Bit b of the bitmap in the config's data, within its size. */
static bool bit(const uint8_t cfg[CFG_SIZE], unsigned int b)
{
	return b / 8 < cfg[2] && ((cfg[8 + b / 8] >> (b % 8)) & 1);
}

/* Nothing past the size the device states: data[size..128) is zero. */
static bool tail_clear(const uint8_t cfg[CFG_SIZE])
{
	for (unsigned int i = 8u + cfg[2]; i < CFG_SIZE; i++)
		if (cfg[i])
			return false;
	return cfg[3] == 0 && cfg[4] == 0 && cfg[5] == 0 && cfg[6] == 0 && cfg[7] == 0;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_config_keyboard(void)
{
	uint8_t c[CFG_SIZE];
	bool no_buttons = true;

	setup(INPUT_KEYBOARD);
	CHECK(dev->ops->device_id == VIRTIO_ID_INPUT && dev->ops->num_queues == 2);
	CHECK(dev->ops->config_size == CFG_SIZE);
	CHECK(cfg_read(ID_NAME, 0, c) == strlen("Cubicle Keyboard"));
	CHECK(memcmp(c + 8, "Cubicle Keyboard", strlen("Cubicle Keyboard")) == 0 && tail_clear(c));
	CHECK(cfg_read(ID_DEVIDS, 0, c) == 8);
	CHECK(c[8] == 0x06 && c[9] == 0);               /* bustype BUS_VIRTUAL, le16 */
	CHECK(tail_clear(c));

	CHECK(cfg_read(EV_BITS, EV_KEY, c) > 0 && tail_clear(c));
	CHECK(bit(c, KEY_A) && bit(c, KEY_ENTER) && bit(c, KEY_MICMUTE) && bit(c, KEY_ESC));
	CHECK(!bit(c, KEY_RESERVED));
	CHECK(c[2] > BTN_LEFT / 8 && !bit(c, BTN_LEFT));  /* in range, and clear */
	for (unsigned int b = BTN_MISC; b <= BTN_GEAR_UP; b++)
		no_buttons &= !bit(c, b);
	CHECK(no_buttons);                              /* a button would make it a mouse */
	CHECK(cfg_read(EV_BITS, EV_REP, c) >= 1 && tail_clear(c));
	CHECK(cfg_read(EV_BITS, EV_LED, c) >= 1 && tail_clear(c));
	CHECK(bit(c, LED_NUML) && bit(c, LED_CAPSL) && bit(c, LED_SCROLLL) && !bit(c, LED_COMPOSE));
	CHECK(cfg_read(EV_BITS, EV_ABS, c) == 0 && tail_clear(c));
	CHECK(cfg_read(EV_BITS, EV_REL, c) == 0 && tail_clear(c));
	CHECK(cfg_read(ABS_INFO, ABS_X, c) == 0 && tail_clear(c));
	CHECK(cfg_read(0x7f, 0, c) == 0 && tail_clear(c));   /* no such select */
	CHECK(cfg_read(ID_NAME, 1, c) == 0 && tail_clear(c));
	CHECK(cfg_read(0, 0, c) == 0 && tail_clear(c));       /* VIRTIO_INPUT_CFG_UNSET */
	teardown();
}

static void test_config_tablet(void)
{
	uint8_t c[CFG_SIZE];

	setup(INPUT_TABLET);
	CHECK(dev->ops->device_id == VIRTIO_ID_INPUT && dev->ops->config_size == CFG_SIZE);
	CHECK(cfg_read(ID_NAME, 0, c) == strlen("Cubicle Tablet"));
	CHECK(memcmp(c + 8, "Cubicle Tablet", strlen("Cubicle Tablet")) == 0 && tail_clear(c));
	CHECK(cfg_read(ID_DEVIDS, 0, c) == 8 && c[8] == 0x06 && c[9] == 0);

	CHECK(cfg_read(EV_BITS, EV_KEY, c) > 0 && tail_clear(c));
	CHECK(bit(c, BTN_LEFT) && bit(c, BTN_RIGHT) && bit(c, BTN_MIDDLE));
	CHECK(bit(c, BTN_SIDE) && bit(c, BTN_EXTRA) && !bit(c, BTN_FORWARD));
	CHECK(!bit(c, KEY_A) && !bit(c, KEY_ENTER) && !bit(c, BTN_TOUCH));
	CHECK(cfg_read(EV_BITS, EV_REL, c) > 0 && tail_clear(c));
	CHECK(bit(c, REL_WHEEL) && bit(c, REL_HWHEEL) && !bit(c, REL_X) && !bit(c, REL_Y));
	CHECK(cfg_read(EV_BITS, EV_ABS, c) > 0 && tail_clear(c));
	CHECK(bit(c, ABS_X) && bit(c, ABS_Y) && !bit(c, ABS_Z));
	CHECK(cfg_read(EV_BITS, EV_LED, c) == 0 && cfg_read(EV_BITS, EV_REP, c) == 0);

	for (uint8_t axis = ABS_X; axis <= ABS_Y; axis++) {
		/* struct virtio_input_absinfo: le32 min, max, fuzz, flat, res */
		CHECK(cfg_read(ABS_INFO, axis, c) >= 8 && tail_clear(c));
		CHECK(le32(c + 8) == 0 && le32(c + 12) == INPUT_ABS_MAX);
	}
	CHECK(cfg_read(ABS_INFO, ABS_Z, c) == 0 && tail_clear(c));
	CHECK(cfg_read(0xee, 0, c) == 0 && tail_clear(c));
	teardown();
}

/* Every (offset, length) inside the config reads what a full read shows there. */
static bool reads_agree(void)
{
	uint8_t full[CFG_SIZE], part[CFG_SIZE + 1];
	bool ok = true;

	dev->ops->get_config(dev, 0, full, CFG_SIZE);
	for (uint32_t off = 0; off < CFG_SIZE; off++)
		for (uint32_t len = 1; off + len <= CFG_SIZE; len++) {
			memset(part, 0xcc, sizeof(part));
			dev->ops->get_config(dev, off, part, len);
			ok &= memcmp(part, full + off, len) == 0 && part[len] == 0xcc;
		}
	return ok;
}

static void test_config_writes_and_offsets(void)
{
	uint8_t w[CFG_SIZE], c[CFG_SIZE];

	setup(INPUT_KEYBOARD);
	/* QEMU's vhost-user-input writes all 136 bytes: only select and subsel count. */
	memset(w, 0x5a, sizeof(w));
	w[0] = EV_BITS;
	w[1] = EV_KEY;
	w[2] = 0x77;
	CHECK(dev->ops->set_config(dev, 0, w, CFG_SIZE) == 0);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == EV_BITS && c[1] == EV_KEY && c[2] != 0x77 && c[2] > 0);
	CHECK(bit(c, KEY_A) && !bit(c, BTN_LEFT) && tail_clear(c));
	/* The same write with a name selected. */
	w[0] = ID_NAME;
	w[1] = 0;
	CHECK(dev->ops->set_config(dev, 0, w, CFG_SIZE) == 0);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == ID_NAME && c[2] == strlen("Cubicle Keyboard") && tail_clear(c));
	/* A write that misses offsets 0 and 1 changes nothing. */
	CHECK(dev->ops->set_config(dev, 2, w + 2, CFG_SIZE - 2) == 0);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == ID_NAME && c[1] == 0 && c[2] == strlen("Cubicle Keyboard"));
	/* subsel alone, then select alone. */
	CHECK(dev->ops->set_config(dev, 1, &(uint8_t){ EV_LED }, 1) == 0);
	CHECK(dev->ops->set_config(dev, 0, &(uint8_t){ EV_BITS }, 1) == 0);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == EV_BITS && c[1] == EV_LED && bit(c, LED_CAPSL));
	/* Both in one two-byte write. */
	CHECK(dev->ops->set_config(dev, 0, (uint8_t[]){ ID_DEVIDS, 0 }, 2) == 0);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == ID_DEVIDS && c[2] == 8);

	/* Odd offsets and lengths. */
	cfg_select(ID_NAME, 0);
	CHECK(reads_agree());
	cfg_select(EV_BITS, EV_KEY);
	CHECK(reads_agree());
	cfg_select(ID_DEVIDS, 0);
	CHECK(reads_agree());
	teardown();
	setup(INPUT_TABLET);
	cfg_select(ABS_INFO, ABS_Y);
	CHECK(reads_agree());
	cfg_select(EV_BITS, EV_REL);
	CHECK(reads_agree());
	teardown();
}

/* --- events ------------------------------------------------------------------ */

static void test_events_wait_for_buffers(void)
{
	const struct input_ev ev[5] = {
		{ EV_KEY, KEY_A, 1 }, { EV_SYN, SYN_REPORT, 0 }, { EV_KEY, KEY_A, 0 },
		{ EV_SYN, SYN_REPORT, 0 }, { EV_KEY, KEY_ENTER, 2 },
	};
	struct input_stats st;
	uint16_t h[4];
	int32_t next = 0;

	setup(INPUT_KEYBOARD);
	CHECK(input_active(dev));
	CHECK(input_send(dev, ev, 5) == 0);
	st = input_stats(dev);
	CHECK(st.queued == 5 && st.delivered == 0 && st.refused == 0);
	CHECK(input_room(dev) == INPUT_QUEUE_MAX - 5);
	notify(0);                                      /* no buffers yet: they wait */
	CHECK(used(0)[1] == 0 && input_stats(dev).queued == 5 && signals[0] == 0);

	/* Fewer buffers than events: the first three, in order. */
	for (int i = 0; i < 3; i++)
		h[i] = offer_buf(BUF + (uint64_t)i * 16, 8);
	notify(0);
	CHECK(used(0)[1] == 3);
	for (int i = 0; i < 3; i++)
		CHECK(took(h[i], BUF + (uint64_t)i * 16, ev[i]));
	st = input_stats(dev);
	CHECK(st.queued == 2 && st.delivered == 3 && signals[0] == 1);
	CHECK(input_room(dev) == INPUT_QUEUE_MAX - 2);

	/* More buffers than events: the rest, and two buffers stay offered. */
	for (int i = 0; i < 4; i++)
		h[i] = offer_buf(BUF + (uint64_t)i * 16, 8);
	notify(0);
	CHECK(used(0)[1] == 5);
	CHECK(took(h[0], BUF, ev[3]) && took(h[1], BUF + 16, ev[4]));
	st = input_stats(dev);
	CHECK(st.queued == 0 && st.delivered == 5 && signals[0] == 2);
	notify(0);                                      /* nothing waits: nothing moves */
	CHECK(used(0)[1] == 5 && signals[0] == 2);

	/* Events sent now go into the buffers already offered. */
	CHECK(input_send(dev, &ev[0], 1) == 0 && input_stats(dev).queued == 1);
	notify(0);
	CHECK(took(h[2], BUF + 32, ev[0]));
	CHECK(input_send(dev, &ev[1], 1) == 0);
	notify(0);
	CHECK(took(h[3], BUF + 48, ev[1]) && input_stats(dev).queued == 0);

	/* Many rounds through a 16-entry ring, the backlog growing, then drained. */
	for (int round = 0; round < 12; round++) {
		struct input_ev b[5];
		int32_t v = next + (int32_t)input_stats(dev).queued;

		for (int i = 0; i < 5; i++)
			b[i] = scan(v + i);
		CHECK(input_send(dev, b, 5) == 0);
		CHECK(drain(3, &next));
	}
	CHECK(input_stats(dev).queued == 24);
	CHECK(drain(24, &next) && next == 60);
	st = input_stats(dev);
	CHECK(st.queued == 0 && st.delivered == 7 + 60 && input_room(dev) == INPUT_QUEUE_MAX);
	teardown();
}

static void test_events_wire_format(void)
{
	const struct input_ev ev[6] = {
		{ EV_ABS, ABS_X, 0x1234 }, { EV_REL, REL_WHEEL, -1 }, { EV_KEY, BTN_LEFT, 1 },
		{ EV_REL, REL_HWHEEL, INT32_MIN }, { EV_ABS, ABS_Y, INPUT_ABS_MAX }, { EV_SYN, SYN_REPORT, 0 },
	};
	const struct seg split[2] = {
		{ BUF + 0x100, 4, VRING_DESC_F_WRITE }, { BUF + 0x200, 4, VRING_DESC_F_WRITE },
	};
	struct vring_used_elem *u;
	uint16_t h[6];

	setup(INPUT_TABLET);
	CHECK(input_send(dev, ev, 6) == 0);
	h[0] = offer_buf(BUF, 8);
	h[1] = offer_buf(BUF + 16, 8);
	h[2] = offer_buf(BUF + 32, 8);
	notify(0);
	CHECK(memcmp(at(BUF), "\x03\x00\x00\x00\x34\x12\x00\x00", 8) == 0);
	CHECK(memcmp(at(BUF + 16), "\x02\x00\x08\x00\xff\xff\xff\xff", 8) == 0);
	CHECK(memcmp(at(BUF + 32), "\x01\x00\x10\x01\x01\x00\x00\x00", 8) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(took(h[i], BUF + (uint64_t)i * 16, ev[i]));

	/* An event split over two 4-byte descriptors. */
	memset(at(BUF + 0x100), 0xee, 8);
	memset(at(BUF + 0x200), 0xee, 8);
	h[3] = offer(0, split, 2);
	/* A 64-byte buffer takes one event: 8 bytes used, the rest untouched. */
	h[4] = offer_buf(BUF + 0x300, 64);
	notify(0);
	CHECK(used(0)[1] == 5);
	u = used_elem(0, used_seen[0]++);
	CHECK(u->id == h[3] && u->len == 8);
	CHECK(memcmp(at(BUF + 0x100), "\x02\x00\x06\x00\xee", 5) == 0);
	CHECK(memcmp(at(BUF + 0x200), "\x00\x00\x00\x80\xee", 5) == 0);
	CHECK(took(h[4], BUF + 0x300, ev[4]));
	CHECK(memcmp(at(BUF + 0x300), "\x03\x00\x01\x00\xff\x7f\x00\x00", 8) == 0);
	CHECK(((uint8_t *)at(BUF + 0x308))[0] == 0xee && ((uint8_t *)at(BUF + 0x33f))[0] == 0xee);
	CHECK(signals[0] == 2);

	/* A driver that asks for no interrupts gets none (§2.7.7). */
	avail(0)[0] = VRING_AVAIL_F_NO_INTERRUPT;
	h[5] = offer_buf(BUF, 8);
	notify(0);
	CHECK(took(h[5], BUF, ev[5]) && signals[0] == 2);
	CHECK(input_stats(dev).delivered == 6 && input_stats(dev).queued == 0);
	CHECK(!dev->needs_reset && fails[0] == 0);
	teardown();
}

/* --- the bounded queue ------------------------------------------------------- */

static struct input_ev big[INPUT_QUEUE_MAX + 1];

static void test_bounded_queue(void)
{
	struct input_stats st;
	int32_t next = 0;

	setup(INPUT_KEYBOARD);
	for (unsigned int i = 0; i <= INPUT_QUEUE_MAX; i++)
		big[i] = scan((int32_t)i);
	CHECK(input_room(dev) == INPUT_QUEUE_MAX);
	CHECK(input_send(dev, big, INPUT_QUEUE_MAX - 10) == 0);
	CHECK(input_room(dev) == 10 && input_stats(dev).queued == INPUT_QUEUE_MAX - 10);

	/* A batch one larger than the room: refused whole. */
	for (int i = 0; i < 11; i++)
		big[INPUT_QUEUE_MAX - 10 + i].value = 900000 + i;
	CHECK(input_send(dev, big + INPUT_QUEUE_MAX - 10, 11) == -ENOBUFS);
	st = input_stats(dev);
	CHECK(st.queued == INPUT_QUEUE_MAX - 10 && st.refused == 11 && input_room(dev) == 10);
	for (int i = 0; i < 11; i++)
		big[INPUT_QUEUE_MAX - 10 + i].value = INPUT_QUEUE_MAX - 10 + i;
	CHECK(input_send(dev, big + INPUT_QUEUE_MAX - 10, 10) == 0);    /* exactly the room */
	CHECK(input_room(dev) == 0 && input_stats(dev).queued == INPUT_QUEUE_MAX);
	CHECK(input_send(dev, big, 1) == -ENOBUFS && input_stats(dev).refused == 12);
	CHECK(input_send(dev, big, INPUT_QUEUE_MAX + 1) == -EINVAL);
	CHECK(input_send(dev, big, 0) == 0);
	st = input_stats(dev);
	CHECK(st.queued == INPUT_QUEUE_MAX && st.refused == 12 && st.delivered == 0);

	/* Room comes back as the guest reads; the queue wraps around. */
	CHECK(drain(100, &next));
	CHECK(input_room(dev) == 100 && input_stats(dev).queued == INPUT_QUEUE_MAX - 100);
	for (int i = 0; i < 100; i++)
		big[i] = scan(INPUT_QUEUE_MAX + i);
	CHECK(input_send(dev, big, 100) == 0 && input_room(dev) == 0);
	CHECK(drain(INPUT_QUEUE_MAX, &next) && next == INPUT_QUEUE_MAX + 100);
	st = input_stats(dev);
	CHECK(st.queued == 0 && st.delivered == INPUT_QUEUE_MAX + 100 && st.refused == 12);
	CHECK(input_room(dev) == INPUT_QUEUE_MAX);
	/* -EINVAL even on an empty queue. */
	CHECK(input_send(dev, big, INPUT_QUEUE_MAX + 1) == -EINVAL && input_stats(dev).queued == 0);
	CHECK(input_send(dev, big, INPUT_QUEUE_MAX) == 0 && input_room(dev) == 0);
	teardown();
}

/* --- a hostile guest --------------------------------------------------------- */

/* After one bad buffer on queue q: needs reset, reported once, the event kept. */
static void check_broken(int q, uint32_t queued)
{
	CHECK(dev->needs_reset);
	CHECK(fails[q] == 1 && fails[!q] == 0 && fail_why != NULL);
	CHECK(used(q)[1] == 0 && signals[q] == 0);
	CHECK(input_stats(dev).queued == queued && input_stats(dev).delivered == 0);
	CHECK(!input_active(dev));
}

static void test_hostile_event_buffers(void)
{
	const struct input_ev e = { EV_KEY, KEY_A, 1 };
	const uint64_t outside[] = { 0x1000, GPA + MEM - 4, GPA + MEM, ~0ull - 3 };

	/* Shorter than an event. */
	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, &e, 1) == 0);
	offer_buf(BUF, 4);
	memset(at(BUF + 4), 0xee, 4);
	notify(0);
	check_broken(0, 1);
	CHECK(memcmp(at(BUF), "\xee\xee\xee\xee\xee\xee\xee\xee", 8) == 0);
	teardown();

	/* Device-readable only: no room for an event at all. */
	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, &e, 1) == 0);
	offer(0, &(struct seg){ BUF, 8, 0 }, 1);
	notify(0);
	check_broken(0, 1);
	teardown();

	/* Outside guest memory: below it, straddling its end, past it, wrapping. */
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		setup(INPUT_KEYBOARD);
		CHECK(input_send(dev, &e, 1) == 0);
		offer(0, &(struct seg){ outside[i], 8, VRING_DESC_F_WRITE }, 1);
		notify(0);
		check_broken(0, 1);
		CHECK(dev->vqs[0].broken);
		teardown();
	}

	/* A head index past the queue; an avail index that jumps; a looping chain. */
	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, &e, 1) == 0);
	avail(0)[2] = NUM + 3;
	avail(0)[1] = 1;
	notify(0);
	check_broken(0, 1);
	teardown();
	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, &e, 1) == 0);
	avail(0)[1] = NUM + 1;
	notify(0);
	check_broken(0, 1);
	teardown();
	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, &e, 1) == 0);
	desc(0)[0] = (struct vring_desc){ BUF, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	desc(0)[1] = (struct vring_desc){ BUF + 4, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0 };
	avail(0)[1] = 1;
	notify(0);
	check_broken(0, 1);
	teardown();

	/* The status queue: a buffer outside guest memory. */
	setup(INPUT_KEYBOARD);
	offer(1, &(struct seg){ GPA + MEM - 4, 8, 0 }, 1);
	notify(1);
	check_broken(1, 0);
	CHECK(dev->vqs[1].broken && input_stats(dev).leds == 0);
	teardown();
}

/* --- the status queue -------------------------------------------------------- */

/* Sends len bytes as one device-readable status buffer; whether it came back, used 0. */
static bool status(const void *bytes, uint32_t len)
{
	struct vring_used_elem *u;
	uint16_t head;

	memcpy(at(STATUS), bytes, len);
	head = offer(1, &(struct seg){ STATUS, len, 0 }, 1);
	notify(1);
	if (used(1)[1] == used_seen[1])
		return false;
	u = used_elem(1, used_seen[1]++);
	return u->id == head && u->len == 0;
}

static bool led(uint16_t code, int32_t value)
{
	uint8_t b[8];

	encode((struct input_ev){ EV_LED, code, value }, b);
	return status(b, 8);
}

static void test_status_leds(void)
{
	uint8_t two[16], odd[12];

	setup(INPUT_KEYBOARD);
	CHECK(input_stats(dev).leds == 0);
	CHECK(status("\x11\x00\x01\x00\x01\x00\x00\x00", 8));   /* EV_LED LED_CAPSL 1, by hand */
	CHECK(input_stats(dev).leds == 1u << LED_CAPSL);
	CHECK(signals[1] == 1);
	CHECK(led(LED_CAPSL, 0) && input_stats(dev).leds == 0);
	CHECK(led(LED_NUML, 1) && input_stats(dev).leds == 1u << LED_NUML);
	CHECK(led(LED_COMPOSE, 1) && led(LED_KANA, 1) && led(0xffff, 1));   /* ignored */
	CHECK(input_stats(dev).leds == 1u << LED_NUML);
	CHECK(led(LED_SCROLLL, INT32_MIN) && input_stats(dev).leds == (1u << LED_NUML | 1u << LED_SCROLLL));

	/* Not EV_LED: read and let go. */
	encode((struct input_ev){ EV_KEY, LED_CAPSL, 1 }, two);
	CHECK(status(two, 8) && input_stats(dev).leds == (1u << LED_NUML | 1u << LED_SCROLLL));

	/* Two events in one buffer; then one and a half. */
	encode((struct input_ev){ EV_LED, LED_NUML, 0 }, two);
	encode((struct input_ev){ EV_LED, LED_CAPSL, 1 }, two + 8);
	CHECK(status(two, 16) && input_stats(dev).leds == (1u << LED_CAPSL | 1u << LED_SCROLLL));
	encode((struct input_ev){ EV_LED, LED_SCROLLL, 0 }, odd);
	memcpy(odd + 8, "\x11\x00\x00\x00", 4);
	CHECK(status(odd, 12) && input_stats(dev).leds == 1u << LED_CAPSL);
	CHECK(status(odd, 3) && input_stats(dev).leds == 1u << LED_CAPSL);   /* too short: ignored */

	/* A writable status buffer carries nothing for us; it still comes back. */
	offer(1, &(struct seg){ STATUS, 8, VRING_DESC_F_WRITE }, 1);
	notify(1);
	CHECK(used(1)[1] == (uint16_t)(used_seen[1] + 1) && used_elem(1, used_seen[1]++)->len == 0);
	/* An event split over two descriptors: the buffer comes back, nothing breaks. */
	encode((struct input_ev){ EV_LED, LED_NUML, 1 }, two);
	memcpy(at(STATUS), two, 4);
	memcpy(at(STATUS + 0x100), two + 4, 4);
	offer(1, (const struct seg[]){ { STATUS, 4, 0 }, { STATUS + 0x100, 4, 0 } }, 2);
	notify(1);
	CHECK(used(1)[1] == (uint16_t)(used_seen[1] + 1));
	used_seen[1]++;

	/* Several buffers at once, all returned, the last word wins. */
	for (unsigned int i = 0; i < 5; i++) {
		encode((struct input_ev){ EV_LED, LED_CAPSL, (int32_t)(i & 1) }, at(STATUS + 0x400 + i * 8));
		offer(1, &(struct seg){ STATUS + 0x400 + i * 8, 8, 0 }, 1);
	}
	notify(1);
	CHECK(used(1)[1] == (uint16_t)(used_seen[1] + 5));
	CHECK((input_stats(dev).leds & (1u << LED_CAPSL)) == 0);
	CHECK(!dev->needs_reset && fails[1] == 0 && used(0)[1] == 0);
	teardown();
}

/* --- reset ------------------------------------------------------------------- */

static void test_reset(void)
{
	const struct input_ev a = { EV_KEY, KEY_A, 1 }, b = { EV_KEY, KEY_B, 1 };
	struct input_ev five[5] = { a, a, a, a, a };
	struct input_stats st;
	uint8_t c[CFG_SIZE];
	uint16_t h;

	setup(INPUT_KEYBOARD);
	CHECK(input_send(dev, five, 5) == 0);
	CHECK(led(LED_CAPSL, 1) && led(LED_NUML, 1) && input_stats(dev).leds == 3);
	cfg_select(ID_NAME, 0);
	/* The transport stops every queue, then resets the device. */
	vq_reset(&dev->vqs[0], 0);
	vq_reset(&dev->vqs[1], 0);
	CHECK(!input_active(dev));
	dev->ops->reset(dev);
	st = input_stats(dev);
	CHECK(st.discarded == 5 && st.queued == 0 && st.leds == 0 && st.delivered == 0);
	CHECK(input_room(dev) == INPUT_QUEUE_MAX);
	dev->ops->get_config(dev, 0, c, CFG_SIZE);
	CHECK(c[0] == 0 && c[1] == 0 && c[2] == 0);

	/* A new driver gets only what is sent after the reset. */
	rings_setup();
	CHECK(input_active(dev));
	CHECK(input_send(dev, &b, 1) == 0);
	h = offer_buf(BUF, 8);
	notify(0);
	CHECK(took(h, BUF, b) && used(0)[1] == 1);
	dev->ops->reset(dev);                           /* nothing waiting: nothing counted */
	st = input_stats(dev);
	CHECK(st.discarded == 5 && st.delivered == 1 && st.queued == 0);

	/* After a broken buffer, a reset (the transport clears the flag) brings it back. */
	CHECK(input_send(dev, &a, 1) == 0);
	offer_buf(BUF, 4);
	notify(0);
	CHECK(dev->needs_reset);
	dev->needs_reset = false;
	dev->ops->reset(dev);
	rings_setup();
	CHECK(input_active(dev) && input_stats(dev).discarded == 6);
	CHECK(input_send(dev, &b, 1) == 0);
	h = offer_buf(BUF, 8);
	notify(0);
	CHECK(took(h, BUF, b) && !dev->needs_reset);
	teardown();
}

/* --- pixels to tablet values ------------------------------------------------- */

static void test_abs_from_pixel(void)
{
	const uint32_t sizes[] = { 1024, 1280, 800, 768, 8192 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s];
		bool in_range = true, direct = true, scaled = true, stepped = true, rising = true;
		int32_t last = -1;

		for (uint32_t px = 0; px < size; px++) {
			int32_t v = input_abs_from_pixel(px, size);
			uint64_t u = (uint64_t)v;

			in_range &= v >= 0 && v <= INPUT_ABS_MAX;
			rising &= v > last;
			last = v;
			/* v * size / 32768, floored */
			direct &= u * size / 32768 == px;
			/* v * 65535/32768 * size / 65536, floored (exact rational) */
			scaled &= u * 65535 * size / (32768ull * 65536) == px;
			/* the same in two integer steps: to 0..65535 first, floored */
			stepped &= u * 65535 / 32768 * size / 65536 == px;
		}
		CHECK(in_range);
		CHECK(rising);
		CHECK(direct);
		CHECK(scaled);
		CHECK(stepped);
		if (!(in_range && rising && direct && scaled && stepped))
			fprintf(stderr, "  size %u\n", size);
	}
}

int main(void)
{
	ram = aligned_alloc(4096, MEM);
	CHECK(ram != NULL);
	if (!ram)
		return 1;
	CHECK(gm_add_host_region(&gm, ram, GPA, MEM, 0) == 0);
	RUN(test_config_keyboard);
	RUN(test_config_tablet);
	RUN(test_config_writes_and_offsets);
	RUN(test_events_wait_for_buffers);
	RUN(test_events_wire_format);
	RUN(test_bounded_queue);
	RUN(test_hostile_event_buffers);
	RUN(test_status_leds);
	RUN(test_reset);
	RUN(test_abs_from_pixel);
	free(ram);
	return check_done();
}
