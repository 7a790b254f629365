#include "virtio_vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "usock.h"

/* virtio 1.2 §5.10.6 */
#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2
#define TYPE_STREAM 1
enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE,
       OP_CREDIT_REQUEST };
#define SHUT_F_RCV 1u
#define SHUT_F_SEND 2u

struct pkt_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define HDR_SIZE ((uint32_t)sizeof(struct pkt_hdr))

/* What we hold per connection for a host program that reads slowly. */
#define BUF_ALLOC (256u * 1024)
#define MAX_PAYLOAD (64u * 1024)
#define MAX_CONNS 1024
#define CTRL_QUEUE 1024
#define LOCAL_PORT_BASE (1u << 30)
#define HANDSHAKE_MAX 32        /* "CONNECT 4294967295\n" fits */
#define HANDSHAKE_MS 10000      /* for a host program to send its CONNECT line */

enum conn_state {
	C_HANDSHAKE,    /* host program: waiting for its CONNECT line */
	C_CONNECTING,   /* REQUEST sent to the guest, waiting for RESPONSE */
	C_OPEN,
};

struct conn {
	int fd;
	enum conn_state state;
	uint32_t local_port;        /* the host's port */
	uint32_t peer_port;         /* the guest's port */
	/* host → guest: the guest's credit (§5.10.6.3) */
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_cnt;
	uint32_t tx_cnt;
	/* guest → host: what we took and what reached the host program */
	uint32_t rx_cnt;
	uint32_t fwd_cnt;
	uint32_t fwd_sent;          /* fwd_cnt last told to the guest */
	bool readable;              /* host fd has bytes (or EOF) for the guest */
	bool host_eof;
	bool peer_shut_send;        /* the guest will send no more */
	bool peer_shut_rcv;         /* the guest will read no more */
	bool hup;                   /* the host program closed; the fd is no longer watched */
	bool credit_queued;         /* a CREDIT_UPDATE waits in the control queue */
	uint32_t events;
	char line[HANDSHAKE_MAX + 1];
	uint32_t line_len;
	int64_t since_ms;           /* when it connected (monotonic) */
	uint8_t *buf;               /* ring of BUF_ALLOC bytes, made when first needed */
	uint32_t buf_head, buf_len;
};

struct ctrl {
	uint32_t local_port, peer_port;
	uint16_t op;
	uint32_t flags;
};

struct vsock {
	struct virtio_dev *dev;
	struct loop *loop;
	char *path;
	int listen_fd;
	uint64_t cid;
	struct conn *conns[MAX_CONNS];
	unsigned int nconns;
	struct loop_timer *sweep;   /* ends handshakes that never finish */
	bool sweeping;
	unsigned int cursor;        /* round robin over connections with data */
	struct ctrl ctrlq[CTRL_QUEUE];
	unsigned int cq_head, cq_len;
	uint32_t next_port;
	struct vsock_stats stats;
	struct vq_elem elem;
};

static void rx_flush(struct vsock *vs);

/* --- connections -------------------------------------------------------------- */

static struct conn *conn_find(struct vsock *vs, uint32_t local, uint32_t peer)
{
	for (unsigned int i = 0; i < vs->nconns; i++)
		if (vs->conns[i]->local_port == local && vs->conns[i]->peer_port == peer &&
		    vs->conns[i]->state != C_HANDSHAKE)
			return vs->conns[i];
	return NULL;
}

static bool local_port_used(struct vsock *vs, uint32_t port)
{
	for (unsigned int i = 0; i < vs->nconns; i++)
		if (vs->conns[i]->local_port == port && vs->conns[i]->state != C_HANDSHAKE)
			return true;
	return false;
}

static uint32_t alloc_local_port(struct vsock *vs)
{
	do {
		vs->next_port++;
		if (vs->next_port < LOCAL_PORT_BASE)
			vs->next_port = LOCAL_PORT_BASE;
	} while (local_port_used(vs, vs->next_port));
	return vs->next_port;
}

/* Queues a control packet for the guest; false if the queue is full. */
static bool ctrl_queue(struct vsock *vs, uint32_t local, uint32_t peer, uint16_t op,
		       uint32_t flags)
{
	if (vs->cq_len == CTRL_QUEUE) {
		/* The guest stopped taking packets: its own connections suffer. */
		return false;
	}
	vs->ctrlq[(vs->cq_head + vs->cq_len++) % CTRL_QUEUE] =
		(struct ctrl){ local, peer, op, flags };
	return true;
}

