/*
 * A vhost-user back-end (QEMU docs/interop/vhost-user.rst) that carries any
 * struct virtio_dev to a vhost-user front-end such as QEMU's vhost-user-rng,
 * vhost-user-gpu, vhost-user-input or vhost-user-vsock-device.
 *
 * Message handling is split from socket I/O so that tests can feed crafted
 * messages: vu_recv() reads one message with its file descriptors, and
 * vu_dispatch() applies it and builds the reply, if any.
 */
#ifndef CUBICLE_VHOST_USER_H
#define CUBICLE_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "loop.h"
#include "virtio_dev.h"

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_GPU_SET_SOCKET = 33,
	VU_RESET_DEVICE = 34,
	VU_SET_STATUS = 39,
	VU_GET_STATUS = 40,
};

#define VU_F_PROTOCOL_FEATURES 30   /* virtio feature bit that enables them */

#define VU_PROTO_MQ 0
#define VU_PROTO_REPLY_ACK 3
#define VU_PROTO_CONFIG 9
#define VU_PROTO_RESET_DEVICE 13
#define VU_PROTO_STATUS 16

#define VU_VERSION 0x1
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD (1ull << 8)
#define VU_MAX_FDS 8
#define VU_CONFIG_MAX 256
#define VU_HDR_SIZE 12

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_uva;
	uint64_t used_uva;
	uint64_t avail_uva;
	uint64_t log_gpa;
};

struct vu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[GM_MAX_REGIONS];
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[VU_CONFIG_MAX];
};

/*
 * One message: a 12-byte header, then `size` bytes of payload. In memory the
 * payload sits aligned after the header; vu_recv()/vu_send() handle the gap.
 */
struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_vring_addr addr;
		struct vu_mem_table mem;
		struct vu_config config;
		uint8_t raw[512];
	} payload;
};

struct vu_ring {
	int kick_fd;
	int call_fd;
	int err_fd;
	uint16_t num;
	uint16_t base;
	bool have_addr;
	bool started;               /* kick fd received and not stopped since */
	bool enabled;
	bool running;               /* rings mapped, kick fd in the loop */
	struct vu_vring_addr addr;
};

struct vu_server {
	struct virtio_dev *dev;     /* owned */
	struct loop *loop;          /* may be NULL in tests: kicks are not watched */
	int sock;                   /* the front-end connection; -1 when closed */
	int gpu_sock;               /* vhost-user-gpu's display channel, kept open; or -1 */
	uint64_t features;          /* acked by SET_FEATURES */
	uint64_t protocol_features;
	bool owner;
	uint8_t status;
	struct guest_mem mem;
	struct vu_ring *rings;      /* dev->ops->num_queues of them */
	/* Called once when the front-end goes away or breaks the protocol. */
	void (*on_close)(struct vu_server *vu, const char *why);
	void *opaque;
};

/*
 * Makes a back-end for dev on the connected socket sock; takes ownership of
 * both (vu_free() closes and frees them). With a loop, the socket and the kick
 * eventfds are watched there. Returns NULL on allocation failure, taking
 * nothing.
 */
struct vu_server *vu_new(struct virtio_dev *dev, int sock, struct loop *loop);
void vu_free(struct vu_server *vu);

/* The virtio feature bits offered to the front-end. */
uint64_t vu_offered_features(const struct vu_server *vu);

/*
 * Reads one message from sock, with up to VU_MAX_FDS file descriptors (which
 * the caller then owns, *nfds of them). Returns 0, -EPIPE at end of stream,
 * -EPROTO for a truncated message or a bad version, -EMSGSIZE for a payload
 * larger than any message has, or another -errno.
 */
int vu_recv(int sock, struct vu_msg *msg, int *fds, int *nfds);

/* Writes one message; returns 0 or -errno. */
int vu_send(int sock, const struct vu_msg *msg);

/*
 * Applies one message. fds are taken (kept or closed), whatever the result.
 * Returns 0, or -errno when the request was refused (-ENOTSUP: unknown).
 * Sets *send_reply when *reply must go back to the front-end, and *why when
 * the front-end broke the protocol so badly that the session must end.
 */
int vu_dispatch(struct vu_server *vu, const struct vu_msg *msg, int *fds, int nfds,
		struct vu_msg *reply, bool *send_reply, const char **why);

/* Processes the socket until it would block; for the loop and for tests. */
void vu_handle_socket(struct vu_server *vu);

/* Tells the ring's call eventfd (the guest's interrupt). */
void vu_signal(struct vu_server *vu, unsigned int q);

#endif
