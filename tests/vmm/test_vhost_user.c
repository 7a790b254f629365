/*
 * The vhost-user back-end over a real socketpair: the messages a front-end
 * sends, the malformed ones a broken front-end might, and a virtio-rng
 * request served end to end through a memfd-backed "guest".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "vhost_user.h"
#include "virtio_rng.h"

#define RAM_SIZE (1u << 20)
#define RAM_GPA 0x40000000ull
#define RAM_UVA 0x7f1200000000ull   /* the front-end's address for RAM_GPA */
#define NUM 16

static int peer;                 /* the front-end's end */
static struct vu_server *vu;
static const char *closed_why;

static void on_close(struct vu_server *v, const char *why)
{
	(void)v;
	closed_why = why ? why : "(none)";
}

static void start(void)
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	peer = sv[1];
	vu = vu_new(rng_new(), sv[0], NULL);
	CHECK(vu != NULL);
	vu->on_close = on_close;
	closed_why = NULL;
}

static void stop(void)
{
	vu_free(vu);
	vu = NULL;
	close(peer);
}

/* Sends msg with fds, lets the back-end handle it. */
static void send_msg(uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		     const int *fds, int nfds)
{
	uint8_t buf[VU_HDR_SIZE + 512];
	uint32_t hdr[3] = { req, VU_VERSION | flags, size };
	union {
		char b[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, VU_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, hdr, VU_HDR_SIZE);
	if (size)
		memcpy(buf + VU_HDR_SIZE, payload, size);
	if (nfds) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	CHECK(sendmsg(peer, &mh, 0) == (ssize_t)iov.iov_len);
	vu_handle_socket(vu);
}

static void send_u64(uint32_t req, uint32_t flags, uint64_t v)
{
	send_msg(req, flags, &v, sizeof(v), NULL, 0);
}

/* Reads one reply; false if none is waiting. */
static bool get_reply(struct vu_msg *r)
{
	int fds[VU_MAX_FDS], nfds;
	int fl = fcntl(peer, F_GETFL);
	int ret;

	fcntl(peer, F_SETFL, fl | O_NONBLOCK);
	ret = vu_recv(peer, r, fds, &nfds);
	fcntl(peer, F_SETFL, fl);
	return ret == 0;
}

static uint64_t reply_u64(uint32_t req)
{
	struct vu_msg r;

	if (!get_reply(&r)) {
		CHECK(!"a reply");
		return ~0ull;
	}
	CHECK(r.request == req && (r.flags & VU_FLAG_REPLY) && r.size == 8);
	return r.payload.u64;
}

static void test_features(void)
{
	start();
	send_u64(VU_GET_FEATURES, 0, 0);
	uint64_t f = reply_u64(VU_GET_FEATURES);
	CHECK(f & (1ull << VIRTIO_F_VERSION_1));
	CHECK(f & (1ull << VU_F_PROTOCOL_FEATURES));
	send_u64(VU_GET_PROTOCOL_FEATURES, 0, 0);
	uint64_t p = reply_u64(VU_GET_PROTOCOL_FEATURES);
	CHECK(p & (1ull << VU_PROTO_REPLY_ACK));
	send_u64(VU_SET_PROTOCOL_FEATURES, 0, 1ull << VU_PROTO_REPLY_ACK);
	send_u64(VU_SET_FEATURES, VU_FLAG_NEED_REPLY, f);
	CHECK(reply_u64(VU_SET_FEATURES) == 0);
	/* A feature we never offered is refused. */
	send_u64(VU_SET_FEATURES, VU_FLAG_NEED_REPLY, f | (1ull << 63));
	CHECK(reply_u64(VU_SET_FEATURES) != 0);
	send_u64(VU_GET_QUEUE_NUM, 0, 0);
	CHECK(reply_u64(VU_GET_QUEUE_NUM) == 1);
	CHECK(closed_why == NULL);
	stop();
}

static void test_unknown_request(void)
{
	start();
	send_u64(VU_SET_PROTOCOL_FEATURES, 0, 1ull << VU_PROTO_REPLY_ACK);
	send_u64(99, VU_FLAG_NEED_REPLY, 0);
	CHECK(reply_u64(99) != 0);            /* refused, not a disconnect */
	send_u64(1234, 0, 0);                 /* no reply wanted: ignored */
	send_u64(VU_GET_FEATURES, 0, 0);
	CHECK(reply_u64(VU_GET_FEATURES) != 0);
	CHECK(closed_why == NULL);
	stop();
}

static void test_truncated(void)
{
	uint32_t hdr[3] = { VU_SET_FEATURES, VU_VERSION, 8 };
	struct vu_msg r;

	start();
	/* A header promising 8 bytes, 4 sent, then the writer goes away. */
	CHECK(write(peer, hdr, sizeof(hdr)) == sizeof(hdr));
	CHECK(write(peer, "abcd", 4) == 4);
	shutdown(peer, SHUT_WR);
	vu_handle_socket(vu);
	CHECK(closed_why && strstr(closed_why, "truncated"));
	CHECK(vu->sock == -1);
	CHECK(!get_reply(&r));
	stop();

	start();   /* half a header */
	CHECK(write(peer, hdr, 6) == 6);
	shutdown(peer, SHUT_WR);
	vu_handle_socket(vu);
	CHECK(closed_why && strstr(closed_why, "truncated"));
	stop();
}

static void test_oversized_and_bad_version(void)
{
	uint32_t big[3] = { VU_SET_FEATURES, VU_VERSION, 100000 };
	uint32_t badver[3] = { VU_GET_FEATURES, 0x2, 0 };

	start();
	CHECK(write(peer, big, sizeof(big)) == sizeof(big));
	vu_handle_socket(vu);
	CHECK(closed_why && strstr(closed_why, "oversized"));
	stop();

	start();
	CHECK(write(peer, badver, sizeof(badver)) == sizeof(badver));
	vu_handle_socket(vu);
	CHECK(closed_why && strstr(closed_why, "malformed"));
	stop();

	start();
	close(peer);
	peer = -1;
	vu_handle_socket(vu);
	CHECK(closed_why && strstr(closed_why, "closed"));
	vu_free(vu);
}

static void test_bad_arguments(void)
{
	struct vu_vring_state st = { 0, 6 };
	struct vu_config cfg = { .offset = 0, .size = 4 };
	struct vu_msg r;
	int efd = eventfd(0, EFD_CLOEXEC);

	start();
	send_u64(VU_SET_PROTOCOL_FEATURES, 0, 1ull << VU_PROTO_REPLY_ACK);
	send_msg(VU_SET_VRING_NUM, VU_FLAG_NEED_REPLY, &st, sizeof(st), NULL, 0);
	CHECK(reply_u64(VU_SET_VRING_NUM) != 0);          /* not a power of two */
	st = (struct vu_vring_state){ 0, 4096 };
	send_msg(VU_SET_VRING_NUM, VU_FLAG_NEED_REPLY, &st, sizeof(st), NULL, 0);
	CHECK(reply_u64(VU_SET_VRING_NUM) != 0);          /* larger than we take */
	st = (struct vu_vring_state){ 7, 16 };
	send_msg(VU_SET_VRING_NUM, VU_FLAG_NEED_REPLY, &st, sizeof(st), NULL, 0);
	CHECK(reply_u64(VU_SET_VRING_NUM) != 0);          /* no ring 7 */
	send_msg(VU_SET_VRING_CALL, VU_FLAG_NEED_REPLY, &(uint64_t){ 5 }, 8, &efd, 1);
	CHECK(reply_u64(VU_SET_VRING_CALL) != 0);
	send_msg(VU_SET_VRING_NUM, VU_FLAG_NEED_REPLY, &st, 2, NULL, 0);
	CHECK(reply_u64(VU_SET_VRING_NUM) != 0);          /* short payload */
	/* A memory table whose fd count does not match. */
	struct vu_mem_table t = { .nregions = 1 };
	send_msg(VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &t, 8 + 32, NULL, 0);
	CHECK(reply_u64(VU_SET_MEM_TABLE) != 0);
	/* Config reads outside the (empty) config space fail with no payload. */
	send_msg(VU_GET_CONFIG, 0, &cfg, 12 + 4, NULL, 0);
	CHECK(get_reply(&r) && r.request == VU_GET_CONFIG && r.size == 0);
	CHECK(closed_why == NULL);
	stop();
	close(efd);
}

/* The guest's side of a ring, in a memfd shared with the back-end. */
struct guest {
	int memfd;
	uint8_t *ram;
};

static void *ram_at(struct guest *g, uint64_t gpa) { return g->ram + (gpa - RAM_GPA); }

static void setup_ring(struct guest *g, int kick, int call, int err, uint64_t desc_uva)
{
	struct vu_mem_table t = { .nregions = 1 };
	struct vu_vring_addr a = { .index = 0, .desc_uva = desc_uva,
				   .avail_uva = RAM_UVA + 0x1000, .used_uva = RAM_UVA + 0x2000 };
	struct vu_vring_state st = { 0, NUM };

	t.regions[0] = (struct vu_mem_region){ RAM_GPA, RAM_SIZE, RAM_UVA, 0 };
	send_u64(VU_GET_FEATURES, 0, 0);
	uint64_t f = reply_u64(VU_GET_FEATURES);
	send_u64(VU_SET_FEATURES, 0, f & ~(1ull << VIRTIO_F_RING_EVENT_IDX));
	send_u64(VU_SET_PROTOCOL_FEATURES, 0, 1ull << VU_PROTO_REPLY_ACK);
	send_u64(VU_SET_OWNER, 0, 0);
	send_msg(VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &t, 8 + 32, &g->memfd, 1);
	CHECK(reply_u64(VU_SET_MEM_TABLE) == 0);
	send_msg(VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	send_msg(VU_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	st.num = 0;
	send_msg(VU_SET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	send_msg(VU_SET_VRING_CALL, 0, &(uint64_t){ 0 }, 8, &call, 1);
	send_msg(VU_SET_VRING_ERR, 0, &(uint64_t){ 0 }, 8, &err, 1);
	send_msg(VU_SET_VRING_KICK, 0, &(uint64_t){ 0 }, 8, &kick, 1);
	st.num = 1;
	send_msg(VU_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0);
}

static bool counter_fired(int efd)
{
	uint64_t v;

	fcntl(efd, F_SETFL, O_NONBLOCK);
	return read(efd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

static void test_rng_end_to_end(void)
{
	struct guest g;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC),
	    err = eventfd(0, EFD_CLOEXEC);
	uint8_t zero[64] = { 0 };

	g.memfd = memfd_create("guest", MFD_CLOEXEC);
	CHECK(ftruncate(g.memfd, RAM_SIZE) == 0);
	g.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g.memfd, 0);
	CHECK(g.ram != MAP_FAILED);

	start();
	setup_ring(&g, kick, call, err, RAM_UVA);
	CHECK(vu->rings[0].running);

	/* The driver offers a 64-byte writable buffer and kicks. */
	struct vring_desc *d = ram_at(&g, RAM_GPA);
	uint16_t *avail = ram_at(&g, RAM_GPA + 0x1000);
	uint16_t *used = ram_at(&g, RAM_GPA + 0x2000);
	d[0] = (struct vring_desc){ RAM_GPA + 0x8000, 64, VRING_DESC_F_WRITE, 0 };
	avail[2] = 0;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	vu->dev->ops->queue_notify(vu->dev, 0);
	CHECK(used[1] == 1);
	CHECK(((struct vring_used_elem *)&used[2])[0].len == 64);
	CHECK(memcmp(ram_at(&g, RAM_GPA + 0x8000), zero, 64) != 0);
	CHECK(counter_fired(call));
	CHECK(rng_stats(vu->dev).bytes == 64);

	/* Stopping the ring reports where the driver is. */
	send_msg(VU_GET_VRING_BASE, 0, &(struct vu_vring_state){ 0, 0 }, 8, NULL, 0);
	struct vu_msg r;
	CHECK(get_reply(&r) && r.request == VU_GET_VRING_BASE && r.payload.state.num == 1);
	CHECK(!vu->rings[0].running);

	/* A hostile descriptor breaks the device, reported on the error fd. */
	setup_ring(&g, dup(kick), dup(call), dup(err), RAM_UVA);
	d[1] = (struct vring_desc){ 0xdead0000000ull, 64, VRING_DESC_F_WRITE, 0 };
	avail[3] = 1;
	__atomic_store_n(&avail[1], 2, __ATOMIC_RELEASE);
	vu->dev->ops->queue_notify(vu->dev, 0);
	CHECK(vu->dev->needs_reset);
	CHECK(counter_fired(err));
	CHECK(used[1] == 1);
	send_u64(VU_GET_STATUS, 0, 0);
	CHECK(reply_u64(VU_GET_STATUS) & 0x40);
	/* RESET_DEVICE brings it back. */
	send_u64(VU_RESET_DEVICE, 0, 0);
	CHECK(!vu->dev->needs_reset && !vu->rings[0].running);
	stop();

	/* Ring addresses the memory table does not cover: broken, not a crash. */
	start();
	setup_ring(&g, dup(kick), dup(call), dup(err), 0x1000);
	CHECK(vu->dev->needs_reset && !vu->rings[0].running);
	CHECK(counter_fired(err));
	stop();

	munmap(g.ram, RAM_SIZE);
	close(g.memfd);
	close(kick);
	close(call);
	close(err);
}

int main(void)
{
	RUN(test_features);
	RUN(test_unknown_request);
	RUN(test_truncated);
	RUN(test_oversized_and_bad_version);
	RUN(test_bad_arguments);
	RUN(test_rng_end_to_end);
	return check_done();
}
