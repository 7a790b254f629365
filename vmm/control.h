/*
 * The control socket (docs/control-protocol.md): what cubicled asks of a
 * sandbox's device host. Requests are JSON lines; answers are a JSON line,
 * followed by raw bytes when they carry an image.
 *
 * Requests are read and checked on the loop (coordinates through space.h,
 * screenshot options through shot.h); what takes time runs elsewhere, so
 * the devices' queues never wait: a screenshot copies the screen under the
 * display's lock and encodes on a worker thread; a resize asks the guest
 * agent on a worker and waits for the guest's scanout; input actions and
 * cursor reads run in arrival order on one thread, and a batch may answer
 * with a screenshot taken when it is done.
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
