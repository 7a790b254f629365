/*
 * The one authority for coordinates and screenshot options (vmm/space.c,
 * vmm/shot.c): on a 1280x800 screen, at scale 1, at scale 0.5, and on a
 * declared 1024x640 screen, corner, edge and inner points land on the
 * screen pixel under the middle of their screenshot pixel's share, which
 * lies inside that share, and read back as the point sent. A scale and a
 * declared size that give the same screenshot give the same pixels. A
 * 1000x1000 grid (Gemini's) stretches over the screen by the same rule.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "../check.h"
#include "shot.h"
#include "space.h"

#define W 1280
#define H 800

static struct space parse(const char *json, bool *ok)
{
	struct json_object *o = json_tokener_parse(json);
	struct space s;
	char err[256];

	*ok = o && space_parse(o, W, H, true, &s, err, sizeof(err)) == 0;
	json_object_put(o);
	return s;
}

/*
 * Every point of a list, corners, edges and inner ones, of a cw x ch
 * client screen: its screen pixel's middle lies in the client pixel's
 * share, and it reads back as itself.
 */
static void check_points(const struct space *s)
{
	const uint32_t cw = s->cw, ch = s->ch;
	const uint32_t pts[][2] = { { 0, 0 }, { cw - 1, 0 }, { 0, ch - 1 }, { cw - 1, ch - 1 },
				    { cw / 2, 0 }, { 0, ch / 2 }, { cw - 1, ch / 3 }, { 21, 13 },
				    { 137, 251 }, { cw / 2, ch / 2 }, { cw / 3, 2 * ch / 3 } };

	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		uint32_t d = pts[i][0], e = pts[i][1], x, y, bx, by;

		CHECK(space_to_screen(s, d, e, &x, &y));
		/* The middle of screen pixel x, (2x + 1) / 2, in [d * W / cw, (d + 1) * W / cw). */
		CHECK((2ull * x + 1) * cw >= 2ull * d * W && (2ull * x + 1) * cw < 2ull * (d + 1) * W);
		CHECK((2ull * y + 1) * ch >= 2ull * e * H && (2ull * y + 1) * ch < 2ull * (e + 1) * H);
		space_from_screen(s, x, y, &bx, &by);
		CHECK(bx == d && by == e);
		/* A fraction stays in its screenshot pixel. */
		CHECK(space_to_screen(s, d + 0.75, e + 0.25, &bx, &by) && bx == x && by == y);
	}
	CHECK(!space_to_screen(s, cw, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	CHECK(!space_to_screen(s, 0, ch, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	CHECK(!space_to_screen(s, -1, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	CHECK(!space_to_screen(s, 0.0 / 0.0, 0, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
}

static void test_scale_one(void)
{
	bool ok;
	struct space s = parse("{}", &ok), t = parse("{\"scale\":1}", &ok);
	uint32_t x, y;

	CHECK(ok && s.identity && s.cw == W && s.ch == H && t.cw == W && t.ch == H);
	check_points(&s);
	/* Each pixel is itself. */
	CHECK(space_to_screen(&s, 1279, 799, &x, &y) && x == 1279 && y == 799);
	CHECK(space_to_screen(&s, 100.7, 0, &x, &y) && x == 100 && y == 0);
}

static void test_half(void)
{
	bool ok;
	struct space s = parse("{\"scale\":0.5}", &ok);
	uint32_t x, y;

	CHECK(ok && s.cw == 640 && s.ch == 400);
	check_points(&s);
	/* Screenshot pixel 21 covers screen pixels 42 and 43: its middle is 43's left edge. */
	CHECK(space_to_screen(&s, 21, 0, &x, &y) && x == 43 && y == 1);
	CHECK(space_to_screen(&s, 639, 399, &x, &y) && x == 1279 && y == 799);
}

static void test_declared(void)
{
	bool ok;
	struct space s = parse("{\"screen\":{\"width\":1024,\"height\":640}}", &ok);
	struct space half = parse("{\"screen\":{\"width\":640,\"height\":400}}", &ok);
	struct space scaled = parse("{\"scale\":0.5}", &ok);
	struct space eighty = parse("{\"scale\":0.8}", &ok);
	uint32_t x, y, x2, y2;

	CHECK(ok && s.cw == 1024 && s.ch == 640 && !s.identity);
	check_points(&s);
	check_points(&half);
	/* A pixel 1.25 screen pixels wide: 3 covers [3.75, 5), so 4, not 3. */
	CHECK(space_to_screen(&s, 3, 3, &x, &y) && x == 4 && y == 4);
	/* One authority: a declared 640x400 and a scale of 0.5 are the same screenshot. */
	for (uint32_t d = 0; d < 640; d += 7) {
		CHECK(space_to_screen(&half, d, d * 400 / 640, &x, &y));
		CHECK(space_to_screen(&scaled, d, d * 400 / 640, &x2, &y2) && x == x2 && y == y2);
	}
	/* And a declared 1024x640 is a scale of 0.8. */
	CHECK(eighty.cw == 1024 && eighty.ch == 640);
	for (uint32_t d = 0; d < 1024; d += 11) {
		CHECK(space_to_screen(&s, d, d * 640 / 1024, &x, &y));
		CHECK(space_to_screen(&eighty, d, d * 640 / 1024, &x2, &y2) && x == x2 && y == y2);
	}
}

static void test_grid(void)
{
	bool ok;
	struct space g = parse("{\"grid\":{\"width\":1000,\"height\":1000}}", &ok);
	uint32_t x, y;

	CHECK(ok && g.cw == 1000 && g.ch == 1000 && !g.identity);
	check_points(&g);
	/* Cell 500 of 1000 covers [640, 641.28) across and [400, 400.8) down. */
	CHECK(space_to_screen(&g, 500, 500, &x, &y) && x == 640 && y == 400);
	CHECK(space_to_screen(&g, 999, 999, &x, &y) && x == 1279 && y == 799);
	CHECK(!space_to_screen(&g, 1000, 0, &x, &y));
}

static void test_refusals(void)
{
	static const char *const bad[] = {
		"{\"scale\":0}", "{\"scale\":11}", "{\"scale\":\"0.5\"}", "{\"scale\":0.5,\"screen\":{}}",
		"{\"screen\":{\"width\":1024}}", "{\"screen\":{\"width\":15,\"height\":10}}",
		"{\"screen\":{\"width\":1024,\"height\":700}}", "{\"screen\":[1024,640]}",
		"{\"screen\":{\"width\":1024.5,\"height\":640}}",
		"{\"grid\":{\"width\":1000}}", "{\"grid\":{\"width\":1000,\"height\":1000},"
		"\"scale\":1}", "{\"grid\":{\"width\":1000,\"height\":1000},\"screen\":"
		"{\"width\":1024,\"height\":640}}",
	};
	bool ok;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i], &ok);
		CHECK(!ok);
		if (ok)
			fprintf(stderr, "accepted %s\n", bad[i]);
	}
	/* To a pixel of the aspect is fine: 1025x640 is 1280x799.25. */
	parse("{\"screen\":{\"width\":1025,\"height\":640}}", &ok);
	CHECK(ok);
}

static void test_box(void)
{
	bool ok;
	struct space s = parse("{\"screen\":{\"width\":1024,\"height\":640}}", &ok);
	struct fb_rect r;
	char err[256];

	CHECK(space_box(&s, (int64_t[4]){ 0, 0, 1024, 640 }, &r, err, sizeof(err)) == 0 &&
	      r.x == 0 && r.y == 0 && r.w == W && r.h == H);
	CHECK(space_box(&s, (int64_t[4]){ 512, 320, 1024, 640 }, &r, err, sizeof(err)) == 0 &&
	      r.x == 640 && r.y == 400 && r.w == 640 && r.h == 400);
	/* A box that cuts a screen pixel keeps all of it. */
	CHECK(space_box(&s, (int64_t[4]){ 3, 3, 4, 4 }, &r, err, sizeof(err)) == 0 &&
	      r.x == 3 && r.w == 2 && r.y == 3 && r.h == 2);
	CHECK(space_box(&s, (int64_t[4]){ 0, 0, 1025, 640 }, &r, err, sizeof(err)) < 0);
	CHECK(space_box(&s, (int64_t[4]){ 10, 0, 10, 640 }, &r, err, sizeof(err)) < 0);
}

/* shot_parse on a JSON text for the plain 1280x800 space; its result. */
static int shot(const char *json, struct shot_opts *o)
{
	struct json_object *j = json_tokener_parse(json);
	struct space s = space_screen(W, H);
	char err[256];
	int ret = j ? shot_parse(j, &s, o, err, sizeof(err)) : -1;

	json_object_put(j);
	return ret;
}

static void test_shot_options(void)
{
	static const char *const bad[] = {
		"{\"format\":\"gif\"}", "{\"format\":1}", "{\"quality\":0}", "{\"quality\":101}",
		"{\"quality\":\"80\"}", "{\"scale\":2}", "{\"scale\":0}", "{\"width\":0}",
		"{\"width\":12.5}", "{\"width\":1281}", "{\"width\":640,\"scale\":0.5}",
		"{\"region\":[1,2,3]}", "{\"region\":[0,0,0,10]}", "{\"region\":[1200,0,100,10]}",
		"{\"region\":[0,0,10,10],\"box\":[0,0,10,10]}", "{\"cursor\":1}",
		"{\"region\":[0,0,100,100],\"width\":200}", "[]", "{\"fit\":[100]}",
		"{\"fit\":[0,100]}", "{\"fit\":[100,100],\"width\":50}", "{\"fit\":\"100x100\"}",
	};
	struct shot_opts o;

	CHECK(shot("{}", &o) == 0 && o.img.format == IMG_PNG && !o.cursor && o.img.region.w == 0);
	CHECK(shot("{\"format\":\"jpeg\",\"quality\":60,\"scale\":0.5,\"cursor\":true}", &o) == 0 &&
	      o.img.format == IMG_JPEG && o.img.quality == 60 && o.img.scale == 0.5 && o.cursor);
	CHECK(shot("{\"region\":[10,20,30,40],\"width\":15}", &o) == 0 && o.img.region.x == 10 &&
	      o.img.region.h == 40 && o.img.width == 15);
	CHECK(shot("{\"box\":[0,0,640,400]}", &o) == 0 && o.img.region.w == 640 &&
	      o.img.region.h == 400);
	/* fit: the largest of the region's aspect inside, never larger than the region. */
	CHECK(shot("{\"fit\":[1024,768]}", &o) == 0 && o.img.width == 1024);
	CHECK(shot("{\"fit\":[2000,400]}", &o) == 0 && o.img.width == 640);
	CHECK(shot("{\"fit\":[1280,800]}", &o) == 0 && o.img.width == 0);
	CHECK(shot("{\"region\":[0,0,300,200],\"fit\":[1280,800]}", &o) == 0 && o.img.width == 0);
	CHECK(shot("{\"region\":[0,0,1000,10],\"fit\":[1000,3]}", &o) == 0 &&
	      o.img.width == 300);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = shot(bad[i], &o);

		CHECK(ret < 0);
		if (ret == 0)
			fprintf(stderr, "accepted %s\n", bad[i]);
	}
}

int main(void)
{
	RUN(test_scale_one);
	RUN(test_half);
	RUN(test_declared);
	RUN(test_grid);
	RUN(test_refusals);
	RUN(test_box);
	RUN(test_shot_options);
	return check_done();
}
