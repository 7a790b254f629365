/*
 * Screenshots: a region of the framebuffer, optionally downscaled with an
 * area-averaging filter, encoded as PNG (libpng) or JPEG (TurboJPEG).
 * Coordinates are framebuffer pixels.
 */
#ifndef CUBICLE_ENCODE_H
#define CUBICLE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "framebuffer.h"

enum img_format { IMG_PNG, IMG_JPEG };

struct img_opts {
	enum img_format format;
	int quality;                /* JPEG 1..100; 0 means 80 */
	struct fb_rect region;      /* w == 0: the whole framebuffer */
	uint32_t width;             /* output width (keeps the aspect), or 0 */
	double scale;               /* output scale in (0, 1], or 0; not with width */
};

struct img_buf {
	uint8_t *data;
	size_t len, cap;
	uint32_t width, height;     /* of the encoded image */
};

/*
 * Encodes per o into out (its old contents are replaced; free with
 * img_buf_free). Returns 0, or -EINVAL with a one-line reason in err for
 * options that do not fit the framebuffer, or -ENOMEM / -EIO.
 */
int img_encode(const struct framebuffer *fb, const struct img_opts *o, struct img_buf *out,
	       char *err, size_t errlen);

void img_buf_free(struct img_buf *b);

/*
 * The size of a w x h region downscaled by scale (each side rounded, at
 * least 1): what img_encode makes, and what a client working on that
 * image measures coordinates in.
 */
void img_scaled_size(uint32_t w, uint32_t h, double scale, uint32_t *ow, uint32_t *oh);

#endif
