/*
 * virtio-gpu, 2D (virtio 1.2 §5.7): the guest's scanout and cursor land in
 * a struct display (display/display.h) that the device owns and that its
 * consumers (VNC, screenshots) follow. Every id, rectangle, offset and
 * length from the guest is checked; host memory for resources is capped
 * per device.
 */
#ifndef CUBICLE_VIRTIO_GPU_H
#define CUBICLE_VIRTIO_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "display.h"
#include "framebuffer.h"
#include "virtio_dev.h"

#define VIRTIO_ID_GPU 16
#define GPU_DEFAULT_WIDTH 1280
#define GPU_DEFAULT_HEIGHT 800
#define GPU_DEFAULT_MEM_CAP (256ull << 20)

struct gpu_stats {
	uint64_t commands;
	uint64_t errors;            /* commands answered with an error */
	uint64_t flushes;
	uint64_t resource_bytes;    /* host memory held for resources now */
};

/*
 * A new virtio-gpu with one scanout of width x height (its display info and
 * EDID) and at most mem_cap bytes of resources. NULL on a bad size or
 * without memory. Free with vdev_free().
 */
struct virtio_dev *gpu_new(uint32_t width, uint32_t height, uint64_t mem_cap);

/* The screen the device draws into; consumers attach there. Never NULL. */
struct display *gpu_display(struct virtio_dev *dev);

/*
 * The mode the display info and EDID offer from now on (a resize: the guest
 * hears of it through the display event, see docs/control-protocol.md).
 * 0, or -EINVAL for a size outside 64..FB_MAX_DIM or over the memory cap.
 * Safe from any thread, as is gpu_mode().
 */
int gpu_set_mode(struct virtio_dev *dev, uint32_t width, uint32_t height);
void gpu_mode(const struct virtio_dev *dev, uint32_t *width, uint32_t *height);

/*
 * The size the guest scans out now, as (width << 32 | height), 0 when the
 * scanout is off. Safe from any thread.
 */
uint64_t gpu_scanout_size(const struct virtio_dev *dev);

/* The framebuffer itself, for the device loop's thread only (never NULL). */
struct framebuffer *gpu_framebuffer(struct virtio_dev *dev);
struct gpu_stats gpu_stats(const struct virtio_dev *dev);

#endif