static void conn_watch(struct vsock *vs, struct conn *c)
{
	uint32_t ev = 0;

	if (c->hup)
		return;
	if (c->state == C_HANDSHAKE ||
	    (c->state == C_OPEN && !c->readable && !c->host_eof && !c->peer_shut_rcv))
		ev |= EPOLLIN;
	if (c->buf_len)
		ev |= EPOLLOUT;
	if (ev != c->events && loop_mod(vs->loop, c->fd, ev) == 0)
		c->events = ev;
}

static void conn_close(struct vsock *vs, struct conn *c)
{
	for (unsigned int i = 0; i < vs->nconns; i++) {
		if (vs->conns[i] == c) {
			vs->conns[i] = vs->conns[--vs->nconns];
			break;
		}
	}
	loop_del(vs->loop, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
	vs->stats.open = vs->nconns;
}

/* Ends a connection both ways: the guest gets a RST, the host program EOF. */
static void conn_reset(struct vsock *vs, struct conn *c)
{
	if (c->state != C_HANDSHAKE)
		ctrl_queue(vs, c->local_port, c->peer_port, OP_RST, 0);
	vs->stats.resets++;
	conn_close(vs, c);
}

static void on_conn(struct loop *loop, int fd, uint32_t events, void *opaque);

static struct conn *conn_new(struct vsock *vs, int fd, enum conn_state state)
{
	struct conn *c;

	if (vs->nconns == MAX_CONNS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->state = state;
	c->since_ms = clk_mono_ms();
	c->events = state == C_HANDSHAKE ? EPOLLIN : 0;
	if (loop_add(vs->loop, fd, c->events, on_conn, vs) < 0) {
		free(c);
		return NULL;
	}
	if (state == C_HANDSHAKE && !vs->sweeping)
		vs->sweeping = loop_timer_arm(vs->sweep, 1000, 1000) == 0;
	vs->conns[vs->nconns++] = c;
	vs->stats.connections++;
	vs->stats.open = vs->nconns;
	return c;
}

static struct conn *conn_by_fd(struct vsock *vs, int fd)
{
	for (unsigned int i = 0; i < vs->nconns; i++)
		if (vs->conns[i]->fd == fd)
			return vs->conns[i];
	return NULL;
}

/* --- guest → host bytes --------------------------------------------------------- */

/* Writes what the ring holds to the host program; counts it as forwarded. */
static int buf_flush(struct conn *c)
{
	while (c->buf_len) {
		uint32_t run = BUF_ALLOC - c->buf_head;
		ssize_t n;

		if (run > c->buf_len)
			run = c->buf_len;
		n = send(c->fd, c->buf + c->buf_head, run, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return -errno;
		c->buf_head = (c->buf_head + (uint32_t)n) % BUF_ALLOC;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	return 0;
}

/* Tells the guest about freed room once half its window has drained. */
static void maybe_credit_update(struct vsock *vs, struct conn *c)
{
	if (!c->credit_queued && c->fwd_cnt - c->fwd_sent >= BUF_ALLOC / 2)
		c->credit_queued = ctrl_queue(vs, c->local_port, c->peer_port, OP_CREDIT_UPDATE, 0);
}

static void buf_append(struct conn *c, const struct iovec *iov, unsigned int n, uint64_t skip)
{
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		while (len) {
			uint32_t tail = (c->buf_head + c->buf_len) % BUF_ALLOC;
			uint32_t run = BUF_ALLOC - tail;

			if (run > len)
				run = (uint32_t)len;
			memcpy(c->buf + tail, p, run);
			c->buf_len += run;
			p += run;
			len -= run;
		}
	}
}

/*
 * Delivers an RW payload: straight to the host program while nothing waits
 * before it, the rest into the ring. Returns false if the connection must go.
 */
static bool deliver(struct vsock *vs, struct conn *c, const struct iovec *iov, unsigned int n,
		    uint32_t len)
{
	ssize_t done = 0;

	/* The guest may not send more than the window it was given. */
	if (c->rx_cnt - c->fwd_cnt + len > BUF_ALLOC)
		return false;
	c->rx_cnt += len;
	vs->stats.bytes_from_guest += len;
	if (c->buf_len == 0) {
		struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };

		done = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (done < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (done < 0)
			done = 0;
		c->fwd_cnt += (uint32_t)done;
	}
	if ((uint32_t)done < len) {
		if (!c->buf && !(c->buf = malloc(BUF_ALLOC)))
			return false;
		buf_append(c, iov, n, (uint64_t)done);
	}
	maybe_credit_update(vs, c);
	conn_watch(vs, c);
	return true;
}

/*
 * After the guest's SHUTDOWN: half-close toward the host program once the
 * ring is empty, and when the guest shut both ways, answer with RST and go
 * (that completes the guest's close, §5.10.6.5). Returns true if c is gone.
 */
static bool conn_shut_done(struct vsock *vs, struct conn *c)
{
	if (c->buf_len)
		return false;
	if (c->peer_shut_send)
		shutdown(c->fd, SHUT_WR);
	if (c->peer_shut_send && c->peer_shut_rcv) {
		ctrl_queue(vs, c->local_port, c->peer_port, OP_RST, 0);
		conn_close(vs, c);
		return true;
	}
	return false;
}

/* --- host side events ------------------------------------------------------------ */

/*
 * Reads "CONNECT <port>\n" a byte at a time, so no byte past it is taken and
 * an unfinished line waits for more without the loop spinning on it.
 */
static void handshake(struct vsock *vs, struct conn *c)
{
	char *end;
	unsigned long port;

	for (;;) {
		ssize_t n = recv(c->fd, c->line + c->line_len, 1, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(vs, c);      /* gone before finishing the line */
			return;
		}
		if (c->line[c->line_len] == '\n')
			break;
		if (++c->line_len == HANDSHAKE_MAX) {
			(void)!send(c->fd, "ERR bad request\n", 16, MSG_NOSIGNAL | MSG_DONTWAIT);
			conn_close(vs, c);
			return;
		}
	}
	c->line[c->line_len] = '\0';
	errno = 0;
	if (strncmp(c->line, "CONNECT ", 8) != 0 || c->line[8] < '0' || c->line[8] > '9' ||
	    (port = strtoul(c->line + 8, &end, 10), errno || *end || port > UINT32_MAX)) {
		(void)!send(c->fd, "ERR bad request\n", 16, MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(vs, c);
		return;
	}
	c->state = C_CONNECTING;
	c->peer_port = (uint32_t)port;
	c->local_port = alloc_local_port(vs);
	ctrl_queue(vs, c->local_port, c->peer_port, OP_REQUEST, 0);
	conn_watch(vs, c);
	rx_flush(vs);
}

static void on_conn(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vsock *vs = opaque;
	struct conn *c = conn_by_fd(vs, fd);

	(void)loop;
	if (!c)
		return;
	switch (c->state) {
	case C_HANDSHAKE:
		handshake(vs, c);
		return;
	case C_CONNECTING:
		/* The host program left before the guest answered. */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_reset(vs, c);
		rx_flush(vs);
		return;
	case C_OPEN:
		break;
	}
	if (events & EPOLLOUT) {
		if (buf_flush(c) < 0) {
			conn_reset(vs, c);
			rx_flush(vs);
			return;
		}
		maybe_credit_update(vs, c);
		if (conn_shut_done(vs, c)) {
			rx_flush(vs);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLHUP | EPOLLERR)) {
		/*
		 * Closed both ways: what is left to read still goes to the guest (as
		 * credit allows, without epoll), but epoll reports a hangup on every
		 * wait, so stop watching. Bytes for it can no longer be delivered.
		 */
		if (c->buf_len) {
			conn_reset(vs, c);
			rx_flush(vs);
			return;
		}
		loop_del(vs->loop, c->fd);
		c->hup = true;
	}
	conn_watch(vs, c);
	rx_flush(vs);
}

/*
 * Once a second while host programs are in their handshake: one that has
 * not sent its CONNECT line within HANDSHAKE_MS is told so and closed, so
 * that idle connections cannot hold the device's slots.
 */
static void on_sweep(struct loop *loop, struct loop_timer *t, void *opaque)
{
	struct vsock *vs = opaque;
	int64_t now = clk_mono_ms();
	bool waiting = false;

	(void)loop;
	for (unsigned int i = 0; i < vs->nconns;) {
		struct conn *c = vs->conns[i];

		if (c->state != C_HANDSHAKE) {
			i++;
			continue;
		}
		if (now - c->since_ms < HANDSHAKE_MS) {
			waiting = true;
			i++;
			continue;
		}
		(void)!send(c->fd, "ERR timed out\n", 14, MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(vs, c);      /* the last one moves into slot i */
	}
	if (!waiting) {
		loop_timer_disarm(t);
		vs->sweeping = false;
	}
}

static void on_listen(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vsock *vs = opaque;
	int cfd;

	(void)loop;
	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!conn_new(vs, cfd, C_HANDSHAKE)) {
			(void)!send(cfd, "ERR too many connections\n", 25, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
		}
	}
}

/* --- guest → device (tx queue) ----------------------------------------------------- */

/* Answers a REQUEST from the guest by connecting to PATH_<port>. */
static void guest_connect(struct vsock *vs, const struct pkt_hdr *h)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *c;
	int fd;

	if (snprintf(path, sizeof(path), "%s_%u", vs->path, h->dst_port) >= (int)sizeof(path))
		goto out_refuse;
	fd = usock_connect(path, SOCK_NONBLOCK);
	if (fd < 0)
		goto out_refuse;
	if (!(c = conn_new(vs, fd, C_OPEN))) {
		close(fd);
		goto out_refuse;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	conn_watch(vs, c);
	ctrl_queue(vs, c->local_port, c->peer_port, OP_RESPONSE, 0);
	return;

out_refuse:
	ctrl_queue(vs, h->dst_port, h->src_port, OP_RST, 0);
}

static void tx_packet(struct vsock *vs, const struct pkt_hdr *h, const struct iovec *payload,
		      unsigned int npayload)
{
	struct conn *c;

	if (h->dst_cid != VSOCK_HOST_CID || h->src_cid != vs->cid || h->type != TYPE_STREAM) {
		if (h->op != OP_RST)
			ctrl_queue(vs, h->dst_port, h->src_port, OP_RST, 0);
		return;
	}
	c = conn_find(vs, h->dst_port, h->src_port);
	if (h->op == OP_REQUEST) {
		if (c)
			conn_reset(vs, c);
		else
			guest_connect(vs, h);
		return;
	}
	if (!c) {
		if (h->op != OP_RST)
			ctrl_queue(vs, h->dst_port, h->src_port, OP_RST, 0);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state != C_CONNECTING) {
			conn_reset(vs, c);
			return;
		}
		{
			char ok[32];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);

			c->state = C_OPEN;
			if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
				conn_reset(vs, c);
				return;
			}
		}
		conn_watch(vs, c);
		break;
	case OP_RST:
		conn_close(vs, c);
		break;
	case OP_SHUTDOWN:
		c->peer_shut_send |= !!(h->flags & SHUT_F_SEND);
		c->peer_shut_rcv |= !!(h->flags & SHUT_F_RCV);
		if (!conn_shut_done(vs, c))
			conn_watch(vs, c);
		break;
	case OP_RW:
		if (c->state != C_OPEN || c->peer_shut_send || !deliver(vs, c, payload, npayload, h->len))
			conn_reset(vs, c);
		break;
	case OP_CREDIT_UPDATE:
		break;        /* the credit fields were taken above */
	case OP_CREDIT_REQUEST:
		ctrl_queue(vs, c->local_port, c->peer_port, OP_CREDIT_UPDATE, 0);
		break;
	default:
		conn_reset(vs, c);
		break;
	}
}

static void tx_process(struct vsock *vs)
{
	struct virtio_dev *dev = vs->dev;
	struct virtqueue *vq = &dev->vqs[Q_TX];
	struct vq_elem *e = &vs->elem;
	bool pushed = false;
	int ret;

	while ((ret = vq_pop(vq, e)) == 1) {
		struct pkt_hdr h;
		struct iovec payload[VQ_MAX_SIZE];
		uint64_t got;
		unsigned int np;

		if (e->out_len < HDR_SIZE) {
			vq->why = "tx packet shorter than its header";
			vdev_broken(dev, Q_TX);
			return;
		}
		{
			/* The header may be split over descriptors: gather it. */
			struct iovec hv[HDR_SIZE];
			uint8_t raw[HDR_SIZE], *p = raw;
			unsigned int nh = vq_iov_slice(e->iov, e->n_out, 0, HDR_SIZE, hv, HDR_SIZE, &got);

			for (unsigned int i = 0; i < nh; i++) {
				memcpy(p, hv[i].iov_base, hv[i].iov_len);
				p += hv[i].iov_len;
			}
			memcpy(&h, raw, sizeof(h));
		}
		if (h.len > MAX_PAYLOAD || h.len > e->out_len - HDR_SIZE) {
			vq->why = "tx packet length beyond its buffer";
			vdev_broken(dev, Q_TX);
			return;
		}
		np = vq_iov_slice(e->iov, e->n_out, HDR_SIZE, h.len, payload, VQ_MAX_SIZE, &got);
		if (h.op != OP_RW)
			np = 0;
		tx_packet(vs, &h, payload, np);
		vq_push(vq, e->head, 0);
		pushed = true;
	}
	if (pushed)
		vdev_notify(dev, Q_TX);
	if (ret < 0)
		vdev_broken(dev, Q_TX);
}

/* --- device → guest (rx queue) ------------------------------------------------------ */

static void hdr_fill(struct vsock *vs, struct pkt_hdr *h, struct conn *c, uint32_t local,
		     uint32_t peer, uint16_t op, uint32_t flags, uint32_t len)
{
	*h = (struct pkt_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = vs->cid, .src_port = local,
		.dst_port = peer, .len = len, .type = TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = BUF_ALLOC,
	};
	if (c) {
		h->fwd_cnt = c->fwd_cnt;
		c->fwd_sent = c->fwd_cnt;
		if (op == OP_CREDIT_UPDATE)
			c->credit_queued = false;
	}
}

/* Bytes the guest has room for on c (§5.10.6.3); 0 if its numbers make no sense. */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* The next connection, round robin, with bytes for the guest and room for them. */
static struct conn *next_sender(struct vsock *vs)
{
	for (unsigned int k = 0; k < vs->nconns; k++) {
		struct conn *c = vs->conns[(vs->cursor + k) % vs->nconns];

		if (c->state == C_OPEN && c->readable && !c->peer_shut_rcv &&
		    (c->host_eof ? false : peer_credit(c) > 0)) {
			vs->cursor = (vs->cursor + k + 1) % vs->nconns;
			return c;
		}
	}
	return NULL;
}

/* Fills one rx buffer with data from c; false if there was none after all. */
static bool rx_data(struct vsock *vs, struct conn *c, struct vq_elem *e, uint32_t *used)
{
	struct iovec iov[VQ_MAX_SIZE];
	struct pkt_hdr h;
	uint64_t room = e->in_len - HDR_SIZE, got;
	uint32_t credit = peer_credit(c);
	unsigned int n;
	ssize_t r;

	if (room > credit)
		room = credit;
	if (room > MAX_PAYLOAD)
		room = MAX_PAYLOAD;
	if (room == 0) {
		/* A buffer with no room past the header: tell the credit instead. */
		hdr_fill(vs, &h, c, c->local_port, c->peer_port, OP_CREDIT_UPDATE, 0, 0);
		vq_elem_write(e, &h, HDR_SIZE);
		*used = HDR_SIZE;
		return true;
	}
	n = vq_iov_slice(e->iov + e->n_out, e->n_in, HDR_SIZE, room, iov, VQ_MAX_SIZE, &got);
	r = readv(c->fd, iov, (int)n);
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		conn_watch(vs, c);
		return false;
	}
	if (r < 0) {
		hdr_fill(vs, &h, NULL, c->local_port, c->peer_port, OP_RST, 0, 0);
		vs->stats.resets++;
		conn_close(vs, c);
	} else if (r == 0) {
		/* The host program is done sending: the guest reads EOF. */
		c->host_eof = true;
		hdr_fill(vs, &h, c, c->local_port, c->peer_port, OP_SHUTDOWN, SHUT_F_SEND, 0);
		conn_watch(vs, c);
	} else {
		hdr_fill(vs, &h, c, c->local_port, c->peer_port, OP_RW, 0, (uint32_t)r);
		c->tx_cnt += (uint32_t)r;
		vs->stats.bytes_to_guest += (uint64_t)r;
	}
	vq_elem_write(e, &h, HDR_SIZE);
	*used = HDR_SIZE + (r > 0 ? (uint32_t)r : 0);
	return true;
}

