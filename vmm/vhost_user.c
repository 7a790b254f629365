#include "vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* CONFIG only for devices that have a config space (QEMU warns otherwise). */
static uint64_t offered_protocol(const struct vu_server *vu)
{
	return (1ull << VU_PROTO_MQ) | (1ull << VU_PROTO_REPLY_ACK) |
	       (1ull << VU_PROTO_RESET_DEVICE) | (1ull << VU_PROTO_STATUS) |
	       (vu->dev->ops->config_size ? 1ull << VU_PROTO_CONFIG : 0);
}

#define VIRTIO_ID_GPU_DEV 16   /* virtio 1.2 §5.7 */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		close_fd(&fds[i]);
}

static bool has_proto(const struct vu_server *vu, unsigned int bit)
{
	return vu->protocol_features & (1ull << bit);
}

uint64_t vu_offered_features(const struct vu_server *vu)
{
	return vu->dev->ops->features | (1ull << VIRTIO_F_VERSION_1) |
	       (1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
	       (1ull << VU_F_PROTOCOL_FEATURES);
}

/* --- socket I/O ------------------------------------------------------------- */

/*
 * Moves all of buf through the socket, waiting for it when it would block. A
 * peer that stops halfway through a message for a second has sent a truncated
 * one (-EPROTO), or is not reading (-ETIMEDOUT).
 */
static int io_full(int sock, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? send(sock, p, len, MSG_NOSIGNAL) : recv(sock, p, len, 0);

		if (n == 0 && !out)
			return -EPROTO;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = sock, .events = out ? POLLOUT : POLLIN };

			if (poll(&pfd, 1, 1000) <= 0)
				return out ? -ETIMEDOUT : -EPROTO;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vu_recv(int sock, struct vu_msg *msg, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { msg, VU_HDR_SIZE };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;
	int ret;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < VU_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		return -EPIPE;
	ret = -EPROTO;
	if (n < VU_HDR_SIZE && io_full(sock, (uint8_t *)msg + n, VU_HDR_SIZE - (size_t)n, false) < 0)
		goto out_close_fds;
	if ((msg->flags & 3) != VU_VERSION)
		goto out_close_fds;
	ret = -EMSGSIZE;
	if (msg->size > sizeof(msg->payload))
		goto out_close_fds;
	ret = io_full(sock, &msg->payload, msg->size, false);
	if (ret < 0)
		goto out_close_fds;
	memset(msg->payload.raw + msg->size, 0, sizeof(msg->payload) - msg->size);
	return 0;

out_close_fds:
	close_fds(fds, *nfds);
	*nfds = 0;
	return ret;
}

int vu_send(int sock, const struct vu_msg *msg)
{
	struct vu_msg copy;
	uint8_t *p = (uint8_t *)&copy;
	size_t len = VU_HDR_SIZE + msg->size;

	if (msg->size > sizeof(msg->payload))
		return -EMSGSIZE;
	/* Header and payload back to back, as on the wire. */
	memcpy(p, msg, VU_HDR_SIZE);
	memcpy(p + VU_HDR_SIZE, &msg->payload, msg->size);
	return io_full(sock, p, len, true);
}

/* --- rings ------------------------------------------------------------------ */

static void on_kick(struct loop *loop, int fd, uint32_t events, void *opaque);

/* Stops a ring: no more kicks watched, queue forgets its guest addresses. */
static void ring_stop(struct vu_server *vu, unsigned int q)
{
	struct vu_ring *r = &vu->rings[q];

	if (r->running && vu->loop)
		loop_del(vu->loop, r->kick_fd);
	r->running = false;
	vq_reset(&vu->dev->vqs[q], r->base);
}

/* Maps the ring's addresses through the memory table: uva → gpa → vq_setup. */
static int ring_map(struct vu_server *vu, unsigned int q)
{
	struct vu_ring *r = &vu->rings[q];
	struct virtqueue *vq = &vu->dev->vqs[q];
	uint64_t desc, avail, used;
	int ret;

	if (!r->have_addr || !gm_uva_to_gpa(&vu->mem, r->addr.desc_uva, &desc) ||
	    !gm_uva_to_gpa(&vu->mem, r->addr.avail_uva, &avail) ||
	    !gm_uva_to_gpa(&vu->mem, r->addr.used_uva, &used))
		return -EINVAL;
	ret = vq_setup(vq, &vu->mem, r->num, desc, avail, used);
	if (ret < 0)
		return ret;
	vq->event_idx = vu->features & (1ull << VIRTIO_F_RING_EVENT_IDX);
	vq->last_avail = r->base;
	vq->used_idx = __atomic_load_n(&vq->used_hdr[1], __ATOMIC_ACQUIRE);
	/* Requests taken but not completed before a restart are taken again. */
	if (vq->used_idx != vq->last_avail)
		vq->last_avail = vq->used_idx;
	return 0;
}

/* Starts processing a ring once it has a kick fd, addresses and is enabled. */
static void ring_try_start(struct vu_server *vu, unsigned int q)
{
	struct vu_ring *r = &vu->rings[q];

	if (r->running || !r->started || !r->enabled || r->kick_fd < 0)
		return;
	if (ring_map(vu, q) < 0) {
		vu->dev->vqs[q].why = "ring addresses outside guest memory";
		vdev_broken(vu->dev, q);
		return;
	}
	if (vu->loop && loop_add(vu->loop, r->kick_fd, EPOLLIN, on_kick, vu) < 0)
		return;
	r->running = true;
	if (!vu->dev->needs_reset)
		vu->dev->ops->queue_notify(vu->dev, q);
}

static void on_kick(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vu_server *vu = opaque;
	uint64_t cnt;

	(void)loop;
	(void)events;
	if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	for (unsigned int q = 0; q < vu->dev->ops->num_queues; q++) {
		if (vu->rings[q].kick_fd == fd && vu->rings[q].running) {
			if (!vu->dev->needs_reset)
				vu->dev->ops->queue_notify(vu->dev, q);
			return;
		}
	}
}

void vu_signal(struct vu_server *vu, unsigned int q)
{
	uint64_t one = 1;

	if (q < vu->dev->ops->num_queues && vu->rings[q].call_fd >= 0)
		(void)!write(vu->rings[q].call_fd, &one, sizeof(one));
}

static void dev_signal(struct virtio_dev *dev, unsigned int q)
{
	vu_signal(dev->transport, q);
}

/* The guest broke a ring: tell the front-end through the ring's error fd. */
static void dev_fail(struct virtio_dev *dev, unsigned int q, const char *why)
{
	struct vu_server *vu = dev->transport;
	uint64_t one = 1;

	fprintf(stderr, "cubicle-vmm: %s: queue %u: %s; device needs reset\n",
		dev->ops->name, q, why);
	if (q < dev->ops->num_queues && vu->rings[q].err_fd >= 0)
		(void)!write(vu->rings[q].err_fd, &one, sizeof(one));
}

static void reset_device(struct vu_server *vu)
{
	for (unsigned int q = 0; q < vu->dev->ops->num_queues; q++) {
		struct vu_ring *r = &vu->rings[q];

		ring_stop(vu, q);
		close_fd(&r->kick_fd);
		r->started = false;
		r->enabled = false;
		r->base = 0;
		vq_reset(&vu->dev->vqs[q], 0);
	}
	vu->dev->needs_reset = false;
	vu->status = 0;
	if (vu->dev->ops->reset)
		vu->dev->ops->reset(vu->dev);
}

/* --- messages --------------------------------------------------------------- */

static bool payload_ok(const struct vu_msg *msg, size_t want)
{
	return msg->size >= want;
}

/* The ring a message names, or -1 if out of range. */
static int ring_index(const struct vu_server *vu, uint64_t idx)
{
	return idx < vu->dev->ops->num_queues ? (int)idx : -1;
}

static int set_mem_table(struct vu_server *vu, const struct vu_msg *msg, int *fds,
			 int nfds)
{
	const struct vu_mem_table *t = &msg->payload.mem;
	struct guest_mem mem = { 0 };
	int ret = 0;

	if (!payload_ok(msg, 8) || t->nregions == 0 || t->nregions > GM_MAX_REGIONS ||
	    (int)t->nregions != nfds || msg->size < 8 + t->nregions * sizeof(t->regions[0]))
		return -EINVAL;
	for (uint32_t i = 0; i < t->nregions && ret == 0; i++) {
		const struct vu_mem_region *r = &t->regions[i];

		ret = gm_add_region(&mem, fds[i], r->gpa, r->size, r->uva, r->mmap_offset);
	}
	if (ret < 0) {
		gm_clear(&mem);
		return ret;
	}
	for (unsigned int q = 0; q < vu->dev->ops->num_queues; q++)
		ring_stop(vu, q);
	gm_clear(&vu->mem);
	vu->mem = mem;
	for (unsigned int q = 0; q < vu->dev->ops->num_queues; q++)
		ring_try_start(vu, q);
	return 0;
}

static int set_vring_fd(struct vu_server *vu, const struct vu_msg *msg, int *fds,
			int nfds, int which)
{
	int q, fd = -1;
	struct vu_ring *r;

	if (!payload_ok(msg, 8))
		return -EINVAL;
	q = ring_index(vu, msg->payload.u64 & VU_VRING_IDX_MASK);
	if (q < 0)
		return -EINVAL;
	if (!(msg->payload.u64 & VU_VRING_NOFD)) {
		if (nfds != 1)
			return -EINVAL;
		fd = fds[0];
		fds[0] = -1;
	}
	r = &vu->rings[q];
	switch (which) {
	case VU_SET_VRING_KICK:
		ring_stop(vu, (unsigned int)q);
		close_fd(&r->kick_fd);
		r->kick_fd = fd;
		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		r->started = fd >= 0;
		/* Without protocol features a ring is enabled as soon as it starts. */
		if (!(vu->features & (1ull << VU_F_PROTOCOL_FEATURES)))
			r->enabled = true;
		ring_try_start(vu, (unsigned int)q);
		break;
	case VU_SET_VRING_CALL:
		close_fd(&r->call_fd);
		r->call_fd = fd;
		break;
	default:
		close_fd(&r->err_fd);
		r->err_fd = fd;
		break;
	}
	return 0;
}

static int get_config(struct vu_server *vu, const struct vu_msg *msg, struct vu_msg *reply)
{
	const struct vu_config *c = &msg->payload.config;
	const struct virtio_dev_ops *ops = vu->dev->ops;

	reply->size = 0;   /* an empty payload tells the front-end it failed */
	if (!payload_ok(msg, 12) || c->size > VU_CONFIG_MAX || c->offset > ops->config_size ||
	    c->size > ops->config_size - c->offset || msg->size < 12 + c->size)
		return 0;
	reply->payload.config = (struct vu_config){ .offset = c->offset, .size = c->size };
	if (c->size && ops->get_config)
		ops->get_config(vu->dev, c->offset, reply->payload.config.data, c->size);
	reply->size = 12 + c->size;
	return 0;
}

static int set_config(struct vu_server *vu, const struct vu_msg *msg)
{
	const struct vu_config *c = &msg->payload.config;
	const struct virtio_dev_ops *ops = vu->dev->ops;

	if (!payload_ok(msg, 12) || c->size > VU_CONFIG_MAX || c->offset > ops->config_size ||
	    c->size > ops->config_size - c->offset || msg->size < 12 + c->size)
		return -EINVAL;
	if (!ops->set_config)
		return -ENOTSUP;
	return ops->set_config(vu->dev, c->offset, c->data, c->size);
}

static void reply_u64(struct vu_msg *reply, uint64_t v)
{
	reply->size = sizeof(uint64_t);
	reply->payload.u64 = v;
}

int vu_dispatch(struct vu_server *vu, const struct vu_msg *msg, int *fds, int nfds,
		struct vu_msg *reply, bool *send_reply, const char **why)
{
	const struct virtio_dev_ops *ops = vu->dev->ops;
	bool has_reply = false;
	int ret = 0, q;

	*why = NULL;
	memset(reply, 0, VU_HDR_SIZE + sizeof(uint64_t));
	reply->request = msg->request;
	reply->flags = VU_VERSION | VU_FLAG_REPLY;

	switch (msg->request) {
	case VU_GET_FEATURES:
		reply_u64(reply, vu_offered_features(vu));
		has_reply = true;
		break;
	case VU_SET_FEATURES:
		if (!payload_ok(msg, 8) || (msg->payload.u64 & ~vu_offered_features(vu))) {
			ret = -EINVAL;
			break;
		}
		vu->features = msg->payload.u64;
		vu->dev->features = msg->payload.u64 & ~(1ull << VU_F_PROTOCOL_FEATURES);
		for (unsigned int i = 0; i < ops->num_queues; i++)
			vu->dev->vqs[i].event_idx = vu->features & (1ull << VIRTIO_F_RING_EVENT_IDX);
		break;
	case VU_GET_PROTOCOL_FEATURES:
		reply_u64(reply, offered_protocol(vu));
		has_reply = true;
		break;
	case VU_SET_PROTOCOL_FEATURES:
		if (!payload_ok(msg, 8) || (msg->payload.u64 & ~offered_protocol(vu))) {
			ret = -EINVAL;
			break;
		}
		vu->protocol_features = msg->payload.u64;
		break;
	case VU_SET_OWNER:
		vu->owner = true;
		break;
	case VU_RESET_OWNER:
	case VU_RESET_DEVICE:
		reset_device(vu);
		break;
	case VU_GET_QUEUE_NUM:
		reply_u64(reply, ops->num_queues);
		has_reply = true;
		break;
	case VU_SET_MEM_TABLE:
		ret = set_mem_table(vu, msg, fds, nfds);
		break;
	case VU_SET_VRING_NUM:
		q = payload_ok(msg, 8) ? ring_index(vu, msg->payload.state.index) : -1;
		if (q < 0 || msg->payload.state.num == 0 || msg->payload.state.num > VQ_MAX_SIZE ||
		    (msg->payload.state.num & (msg->payload.state.num - 1))) {
			ret = -EINVAL;
			break;
		}
		vu->rings[q].num = (uint16_t)msg->payload.state.num;
		break;
	case VU_SET_VRING_ADDR:
		q = payload_ok(msg, sizeof(struct vu_vring_addr)) ?
			    ring_index(vu, msg->payload.addr.index) : -1;
		if (q < 0) {
			ret = -EINVAL;
			break;
		}
		vu->rings[q].addr = msg->payload.addr;
		vu->rings[q].have_addr = true;
		break;
	case VU_SET_VRING_BASE:
		q = payload_ok(msg, 8) ? ring_index(vu, msg->payload.state.index) : -1;
		if (q < 0 || msg->payload.state.num > 0xffff) {
			ret = -EINVAL;
			break;
		}
		vu->rings[q].base = (uint16_t)msg->payload.state.num;
		break;
	case VU_GET_VRING_BASE:
		q = payload_ok(msg, 8) ? ring_index(vu, msg->payload.state.index) : -1;
		if (q < 0) {
			/* The front-end waits for this reply; answer, then end the session. */
			*why = "GET_VRING_BASE for a ring that does not exist";
			ret = -EINVAL;
			break;
		}
		vu->rings[q].base = vu->dev->vqs[q].ready ? vu->dev->vqs[q].last_avail
							  : vu->rings[q].base;
		ring_stop(vu, (unsigned int)q);
		close_fd(&vu->rings[q].kick_fd);
		vu->rings[q].started = false;
		reply->size = sizeof(struct vu_vring_state);
		reply->payload.state = (struct vu_vring_state){ (uint32_t)q, vu->rings[q].base };
		has_reply = true;
		break;
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		ret = set_vring_fd(vu, msg, fds, nfds, (int)msg->request);
		break;
	case VU_SET_VRING_ENABLE:
		q = payload_ok(msg, 8) ? ring_index(vu, msg->payload.state.index) : -1;
		if (q < 0 || msg->payload.state.num > 1) {
			ret = -EINVAL;
			break;
		}
		vu->rings[q].enabled = msg->payload.state.num;
		if (vu->rings[q].enabled)
			ring_try_start(vu, (unsigned int)q);
		else
			ring_stop(vu, (unsigned int)q);
		break;
	case VU_GET_CONFIG:
		ret = get_config(vu, msg, reply);
		has_reply = true;
		break;
	case VU_SET_CONFIG:
		ret = set_config(vu, msg);
		break;
	case VU_SET_STATUS:
		if (!payload_ok(msg, 8) || msg->payload.u64 > 0xff) {
			ret = -EINVAL;
			break;
		}
		vu->status = (uint8_t)msg->payload.u64;
		if (vu->status == 0)
			reset_device(vu);
		break;
	case VU_GPU_SET_SOCKET:
		/*
		 * vhost-user-gpu.rst: a channel for the back-end to send display
		 * updates to QEMU. Our device host owns the screen and QEMU runs
		 * with -display none, so nothing is sent; the channel is kept open
		 * because QEMU treats its closing as an error.
		 */
		if (vu->dev->ops->device_id != VIRTIO_ID_GPU_DEV || nfds != 1) {
			ret = -EINVAL;
			break;
		}
		close_fd(&vu->gpu_sock);
		vu->gpu_sock = fds[0];
		fds[0] = -1;
		break;
	case VU_GET_STATUS:
		/* virtio 1.2 §2.1: DEVICE_NEEDS_RESET is bit 6. */
		reply_u64(reply, vu->status | (vu->dev->needs_reset ? 0x40 : 0));
		has_reply = true;
		break;
	default:
		ret = -ENOTSUP;
		break;
	}
	close_fds(fds, nfds);

	/* REPLY_ACK (vhost-user.rst): 0 on success, non-zero on failure. */
	if (!has_reply && (msg->flags & VU_FLAG_NEED_REPLY) && has_proto(vu, VU_PROTO_REPLY_ACK)) {
		reply_u64(reply, ret < 0 ? 1 : 0);
		has_reply = true;
	}
	*send_reply = has_reply;
	return ret;
}

/* --- connection --------------------------------------------------------------- */

static void on_socket(struct loop *loop, int fd, uint32_t events, void *opaque);

static void server_close(struct vu_server *vu, const char *why)
{
	if (vu->sock < 0)
		return;
	if (vu->loop)
		loop_del(vu->loop, vu->sock);
	reset_device(vu);
	close_fd(&vu->sock);
	if (vu->on_close)
		vu->on_close(vu, why);
}

void vu_handle_socket(struct vu_server *vu)
{
	struct vu_msg msg, reply;
	int fds[VU_MAX_FDS], nfds, ret;
	const char *why;
	bool send_reply;

	for (;;) {
		if (vu->sock < 0)
			return;
		ret = vu_recv(vu->sock, &msg, fds, &nfds);
		if (ret == -EAGAIN)
			return;
		if (ret == -EPIPE) {
			server_close(vu, "front-end closed the connection");
			return;
		}
		if (ret < 0) {
			server_close(vu, ret == -EMSGSIZE ? "oversized message" :
					 ret == -EPROTO ? "truncated or malformed message" :
							   strerror(-ret));
			return;
		}
		ret = vu_dispatch(vu, &msg, fds, nfds, &reply, &send_reply, &why);
		if (send_reply && vu_send(vu->sock, &reply) < 0) {
			server_close(vu, "cannot write reply");
			return;
		}
		if (why) {
			server_close(vu, why);
			return;
		}
		if (ret == -ENOTSUP)
			fprintf(stderr, "cubicle-vmm: %s: vhost-user request %u unknown, refused\n",
				vu->dev->ops->name, msg.request);
		else if (ret < 0)
			fprintf(stderr, "cubicle-vmm: %s: vhost-user request %u refused: %s\n",
				vu->dev->ops->name, msg.request, strerror(-ret));
	}
}

static void on_socket(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	(void)loop;
	(void)fd;
	(void)events;
	vu_handle_socket(opaque);
}

struct vu_server *vu_new(struct virtio_dev *dev, int sock, struct loop *loop)
{
	struct vu_server *vu = calloc(1, sizeof(*vu));
	unsigned int n = dev->ops->num_queues;

	if (!vu)
		return NULL;
	vu->rings = calloc(n, sizeof(*vu->rings));
	dev->vqs = calloc(n, sizeof(*dev->vqs));
	if (!vu->rings || !dev->vqs)
		goto out_free;
	for (unsigned int q = 0; q < n; q++) {
		vu->rings[q].kick_fd = vu->rings[q].call_fd = vu->rings[q].err_fd = -1;
		vq_reset(&dev->vqs[q], 0);
	}
	vu->dev = dev;
	vu->sock = sock;
	vu->gpu_sock = -1;
	vu->loop = loop;
	dev->transport = vu;
	dev->signal = dev_signal;
	dev->fail = dev_fail;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	if (loop && loop_add(loop, sock, EPOLLIN, on_socket, vu) < 0)
		goto out_free;
	return vu;

out_free:
	free(dev->vqs);
	dev->vqs = NULL;
	free(vu->rings);
	free(vu);
	return NULL;
}

void vu_free(struct vu_server *vu)
{
	if (!vu)
		return;
	vu->on_close = NULL;
	server_close(vu, NULL);
	for (unsigned int q = 0; q < vu->dev->ops->num_queues; q++) {
		close_fd(&vu->rings[q].kick_fd);
		close_fd(&vu->rings[q].call_fd);
		close_fd(&vu->rings[q].err_fd);
	}
	close_fd(&vu->gpu_sock);
	gm_clear(&vu->mem);
	free(vu->dev->vqs);
	vu->dev->vqs = NULL;
	vdev_free(vu->dev);
	free(vu->rings);
	free(vu);
}
