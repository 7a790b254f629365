/*
 * The one authority for coordinates: where a point a client names lands on
 * the screen. A client works in the pixels of a screenshot it was given —
 * of the screen itself, of it scaled (`"scale"`, as /actions takes it), or
 * of a size it was told the screen has (`"screen": {"width", "height"}`, as
 * the models' tools declare it), or a grid laid over the screen whatever its
 * aspect (`"grid"`, Gemini's 1000x1000). Screenshot pixel d of an s-pixel-wide
 * image covers the screen's [d*w/s, (d+1)*w/s); the point goes to the
 * screen pixel under the middle of that share, which lies inside it, and a
 * screen pixel reads back as the screenshot pixel whose share holds its
 * middle, so a point sent and read back is the same. The same rule serves
 * /actions, Anthropic's and OpenAI's routes alike, because all of them
 * come through here.
 */
#ifndef CUBICLE_SPACE_H
#define CUBICLE_SPACE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framebuffer.h"

#define SPACE_MIN_DIM 16
#define SPACE_MIN_SCALE 0.01
#define SPACE_MAX_SCALE 10.0

struct space {
	uint32_t rw, rh;            /* the screen */
	uint32_t cw, ch;            /* the client's: its screenshot's size */
	bool identity;              /* neither "scale" nor "screen": the screen's own pixels */
};

/* The screen's own pixels. */
struct space space_screen(uint32_t width, uint32_t height);

/*
 * The space a request names for a width x height screen: "scale" (0.01..10:
 * a screenshot of lround(width * scale) pixels across; read only
 * with_scale, since a screenshot's "scale" is its output's), "screen"
 * ({"width", "height"}, SPACE_MIN_DIM..FB_MAX_DIM, keeping the screen's
 * aspect to a pixel), "grid" (the same fields, any aspect: cells of a grid
 * over the screen, for points only), or none. 0, or -EINVAL with a
 * one-line reason in err.
 */
int space_parse(struct json_object *req, uint32_t width, uint32_t height, bool with_scale,
		struct space *s, char *err, size_t errlen);

/*
 * The screen pixel for the client's point (x, y), numbers >= 0 (a fraction
 * stays in its screenshot pixel). false if it is off the client's screen.
 */
bool space_to_screen(const struct space *s, double x, double y, uint32_t *sx, uint32_t *sy);

/* The client's pixel for screen pixel (x, y). */
void space_from_screen(const struct space *s, uint32_t x, uint32_t y, uint32_t *cx,
		       uint32_t *cy);

/*
 * A box given by its corners on the client's screen ([x0, y0, x1, y1],
 * x1 and y1 past its last pixel, as a crop box is) as the screen's
 * rectangle that covers it, at least one pixel. -EINVAL with the reason in
 * err unless 0 <= x0 < x1 <= cw and 0 <= y0 < y1 <= ch.
 */
int space_box(const struct space *s, const int64_t box[4], struct fb_rect *out, char *err,
	      size_t errlen);

#endif