static void rx_flush(struct vsock *vs)
{
	struct virtio_dev *dev = vs->dev;
	struct virtqueue *vq = &dev->vqs[Q_RX];
	struct vq_elem *e = &vs->elem;
	bool pushed = false;
	int ret = 0;

	if (dev->needs_reset || !vq->ready)
		return;
	for (;;) {
		struct conn *c = NULL;
		struct pkt_hdr h;
		uint32_t used = HDR_SIZE;

		if (vs->cq_len == 0 && !(c = next_sender(vs)))
			break;
		ret = vq_pop(vq, e);
		if (ret != 1)
			break;
		if (e->in_len < HDR_SIZE || e->n_out) {
			vq->why = "rx buffer too small for a header";
			ret = -EIO;
			break;
		}
		if (vs->cq_len) {
			struct ctrl *q = &vs->ctrlq[vs->cq_head];

			hdr_fill(vs, &h, conn_find(vs, q->local_port, q->peer_port), q->local_port,
				 q->peer_port, q->op, q->flags, 0);
			vs->cq_head = (vs->cq_head + 1) % CTRL_QUEUE;
			vs->cq_len--;
			vq_elem_write(e, &h, HDR_SIZE);
		} else if (!rx_data(vs, c, e, &used)) {
			vq_unpop(vq);
			continue;
		}
		vq_push(vq, e->head, used);
		pushed = true;
	}
	if (pushed)
		vdev_notify(dev, Q_RX);
	if (ret < 0)
		vdev_broken(dev, Q_RX);
}

