/*
 * The control socket (docs/control-protocol.md): what cubicled asks of a
 * sandbox's device host. Requests are JSON lines; answers are a JSON line,
 * followed by raw bytes when they carry an image.
 *
 * Screenshots copy the framebuffer on the loop (a memcpy) and encode on a
 * worker thread, so encoding never holds up the devices' queues.
 */
#ifndef CUBICLE_CONTROL_H
#define CUBICLE_CONTROL_H

#include <stddef.h>

#include "loop.h"
#include "virtio_dev.h"

struct control;

/*
 * Listens on the unix socket path (a stale one is replaced); gpu may be
 * NULL (no screen: screenshots are refused). NULL with a reason in err.
 */
struct control *control_new(struct loop *loop, const char *path, struct virtio_dev *gpu,
			    char *err, size_t errlen);

/* Closes every connection, waits for running encodes, removes the socket file. */
void control_free(struct control *c);

#endif
