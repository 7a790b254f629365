#include "loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct handler {
	loop_fn fn;
	void *opaque;
	uint64_t gen;           /* bumps on every add, so stale events are dropped */
};

struct loop {
	int epfd;
	int stop_fd;            /* an eventfd: loop_stop() from another thread */
	atomic_bool stop;
	int nhandlers;
	struct handler *handlers;   /* indexed by fd */
	uint64_t gen;
};

struct loop_timer {
	struct loop *loop;
	int fd;
	loop_timer_fn fn;
	void *opaque;
};

struct loop_wakeup {
	struct loop *loop;
	int fd;
	loop_wakeup_fn fn;
	void *opaque;
};

/*
 * Reads an eventfd's or timerfd's counter so it stops being readable;
 * false if there was nothing to read (a timer disarmed or re-armed since
 * epoll said it was due).
 */
static bool drain_counter(int fd)
{
	uint64_t n;

	return read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n);
}

static void on_stop(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	(void)loop;
	(void)events;
	(void)opaque;
	drain_counter(fd);
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->stop_fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		goto out_free;
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->stop_fd < 0 || loop_add(loop, loop->stop_fd, EPOLLIN, on_stop, NULL) < 0)
		goto out_free;
	return loop;

out_free:
	loop_free(loop);
	return NULL;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	if (loop->epfd >= 0)
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
	while (!loop->stop) {
		int ret = loop_poll(loop, -1);

		if (ret < 0)
			return ret;
	}
	loop->stop = false;
	return 0;
}

void loop_stop(struct loop *loop)
{
	uint64_t one = 1;

	loop->stop = true;
	(void)!write(loop->stop_fd, &one, sizeof(one));
}

/* --- timers ------------------------------------------------------------------ */

static void on_timer(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct loop_timer *t = opaque;

	(void)events;
	if (drain_counter(fd))
		t->fn(loop, t, t->opaque);
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn fn, void *opaque)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct loop_timer){ loop, -1, fn, opaque };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0 || loop_add(loop, t->fd, EPOLLIN, on_timer, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static struct timespec ms_ts(unsigned int ms)
{
	return (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
}

int loop_timer_arm(struct loop_timer *t, unsigned int ms, unsigned int interval_ms)
{
	struct itimerspec its = { .it_interval = ms_ts(interval_ms), .it_value = ms_ts(ms) };

	if (ms == 0)
		its.it_value.tv_nsec = 1;   /* an all-zero value would disarm it */
	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void loop_timer_disarm(struct loop_timer *t)
{
	struct itimerspec none = { 0 };

	timerfd_settime(t->fd, 0, &none, NULL);
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	loop_del(t->loop, t->fd);
	close(t->fd);
	free(t);
}

/* --- wakeups ------------------------------------------------------------------ */

static void on_wakeup(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct loop_wakeup *w = opaque;

	(void)events;
	drain_counter(fd);
	w->fn(loop, w->opaque);
}

struct loop_wakeup *loop_wakeup_new(struct loop *loop, loop_wakeup_fn fn, void *opaque)
{
	struct loop_wakeup *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	*w = (struct loop_wakeup){ loop, -1, fn, opaque };
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->fd < 0 || loop_add(loop, w->fd, EPOLLIN, on_wakeup, w) < 0) {
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		return NULL;
	}
	return w;
}

void loop_wake(struct loop_wakeup *w)
{
	uint64_t one = 1;

	/* Only an eventfd at its maximum count refuses a write, and it is readable then. */
	(void)!write(w->fd, &one, sizeof(one));
}

void loop_wakeup_free(struct loop_wakeup *w)
{
	if (!w)
		return;
	loop_del(w->loop, w->fd);
	close(w->fd);
	free(w);
}
