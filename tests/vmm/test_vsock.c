/*
 * virtio-vsock against a hand-driven "guest": rings in test memory, packets
 * crafted byte by byte. Covers what a hostile or broken driver may send:
 * short and overlong packets, wrong CIDs, unknown connections, a guest that
 * ignores its credit, tiny rx buffers; and the normal guest-initiated path.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "loop.h"
#include "usock.h"
#include "virtio_vsock.h"

#define GPA 0x100000ull
#define MEM (4u << 20)
#define NUM 64
#define RING(q) (GPA + (uint64_t)(q) * 0x3000)
#define BUFS (GPA + 0x10000)
#define BUF_SIZE (64 * 1024 + 64)
#define GUEST_CID 3

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE };

static uint8_t *ram;
static struct guest_mem gm;
static struct loop *loop;
static struct virtio_dev *dev;
static char dir[] = "/tmp/cubicle-vsock-unit-XXXXXX";
static char path[90];
static uint16_t tx_used_seen, rx_used_seen, next_desc[3];
static bool broken;

static void *at(uint64_t gpa) { return ram + (gpa - GPA); }
static struct vring_desc *desc(int q) { return at(RING(q)); }
static uint16_t *avail(int q) { return at(RING(q) + 0x1000); }
static uint16_t *used(int q) { return at(RING(q) + 0x2000); }

static void on_fail(struct virtio_dev *d, unsigned int q, const char *why)
{
	(void)d;
	(void)q;
	(void)why;
	broken = true;
}

static void offer(int q, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = next_desc[q]++ % NUM, idx = avail(q)[1];

	desc(q)[i] = (struct vring_desc){ addr, len, flags, 0 };
	avail(q)[2 + idx % NUM] = i;
	avail(q)[1] = (uint16_t)(idx + 1);
}

static uint64_t rx_buf_addr(unsigned int i) { return BUFS + (uint64_t)(i % 16) * BUF_SIZE; }

static void post_rx(unsigned int n, uint32_t size)
{
	static unsigned int k;

	for (unsigned int i = 0; i < n; i++)
		offer(0, rx_buf_addr(k++), size, VRING_DESC_F_WRITE);
	dev->ops->queue_notify(dev, 0);
}

/* Sends one packet from the guest: header and payload in one descriptor. */
static void send_pkt(const struct hdr *h, const void *payload, uint32_t plen, uint32_t desc_len)
{
	static unsigned int k;
	uint64_t a = BUFS + 16 * (uint64_t)BUF_SIZE + (uint64_t)(k++ % 8) * BUF_SIZE;

	memcpy(at(a), h, sizeof(*h));
	if (plen)
		memcpy(at(a) + sizeof(*h), payload, plen);
	offer(1, a, desc_len, 0);
	dev->ops->queue_notify(dev, 1);
}

static struct hdr pkt(uint32_t src_port, uint32_t dst_port, uint16_t op, uint32_t len)
{
	return (struct hdr){ .src_cid = GUEST_CID, .dst_cid = 2, .src_port = src_port,
			     .dst_port = dst_port, .len = len, .type = 1, .op = op,
			     .buf_alloc = 65536 };
}

/* The next packet the device gave the guest, or false. */
static bool recv_pkt(struct hdr *h, uint8_t **payload)
{
	struct vring_used_elem *u = (struct vring_used_elem *)(used(0) + 2);

	if (used(0)[1] == rx_used_seen)
		return false;
	struct vring_used_elem e = u[rx_used_seen++ % NUM];
	struct vring_desc *d = &desc(0)[e.id];
	memcpy(h, at(d->addr), sizeof(*h));
	if (payload)
		*payload = (uint8_t *)at(d->addr) + sizeof(*h);
	return true;
}

/* Runs the device's loop until it hands the guest a packet. */
static bool pump_until_rx(struct hdr *h, uint8_t **payload)
{
	for (int i = 0; i < 100; i++) {
		if (recv_pkt(h, payload))
			return true;
		loop_poll(loop, 20);
	}
	return false;
}

/* A host program listening for the guest's connections to port: PATH_<port>. */
static int host_listen(uint32_t port)
{
	char at[sizeof(path) + 16];

	snprintf(at, sizeof(at), "%s_%u", path, port);
	return usock_listen(at, 4, 0);
}

static void setup(void)
{
	char err[256];

	memset(ram, 0, MEM);
	rx_used_seen = tx_used_seen = 0;
	memset(next_desc, 0, sizeof(next_desc));
	broken = false;
	dev = vsock_new(loop, path, GUEST_CID, err, sizeof(err));
	CHECK(dev != NULL);
	dev->vqs = calloc(3, sizeof(*dev->vqs));
	dev->fail = on_fail;
	for (int q = 0; q < 3; q++) {
		vq_reset(&dev->vqs[q], 0);
		CHECK(vq_setup(&dev->vqs[q], &gm, NUM, RING(q), RING(q) + 0x1000, RING(q) + 0x2000) == 0);
	}
}

static void teardown(void)
{
	free(dev->vqs);
	vdev_free(dev);
	dev = NULL;
}

static void test_config(void)
{
	uint64_t cid = 0;

	setup();
	CHECK(dev->ops->config_size == 8);
	dev->ops->get_config(dev, 0, &cid, 8);
	CHECK(cid == GUEST_CID);
	teardown();
}

