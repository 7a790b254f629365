#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"

#define DNS_MSG_MAX 4096        /* EDNS's usual UDP payload */
#define DNS_HEADER 12
#define READS_PER_WAKE 16

enum { KIND_CLIENT, KIND_QUERY, KIND_WAKE };

struct dns_query;

/* A sandbox's gateway socket. */
struct dns_client {
	int kind;
	int fd;
	int64_t handle;
	bool allowed, dead;
	unsigned int pending;
	struct dns_client *next;        /* the relay's list, or its graveyard */
};

/* A query in flight to an upstream, on a socket of its own. */
struct dns_query {
	int kind;
	int fd;
	struct dns_client *client;
	struct sockaddr_in from;        /* the guest's address and port */
	uint8_t id[2];
	int64_t deadline_ms;
	struct dns_query *next;
};

struct net_dns {
	struct sockaddr_in up[NET_DNS_MAX_UPSTREAMS];
	unsigned int nup, next_up;
	int ep, wake;
	int wake_kind;
	bool stop;
	pthread_t thread;
	pthread_mutex_t lock;
	struct dns_client *clients, *graveyard;
	struct dns_query *queries, *query_graveyard;
	int64_t next_handle;
	uint8_t buf[DNS_MSG_MAX];
};

unsigned int net_dns_resolvers(const char *resolv_conf, struct sockaddr_in *addrs, unsigned int max)
{
	FILE *f = fopen(resolv_conf, "re");
	char line[256], ip[64];
	unsigned int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };

		if (sscanf(line, " nameserver %63s", ip) == 1 && inet_pton(AF_INET, ip, &sin.sin_addr) == 1)
			addrs[n++] = sin;
	}
	fclose(f);
	return n;
}

/* The end of a one-question message's question section, or 0 if it is not well formed. */
static size_t question_end(const uint8_t *m, size_t n)
{
	size_t at = DNS_HEADER;

	if (n < DNS_HEADER || m[4] != 0 || m[5] != 1)
		return 0;
	for (unsigned int labels = 0; labels < 128; labels++) {
		if (at >= n || m[at] > 63)
			return 0;       /* past the end, or a pointer: not in a query */
		if (m[at] == 0)
			return at + 5 <= n ? at + 5 : 0;
		at += 1u + m[at];
	}
	return 0;
}

