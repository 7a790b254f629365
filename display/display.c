#include "display.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"

struct display {
	pthread_mutex_t lock;       /* the framebuffer's pixels and size, the cursor */
	struct framebuffer *fb;
	struct fb_cursor cursor;
	_Atomic uint64_t scanout;   /* width << 32 | height; 0: off */
	pthread_mutex_t cons_lock;  /* the consumers */
	struct changes changes;     /* for waiters on other threads */
	struct display_consumer cons[DISPLAY_MAX_CONSUMERS];
	bool used[DISPLAY_MAX_CONSUMERS];
};

struct display *display_new(uint32_t width, uint32_t height)
{
	struct display *d = calloc(1, sizeof(*d));

	if (!d || !(d->fb = fb_new(width, height))) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->cons_lock, NULL);
	changes_init(&d->changes);
	return d;
}

void display_free(struct display *d)
{
	if (!d)
		return;
	fb_free(d->fb);
	changes_destroy(&d->changes);
	pthread_mutex_destroy(&d->cons_lock);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int display_attach(struct display *d, const struct display_consumer *c)
{
	int slot = -ENOSPC;

	pthread_mutex_lock(&d->cons_lock);
	for (int i = 0; i < DISPLAY_MAX_CONSUMERS && slot < 0; i++) {
		if (!d->used[i]) {
			d->used[i] = true;
			d->cons[i] = *c;
			slot = i;
		}
	}
	pthread_mutex_unlock(&d->cons_lock);
	return slot;
}

void display_detach(struct display *d, int slot)
{
	if (slot < 0 || slot >= DISPLAY_MAX_CONSUMERS)
		return;
	pthread_mutex_lock(&d->cons_lock);
	d->used[slot] = false;
	pthread_mutex_unlock(&d->cons_lock);
}

void display_lock(struct display *d)
{
	pthread_mutex_lock(&d->lock);
}

void display_unlock(struct display *d)
{
	pthread_mutex_unlock(&d->lock);
}

struct framebuffer *display_fb(struct display *d)
{
	return d->fb;
}

struct fb_cursor *display_cursor_state(struct display *d)
{
	return &d->cursor;
}

/*
 * Tells every consumer of one change (which, with what) and wakes waiters.
 * On the producer's thread, which is the only writer, so the framebuffer
 * and cursor are read without the pixel lock.
 */
enum change { CH_RESIZED, CH_DAMAGED, CH_CURSOR, CH_SCANOUT };

static void announce(struct display *d, enum change what, const struct fb_rect *r, bool new_image)
{
	pthread_mutex_lock(&d->cons_lock);
	for (int i = 0; i < DISPLAY_MAX_CONSUMERS; i++) {
		const struct display_consumer *c = &d->cons[i];

		if (!d->used[i])
			continue;
		if (what == CH_RESIZED && c->resized)
			c->resized(c->opaque, d->fb);
		else if (what == CH_DAMAGED && c->damaged)
			c->damaged(c->opaque, d->fb, r);
		else if (what == CH_CURSOR && c->cursor)
			c->cursor(c->opaque, &d->cursor, new_image);
	}
	pthread_mutex_unlock(&d->cons_lock);
	changes_bump(&d->changes);
}

int display_resize(struct display *d, uint32_t width, uint32_t height)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = fb_resize(d->fb, width, height);
	pthread_mutex_unlock(&d->lock);
	if (ret == 0)
		announce(d, CH_RESIZED, NULL, false);
	return ret;
}

void display_set_scanout(struct display *d, uint32_t width, uint32_t height)
{
	uint64_t wh = (uint64_t)width << 32 | height;

	if (d->scanout == wh)
		return;
	d->scanout = wh;
	announce(d, CH_SCANOUT, NULL, false);
}

void display_damaged(struct display *d, const struct fb_rect *r)
{
	announce(d, CH_DAMAGED, r, false);
}

void display_cursor_changed(struct display *d, bool new_image)
{
	announce(d, CH_CURSOR, NULL, new_image);
}

int display_snapshot(struct display *d, struct framebuffer *out, bool with_cursor)
{
	size_t len;

	pthread_mutex_lock(&d->lock);
	len = (size_t)d->fb->stride * d->fb->height;
	*out = *d->fb;
	out->damaged = false;
	out->pixels = malloc(len);
	if (!out->pixels) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	memcpy(out->pixels, d->fb->pixels, len);
	if (with_cursor)
		fb_draw_cursor(out, &d->cursor);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

uint64_t display_scanout(struct display *d)
{
	return d->scanout;
}

void display_size(struct display *d, uint32_t *width, uint32_t *height)
{
	pthread_mutex_lock(&d->lock);
	*width = d->fb->width;
	*height = d->fb->height;
	pthread_mutex_unlock(&d->lock);
}

void display_cursor_pos(struct display *d, uint32_t *x, uint32_t *y, bool *visible)
{
	pthread_mutex_lock(&d->lock);
	*x = d->cursor.x;
	*y = d->cursor.y;
	*visible = d->cursor.visible;
	pthread_mutex_unlock(&d->lock);
}

uint64_t display_changes(struct display *d)
{
	return changes_now(&d->changes);
}

uint64_t display_wait(struct display *d, uint64_t seen, int timeout_ms)
{
	return changes_wait(&d->changes, seen, timeout_ms);
}

void display_kick(struct display *d)
{
	changes_bump(&d->changes);
}
