/*
 * bench_input: keystroke -> first changed frame. The timing loop, and the
 * ways a key is pressed in our guest: a key action on the control socket
 * (ours) and `xdotool key` run through the agent (the E2B Desktop way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "client.h"
#include "input.h"

/*
 * 'a' and BackSpace by turns, so that the line does not grow, each after
 * the screen was still for KEY_GAP_MS. The letters after the warm-up are
 * timed, from just before the press to the moment the watcher sees the
 * xterm change. Gives up when the first key does not show (the guest does
 * not take these keys) or after MAX_MISSES.
 */
struct figure time_keys(const char *what, const struct presser *p, const struct watcher *w,
			int n)
{
	double *v = calloc((size_t)n, sizeof(*v));
	int got = 0, misses = 0, total = 2 * (KEY_WARMUP + n);
	struct figure f;

	for (int i = 0; v && i < total && misses < MAX_MISSES; i++) {
		bool letter = i % 2 == 0;
		double t0, at;

		if (w->mark(w->ctx) < 0)
			break;
		t0 = now_ms();
		if (p->press(p->ctx, letter) < 0) {
			misses++;
			continue;
		}
		at = w->changed(w->ctx, i == 0 ? FIRST_KEY_TIMEOUT_MS : KEY_TIMEOUT_MS);
		if (p->done(p->ctx) < 0 || at < 0) {
			misses++;
			if (i == 0)
				break;
		} else if (letter && i >= 2 * KEY_WARMUP) {
			v[got++] = at - t0;
		}
		clk_pause_ms(KEY_GAP_MS);       /* the pace is the point: a still screen before each key */
	}
	f = figure_of(v, got);
	figure_print(what, f);
	if (misses)
		printf("  %-50s (%d key(s) not pressed or not seen in %d s)\n", "", misses,
		       KEY_TIMEOUT_MS / 1000);
	free(v);
	return f;
}

/* --- ours: a key action, its answer read afterwards ------------------------------ */

static int action_press(void *ctx, bool letter)
{
	return conn_send(ctx, letter ? KEY_ACTION("a") : KEY_ACTION("BackSpace")) ? 0 : -1;
}

static int action_done(void *ctx)
{
	char line[1024] = "no answer";

	if (conn_line(ctx, line, sizeof(line), CONN_ANSWER_MS) && strstr(line, "\"ok\":true"))
		return 0;
	fprintf(stderr, "bench_input: key action: %s\n", line);
	return -1;
}

struct presser action_presser(struct conn *c)
{
	return (struct presser){ action_press, action_done, c };
}

/*
 * --- the E2B Desktop way: one `xdotool key` process per key ----------------------
 * On a thread, so that the watcher can see the change before the command ends.
 */

static void *xdo_thread(void *arg)
{
	struct xdo_keys *x = arg;
	struct agent_exec e = { .cmd = x->letter ? "xdotool key a" : "xdotool key BackSpace",
				.timeout_ms = KEY_TIMEOUT_MS };
	struct agent_exit res;
	struct agent_error err;

	x->ret = agent_exec_run(x->vsock, &e, &res, &err);
	if (x->ret == 0 && res.exit_code != 0)
		x->ret = -1;
	if (x->ret == 0 && x->nexec < x->cap)
		x->exec_ms[x->nexec++] = now_ms() - x->t0;
	return NULL;
}

static int xdo_press(void *ctx, bool letter)
{
	struct xdo_keys *x = ctx;

	x->letter = letter;
	x->t0 = now_ms();
	return pthread_create(&x->tid, NULL, xdo_thread, x) == 0 ? 0 : -1;
}

static int xdo_done(void *ctx)
{
	struct xdo_keys *x = ctx;

	pthread_join(x->tid, NULL);
	return x->ret == 0 ? 0 : -1;
}

struct presser xdo_presser(struct xdo_keys *x)
{
	return (struct presser){ xdo_press, xdo_done, x };
}
