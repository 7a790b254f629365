/*
 * Clocks and timed pauses. Deadlines and waits use the monotonic clock;
 * the wall clock is only for what people read (timestamps in answers).
 * A pause is for pacing that is the point (input events at a rate the
 * guest can take, a benchmark's request interval): code that waits for
 * something waits on it (an fd, a condition variable), not in a pause loop.
 */
#ifndef CUBICLE_CLOCK_H
#define CUBICLE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

int64_t clk_mono_ms(void);
uint64_t clk_mono_us(void);
int64_t clk_wall_ms(void);      /* milliseconds since the epoch */

/* The monotonic time ms from now, as pthread_cond_timedwait with CLOCK_MONOTONIC takes it. */
struct timespec clk_mono_after(int64_t ms);

/* Makes c a condition variable whose timed waits count on the monotonic clock. */
void clk_cond_init(pthread_cond_t *c);

/* Pauses the thread for us / ms, whatever signals arrive meanwhile. */
void clk_pause_us(uint64_t us);
void clk_pause_ms(unsigned int ms);

#endif
