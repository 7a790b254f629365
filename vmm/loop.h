/*
 * A small epoll event loop: one callback per file descriptor, timers
 * (timerfd) and wakeups other threads can send (eventfd). The device host
 * runs its vhost-user sockets, kick eventfds, console, engine and control
 * socket on one loop, on one thread; only loop_wake() and loop_stop() may
 * be called from other threads.
 */
#ifndef CUBICLE_LOOP_H
#define CUBICLE_LOOP_H

#include <stdint.h>

struct loop;
typedef void (*loop_fn)(struct loop *loop, int fd, uint32_t events, void *opaque);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Watches fd for events (EPOLLIN...). Returns 0 or -errno; fd stays the caller's. */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque);
/* Changes the events watched for fd. Returns 0 or -errno. */
int loop_mod(struct loop *loop, int fd, uint32_t events);
/* Stops watching fd. Safe from inside any callback, including fd's own. */
void loop_del(struct loop *loop, int fd);

/*
 * Waits up to timeout_ms (-1: forever) for events and runs their callbacks
 * once. Returns how many ran, or -errno if epoll fails.
 */
int loop_poll(struct loop *loop, int timeout_ms);

/* Runs callbacks until loop_stop(); returns 0, or -errno if epoll fails. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the callback running now. Safe from any thread. */
void loop_stop(struct loop *loop);

/*
 * A timer on the loop: fn runs on the loop's thread when it fires. A new
 * timer is disarmed. NULL without memory or descriptors.
 */
struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *t, void *opaque);
struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn fn, void *opaque);
/*
 * Fires once after ms (0: at the next poll), then every interval_ms unless
 * that is 0. Re-arming replaces the old schedule. 0 or -errno.
 */
int loop_timer_arm(struct loop_timer *t, unsigned int ms, unsigned int interval_ms);
void loop_timer_disarm(struct loop_timer *t);
/* Disarms and frees; accepts NULL. Safe from inside its own callback. */
void loop_timer_free(struct loop_timer *t);

/*
 * A wakeup: any thread calls loop_wake(); fn then runs on the loop's
 * thread. Wakes that come before fn runs are folded into one call, so fn
 * takes whatever work is queued, not one item. NULL without memory or
 * descriptors.
 */
struct loop_wakeup;
typedef void (*loop_wakeup_fn)(struct loop *loop, void *opaque);
struct loop_wakeup *loop_wakeup_new(struct loop *loop, loop_wakeup_fn fn, void *opaque);
void loop_wake(struct loop_wakeup *w);
void loop_wakeup_free(struct loop_wakeup *w);   /* accepts NULL; on the loop's thread */

#endif
