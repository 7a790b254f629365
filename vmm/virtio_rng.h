/* virtio-rng (virtio 1.2 §5.4): one request queue filled from getrandom(2). */
#ifndef CUBICLE_VIRTIO_RNG_H
#define CUBICLE_VIRTIO_RNG_H

#include <stdint.h>

#include "virtio_dev.h"

struct rng_stats {
	uint64_t requests;
	uint64_t bytes;
};

/* A new virtio-rng device; free it with vdev_free(). NULL without memory. */
struct virtio_dev *rng_new(void);

/* What the device has served since it was made. */
struct rng_stats rng_stats(const struct virtio_dev *dev);

#endif
