/*
 * Split virtqueues (virtio 1.2 §2.7) over guest memory, from the device side.
 *
 * Everything in the rings is written by the guest and is hostile: indices are
 * bounded by the queue size, chains by the queue size (loops end there),
 * addresses and lengths go through gm_translate(). A ring that breaks a rule
 * marks the queue broken; the caller then puts its device into needs-reset.
 */
#ifndef CUBICLE_VIRTQUEUE_H
#define CUBICLE_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guest_mem.h"

/* The largest queue our devices accept; a chain can't be longer (§2.7.4). */
#define VQ_MAX_SIZE 1024

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One request taken from the avail ring: out segments first, then in. */
struct vq_elem {
	uint16_t head;
	unsigned int n_out;     /* device-readable segments */
	unsigned int n_in;      /* device-writable segments */
	uint64_t out_len;
	uint64_t in_len;
	struct iovec iov[VQ_MAX_SIZE];
};

struct virtqueue {
	const struct guest_mem *mem;
	uint16_t num;
	bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
	bool ready;
	bool broken;
	const char *why;        /* first rule the guest broke, for the log */
	struct vring_desc *desc;
	uint16_t *avail;        /* flags, idx, ring[num], used_event */
	uint16_t *used_hdr;     /* flags, idx */
	struct vring_used_elem *used_ring;
	uint16_t *avail_event;  /* after used ring */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
};

/*
 * Points the queue at its rings. num must be a power of two no larger than
 * VQ_MAX_SIZE; each ring must lie in one guest memory region and be aligned as
 * §2.7 asks. Returns 0 or -EINVAL (the queue stays not ready).
 */
int vq_setup(struct virtqueue *vq, const struct guest_mem *mem, uint16_t num,
	     uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa);

/* Forgets the rings; indices go back to `base` (vhost-user SET_VRING_BASE). */
void vq_reset(struct virtqueue *vq, uint16_t base);

/*
 * Takes the next available chain into elem. Returns 1 when one was taken, 0
 * when the ring is empty, -EIO when the guest broke a rule (vq->broken is set
 * and vq->why says which; the queue takes nothing more until reset).
 */
int vq_pop(struct virtqueue *vq, struct vq_elem *elem);

/* Gives back the chain the last vq_pop() took, unused, to be taken again. */
void vq_unpop(struct virtqueue *vq);

/* Returns head to the used ring with `len` bytes written into its in part. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/* Whether the driver wants an interrupt for what was pushed since the last one. */
bool vq_should_notify(struct virtqueue *vq);

/* Copies up to len bytes into elem's writable segments; returns bytes copied. */
uint64_t vq_elem_write(struct vq_elem *elem, const void *buf, uint64_t len);

/*
 * Fills out (up to max entries) with the part of the segments [first,
 * first+n) that lies from byte `skip` on, at most `len` bytes. Returns the
 * number of entries used; *got says how many bytes they cover.
 */
unsigned int vq_iov_slice(const struct iovec *iov, unsigned int n, uint64_t skip,
			  uint64_t len, struct iovec *out, unsigned int max, uint64_t *got);

#endif
