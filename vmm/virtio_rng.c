#include "virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

/*
 * The most one request gets. The device may fill fewer bytes than offered
 * (§5.4.6); capping keeps a guest that offers gigabytes from stalling the loop.
 */
#define RNG_MAX_PER_REQUEST (64 * 1024)

struct rng {
	struct rng_stats stats;
	struct vq_elem elem;        /* the request being served */
};

/* Fills the writable part of elem with up to RNG_MAX_PER_REQUEST random bytes. */
static uint32_t fill(struct vq_elem *elem)
{
	uint32_t done = 0;

	for (unsigned int i = elem->n_out; i < elem->n_out + elem->n_in; i++) {
		uint8_t *p = elem->iov[i].iov_base;
		size_t want = elem->iov[i].iov_len;

		if (want > RNG_MAX_PER_REQUEST - done)
			want = RNG_MAX_PER_REQUEST - done;
		while (want) {
			ssize_t n = getrandom(p, want, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done;
			}
			p += n;
			want -= (size_t)n;
			done += (uint32_t)n;
		}
		if (done == RNG_MAX_PER_REQUEST)
			break;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *dev, unsigned int q)
{
	struct rng *rng = dev->priv;
	struct virtqueue *vq = &dev->vqs[q];
	struct vq_elem *elem = &rng->elem;
	bool pushed = false;
	int ret;

	while ((ret = vq_pop(vq, elem)) == 1) {
		uint32_t n = fill(elem);

		vq_push(vq, elem->head, n);
		rng->stats.requests++;
		rng->stats.bytes += n;
		pushed = true;
	}
	if (pushed)
		vdev_notify(dev, q);
	if (ret < 0)
		vdev_broken(dev, q);
}

static void rng_free(struct virtio_dev *dev)
{
	free(dev->priv);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.config_size = 0,
	.queue_notify = rng_queue_notify,
	.free = rng_free,
};

struct virtio_dev *rng_new(void)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->ops = &rng_ops;
	dev->priv = calloc(1, sizeof(struct rng));
	if (!dev->priv) {
		free(dev);
		return NULL;
	}
	return dev;
}

struct rng_stats rng_stats(const struct virtio_dev *dev)
{
	return ((const struct rng *)dev->priv)->stats;
}