/* --- device ops ------------------------------------------------------------------- */

static void vsock_queue_notify(struct virtio_dev *dev, unsigned int q)
{
	struct vsock *vs = dev->priv;

	if (q == Q_TX)
		tx_process(vs);
	/* New rx buffers, or tx produced answers: either way, fill rx. */
	if (q == Q_TX || q == Q_RX)
		rx_flush(vs);
}

static void vsock_get_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vsock *vs = dev->priv;
	uint8_t cfg[8];

	memcpy(cfg, &vs->cid, sizeof(cfg));    /* le64 guest_cid; x86 is little-endian */
	memcpy(buf, cfg + off, len);
}

static void close_all(struct vsock *vs)
{
	while (vs->nconns)
		conn_close(vs, vs->conns[0]);
	vs->cq_head = vs->cq_len = 0;
}

static void vsock_reset(struct virtio_dev *dev)
{
	close_all(dev->priv);
}

static void vsock_free(struct virtio_dev *dev)
{
	struct vsock *vs = dev->priv;

	if (!vs)
		return;
	close_all(vs);
	loop_timer_free(vs->sweep);
	if (vs->listen_fd >= 0) {
		loop_del(vs->loop, vs->listen_fd);
		close(vs->listen_fd);
		unlink(vs->path);
	}
	free(vs->path);
	free(vs);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = 3,
	.config_size = 8,
	.get_config = vsock_get_config,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.free = vsock_free,
};

