/*
 * The display (display/display.c): consumers attached through one
 * interface hear every change, a detached one no longer does, snapshots
 * taken from another thread are whole copies with the cursor blended in
 * when asked, and waiters on another thread wake at a change or give up.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "clock.h"
#include "display.h"

struct heard {
	int resized, damaged, cursor, new_images;
	struct fb_rect last;
	uint32_t w, h;
};

static void on_resized(void *opaque, const struct framebuffer *fb)
{
	struct heard *h = opaque;

	h->resized++;
	h->w = fb->width;
	h->h = fb->height;
}

static void on_damaged(void *opaque, const struct framebuffer *fb, const struct fb_rect *r)
{
	struct heard *h = opaque;

	(void)fb;
	h->damaged++;
	h->last = *r;
}

static void on_cursor(void *opaque, const struct fb_cursor *c, bool new_image)
{
	struct heard *h = opaque;

	(void)c;
	h->cursor++;
	h->new_images += new_image;
}

static void test_consumers(void)
{
	struct display *d = display_new(64, 32);
	struct heard a = { 0 }, b = { 0 };
	struct display_consumer ca = { on_resized, on_damaged, on_cursor, &a };
	struct display_consumer cb = { NULL, on_damaged, NULL, &b };   /* members may be NULL */
	int sa = display_attach(d, &ca), sb = display_attach(d, &cb);
	uint64_t n0 = display_changes(d);

	CHECK(d && sa >= 0 && sb >= 0 && sa != sb);
	CHECK(display_resize(d, 128, 64) == 0 && a.resized == 1 && a.w == 128 && a.h == 64);
	CHECK(display_resize(d, 0, 64) < 0 && a.resized == 1);     /* refused: nothing heard */
	display_damaged(d, &(struct fb_rect){ 1, 2, 3, 4 });
	CHECK(a.damaged == 1 && b.damaged == 1 && b.last.x == 1 && b.last.h == 4);
	display_cursor_changed(d, true);
	display_cursor_changed(d, false);
	CHECK(a.cursor == 2 && a.new_images == 1);
	display_set_scanout(d, 128, 64);
	CHECK(display_scanout(d) == ((uint64_t)128 << 32 | 64));
	CHECK(display_changes(d) == n0 + 5);
	display_detach(d, sb);
	display_damaged(d, &(struct fb_rect){ 0, 0, 1, 1 });
	CHECK(a.damaged == 2 && b.damaged == 1);
	/* Room for DISPLAY_MAX_CONSUMERS, no more. */
	for (int i = 1; i < DISPLAY_MAX_CONSUMERS; i++)
		CHECK(display_attach(d, &cb) >= 0);
	CHECK(display_attach(d, &cb) < 0);
	display_free(d);
}

static void test_snapshot_with_cursor(void)
{
	struct display *d = display_new(16, 8);
	struct framebuffer *fb = display_fb(d), snap;
	struct fb_cursor *c = display_cursor_state(d);

	display_lock(d);
	memset(fb->pixels, 0x40, (size_t)fb->stride * fb->height);
	*c = (struct fb_cursor){ .visible = true, .x = 3, .y = 2, .hot_x = 1, .hot_y = 1,
				 .width = 2, .height = 2 };
	memcpy(c->pixels, "\x00\x00\xff\xff" "\x00\x00\xff\x00" "\x00\x00\xff\x80"
			  "\x00\x00\xff\xff", 16);
	display_unlock(d);
	CHECK(display_snapshot(d, &snap, false) == 0 && snap.width == 16 &&
	      memcmp(snap.pixels + 1 * snap.stride + 2 * 4, "\x40\x40\x40", 3) == 0);
	free(snap.pixels);
	CHECK(display_snapshot(d, &snap, true) == 0);
	/* The image's top left is at (3 - 1, 2 - 1): opaque red there, untouched beside it. */
	CHECK(memcmp(snap.pixels + 1 * snap.stride + 2 * 4, "\x00\x00\xff", 3) == 0);
	CHECK(memcmp(snap.pixels + 1 * snap.stride + 3 * 4, "\x40\x40\x40", 3) == 0);
	CHECK(snap.pixels[2 * snap.stride + 2 * 4 + 2] == (0xff * 0x80 + 0x40 * 0x7f + 127) / 255);
	/* The display's own pixels never get the cursor. */
	CHECK(memcmp(fb->pixels + 1 * fb->stride + 2 * 4, "\x40\x40\x40", 3) == 0);
	free(snap.pixels);
	display_free(d);
}

struct waiter {
	struct display *d;
	uint64_t seen, got;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->got = display_wait(w->d, w->seen, 10000);
	return NULL;
}

static void test_wait(void)
{
	struct display *d = display_new(16, 8);
	struct waiter w = { d, display_changes(d), 0 };
	pthread_t th;

	/* Nothing changes: it gives up with the same count. */
	CHECK(display_wait(d, w.seen, 20) == w.seen);
	pthread_create(&th, NULL, wait_thread, &w);
	clk_pause_ms(20);           /* let it wait; a change before that is found at once too */
	display_damaged(d, &(struct fb_rect){ 0, 0, 1, 1 });
	pthread_join(th, NULL);
	CHECK(w.got == w.seen + 1);
	/* A kick wakes waiters without a change of pixels. */
	w.seen = display_changes(d);
	pthread_create(&th, NULL, wait_thread, &w);
	display_kick(d);
	pthread_join(th, NULL);
	CHECK(w.got > w.seen);
	display_free(d);
}

int main(void)
{
	RUN(test_consumers);
	RUN(test_snapshot_with_cursor);
	RUN(test_wait);
	return check_done();
}
