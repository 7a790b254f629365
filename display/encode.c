#include "encode.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "errf.h"

/* An image in the framebuffer's pixel layout: B, G, R, X bytes. */
struct view {
	const uint8_t *p;
	uint32_t w, h, stride;
};


void img_buf_free(struct img_buf *b)
{
	free(b->data);
	*b = (struct img_buf){ 0 };
}

static int buf_append(struct img_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		uint8_t *d;

		while (cap < b->len + len)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * Downscales src to ow x oh by averaging, for each output pixel, the source
 * pixels its area covers (a box filter: sharp text stays readable, nothing
 * aliases). Integer arithmetic; dst is ow*oh*4 bytes.
 */
static void downscale(const struct view *src, uint8_t *dst, uint32_t ow, uint32_t oh)
{
	for (uint32_t oy = 0; oy < oh; oy++) {
		uint32_t y0 = (uint32_t)((uint64_t)oy * src->h / oh);
		uint32_t y1 = (uint32_t)(((uint64_t)oy + 1) * src->h / oh);

		if (y1 == y0)
			y1 = y0 + 1;
		for (uint32_t ox = 0; ox < ow; ox++) {
			uint32_t x0 = (uint32_t)((uint64_t)ox * src->w / ow);
			uint32_t x1 = (uint32_t)(((uint64_t)ox + 1) * src->w / ow);
			uint64_t sum[3] = { 0, 0, 0 }, n;

			if (x1 == x0)
				x1 = x0 + 1;
			n = (uint64_t)(x1 - x0) * (y1 - y0);
			for (uint32_t y = y0; y < y1; y++) {
				const uint8_t *row = src->p + (size_t)y * src->stride + (size_t)x0 * 4;

				for (uint32_t x = x0; x < x1; x++, row += 4) {
					sum[0] += row[0];
					sum[1] += row[1];
					sum[2] += row[2];
				}
			}
			uint8_t *d = dst + ((size_t)oy * ow + ox) * 4;
			d[0] = (uint8_t)((sum[0] + n / 2) / n);
			d[1] = (uint8_t)((sum[1] + n / 2) / n);
			d[2] = (uint8_t)((sum[2] + n / 2) / n);
			d[3] = 0xff;
		}
	}
}

static void png_write_buf(png_structp png, png_bytep data, png_size_t len)
{
	if (buf_append(png_get_io_ptr(png), data, len) < 0)
		png_error(png, "out of memory");
}

static void png_flush_none(png_structp png)
{
	(void)png;
}

/*
 * PNG straight from B,G,R,X rows: libpng swaps to RGB and drops the filler
 * as it writes. Speed over size: zlib level 1 and the SUB filter, which suit
 * screen content.
 */
static int encode_png(const struct view *v, struct img_buf *out)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	int ret = -EIO;

	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, out, png_write_buf, png_flush_none);
	png_set_IHDR(png, info, v->w, v->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_write_info(png, info);
	png_set_bgr(png);
	png_set_filler(png, 0, PNG_FILLER_AFTER);
	for (uint32_t y = 0; y < v->h; y++)
		png_write_row(png, (png_const_bytep)(v->p + (size_t)y * v->stride));
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	return ret;
}

static int encode_jpeg(const struct view *v, int quality, struct img_buf *out)
{
	tjhandle tj = tjInitCompress();
	unsigned char *jpeg = NULL;
	unsigned long size = 0;
	int ret = -EIO;

	if (!tj)
		return -ENOMEM;
	if (tjCompress2(tj, v->p, (int)v->w, (int)v->stride, (int)v->h, TJPF_BGRX, &jpeg, &size,
			TJSAMP_420, quality, TJFLAG_FASTDCT) == 0)
		ret = buf_append(out, jpeg, size);
	tjFree(jpeg);
	tjDestroy(tj);
	return ret;
}

/* The output size for options o on a region of rw x rh; false if o is bad. */
static bool out_size(const struct img_opts *o, uint32_t rw, uint32_t rh, uint32_t *ow,
		     uint32_t *oh, char *err, size_t errlen)
{
	if (o->width && o->scale != 0) {
		errf(err, errlen, "give either a width or a scale, not both");
		return false;
	}
	if (o->width) {
		if (o->width > rw) {
			errf(err, errlen, "width %u is larger than the region (%u): only downscaling",
			     o->width, rw);
			return false;
		}
		*ow = o->width;
		*oh = (uint32_t)(((uint64_t)rh * o->width + rw / 2) / rw);
	} else if (o->scale != 0) {
		if (!(o->scale > 0 && o->scale <= 1)) {   /* NaN fails too */
			errf(err, errlen, "scale %g is not in (0, 1]", o->scale);
			return false;
		}
		img_scaled_size(rw, rh, o->scale, ow, oh);
	} else {
		*ow = rw;
		*oh = rh;
	}
	if (*ow == 0)
		*ow = 1;
	if (*oh == 0)
		*oh = 1;
	return true;
}

void img_scaled_size(uint32_t w, uint32_t h, double scale, uint32_t *ow, uint32_t *oh)
{
	*ow = (uint32_t)lround(w * scale);
	*oh = (uint32_t)lround(h * scale);
	if (*ow == 0)
		*ow = 1;
	if (*oh == 0)
		*oh = 1;
}

int img_encode(const struct framebuffer *fb, const struct img_opts *o, struct img_buf *out,
	       char *err, size_t errlen)
{
	struct fb_rect r = o->region;
	struct view v;
	uint32_t ow, oh;
	uint8_t *scaled = NULL;
	int quality = o->quality ? o->quality : 80, ret;

	if (o->format != IMG_PNG && o->format != IMG_JPEG)
		return errf(err, errlen, "unknown image format");
	if (quality < 1 || quality > 100)
		return errf(err, errlen, "quality %d is not in 1..100", o->quality);
	if (r.w == 0 && r.h == 0 && r.x == 0 && r.y == 0)
		r = (struct fb_rect){ 0, 0, fb->width, fb->height };
	if (r.w == 0 || r.h == 0 || r.x >= fb->width || r.y >= fb->height ||
	    r.w > fb->width - r.x || r.h > fb->height - r.y)
		return errf(err, errlen, "region %ux%u+%u+%u is not inside the %ux%u screen",
			    r.w, r.h, r.x, r.y, fb->width, fb->height);
	if (!out_size(o, r.w, r.h, &ow, &oh, err, errlen))
		return -EINVAL;

	v = (struct view){ fb->pixels + (size_t)r.y * fb->stride + (size_t)r.x * 4, r.w, r.h,
			   fb->stride };
	if (ow != r.w || oh != r.h) {
		scaled = malloc((size_t)ow * oh * 4);
		if (!scaled)
			return -ENOMEM;
		downscale(&v, scaled, ow, oh);
		v = (struct view){ scaled, ow, oh, ow * 4 };
	}
	out->len = 0;
	ret = o->format == IMG_PNG ? encode_png(&v, out) : encode_jpeg(&v, quality, out);
	out->width = ow;
	out->height = oh;
	free(scaled);
	if (ret < 0)
		snprintf(err, errlen, "%s encoding failed", o->format == IMG_PNG ? "PNG" : "JPEG");
	return ret;
}
