/*
 * The sandbox's VNC server as cubicle-vmm assembles it: a consumer of the
 * screen's display (display/display.h) that follows its framebuffer and
 * cursor, with the VNC password read from (or first written to) the file
 * the caller names.
 */
#ifndef CUBICLE_SCREEN_H
#define CUBICLE_SCREEN_H

#include <stddef.h>

#include "config.h"
#include "display.h"
#include "vnc.h"

/*
 * Reads the VNC password from the first line of path, or, when path does not
 * exist, writes a random one there (mode 0600). A file others can read is
 * refused. 0, or -errno with a one-line reason in err.
 */
int screen_vnc_password(const char *path, char out[VNC_PASSWORD_MAX + 1], char *err,
			size_t errlen);

struct screen_vnc;

/*
 * Starts VNC for display d as cfg says (cfg->vnc_addr set) and attaches it
 * as a consumer. input may be NULL. NULL with a reason in err.
 */
struct screen_vnc *screen_vnc_start(struct display *d, const struct vmm_config *cfg,
				    const struct vnc_input *input, char *err, size_t errlen);

/* The server itself (its port, its viewers). */
struct vnc *screen_vnc_server(struct screen_vnc *s);

/* Detaches from the display and stops the server; accepts NULL. */
void screen_vnc_stop(struct screen_vnc *s);

#endif
