/*
 * The sandbox's screen over RFB (libvncserver): VNC viewers and, through
 * libvncserver's websocket support on the same port, noVNC in a browser.
 *
 * The server keeps its own copy of the screen: libvncserver draws the cursor
 * into its framebuffer for viewers without cursor-shape support, which must
 * never reach screenshots, and the copy lets a resize swap buffers safely
 * under the viewers' threads. The device loop copies each flushed rectangle
 * (vnc_update), so viewers get damage-only updates; libvncserver's threads
 * encode (tight, zrle, raw, ...) and send, one per viewer.
 *
 * VNC authentication is always on; the password comes from the caller.
 */
#ifndef CUBICLE_VNC_H
#define CUBICLE_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framebuffer.h"

/* VNC authentication uses the first 8 characters of a password. */
#define VNC_PASSWORD_MAX 8

struct vnc_options {
	const char *addr;           /* IPv4 address to listen on, e.g. "127.0.0.1" */
	int port;                   /* 0: a free port the system picks */
	const char *password;       /* 1..VNC_PASSWORD_MAX characters */
	const char *view_password;  /* NULL, or a second password: that viewer only watches */
	bool view_only;             /* every viewer's keys and pointer are ignored */
};

/*
 * Where viewers' input goes (the input layer); called on a viewer's thread.
 * key: an X keysym, pressed or released. pointer: RFB button mask and
 * screen coordinates. gone: a viewer left (let go of what it held). Any may
 * be NULL.
 */
struct vnc_input {
	void (*key)(void *opaque, bool down, uint32_t keysym);
	void (*pointer)(void *opaque, int buttons, int x, int y);
	void (*gone)(void *opaque);
	void *opaque;
};

struct vnc;

/*
 * Starts serving fb's current contents. input may be NULL (input is then
 * dropped until the input layer is wired). NULL with a reason in err.
 */
struct vnc *vnc_new(const struct framebuffer *fb, const struct vnc_options *o,
		    const struct vnc_input *input, char *err, size_t errlen);

/* Disconnects every viewer, stops the server; accepts NULL. */
void vnc_free(struct vnc *v);

/* The TCP port it listens on. */
int vnc_port(const struct vnc *v);

/* Viewers connected now. */
int vnc_clients(struct vnc *v);

/* Copies rectangle r of fb (same size as the server's) and sends it. */
void vnc_update(struct vnc *v, const struct framebuffer *fb, const struct fb_rect *r);

/* Follows fb to a new size; viewers that can get the new size. 0 or -ENOMEM. */
int vnc_resize(struct vnc *v, const struct framebuffer *fb);

/* A new cursor image (B, G, R, A, w x h, at most 64 x 64) and hot spot. */
void vnc_set_cursor(struct vnc *v, const uint8_t *bgra, uint32_t w, uint32_t h,
		    uint32_t hot_x, uint32_t hot_y);

/* Where the cursor's hot spot is, and whether it shows. */
void vnc_move_cursor(struct vnc *v, uint32_t x, uint32_t y, bool visible);

/* A random password of VNC_PASSWORD_MAX letters and digits into out[9]. */
int vnc_random_password(char out[VNC_PASSWORD_MAX + 1]);

#endif
