/*
 * The one interface every Cubicle device implements, whatever carries it to
 * the guest (vhost-user now, an in-process virtio-mmio transport later).
 *
 * A device is an ops table plus its private state. The transport owns the
 * queues and guest memory, negotiates features, and tells the device when a
 * queue has buffers; the device pops, fills and pushes, then asks the
 * transport to interrupt the guest through vdev_notify().
 */
#ifndef CUBICLE_VIRTIO_DEV_H
#define CUBICLE_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtqueue.h"

/* Feature bits common to all devices (virtio 1.2 §6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_RNG 4

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;          /* device-specific bits offered */
	unsigned int num_queues;
	uint32_t config_size;       /* bytes of device config space */
	/* Reads config [off, off+len); the transport has bounded the range. */
	void (*get_config)(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len);
	/* Writes config [off, off+len); returns 0 or -errno. May be NULL. */
	int (*set_config)(struct virtio_dev *dev, uint32_t off, const void *buf, uint32_t len);
	/* Queue q has new buffers (a kick, or the queue just started). */
	void (*queue_notify)(struct virtio_dev *dev, unsigned int q);
	/* Back to power-on state: every queue is already stopped. May be NULL. */
	void (*reset)(struct virtio_dev *dev);
	/* Frees the device's private state. May be NULL. */
	void (*free)(struct virtio_dev *dev);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	uint64_t features;          /* negotiated with the driver */
	struct virtqueue *vqs;      /* ops->num_queues of them, owned by the transport */
	bool needs_reset;           /* the guest broke a rule; no more work until reset */
	/* Set by the transport: interrupt the guest for queue q, report a broken one. */
	void (*signal)(struct virtio_dev *dev, unsigned int q);
	void (*fail)(struct virtio_dev *dev, unsigned int q, const char *why);
	void *transport;
};

/* Interrupts the guest for queue q if the driver wants it (§2.7.10). */
void vdev_notify(struct virtio_dev *dev, unsigned int q);

/* Marks the device needing reset because queue q broke a rule (§2.1.2). */
void vdev_broken(struct virtio_dev *dev, unsigned int q);

/* Frees a device made by a *_new() constructor. Accepts NULL. */
void vdev_free(struct virtio_dev *dev);

#endif
