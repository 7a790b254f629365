#include "changes.h"

#include <errno.h>

#include "clock.h"

void changes_init(struct changes *c)
{
	pthread_mutex_init(&c->lock, NULL);
	clk_cond_init(&c->cond);
	c->count = 0;
}

void changes_destroy(struct changes *c)
{
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

uint64_t changes_now(struct changes *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void changes_bump(struct changes *c)
{
	pthread_mutex_lock(&c->lock);
	c->count++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

uint64_t changes_wait(struct changes *c, uint64_t seen, int timeout_ms)
{
	struct timespec until = clk_mono_after(timeout_ms);
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	while (c->count == seen && pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
		;
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
