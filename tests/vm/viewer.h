/*
 * A VNC viewer (libvncclient) for vm tests and benchmarks: one connect with
 * a password and the options they vary, a count of the pixels that updates
 * cover, one server message at a time with a bound, and the clean-up
 * libvncclient leaves to its caller. Its framebuffer is 32-bit R, G, B, X.
 */
#ifndef CUBICLE_VM_VIEWER_H
#define CUBICLE_VM_VIEWER_H

#include <rfb/rfbclient.h>
#include <stdbool.h>

#define VIEWER_LOSSLESS 1u          /* no JPEG in tight: pixels compare exactly */
#define VIEWER_REMOTE_CURSOR 2u     /* the cursor comes as a shape, not in the pixels */
#define VIEWER_QUIET 4u             /* libvncclient logs nothing (a process-wide switch) */

/*
 * Connects to host:port (host may be a unix socket's path, with port 0),
 * answering a password challenge with password (NULL: ""), offering
 * encodings (NULL: libvncclient's list) with flags. The client, which has
 * asked for a first full update; NULL if it could not connect. The caller
 * may set its own GotFrameBufferUpdate (viewer_pixels() then stays 0).
 * viewer_close() frees it.
 */
rfbClient *viewer_connect(const char *host, int port, const char *password,
			  const char *encodings, unsigned int flags);

/* Pixels covered by update rectangles since the last reset (or connect). */
long long viewer_pixels(rfbClient *c);
void viewer_reset_pixels(rfbClient *c);

/* Handles one server message, waiting up to timeout_ms for it: 1, 0 (none came) or -1. */
int viewer_pump(rfbClient *c, int timeout_ms);

/*
 * Handles messages until rectangles covering the whole screen have arrived
 * since this call. 0; or -1 after an error, when no message came for
 * stall_ms, or when total_ms passed (-1: no bound).
 */
int viewer_whole_frame(rfbClient *c, int stall_ms, int total_ms);

/* Disconnects and frees c with the buffers libvncclient leaves to us; NULL is fine. */
void viewer_close(rfbClient *c);

#endif
