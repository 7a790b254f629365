#include "virtqueue.h"

#include <errno.h>
#include <string.h>

/* Ring sizes and alignments, virtio 1.2 §2.7 table "Virtqueue Part Alignment". */
static uint64_t desc_size(uint16_t num) { return 16ull * num; }
static uint64_t avail_size(uint16_t num) { return 6ull + 2ull * num; }
static uint64_t used_size(uint16_t num) { return 6ull + 8ull * num; }

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int broken(struct virtqueue *vq, const char *why)
{
	if (!vq->broken)
		vq->why = why;
	vq->broken = true;
	return -EIO;
}

int vq_setup(struct virtqueue *vq, const struct guest_mem *mem, uint16_t num,
	     uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa)
{
	void *desc, *avail, *used;

	vq->ready = false;
	if (num == 0 || num > VQ_MAX_SIZE || (num & (num - 1)))
		return -EINVAL;
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	desc = gm_translate(mem, desc_gpa, desc_size(num));
	avail = gm_translate(mem, avail_gpa, avail_size(num));
	used = gm_translate(mem, used_gpa, used_size(num));
	if (!desc || !avail || !used)
		return -EINVAL;
	vq->mem = mem;
	vq->num = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used_hdr = used;
	vq->used_ring = (struct vring_used_elem *)((uint8_t *)used + 4);
	vq->avail_event = (uint16_t *)&vq->used_ring[num];
	vq->broken = false;
	vq->why = NULL;
	vq->ready = true;
	return 0;
}

void vq_reset(struct virtqueue *vq, uint16_t base)
{
	vq->ready = false;
	vq->broken = false;
	vq->why = NULL;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used_hdr = NULL;
	vq->used_ring = NULL;
	vq->avail_event = NULL;
	vq->last_avail = base;
	vq->used_idx = base;
	vq->signalled_valid = false;
}

/* Adds one descriptor's buffer to elem; order and totals checked (§2.7.4.2). */
static int add_segment(struct virtqueue *vq, struct vq_elem *elem,
		       const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	unsigned int n = elem->n_out + elem->n_in;
	void *host;

	if (!writable && elem->n_in)
		return broken(vq, "readable descriptor after a writable one");
	if (d->len == 0)
		return 0;
	if (n == VQ_MAX_SIZE)
		return broken(vq, "chain longer than the queue");
	host = gm_translate(vq->mem, d->addr, d->len);
	if (!host)
		return broken(vq, "descriptor address outside guest memory");
	elem->iov[n].iov_base = host;
	elem->iov[n].iov_len = d->len;
	if (writable) {
		elem->n_in++;
		elem->in_len += d->len;
	} else {
		elem->n_out++;
		elem->out_len += d->len;
	}
	return 0;
}

/* Walks an indirect table (§2.7.5.3): no nesting, next bounded by its length. */
static int walk_indirect(struct virtqueue *vq, struct vq_elem *elem,
			 const struct vring_desc *ind)
{
	const struct vring_desc *table;
	uint32_t n, i = 0, seen = 0;
	int ret;

	if (ind->len == 0 || ind->len % sizeof(struct vring_desc))
		return broken(vq, "indirect table of bad length");
	n = ind->len / sizeof(struct vring_desc);
	if (n > VQ_MAX_SIZE)
		return broken(vq, "indirect table longer than the queue");
	table = gm_translate(vq->mem, ind->addr, ind->len);
	if (!table)
		return broken(vq, "indirect table outside guest memory");
	for (;;) {
		struct vring_desc d;

		memcpy(&d, &table[i], sizeof(d));
		if (++seen > n)
			return broken(vq, "loop in indirect table");
		if (d.flags & VRING_DESC_F_INDIRECT)
			return broken(vq, "nested indirect table");
		ret = add_segment(vq, elem, &d);
		if (ret < 0)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= n)
			return broken(vq, "indirect next out of range");
	}
}

int vq_pop(struct virtqueue *vq, struct vq_elem *elem)
{
	uint16_t avail_idx, head, i;
	unsigned int seen = 0;
	int ret;

	if (!vq->ready || vq->broken)
		return vq->broken ? -EIO : 0;
	avail_idx = load16(&vq->avail[1]);
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
		return broken(vq, "avail index moved more than the queue size");
	if (avail_idx == vq->last_avail)
		return 0;
	head = load16(&vq->avail[2 + (vq->last_avail & (vq->num - 1))]);
	if (head >= vq->num)
		return broken(vq, "head index out of range");

	elem->head = head;
	elem->n_out = elem->n_in = 0;
	elem->out_len = elem->in_len = 0;
	for (i = head;;) {
		struct vring_desc d;

		memcpy(&d, &vq->desc[i], sizeof(d));
		if (++seen > vq->num)
			return broken(vq, "loop in descriptor chain");
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (d.flags & VRING_DESC_F_NEXT)
				return broken(vq, "indirect descriptor with NEXT");
			if (seen != 1)
				return broken(vq, "indirect descriptor inside a chain");
			ret = walk_indirect(vq, elem, &d);
			if (ret < 0)
				return ret;
			break;
		}
		ret = add_segment(vq, elem, &d);
		if (ret < 0)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= vq->num)
			return broken(vq, "next index out of range");
	}
	vq->last_avail++;
	if (vq->event_idx)
		__atomic_store_n(vq->avail_event, vq->last_avail, __ATOMIC_RELEASE);
	return 1;
}

void vq_unpop(struct virtqueue *vq)
{
	vq->last_avail--;
	if (vq->event_idx)
		__atomic_store_n(vq->avail_event, vq->last_avail, __ATOMIC_RELEASE);
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u;

	if (!vq->ready)
		return;
	u = &vq->used_ring[vq->used_idx & (vq->num - 1)];
	u->id = head;
	u->len = len;
	vq->used_idx++;
	__atomic_store_n(&vq->used_hdr[1], vq->used_idx, __ATOMIC_RELEASE);
}

bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old, event;

	if (!vq->ready)
		return false;
	/* The used index must be visible before we read what the driver wants. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(&vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT);
	/* §2.7.10: notify when used_event lies in (old, new]. */
	old = vq->signalled_used;
	event = load16(&vq->avail[2 + vq->num]);
	vq->signalled_used = vq->used_idx;
	if (!vq->signalled_valid) {
		vq->signalled_valid = true;
		return true;
	}
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

uint64_t vq_elem_write(struct vq_elem *elem, const void *buf, uint64_t len)
{
	const uint8_t *src = buf;
	uint64_t done = 0;

	for (unsigned int i = elem->n_out; i < elem->n_out + elem->n_in && done < len; i++) {
		uint64_t n = elem->iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		memcpy(elem->iov[i].iov_base, src + done, n);
		done += n;
	}
	return done;
}

unsigned int vq_iov_slice(const struct iovec *iov, unsigned int n, uint64_t skip,
			  uint64_t len, struct iovec *out, unsigned int max, uint64_t *got)
{
	unsigned int used = 0;

	*got = 0;
	for (unsigned int i = 0; i < n && used < max && *got < len; i++) {
		uint64_t seg = iov[i].iov_len;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		seg -= skip;
		if (seg > len - *got)
			seg = len - *got;
		out[used].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[used].iov_len = seg;
		used++;
		*got += seg;
		skip = 0;
	}
	return used;
}