static void test_guest_connect_and_close(void)
{
	struct hdr h;
	uint8_t *p;
	char buf[64];
	int l, c;

	setup();
	l = host_listen(7000);
	CHECK(l >= 0);
	post_rx(8, BUF_SIZE);
	h = pkt(50000, 7000, OP_REQUEST, 0);
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RESPONSE && h.src_port == 7000 &&
	      h.dst_port == 50000 && h.dst_cid == GUEST_CID && h.buf_alloc > 0);
	c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	h = pkt(50000, 7000, OP_RW, 5);
	send_pkt(&h, "hello", 5, sizeof(h) + 5);
	CHECK(read(c, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	/* Host → guest: bytes on the socket become an RW packet. */
	CHECK(write(c, "world!", 6) == 6);
	CHECK(pump_until_rx(&h, &p));
	CHECK(h.op == OP_RW && h.len == 6 && memcmp(p, "world!", 6) == 0);
	/* The guest closes: SHUTDOWN both ways, answered by RST; the host reads EOF. */
	h = pkt(50000, 7000, OP_SHUTDOWN, 0);
	h.flags = 3;
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RST);
	CHECK(read(c, buf, sizeof(buf)) == 0);
	CHECK(vsock_stats(dev).open == 0);
	close(c);
	close(l);
	teardown();
}

/* Handshake from a host program, then the guest ignores its credit. */
static void test_host_connect_and_credit_abuse(void)
{
	struct hdr h;
	char line[64];
	static uint8_t big[60000];
	int fd;
	ssize_t n;

	setup();
	post_rx(8, BUF_SIZE);
	fd = usock_connect(path, 0);
	CHECK(fd >= 0);
	CHECK(write(fd, "CONNECT 1234\n", 13) == 13);
	CHECK(pump_until_rx(&h, NULL) && h.op == OP_REQUEST && h.dst_port == 1234 &&
	      h.src_port >= (1u << 30));
	uint32_t hostport = h.src_port;
	struct hdr r = pkt(1234, hostport, OP_RESPONSE, 0);
	send_pkt(&r, NULL, 0, sizeof(r));
	n = read(fd, line, sizeof(line) - 1);
	CHECK(n > 0);
	line[n > 0 ? n : 0] = '\0';
	char want[32];
	snprintf(want, sizeof(want), "OK %u\n", hostport);
	CHECK(strcmp(line, want) == 0);

	/*
	 * The host program does not read; the guest sends past its window once
	 * the socket buffer is full too.
	 */
	for (int i = 0; i < 64 && vsock_stats(dev).open; i++) {
		struct hdr w = pkt(1234, hostport, OP_RW, sizeof(big));
		send_pkt(&w, big, sizeof(big), sizeof(w) + sizeof(big));
	}
	CHECK(vsock_stats(dev).open == 0 && vsock_stats(dev).resets == 1);
	bool rst = false;
	while (recv_pkt(&h, NULL))
		rst |= h.op == OP_RST;
	CHECK(rst);
	CHECK(!broken);          /* the connection went, the device stays */
	close(fd);
	teardown();
}

static void test_hostile_packets(void)
{
	struct hdr h;

	setup();
	post_rx(8, BUF_SIZE);
	/* Wrong source CID, wrong destination, unknown connection: RST each. */
	h = pkt(1, 2, OP_REQUEST, 0);
	h.src_cid = 77;
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RST);
	h = pkt(1, 2, OP_RW, 0);
	h.dst_cid = 5;
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RST);
	h = pkt(9, 9, OP_RW, 3);
	send_pkt(&h, "abc", 3, sizeof(h) + 3);
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RST && h.src_port == 9 && h.dst_port == 9);
	/* Nothing listens on the host's port 4242. */
	h = pkt(40000, 4242, OP_REQUEST, 0);
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(recv_pkt(&h, NULL) && h.op == OP_RST && h.src_port == 4242);
	/* An RST for nothing is not answered. */
	h = pkt(1, 1, OP_RST, 0);
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(!recv_pkt(&h, NULL));
	CHECK(!broken);

	/* A length beyond the descriptor breaks the device, not the process. */
	h = pkt(1, 2, OP_RW, 1000);
	send_pkt(&h, NULL, 0, sizeof(h) + 10);
	CHECK(broken && dev->needs_reset);
	teardown();

	setup();
	h = pkt(1, 2, OP_RW, 0);
	send_pkt(&h, NULL, 0, 20);             /* shorter than a header */
	CHECK(broken);
	teardown();

	setup();
	post_rx(1, 16);                        /* an rx buffer with no room for a header */
	h = pkt(1, 2, OP_RW, 0);
	send_pkt(&h, NULL, 0, sizeof(h));
	CHECK(broken);
	teardown();
}

int main(void)
{
	ram = aligned_alloc(4096, MEM);
	CHECK(gm_add_host_region(&gm, ram, GPA, MEM, 0) == 0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	loop = loop_new();
	RUN(test_config);
	RUN(test_guest_connect_and_close);
	RUN(test_host_connect_and_credit_abuse);
	RUN(test_hostile_packets);
	CHECK(access(path, F_OK) < 0);         /* vdev_free removed the socket */
	loop_free(loop);
	rmdir(dir);
	free(ram);
	return check_done();
}
