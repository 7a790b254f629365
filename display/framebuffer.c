#include "framebuffer.h"

#include <errno.h>
#include <stdlib.h>

struct framebuffer *fb_new(uint32_t width, uint32_t height)
{
	struct framebuffer *fb = calloc(1, sizeof(*fb));

	if (!fb || fb_resize(fb, width, height) < 0) {
		free(fb);
		return NULL;
	}
	return fb;
}

void fb_free(struct framebuffer *fb)
{
	if (!fb)
		return;
	free(fb->pixels);
	free(fb);
}

int fb_resize(struct framebuffer *fb, uint32_t width, uint32_t height)
{
	uint8_t *p;

	if (width == 0 || height == 0 || width > FB_MAX_DIM || height > FB_MAX_DIM)
		return -EINVAL;
	p = calloc((size_t)width * height, 4);
	if (!p)
		return -ENOMEM;
	free(fb->pixels);
	fb->pixels = p;
	fb->width = width;
	fb->height = height;
	fb->stride = width * 4;
	fb->damage = (struct fb_rect){ 0, 0, width, height };
	fb->damaged = true;
	return 0;
}

bool fb_clip(const struct framebuffer *fb, struct fb_rect *r)
{
	if (r->x >= fb->width || r->y >= fb->height || r->w == 0 || r->h == 0)
		return false;
	if (r->w > fb->width - r->x)
		r->w = fb->width - r->x;
	if (r->h > fb->height - r->y)
		r->h = fb->height - r->y;
	return true;
}

void fb_damage(struct framebuffer *fb, const struct fb_rect *r)
{
	struct fb_rect c = *r;
	uint32_t x2, y2;

	if (!fb_clip(fb, &c))
		return;
	if (!fb->damaged) {
		fb->damage = c;
		fb->damaged = true;
		return;
	}
	x2 = c.x + c.w > fb->damage.x + fb->damage.w ? c.x + c.w : fb->damage.x + fb->damage.w;
	y2 = c.y + c.h > fb->damage.y + fb->damage.h ? c.y + c.h : fb->damage.y + fb->damage.h;
	fb->damage.x = c.x < fb->damage.x ? c.x : fb->damage.x;
	fb->damage.y = c.y < fb->damage.y ? c.y : fb->damage.y;
	fb->damage.w = x2 - fb->damage.x;
	fb->damage.h = y2 - fb->damage.y;
}

bool fb_take_damage(struct framebuffer *fb, struct fb_rect *out)
{
	if (!fb->damaged)
		return false;
	*out = fb->damage;
	fb->damaged = false;
	return true;
}
