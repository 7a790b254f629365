/*
 * virtio-gpu, 2D (virtio 1.2 §5.7): the guest's scanout lands in a
 * struct framebuffer that the device host owns; cursor image and position
 * are kept beside it. Every id, rectangle, offset and length from the guest
 * is checked; host memory for resources is capped per device.
 */
#ifndef CUBICLE_VIRTIO_GPU_H
#define CUBICLE_VIRTIO_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "framebuffer.h"
#include "virtio_dev.h"

#define VIRTIO_ID_GPU 16
#define GPU_DEFAULT_WIDTH 1280
#define GPU_DEFAULT_HEIGHT 800
#define GPU_DEFAULT_MEM_CAP (256ull << 20)

struct gpu_cursor {
	bool visible;
	uint32_t x, y;              /* position of the hot spot on the screen */
	uint32_t hot_x, hot_y;
	uint32_t width, height;     /* 0 when no image */
	uint8_t pixels[64 * 64 * 4];/* B, G, R, A */
};

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

/*
 * Who hears of screen changes (the VNC server), on the device loop's thread:
 * a new scanout size, a flushed rectangle, the cursor (new_image: its shape
 * changed, else it moved or was hidden). Any member may be NULL.
 */
struct gpu_listener {
	void (*resized)(void *opaque, const struct framebuffer *fb);
	void (*damaged)(void *opaque, const struct framebuffer *fb, const struct fb_rect *r);
	void (*cursor)(void *opaque, const struct gpu_cursor *c, bool new_image);
	void *opaque;
};

void gpu_set_listener(struct virtio_dev *dev, const struct gpu_listener *l);

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

/* The screen the guest scans out (never NULL) and the cursor. */
struct framebuffer *gpu_framebuffer(struct virtio_dev *dev);
const struct gpu_cursor *gpu_cursor(const struct virtio_dev *dev);
struct gpu_stats gpu_stats(const struct virtio_dev *dev);

#endif
