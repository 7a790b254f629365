/*
 * The event loop's timers and cross-thread wakeups (vmm/loop.c), on a real
 * epoll, timerfd and eventfd: timers fire once or repeat, a disarmed or
 * freed one stays quiet, wakes from other threads are folded into calls,
 * and loop_stop() from another thread ends loop_run().
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "clock.h"
#include "loop.h"

struct count {
	int fired;
	int64_t first_ms, last_ms;
	struct loop_timer *free_on;     /* frees this timer from its own callback */
};

static void on_timer(struct loop *loop, struct loop_timer *t, void *opaque)
{
	struct count *c = opaque;

	(void)loop;
	c->last_ms = clk_mono_ms();
	if (!c->fired++)
		c->first_ms = c->last_ms;
	if (c->free_on == t)
		loop_timer_free(t);
}

/* Runs the loop for about ms, however many events come. */
static void run_for(struct loop *loop, int ms)
{
	int64_t end = clk_mono_ms() + ms, left;

	while ((left = end - clk_mono_ms()) > 0)
		loop_poll(loop, (int)left);
}

/* Runs the loop until c fired n times (or a bound far past that, on a loaded machine). */
static void run_until(struct loop *loop, struct count *c, int n)
{
	int64_t end = clk_mono_ms() + 10000, left;

	while (c->fired < n && (left = end - clk_mono_ms()) > 0)
		loop_poll(loop, (int)left);
}

static void test_timer_once(void)
{
	struct loop *loop = loop_new();
	struct count c = { 0 };
	struct loop_timer *t = loop_timer_new(loop, on_timer, &c);
	int64_t t0 = clk_mono_ms();

	CHECK(loop && t);
	CHECK(loop_timer_arm(t, 50, 0) == 0);
	run_until(loop, &c, 1);
	run_for(loop, 100);
	CHECK(c.fired == 1);         /* once, not again */
	/* Never before it was due (a timerfd does not fire early). */
	CHECK(c.first_ms - t0 >= 49);
	loop_timer_free(t);
	loop_free(loop);
}

static void test_timer_repeats_and_disarms(void)
{
	struct loop *loop = loop_new();
	struct count c = { 0 };
	struct loop_timer *t = loop_timer_new(loop, on_timer, &c);
	int n;

	CHECK(loop_timer_arm(t, 10, 20) == 0);
	run_until(loop, &c, 3);      /* at 10, 30, 50 ms */
	n = c.fired;
	CHECK(n >= 3);
	loop_timer_disarm(t);
	run_for(loop, 80);
	CHECK(c.fired == n);
	/* Re-arming replaces the schedule; 0 fires at the next poll. */
	CHECK(loop_timer_arm(t, 0, 0) == 0);
	CHECK(loop_poll(loop, 100) == 1 && c.fired == n + 1);
	loop_timer_free(t);
	loop_free(loop);
}

/* Two timers due in the same poll, each disarming the other: only one fires. */
struct pair {
	struct loop_timer *t[2];
	int fired[2];
};

static void on_either(struct loop *loop, struct loop_timer *t, void *opaque)
{
	struct pair *p = opaque;
	int me = t == p->t[1];

	(void)loop;
	p->fired[me]++;
	loop_timer_disarm(p->t[!me]);
}

static void test_timer_disarmed_by_another(void)
{
	struct loop *loop = loop_new();
	struct pair p = { { NULL, NULL }, { 0, 0 } };

	p.t[0] = loop_timer_new(loop, on_either, &p);
	p.t[1] = loop_timer_new(loop, on_either, &p);
	CHECK(loop_timer_arm(p.t[0], 5, 0) == 0 && loop_timer_arm(p.t[1], 5, 0) == 0);
	clk_pause_ms(20);           /* both due before the loop looks: one epoll batch */
	loop_poll(loop, 1000);
	run_for(loop, 30);
	CHECK(p.fired[0] + p.fired[1] == 1);
	loop_timer_free(p.t[0]);
	loop_timer_free(p.t[1]);
	loop_free(loop);
}

static void test_timer_freed_in_callback(void)
{
	struct loop *loop = loop_new();
	struct count c = { 0 };
	struct loop_timer *t = loop_timer_new(loop, on_timer, &c);

	c.free_on = t;
	CHECK(loop_timer_arm(t, 5, 5) == 0);
	run_until(loop, &c, 1);
	run_for(loop, 60);
	CHECK(c.fired == 1);         /* gone after its first call */
	loop_free(loop);
}

struct waker {
	struct loop_wakeup *w;
	int times;
	atomic_int calls;
};

static void on_wake(struct loop *loop, void *opaque)
{
	struct waker *k = opaque;

	(void)loop;
	k->calls++;
}

static void *wake_many(void *arg)
{
	struct waker *k = arg;

	for (int i = 0; i < k->times; i++)
		loop_wake(k->w);
	return NULL;
}

static void test_wakeup_from_threads(void)
{
	struct loop *loop = loop_new();
	struct waker k = { .times = 1000 };
	pthread_t th[2];

	k.w = loop_wakeup_new(loop, on_wake, &k);
	CHECK(k.w != NULL);
	CHECK(loop_poll(loop, 0) == 0 && k.calls == 0);    /* nothing yet */
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, wake_many, &k);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* 2000 wakes before the loop looked: folded into one call. */
	CHECK(loop_poll(loop, 1000) == 1 && k.calls == 1);
	CHECK(loop_poll(loop, 0) == 0 && k.calls == 1);
	loop_wake(k.w);
	CHECK(loop_poll(loop, 1000) == 1 && k.calls == 2);
	loop_wakeup_free(k.w);
	loop_free(loop);
}

static void *stop_later(void *arg)
{
	clk_pause_ms(50);           /* the loop is asleep in epoll by then */
	loop_stop(arg);
	return NULL;
}

static void test_stop_from_another_thread(void)
{
	struct loop *loop = loop_new();
	pthread_t th;

	pthread_create(&th, NULL, stop_later, loop);
	/* Nothing else is watched: only the stop can end it (else ctest's timeout). */
	CHECK(loop_run(loop) == 0);
	pthread_join(th, NULL);
	loop_free(loop);
}

int main(void)
{
	RUN(test_timer_once);
	RUN(test_timer_repeats_and_disarms);
	RUN(test_timer_freed_in_callback);
	RUN(test_timer_disarmed_by_another);
	RUN(test_wakeup_from_threads);
	RUN(test_stop_from_another_thread);
	return check_done();
}
