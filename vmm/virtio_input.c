#include "virtio_input.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"

/* virtio 1.2 §5.8.2: what the driver selects in config space. */
enum {
	CFG_UNSET = 0x00,
	CFG_ID_NAME = 0x01,
	CFG_ID_SERIAL = 0x02,
	CFG_ID_DEVIDS = 0x03,
	CFG_PROP_BITS = 0x10,
	CFG_EV_BITS = 0x11,
	CFG_ABS_INFO = 0x12,
};

#define EVENTQ 0
#define STATUSQ 1
#define EVENT_SIZE 8            /* struct virtio_input_event: le16, le16, le32 */
#define CONFIG_SIZE 136         /* select, subsel, size, 5 reserved, 128 of data */
#define BUS_VIRTUAL 0x06
#define STATUS_MAX_EVENTS 8     /* read from one status buffer */

struct input {
	enum input_kind kind;
	struct virtio_dev *dev;
	struct loop *loop;
	struct loop_wakeup *wake;   /* other threads' sends wake the loop (none without one) */
	uint8_t select, subsel;     /* what the driver looks at in config space */
	pthread_mutex_t lock;       /* the queue and the stats */
	struct changes changes;     /* events reached the guest, LEDs changed, a reset */
	unsigned int head, count;
	struct input_ev queue[INPUT_QUEUE_MAX];
	struct input_stats st;
	struct vq_elem elem;
};

/* Sets bits [first, last] of a config bitmap. */
static void set_bits(uint8_t *map, unsigned int first, unsigned int last)
{
	for (unsigned int b = first; b <= last; b++)
		map[b / 8] |= (uint8_t)(1u << (b % 8));
}

/* The EV_BITS bitmap for event type `type`; its size in bytes, 0 if none. */
static uint8_t ev_bits(enum input_kind kind, uint8_t type, uint8_t *map)
{
	if (kind == INPUT_KEYBOARD) {
		switch (type) {
		case EV_KEY:
			/* Every key, none of the buttons (which would make it a mouse). */
			set_bits(map, KEY_ESC, KEY_MICMUTE);
			set_bits(map, KEY_OK, KEY_LIGHTS_TOGGLE);
			return (KEY_LIGHTS_TOGGLE / 8) + 1;
		case EV_REP:
			return 1;       /* present: the guest repeats held keys */
		case EV_LED:
			set_bits(map, LED_NUML, LED_SCROLLL);
			return 1;
		}
		return 0;
	}
	switch (type) {
	case EV_KEY:
		set_bits(map, BTN_LEFT, BTN_EXTRA);
		return (BTN_EXTRA / 8) + 1;
	case EV_REL:
		set_bits(map, REL_HWHEEL, REL_HWHEEL);
		set_bits(map, REL_WHEEL, REL_WHEEL);
		return (REL_WHEEL / 8) + 1;
	case EV_ABS:
		set_bits(map, ABS_X, ABS_Y);
		return 1;
	}
	return 0;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* The config space for what the driver selected (§5.8.4). */
static void build_config(const struct input *in, uint8_t cfg[CONFIG_SIZE])
{
	const char *s = NULL;
	uint8_t *data = cfg + 8;

	memset(cfg, 0, CONFIG_SIZE);
	cfg[0] = in->select;
	cfg[1] = in->subsel;
	switch (in->select) {
	case CFG_ID_NAME:
		if (in->subsel == 0)
			s = in->kind == INPUT_KEYBOARD ? "Cubicle Keyboard" : "Cubicle Tablet";
		break;
	case CFG_ID_SERIAL:
		if (in->subsel == 0)
			s = in->kind == INPUT_KEYBOARD ? "cubicle-keyboard" : "cubicle-tablet";
		break;
	case CFG_ID_DEVIDS:
		if (in->subsel == 0) {
			put_le16(data, BUS_VIRTUAL);
			put_le16(data + 2, 0);
			put_le16(data + 4, in->kind == INPUT_KEYBOARD ? 1 : 2);
			put_le16(data + 6, 1);
			cfg[2] = 8;
		}
		break;
	case CFG_EV_BITS:
		cfg[2] = ev_bits(in->kind, in->subsel, data);
		break;
	case CFG_ABS_INFO:
		if (in->kind == INPUT_TABLET && (in->subsel == ABS_X || in->subsel == ABS_Y)) {
			put_le32(data, 0);                 /* min */
			put_le32(data + 4, INPUT_ABS_MAX); /* max; fuzz, flat, res stay 0 */
			cfg[2] = 20;
		}
		break;
	}
	if (s) {
		cfg[2] = (uint8_t)strlen(s);
		memcpy(data, s, cfg[2]);
	}
}

static void input_get_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	uint8_t cfg[CONFIG_SIZE];

	build_config(dev->priv, cfg);
	memcpy(buf, cfg + off, len);
}

