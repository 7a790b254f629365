/*
 * A count of changes that only grows, for threads that wait for something
 * another thread makes happen (a device's queue drained, the screen
 * redrawn). The waiter reads the count, checks what it waits for, and if
 * not yet, waits for the count to pass what it read: a change between the
 * check and the wait is never lost.
 */
#ifndef CUBICLE_CHANGES_H
#define CUBICLE_CHANGES_H

#include <pthread.h>
#include <stdint.h>

struct changes {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* on the monotonic clock */
	uint64_t count;
};

void changes_init(struct changes *c);
void changes_destroy(struct changes *c);

/* The count now. */
uint64_t changes_now(struct changes *c);

/* One more change: every waiter wakes (and checks again). */
void changes_bump(struct changes *c);

/*
 * Waits until the count passes seen, or timeout_ms (>= 0) passes; the count
 * then (== seen: timed out).
 */
uint64_t changes_wait(struct changes *c, uint64_t seen, int timeout_ms);

#endif
