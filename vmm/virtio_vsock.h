/*
 * virtio-vsock (virtio 1.2 §5.10) with the host side Firecracker documents:
 * stream sockets in the guest become unix stream connections on the host.
 *
 *  - A host program connects to the unix socket PATH and sends
 *    "CONNECT <port>\n"; once the guest accepts it reads "OK <hostport>\n" and
 *    the connection carries bytes both ways.
 *  - A guest connection to the host (CID 2) on port P becomes a connection to
 *    the unix socket "PATH_P"; refused if nothing listens there.
 *
 * Credit-based flow control both ways: the guest never gets more than it has
 * room for, and a host program that reads slowly slows the guest down instead
 * of losing bytes. See docs/vsock.md.
 */
#ifndef CUBICLE_VIRTIO_VSOCK_H
#define CUBICLE_VIRTIO_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "virtio_dev.h"

#define VIRTIO_ID_VSOCK 19
#define VSOCK_HOST_CID 2
#define VSOCK_DEFAULT_GUEST_CID 3

struct vsock_stats {
	uint64_t connections;       /* made since start, either direction */
	uint64_t open;              /* open now */
	uint64_t bytes_to_guest;
	uint64_t bytes_from_guest;
	uint64_t resets;            /* connections reset, for any reason */
};

/*
 * A new vsock device for guest_cid, listening on the unix socket path (a
 * stale socket file there is replaced). Host connections are served on loop.
 * Returns NULL with a one-line reason in err. Free with vdev_free(), which
 * closes every connection and removes the socket file.
 */
struct virtio_dev *vsock_new(struct loop *loop, const char *path, uint64_t guest_cid,
			     char *err, size_t errlen);

struct vsock_stats vsock_stats(const struct virtio_dev *dev);

#endif