/* Only select and subsel are writable (§5.8.4); the rest of a write is ignored. */
static int input_set_config(struct virtio_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct input *in = dev->priv;
	const uint8_t *p = buf;

	for (uint32_t i = 0; i < len; i++) {
		if (off + i == 0)
			in->select = p[i];
		else if (off + i == 1)
			in->subsel = p[i];
	}
	return 0;
}

/* With the lock held: something a waiter may wait for happened. */
static void changed_locked(struct input *in)
{
	changes_bump(&in->changes);
}

/* On the loop: moves waiting events into the guest's buffers, one per buffer. */
static void flush(struct input *in)
{
	struct virtqueue *vq = &in->dev->vqs[EVENTQ];
	bool pushed = false;
	int ret = 0;

	pthread_mutex_lock(&in->lock);
	while (in->count && (ret = vq_pop(vq, &in->elem)) == 1) {
		const struct input_ev *e = &in->queue[in->head];
		uint8_t le[EVENT_SIZE];

		if (in->elem.in_len < EVENT_SIZE) {
			vq->why = "event buffer shorter than an event";
			ret = -EIO;
			break;
		}
		put_le16(le, e->type);
		put_le16(le + 2, e->code);
		put_le32(le + 4, (uint32_t)e->value);
		vq_elem_write(&in->elem, le, EVENT_SIZE);
		vq_push(vq, in->elem.head, EVENT_SIZE);
		in->head = (in->head + 1) % INPUT_QUEUE_MAX;
		in->count--;
		in->st.delivered++;
		pushed = true;
	}
	if (pushed)
		changed_locked(in);
	pthread_mutex_unlock(&in->lock);
	if (pushed)
		vdev_notify(in->dev, EVENTQ);
	if (ret < 0)
		vdev_broken(in->dev, EVENTQ);
}

/* The guest's status events: LED changes (§5.8.6.2); anything else is read and let go. */
static void read_status(struct input *in)
{
	struct virtqueue *vq = &in->dev->vqs[STATUSQ];
	bool pushed = false;
	int ret;

	while ((ret = vq_pop(vq, &in->elem)) == 1) {
		uint8_t le[EVENT_SIZE];
		struct iovec part[1];
		uint64_t got = 0;

		/* Linux sends one event per buffer; a few are read, never the guest's gigabytes. */
		for (uint64_t off = 0; off + EVENT_SIZE <= in->elem.out_len &&
		     off < STATUS_MAX_EVENTS * EVENT_SIZE; off += EVENT_SIZE) {
			if (vq_iov_slice(in->elem.iov, in->elem.n_out, off, EVENT_SIZE, part, 1, &got) != 1 ||
			    got != EVENT_SIZE)
				break;      /* an event split across segments: not from Linux */
			memcpy(le, part[0].iov_base, EVENT_SIZE);
			uint16_t type = (uint16_t)(le[0] | le[1] << 8);
			uint16_t code = (uint16_t)(le[2] | le[3] << 8);
			uint32_t value = le[4] | le[5] << 8 | le[6] << 16 | (uint32_t)le[7] << 24;

			if (type != EV_LED || code > LED_SCROLLL)
				continue;
			pthread_mutex_lock(&in->lock);
			if (value)
				in->st.leds |= 1u << code;
			else
				in->st.leds &= ~(1u << code);
			changed_locked(in);
			pthread_mutex_unlock(&in->lock);
		}
		vq_push(vq, in->elem.head, 0);
		pushed = true;
	}
	if (pushed)
		vdev_notify(in->dev, STATUSQ);
	if (ret < 0)
		vdev_broken(in->dev, STATUSQ);
}

