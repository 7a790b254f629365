/*
 * A small epoll event loop: one callback per file descriptor. The device host
 * runs its vhost-user sockets, kick eventfds, console and child process on one.
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
void loop_stop(struct loop *loop);

#endif
