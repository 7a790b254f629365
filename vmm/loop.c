#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct handler {
	loop_fn fn;
	void *opaque;
	uint64_t gen;           /* bumps on every add, so stale events are dropped */
};

struct loop {
	int epfd;
	bool stop;
	int nhandlers;
	struct handler *handlers;   /* indexed by fd */
	uint64_t gen;
};

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->handlers);
	free(loop);
}

static int grow(struct loop *loop, int fd)
{
	struct handler *h;
	int n = loop->nhandlers ? loop->nhandlers : 64;

	while (n <= fd)
		n *= 2;
	if (n == loop->nhandlers)
		return 0;
	h = realloc(loop->handlers, (size_t)n * sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (int i = loop->nhandlers; i < n; i++)
		h[i] = (struct handler){ 0 };
	loop->handlers = h;
	loop->nhandlers = n;
	return 0;
}

int loop_add(struct loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	int ret;

	if (fd < 0 || !fn)
		return -EINVAL;
	ret = grow(loop, fd);
	if (ret < 0)
		return ret;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (++loop->gen << 32);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->handlers[fd] = (struct handler){ fn, opaque, loop->gen };
	return 0;
}

int loop_mod(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || fd >= loop->nhandlers || !loop->handlers[fd].fn)
		return -ENOENT;
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((loop->handlers[fd].gen & 0xffffffffu) << 32);
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nhandlers || !loop->handlers[fd].fn)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->handlers[fd] = (struct handler){ 0 };
}

int loop_poll(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(loop->epfd, evs, 32, timeout_ms), ran = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !loop->stop; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint64_t gen = evs[i].data.u64 >> 32;
		struct handler *h;

		if (fd >= loop->nhandlers)
			continue;
		h = &loop->handlers[fd];
		/* Removed, or removed and re-added, by an earlier callback. */
		if (!h->fn || (h->gen & 0xffffffffu) != gen)
			continue;
		h->fn(loop, fd, evs[i].events, h->opaque);
		ran++;
	}
	return ran;
}

int loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int ret = loop_poll(loop, -1);

		if (ret < 0)
			return ret;
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}