/* Answers the query in m (n bytes) with rcode (REFUSED 5, SERVFAIL 2), its question kept. */
static void answer_error(int fd, const struct sockaddr_in *to, uint8_t *m, size_t n, uint8_t rcode)
{
	size_t end = question_end(m, n);

	m[2] = (uint8_t)(0x80 | (m[2] & 0x79));        /* QR, opcode and RD kept */
	m[3] = (uint8_t)(0x80 | rcode);                 /* RA */
	if (!end) {
		m[4] = m[5] = 0;
		end = DNS_HEADER;
	}
	memset(m + 6, 0, 6);                            /* no answers, authority, additional */
	sendto(fd, m, end, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

static void query_free(struct net_dns *d, struct dns_query *q)
{
	epoll_ctl(d->ep, EPOLL_CTL_DEL, q->fd, NULL);
	close(q->fd);
	if (q->client)
		q->client->pending--;
	free(q);
}

/* Unlinks and frees every query whose deadline has passed. */
static void queries_expire(struct net_dns *d, int64_t now)
{
	for (struct dns_query **p = &d->queries; *p;) {
		struct dns_query *q = *p;

		if (q->deadline_ms <= now) {
			*p = q->next;
			query_free(d, q);
		} else
			p = &q->next;
	}
}

/*
 * Moves c's queries to the graveyard, their sockets closed: called from
 * outside the relay's thread, which may hold an event naming one in the
 * batch it is about to handle, so the relay frees them after that batch.
 */
static void queries_bury(struct net_dns *d, struct dns_client *c)
{
	for (struct dns_query **p = &d->queries; *p;) {
		struct dns_query *q = *p;

		if (q->client != c) {
			p = &q->next;
			continue;
		}
		*p = q->next;
		epoll_ctl(d->ep, EPOLL_CTL_DEL, q->fd, NULL);
		close(q->fd);
		q->fd = -1;
		q->client = NULL;
		q->next = d->query_graveyard;
		d->query_graveyard = q;
	}
}

/* A query from a guest: passed on to the next upstream, or answered with an error. */
static void on_query(struct net_dns *d, struct dns_client *c, size_t n, const struct sockaddr_in *from)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct dns_query *q;

	if (n < DNS_HEADER || (d->buf[2] & 0x80))
		return;                         /* not a query */
	if (!c->allowed) {
		answer_error(c->fd, from, d->buf, n, 5);
		return;
	}
	q = c->pending < NET_DNS_PENDING_MAX && d->nup ? calloc(1, sizeof(*q)) : NULL;
	if (!q) {
		answer_error(c->fd, from, d->buf, n, 2);
		return;
	}
	q->kind = KIND_QUERY;
	q->client = c;
	q->from = *from;
	memcpy(q->id, d->buf, 2);
	q->deadline_ms = clk_mono_ms() + NET_DNS_TIMEOUT_MS;
	q->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ev.data.ptr = q;
	if (q->fd < 0 ||
	    connect(q->fd, (struct sockaddr *)&d->up[d->next_up++ % d->nup], sizeof(d->up[0])) < 0 ||
	    send(q->fd, d->buf, n, 0) != (ssize_t)n || epoll_ctl(d->ep, EPOLL_CTL_ADD, q->fd, &ev) < 0) {
		if (q->fd >= 0)
			close(q->fd);
		free(q);
		answer_error(c->fd, from, d->buf, n, 2);
		return;
	}
	c->pending++;
	q->next = d->queries;
	d->queries = q;
}

static void on_client(struct net_dns *d, struct dns_client *c)
{
	for (int i = 0; i < READS_PER_WAKE && !c->dead; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(c->fd, d->buf, sizeof(d->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);

		if (n < 0)
			return;
		if (flen == sizeof(from) && from.sin_family == AF_INET)
			on_query(d, c, (size_t)n, &from);
	}
}

/* An upstream's answer: back to the guest if it answers the query, then the query goes. */
static void on_answer(struct net_dns *d, struct dns_query *q)
{
	ssize_t n = recv(q->fd, d->buf, sizeof(d->buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n >= DNS_HEADER && memcmp(d->buf, q->id, 2) == 0 && q->client && !q->client->dead)
		sendto(q->client->fd, d->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&q->from,
		       sizeof(q->from));
	for (struct dns_query **p = &d->queries; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			query_free(d, q);
			break;
		}
}

static void *relay(void *arg)
{
	struct net_dns *d = arg;
	struct epoll_event ev[32];

	for (;;) {
		int n = epoll_wait(d->ep, ev, 32, 1000);
		int64_t now = clk_mono_ms();

		pthread_mutex_lock(&d->lock);
		if (d->stop) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		/*
		 * Every pointer of the batch is alive here: what was removed since
		 * epoll_wait waits in a graveyard until the batch is done.
		 */
		for (int i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;

			if (kind == KIND_CLIENT && !((struct dns_client *)ev[i].data.ptr)->dead)
				on_client(d, ev[i].data.ptr);
		}
		/* Answers after queries: one a query's answer frees is named by no later event. */
		for (int i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;

			if (kind != KIND_QUERY)
				continue;
			for (struct dns_query *q = d->queries; q; q = q->next)
				if (q == ev[i].data.ptr) {
					on_answer(d, q);
					break;
				}
		}
		queries_expire(d, now);
		while (d->graveyard) {
			struct dns_client *c = d->graveyard;

			d->graveyard = c->next;
			free(c);
		}
		while (d->query_graveyard) {
			struct dns_query *q = d->query_graveyard;

			d->query_graveyard = q->next;
			free(q);
		}
		pthread_mutex_unlock(&d->lock);
	}
}

struct net_dns *net_dns_new(const struct sockaddr_in *upstreams, unsigned int n,
			    char *err, size_t errlen)
{
	struct net_dns *d = calloc(1, sizeof(*d));
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!d) {
		errf(err, errlen, "DNS relay: out of memory");
		return NULL;
	}
	d->nup = n > NET_DNS_MAX_UPSTREAMS ? NET_DNS_MAX_UPSTREAMS : n;
	memcpy(d->up, upstreams, d->nup * sizeof(d->up[0]));
	d->wake_kind = KIND_WAKE;
	d->next_handle = 1;
	pthread_mutex_init(&d->lock, NULL);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = &d->wake_kind;
	if (d->ep < 0 || d->wake < 0 || epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake, &ev) < 0) {
		errf(err, errlen, "DNS relay: %s", strerror(errno));
		goto fail;
	}
	ret = pthread_create(&d->thread, NULL, relay, d);
	if (ret) {
		errf(err, errlen, "DNS relay: thread: %s", strerror(ret));
		goto fail;
	}
	return d;
fail:
	if (d->ep >= 0)
		close(d->ep);
	if (d->wake >= 0)
		close(d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

void net_dns_free(struct net_dns *d)
{
	uint64_t one = 1;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_mutex_unlock(&d->lock);
	(void)!write(d->wake, &one, sizeof(one));
	pthread_join(d->thread, NULL);
	while (d->queries) {
		struct dns_query *q = d->queries;

		d->queries = q->next;
		query_free(d, q);
	}
	for (struct dns_client *c = d->clients, *next; c; c = next) {
		next = c->next;
		close(c->fd);
		free(c);
	}
	for (struct dns_client *c = d->graveyard, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	for (struct dns_query *q = d->query_graveyard, *next; q; q = next) {
		next = q->next;
		free(q);
	}
	close(d->ep);
	close(d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int64_t net_dns_add(struct net_dns *d, int fd, bool allowed)
{
	struct dns_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	int64_t h;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->kind = KIND_CLIENT;
	c->fd = fd;
	c->allowed = allowed;
	ev.data.ptr = c;
	pthread_mutex_lock(&d->lock);
	h = c->handle = d->next_handle++;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		h = -errno;
		pthread_mutex_unlock(&d->lock);
		close(fd);
		free(c);
		return h;
	}
	c->next = d->clients;
	d->clients = c;
	pthread_mutex_unlock(&d->lock);
	return h;
}

void net_dns_set_allowed(struct net_dns *d, int64_t handle, bool allowed)
{
	pthread_mutex_lock(&d->lock);
	for (struct dns_client *c = d->clients; c; c = c->next)
		if (c->handle == handle)
			c->allowed = allowed;
	pthread_mutex_unlock(&d->lock);
}

void net_dns_remove(struct net_dns *d, int64_t handle)
{
	pthread_mutex_lock(&d->lock);
	for (struct dns_client **p = &d->clients; *p; p = &(*p)->next) {
		struct dns_client *c = *p;

		if (c->handle != handle)
			continue;
		*p = c->next;
		c->dead = true;
		epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		queries_bury(d, c);
		/* Freed by the relay once no batch it holds can name it. */
		c->next = d->graveyard;
		d->graveyard = c;
		break;
	}
	pthread_mutex_unlock(&d->lock);
}
