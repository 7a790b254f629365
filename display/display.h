/*
 * One screen and everything that follows it. The device that makes the
 * screen (virtio-gpu) owns a struct display: it writes the framebuffer and
 * the cursor on its own thread, inside display_lock()/display_unlock(), and
 * then says what changed; every consumer attached (the VNC server now, the
 * recorder later) hears of it through the same interface, on that thread.
 * Other threads never touch the framebuffer: they take a snapshot, read the
 * cursor, or wait for the next change, all safely from anywhere.
 */
#ifndef CUBICLE_DISPLAY_H
#define CUBICLE_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "framebuffer.h"

#define DISPLAY_CURSOR_DIM 64
#define DISPLAY_MAX_CONSUMERS 8

struct fb_cursor {
	bool visible;
	uint32_t x, y;              /* position of the hot spot on the screen */
	uint32_t hot_x, hot_y;
	uint32_t width, height;     /* 0 when no image */
	uint8_t pixels[DISPLAY_CURSOR_DIM * DISPLAY_CURSOR_DIM * 4];   /* B, G, R, A */
};

/*
 * What a consumer hears, on the producer's thread, after each change: a
 * new framebuffer size, a rectangle of new pixels, the cursor (new_image:
 * its shape changed, else it moved or was hidden). Any member may be NULL.
 * The framebuffer may be read inside the call, not kept.
 */
struct display_consumer {
	void (*resized)(void *opaque, const struct framebuffer *fb);
	void (*damaged)(void *opaque, const struct framebuffer *fb, const struct fb_rect *r);
	void (*cursor)(void *opaque, const struct fb_cursor *c, bool new_image);
	void *opaque;
};

struct display;

/* A black width x height screen (each 1..FB_MAX_DIM), nothing scanned out; NULL if not. */
struct display *display_new(uint32_t width, uint32_t height);
void display_free(struct display *d);   /* accepts NULL */

/*
 * Adds a consumer (copied); it hears of changes from now on. Its slot
 * (for display_detach), or -ENOSPC. Safe from any thread.
 */
int display_attach(struct display *d, const struct display_consumer *c);
void display_detach(struct display *d, int slot);

/* --- the producer's side (one thread) ---------------------------------------- */

/* Held while the producer writes pixels or the cursor. */
void display_lock(struct display *d);
void display_unlock(struct display *d);

/* The framebuffer and cursor to write, on the producer's thread, under the lock. */
struct framebuffer *display_fb(struct display *d);
struct fb_cursor *display_cursor_state(struct display *d);

/*
 * Changes the framebuffer's size (contents black); then tells consumers.
 * 0, -EINVAL or -ENOMEM (the old size stays). Takes the lock itself.
 */
int display_resize(struct display *d, uint32_t width, uint32_t height);
/* The size scanned out now (0 x 0: off), as the guest set it. */
void display_set_scanout(struct display *d, uint32_t width, uint32_t height);
/* Tells consumers of new pixels in r (after display_unlock). */
void display_damaged(struct display *d, const struct fb_rect *r);
/* Tells consumers the cursor changed (after display_unlock). */
void display_cursor_changed(struct display *d, bool new_image);

/* --- any thread ------------------------------------------------------------------- */

/*
 * A copy of the screen into out (out->pixels malloc'd, the caller frees;
 * out->damaged false), with the cursor drawn in when with_cursor. 0 or
 * -ENOMEM.
 */
int display_snapshot(struct display *d, struct framebuffer *out, bool with_cursor);

/* The size scanned out now, as (width << 32 | height); 0 when off. */
uint64_t display_scanout(struct display *d);

/* The framebuffer's size now (what a snapshot would hold). */
void display_size(struct display *d, uint32_t *width, uint32_t *height);

/* Where the cursor's hot spot is and whether it shows. */
void display_cursor_pos(struct display *d, uint32_t *x, uint32_t *y, bool *visible);

/*
 * A count of changes (pixels, size, scanout, cursor) that only grows; a
 * waiter reads it, checks what it waits for, then display_wait()s.
 */
uint64_t display_changes(struct display *d);
/*
 * Waits until the count passes seen or timeout_ms (>= 0) passes; the count
 * then (== seen: timed out). Never call it on the producer's thread: the
 * change it waits for would never come.
 */
uint64_t display_wait(struct display *d, uint64_t seen, int timeout_ms);

/* Wakes every waiter, which checks again what it waits for (a stop, say). */
void display_kick(struct display *d);

/* Blends c (B, G, R, A) into fb at its position; clipped to fb. */
void fb_draw_cursor(struct framebuffer *fb, const struct fb_cursor *c);

#endif