static void input_queue_notify(struct virtio_dev *dev, unsigned int q)
{
	if (q == EVENTQ)
		flush(dev->priv);
	else
		read_status(dev->priv);
}

static void on_wake(struct loop *loop, void *opaque)
{
	struct input *in = opaque;

	(void)loop;
	if (in->dev->vqs && !in->dev->needs_reset)
		flush(in);
}

/* A reset driver is a new driver: what waited for the old one is let go, counted. */
static void input_reset(struct virtio_dev *dev)
{
	struct input *in = dev->priv;

	pthread_mutex_lock(&in->lock);
	in->st.discarded += in->count;
	in->head = in->count = 0;
	in->st.leds = 0;
	changed_locked(in);
	pthread_mutex_unlock(&in->lock);
	in->select = in->subsel = 0;
}

static void input_free(struct virtio_dev *dev)
{
	struct input *in = dev->priv;

	if (!in)
		return;
	loop_wakeup_free(in->wake);
	changes_destroy(&in->changes);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

/* The two kinds differ only in their name (and in what input_kind() says). */
#define INPUT_OPS(dev_name) {                                  \
		.name = dev_name,                              \
		.device_id = VIRTIO_ID_INPUT,                  \
		.num_queues = 2,                               \
		.config_size = CONFIG_SIZE,                    \
		.get_config = input_get_config,                \
		.set_config = input_set_config,                \
		.queue_notify = input_queue_notify,            \
		.reset = input_reset,                          \
		.free = input_free,                            \
	}

static const struct virtio_dev_ops keyboard_ops = INPUT_OPS("virtio-input keyboard");
static const struct virtio_dev_ops tablet_ops = INPUT_OPS("virtio-input tablet");

struct virtio_dev *input_new(enum input_kind kind, struct loop *loop)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));
	struct input *in = calloc(1, sizeof(*in));

	if (!dev || !in)
		goto out_free;
	in->kind = kind;
	in->dev = dev;
	in->loop = loop;
	if (loop && !(in->wake = loop_wakeup_new(loop, on_wake, in)))
		goto out_free;
	pthread_mutex_init(&in->lock, NULL);
	changes_init(&in->changes);
	dev->ops = kind == INPUT_KEYBOARD ? &keyboard_ops : &tablet_ops;
	dev->priv = in;
	return dev;

out_free:
	free(in);
	free(dev);
	return NULL;
}

int input_send(struct virtio_dev *dev, const struct input_ev *ev, unsigned int n)
{
	struct input *in = dev->priv;

	if (n > INPUT_QUEUE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&in->lock);
	if (INPUT_QUEUE_MAX - in->count < n) {
		in->st.refused += n;
		pthread_mutex_unlock(&in->lock);
		return -ENOBUFS;
	}
	for (unsigned int i = 0; i < n; i++)
		in->queue[(in->head + in->count + i) % INPUT_QUEUE_MAX] = ev[i];
	in->count += n;
	pthread_mutex_unlock(&in->lock);
	if (in->wake)
		loop_wake(in->wake);
	return 0;
}

unsigned int input_room(struct virtio_dev *dev)
{
	struct input *in = dev->priv;
	unsigned int room;

	pthread_mutex_lock(&in->lock);
	room = INPUT_QUEUE_MAX - in->count;
	pthread_mutex_unlock(&in->lock);
	return room;
}

bool input_active(struct virtio_dev *dev)
{
	return dev->vqs && __atomic_load_n(&dev->vqs[EVENTQ].ready, __ATOMIC_RELAXED) &&
	       !dev->needs_reset;
}

struct input_stats input_stats(struct virtio_dev *dev)
{
	struct input *in = dev->priv;
	struct input_stats st;

	pthread_mutex_lock(&in->lock);
	st = in->st;
	st.queued = in->count;
	pthread_mutex_unlock(&in->lock);
	return st;
}

enum input_kind input_kind(const struct virtio_dev *dev)
{
	return ((const struct input *)dev->priv)->kind;
}

uint64_t input_changes(struct virtio_dev *dev)
{
	return changes_now(&((struct input *)dev->priv)->changes);
}

uint64_t input_wait(struct virtio_dev *dev, uint64_t seen, int timeout_ms)
{
	return changes_wait(&((struct input *)dev->priv)->changes, seen, timeout_ms);
}
