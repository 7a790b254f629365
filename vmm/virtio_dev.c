#include "virtio_dev.h"

#include <stdlib.h>

void vdev_notify(struct virtio_dev *dev, unsigned int q)
{
	if (q < dev->ops->num_queues && vq_should_notify(&dev->vqs[q]) && dev->signal)
		dev->signal(dev, q);
}

void vdev_broken(struct virtio_dev *dev, unsigned int q)
{
	const char *why = q < dev->ops->num_queues ? dev->vqs[q].why : NULL;

	if (dev->needs_reset)
		return;
	dev->needs_reset = true;
	if (dev->fail)
		dev->fail(dev, q, why ? why : "device error");
}

void vdev_free(struct virtio_dev *dev)
{
	if (!dev)
		return;
	if (dev->ops->free)
		dev->ops->free(dev);
	free(dev);
}
