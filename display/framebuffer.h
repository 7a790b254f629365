/*
 * The scanout framebuffer: 32-bit pixels in memory order B, G, R, X (what
 * virtio-gpu calls B8G8R8X8 and DRM calls XRGB8888 on little-endian), plus
 * the rectangle damaged since the last look. One framebuffer, many readers
 * (screenshots, VNC); the caller serialises access.
 */
#ifndef CUBICLE_FRAMEBUFFER_H
#define CUBICLE_FRAMEBUFFER_H

#include <stdbool.h>
#include <stdint.h>

#define FB_MAX_DIM 8192

struct fb_rect {
	uint32_t x, y, w, h;
};

struct framebuffer {
	uint32_t width, height;
	uint32_t stride;            /* bytes per row */
	uint8_t *pixels;
	struct fb_rect damage;      /* valid when damaged */
	bool damaged;
};

/* A black width x height framebuffer (each 1..FB_MAX_DIM); NULL if not. */
struct framebuffer *fb_new(uint32_t width, uint32_t height);
void fb_free(struct framebuffer *fb);

/* Changes the size (contents become black, all damaged). 0 or -EINVAL/-ENOMEM. */
int fb_resize(struct framebuffer *fb, uint32_t width, uint32_t height);

/*
 * Clips r to the framebuffer; false if nothing is left. Overflow-safe for any
 * values (they may come from a guest).
 */
bool fb_clip(const struct framebuffer *fb, struct fb_rect *r);

/* Adds r (clipped) to the damaged area, as the smallest rectangle around both. */
void fb_damage(struct framebuffer *fb, const struct fb_rect *r);

/* The damaged area since the last call, and clears it; false if none. */
bool fb_take_damage(struct framebuffer *fb, struct fb_rect *out);

#endif
