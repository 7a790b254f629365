/*
 * virtio-input (virtio 1.2 §5.8): the sandbox's keyboard and its absolute
 * tablet. The host puts evdev events in; they go to the guest in order,
 * through the event queue, as the guest offers buffers. Until then they wait
 * in a bounded queue; a sender that finds it full is told so (-ENOBUFS) and
 * nothing of its batch is taken. The guest's status queue (keyboard LEDs)
 * is read and remembered.
 */
#ifndef CUBICLE_VIRTIO_INPUT_H
#define CUBICLE_VIRTIO_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "virtio_dev.h"

#define VIRTIO_ID_INPUT 18

/* The tablet's axes run 0..INPUT_ABS_MAX whatever the screen size. */
#define INPUT_ABS_MAX 32767
/* Events that can wait for the guest's buffers. */
#define INPUT_QUEUE_MAX 4096

enum input_kind {
	INPUT_KEYBOARD,   /* every evdev key, EV_REP, LEDs (num, caps, scroll) */
	INPUT_TABLET,     /* ABS_X/ABS_Y, five buttons, vertical and horizontal wheel */
};

/* One evdev event (linux/input.h's type, code, value). */
struct input_ev {
	uint16_t type;
	uint16_t code;
	int32_t value;
};

struct input_stats {
	uint64_t delivered;         /* events the guest has received */
	uint64_t refused;           /* events refused because the queue was full */
	uint64_t discarded;         /* events waiting when the guest reset the device */
	uint32_t queued;            /* waiting now */
	uint32_t leds;              /* bit LED_NUML, LED_CAPSL, ... as the guest set them */
};

/*
 * A new keyboard or tablet. Events sent from other threads are handed to
 * loop's thread, which owns the queues. NULL without memory. Free with
 * vdev_free() (on loop's thread, or once the loop no longer runs).
 */
struct virtio_dev *input_new(enum input_kind kind, struct loop *loop);

/*
 * Queues n events, in order, for the guest; the caller ends each batch with
 * SYN_REPORT. Safe from any thread. 0, or -ENOBUFS when fewer than n places
 * are free (nothing is taken), -EINVAL when n exceeds INPUT_QUEUE_MAX.
 */
int input_send(struct virtio_dev *dev, const struct input_ev *ev, unsigned int n);

/* Places free in the queue now. Safe from any thread. */
unsigned int input_room(struct virtio_dev *dev);

/* Whether the guest has a driver reading events (its event queue runs). */
bool input_active(struct virtio_dev *dev);

struct input_stats input_stats(struct virtio_dev *dev);

enum input_kind input_kind(const struct virtio_dev *dev);

/*
 * A count of changes that only grows: events reached the guest, the LEDs
 * changed, the driver reset the device. A thread that waits for one of
 * those reads the count, checks, then input_wait()s. Safe from any thread
 * but the loop's (which makes the changes).
 */
uint64_t input_changes(struct virtio_dev *dev);
/* Waits until the count passes seen or timeout_ms passes; the count then. */
uint64_t input_wait(struct virtio_dev *dev, uint64_t seen, int timeout_ms);

/*
 * The tablet value for screen pixel px (0 ≤ px < size): the middle of the
 * pixel's share of the axis, so that any rounding the guest does lands on px.
 */
static inline int32_t input_abs_from_pixel(uint32_t px, uint32_t size)
{
	return (int32_t)(((2ull * px + 1) * (INPUT_ABS_MAX + 1)) / (2ull * size));
}

#endif
