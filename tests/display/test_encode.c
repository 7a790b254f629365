/*
 * Screenshots decoded by real decoders: PNGs read back with libpng equal the
 * framebuffer pixel for pixel (whole, cropped, downscaled); JPEGs read back
 * with TurboJPEG are close; options that do not fit are refused in one line.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "../check.h"
#include "encode.h"
#include "framebuffer.h"

static struct framebuffer *fb;
static char err[256];

/* Pixel (x, y): a pattern in 2x2 blocks so halving is exact. */
static void put(uint32_t x, uint32_t y, uint8_t r, uint8_t g, uint8_t b)
{
	uint8_t *p = fb->pixels + (size_t)y * fb->stride + (size_t)x * 4;

	p[0] = b;
	p[1] = g;
	p[2] = r;
	p[3] = 0x5a;     /* the X byte carries junk; it must not matter */
}

static void rgb_at(uint32_t x, uint32_t y, uint8_t rgb[3])
{
	uint32_t bx = x / 2, by = y / 2;

	rgb[0] = (uint8_t)(bx * 9 + by);
	rgb[1] = (uint8_t)(by * 7);
	rgb[2] = (uint8_t)((bx ^ by) * 13);
}

static void fill(void)
{
	for (uint32_t y = 0; y < fb->height; y++)
		for (uint32_t x = 0; x < fb->width; x++) {
			uint8_t c[3];

			rgb_at(x, y, c);
			put(x, y, c[0], c[1], c[2]);
		}
}

/* Decodes a PNG to RGB; NULL if libpng refuses it. */
static uint8_t *decode_png(const struct img_buf *b, uint32_t *w, uint32_t *h)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	uint8_t *rgb;

	if (!png_image_begin_read_from_memory(&img, b->data, b->len))
		return NULL;
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
		free(rgb);
		return NULL;
	}
	*w = img.width;
	*h = img.height;
	return rgb;
}

static void test_png_whole_and_region(void)
{
	struct img_buf b = { 0 };
	struct img_opts o = { .format = IMG_PNG };
	uint32_t w, h;
	uint8_t *rgb;
	bool same = true;

	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0);
	CHECK(b.len > 8 && memcmp(b.data, "\x89PNG", 4) == 0);
	rgb = decode_png(&b, &w, &h);
	CHECK(rgb && w == fb->width && h == fb->height);
	for (uint32_t y = 0; rgb && y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t c[3];

			rgb_at(x, y, c);
			same &= memcmp(rgb + ((size_t)y * w + x) * 3, c, 3) == 0;
		}
	CHECK(same);
	free(rgb);

	o.region = (struct fb_rect){ 10, 6, 33, 17 };
	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0 && b.width == 33 && b.height == 17);
	rgb = decode_png(&b, &w, &h);
	CHECK(rgb && w == 33 && h == 17);
	same = true;
	for (uint32_t y = 0; rgb && y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t c[3];

			rgb_at(x + 10, y + 6, c);
			same &= memcmp(rgb + ((size_t)y * w + x) * 3, c, 3) == 0;
		}
	CHECK(same);
	free(rgb);
	img_buf_free(&b);
}

static void test_png_downscale(void)
{
	struct img_buf b = { 0 };
	struct img_opts o = { .format = IMG_PNG, .scale = 0.5 };
	uint32_t w, h;
	uint8_t *rgb;
	bool same = true;

	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0);
	rgb = decode_png(&b, &w, &h);
	CHECK(rgb && w == fb->width / 2 && h == fb->height / 2);
	/* Each output pixel is one uniform 2x2 block: averaging is exact. */
	for (uint32_t y = 0; rgb && y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t c[3];

			rgb_at(x * 2, y * 2, c);
			same &= memcmp(rgb + ((size_t)y * w + x) * 3, c, 3) == 0;
		}
	CHECK(same);
	free(rgb);

	/* A width keeps the aspect; averaging mixes neighbours, no value escapes their range. */
	o = (struct img_opts){ .format = IMG_PNG, .width = 50 };
	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0);
	rgb = decode_png(&b, &w, &h);
	CHECK(rgb && w == 50 && h == (fb->height * 50 + fb->width / 2) / fb->width);
	free(rgb);
	img_buf_free(&b);
}

