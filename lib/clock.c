#include "clock.h"

#include <errno.h>

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clk_mono_ms(void)
{
	return ns_of(CLOCK_MONOTONIC) / 1000000;
}

uint64_t clk_mono_us(void)
{
	return (uint64_t)ns_of(CLOCK_MONOTONIC) / 1000;
}

int64_t clk_wall_ms(void)
{
	return ns_of(CLOCK_REALTIME) / 1000000;
}

struct timespec clk_mono_after(int64_t ms)
{
	int64_t ns = ns_of(CLOCK_MONOTONIC) + (ms > 0 ? ms : 0) * 1000000;

	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

void clk_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

void clk_pause_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void clk_pause_ms(unsigned int ms)
{
	clk_pause_us(ms * 1000ull);
}