static int listen_on(const char *path, char *err, size_t errlen)
{
	int fd;

	/* Room for the longest "_<port>" a guest connection appends. */
	if (strlen(path) + 11 >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errf(err, errlen, "--vsock '%s': path too long for a unix socket", path);
		return -1;
	}
	fd = usock_listen(path, 128, SOCK_NONBLOCK);
	if (fd < 0)
		errf(err, errlen, "--vsock '%s': %s", path, strerror(-fd));
	return fd;
}

struct virtio_dev *vsock_new(struct loop *loop, const char *path, uint64_t guest_cid,
			     char *err, size_t errlen)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));
	struct vsock *vs = calloc(1, sizeof(*vs));

	if (!dev || !vs || !(vs->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	vs->loop = loop;
	vs->cid = guest_cid;
	vs->dev = dev;
	vs->next_port = LOCAL_PORT_BASE;
	vs->sweep = loop_timer_new(loop, on_sweep, vs);
	if (!vs->sweep) {
		errf(err, errlen, "--vsock '%s': no timer: %s", path, strerror(errno));
		goto out_free;
	}
	vs->listen_fd = listen_on(path, err, errlen);
	if (vs->listen_fd < 0)
		goto out_free;
	if (loop_add(loop, vs->listen_fd, EPOLLIN, on_listen, vs) < 0) {
		snprintf(err, errlen, "--vsock '%s': cannot watch the socket", path);
		close(vs->listen_fd);
		unlink(path);
		goto out_free;
	}
	dev->ops = &vsock_ops;
	dev->priv = vs;
	return dev;

out_free:
	if (vs) {
		loop_timer_free(vs->sweep);
		free(vs->path);
	}
	free(vs);
	free(dev);
	return NULL;
}

struct vsock_stats vsock_stats(const struct virtio_dev *dev)
{
	return ((const struct vsock *)dev->priv)->stats;
}
