#include "space.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "encode.h"
#include "errf.h"

struct space space_screen(uint32_t width, uint32_t height)
{
	return (struct space){ width, height, width, height, true };
}

/* A whole number field of o in [lo, hi]; false if absent or not one. */
static bool dim_field(struct json_object *o, const char *key, int64_t lo, int64_t hi,
		      uint32_t *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	n = json_object_get_int64(v);
	if (n < lo || n > hi)
		return false;
	*out = (uint32_t)n;
	return true;
}

static int parse_screen(struct json_object *v, bool grid, struct space *s, char *err,
			size_t errlen)
{
	if (!json_object_is_type(v, json_type_object) ||
	    !dim_field(v, "width", SPACE_MIN_DIM, FB_MAX_DIM, &s->cw) ||
	    !dim_field(v, "height", SPACE_MIN_DIM, FB_MAX_DIM, &s->ch))
		return errf(err, errlen, "a declared %s wants a width and a height, each %d..%d",
			    grid ? "grid" : "screen size", SPACE_MIN_DIM, FB_MAX_DIM);
	/* A grid names points, never an image, so it may stretch the screen (Gemini's 1000x1000). */
	if (grid)
		return 0;
	/* Screenshots keep the screen's aspect: a declared size must too (to a pixel). */
	if (llabs((long long)s->cw * s->rh - (long long)s->ch * s->rw) > (long long)s->rw)
		return errf(err, errlen, "a declared screen of %ux%u does not keep the screen's "
			    "aspect (%ux%u)", s->cw, s->ch, s->rw, s->rh);
	return 0;
}

int space_parse(struct json_object *req, uint32_t width, uint32_t height, bool with_scale,
		struct space *s, char *err, size_t errlen)
{
	struct json_object *scale, *screen, *grid;
	bool has_scale = with_scale && json_object_object_get_ex(req, "scale", &scale);
	bool has_screen = json_object_object_get_ex(req, "screen", &screen);
	bool has_grid = json_object_object_get_ex(req, "grid", &grid);
	double f;

	*s = space_screen(width, height);
	if (has_scale + has_screen + has_grid > 1)
		return errf(err, errlen, "give one of \"scale\", \"screen\" and \"grid\", not more");
	if (has_screen || has_grid) {
		s->identity = false;
		return parse_screen(has_grid ? grid : screen, has_grid, s, err, errlen);
	}
	if (!has_scale)
		return 0;
	f = json_object_get_double(scale);
	if ((!json_object_is_type(scale, json_type_double) &&
	     !json_object_is_type(scale, json_type_int)) ||
	    !(f >= SPACE_MIN_SCALE && f <= SPACE_MAX_SCALE))
		return errf(err, errlen, "\"scale\": want a number from %g to %g", SPACE_MIN_SCALE,
			    SPACE_MAX_SCALE);
	/* The size a screenshot at that scale has (encode.h), not the product itself. */
	img_scaled_size(width, height, f, &s->cw, &s->ch);
	s->identity = false;
	return 0;
}

/* The middle of client pixel d's share of n screen pixels, for a client axis of c. */
static uint32_t to_screen(uint32_t d, uint32_t c, uint32_t n)
{
	uint64_t v = ((2ull * d + 1) * n) / (2ull * c);

	return v < n ? (uint32_t)v : n - 1;
}

bool space_to_screen(const struct space *s, double x, double y, uint32_t *sx, uint32_t *sy)
{
	double fx = floor(x), fy = floor(y);

	/* NaN fails too; no scanout (0 x 0) has no point at all. */
	if (!s->rw || !s->rh || !(fx >= 0 && fy >= 0 && fx < s->cw && fy < s->ch))
		return false;
	*sx = to_screen((uint32_t)fx, s->cw, s->rw);
	*sy = to_screen((uint32_t)fy, s->ch, s->rh);
	return true;
}

void space_from_screen(const struct space *s, uint32_t x, uint32_t y, uint32_t *cx,
		       uint32_t *cy)
{
	*cx = *cy = 0;
	if (!s->rw || !s->rh)
		return;
	/* The client pixel whose share holds the middle of screen pixel x. */
	*cx = to_screen(x < s->rw ? x : s->rw - 1, s->rw, s->cw);
	*cy = to_screen(y < s->rh ? y : s->rh - 1, s->rh, s->ch);
}

int space_box(const struct space *s, const int64_t box[4], struct fb_rect *out, char *err,
	      size_t errlen)
{
	uint64_t x0, y0, x1, y1;

	if (box[0] < 0 || box[1] < 0 || box[2] <= box[0] || box[3] <= box[1] ||
	    box[2] > s->cw || box[3] > s->ch)
		return errf(err, errlen, "want whole numbers with 0 <= x0 < x1 <= %u and "
			    "0 <= y0 < y1 <= %u", s->cw, s->ch);
	/* Corners scale by the ratio; the box keeps at least one screen pixel. */
	x0 = (uint64_t)box[0] * s->rw / s->cw;
	y0 = (uint64_t)box[1] * s->rh / s->ch;
	x1 = ((uint64_t)box[2] * s->rw + s->cw - 1) / s->cw;
	y1 = ((uint64_t)box[3] * s->rh + s->ch - 1) / s->ch;
	*out = (struct fb_rect){ (uint32_t)x0, (uint32_t)y0, (uint32_t)(x1 > x0 ? x1 - x0 : 1),
				 (uint32_t)(y1 > y0 ? y1 - y0 : 1) };
	return 0;
}
