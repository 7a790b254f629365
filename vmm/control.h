/*
 * The control socket (docs/control-protocol.md): what cubicled asks of a
 * sandbox's device host. Requests are JSON lines; answers are a JSON line,
 * followed by raw bytes when they carry an image.
 *
 * Screenshots copy the framebuffer on the loop (a memcpy) and encode on a
 * worker thread, so encoding never holds up the devices' queues. A resize
 * also runs on a worker: it asks the guest agent and waits for the guest.
 * Input actions are checked on the loop and run in order on one thread.
 */
#ifndef CUBICLE_CONTROL_H
#define CUBICLE_CONTROL_H

#include <stddef.h>

#include "hands.h"
#include "loop.h"
#include "virtio_dev.h"
#include "vnc.h"

struct control;

/* What the control socket works on; each may be NULL (then refused). */
struct control_deps {
	struct virtio_dev *gpu;     /* screenshots, display info */
	const char *agent_vsock;    /* resize: the agent applies the mode */
	struct vnc *vnc;            /* its port and viewers, in display info */
	struct hands *hands;        /* input actions and the cursor */
};

/*
 * Listens on the unix socket path (a stale one is replaced). NULL with a
 * reason in err.
 */
struct control *control_new(struct loop *loop, const char *path, const struct control_deps *deps,
			    char *err, size_t errlen);

/* Closes every connection, waits for running encodes, removes the socket file. */
void control_free(struct control *c);

#endif