static void test_jpeg(void)
{
	struct img_buf b = { 0 };
	struct img_opts o = { .format = IMG_JPEG, .quality = 95 };
	tjhandle tj = tjInitDecompress();
	int w, h, sub, cs;
	uint8_t *rgb;
	double diff = 0;

	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0);
	CHECK(b.len > 4 && b.data[0] == 0xff && b.data[1] == 0xd8);
	CHECK(tjDecompressHeader3(tj, b.data, b.len, &w, &h, &sub, &cs) == 0);
	CHECK(w == (int)fb->width && h == (int)fb->height);
	rgb = malloc((size_t)w * h * 3);
	CHECK(tjDecompress2(tj, b.data, b.len, rgb, w, 0, h, TJPF_RGB, 0) == 0);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t c[3];

			rgb_at((uint32_t)x, (uint32_t)y, c);
			for (int k = 0; k < 3; k++)
				diff += fabs((double)rgb[((size_t)y * w + x) * 3 + k] - c[k]);
		}
	diff /= (double)w * h * 3;
	CHECK(diff < 8);      /* a lossy codec: close, not equal */
	free(rgb);
	tjDestroy(tj);

	o.quality = 20;       /* lower quality, smaller file */
	size_t big = b.len;
	CHECK(img_encode(fb, &o, &b, err, sizeof(err)) == 0 && b.len < big);
	img_buf_free(&b);
}

static void expect_refused(const struct img_opts *o, const char *needle)
{
	struct img_buf b = { 0 };

	err[0] = '\0';
	CHECK(img_encode(fb, o, &b, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, needle) != NULL && !strchr(err, '\n'));
	if (!strstr(err, needle))
		fprintf(stderr, "  wanted '%s' in '%s'\n", needle, err);
	img_buf_free(&b);
}

static void test_refusals(void)
{
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .region = { 60, 0, 10, 10 } }, "not inside");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .region = { 0, 0, 0, 10 } }, "not inside");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .region = { UINT32_MAX, 0, 2, 2 } }, "not inside");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .scale = 1.5 }, "scale");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .scale = -1 }, "scale");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .scale = NAN }, "scale");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .width = 1000 }, "only downscaling");
	expect_refused(&(struct img_opts){ .format = IMG_PNG, .width = 10, .scale = 0.5 }, "either");
	expect_refused(&(struct img_opts){ .format = IMG_JPEG, .quality = 101 }, "quality");
	expect_refused(&(struct img_opts){ .format = 7 }, "format");
}

static void test_damage(void)
{
	struct framebuffer *f = fb_new(100, 50);
	struct fb_rect r;

	CHECK(f && fb_take_damage(f, &r) && r.w == 100 && r.h == 50);  /* new: all damaged */
	CHECK(!fb_take_damage(f, &r));
	fb_damage(f, &(struct fb_rect){ 10, 10, 5, 5 });
	fb_damage(f, &(struct fb_rect){ 30, 2, 4, 4 });
	CHECK(fb_take_damage(f, &r) && r.x == 10 && r.y == 2 && r.w == 24 && r.h == 13);
	fb_damage(f, &(struct fb_rect){ 90, 40, UINT32_MAX, UINT32_MAX });   /* clipped */
	CHECK(fb_take_damage(f, &r) && r.x == 90 && r.y == 40 && r.w == 10 && r.h == 10);
	fb_damage(f, &(struct fb_rect){ 200, 0, 5, 5 });                     /* outside */
	CHECK(!fb_take_damage(f, &r));
	CHECK(fb_resize(f, 0, 10) == -EINVAL && fb_resize(f, 9000, 10) == -EINVAL);
	CHECK(fb_resize(f, 64, 32) == 0 && f->stride == 256 && fb_take_damage(f, &r) && r.w == 64);
	fb_free(f);
	CHECK(fb_new(0, 1) == NULL);
}

int main(void)
{
	fb = fb_new(64, 48);
	fill();
	RUN(test_png_whole_and_region);
	RUN(test_png_downscale);
	RUN(test_jpeg);
	RUN(test_refusals);
	RUN(test_damage);
	fb_free(fb);
	return check_done();
}
