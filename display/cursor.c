#include "display.h"

#include <stddef.h>

void fb_draw_cursor(struct framebuffer *fb, const struct fb_cursor *c)
{
	if (!c->visible || !c->width)
		return;
	for (uint32_t y = 0; y < c->height; y++) {
		int64_t sy = (int64_t)c->y - c->hot_y + y;

		if (sy < 0 || sy >= fb->height)
			continue;
		for (uint32_t x = 0; x < c->width; x++) {
			int64_t sx = (int64_t)c->x - c->hot_x + x;
			const uint8_t *s = c->pixels + ((size_t)y * c->width + x) * 4;
			uint8_t *d;

			if (sx < 0 || sx >= fb->width)
				continue;
			d = fb->pixels + (size_t)sy * fb->stride + (size_t)sx * 4;
			for (int k = 0; k < 3; k++)
				d[k] = (uint8_t)((s[k] * s[3] + d[k] * (255 - s[3]) + 127) / 255);
		}
	}
}
