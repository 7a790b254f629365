/*
 * bench_input: the ways the xterm's change is seen, from our side of the
 * guest (and QEMU's VNC, which a viewer watches alike): a VNC viewer's copy
 * of the region, and PNG screenshots of the region polled on the control
 * socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "viewer.h"

/* --- through VNC -------------------------------------------------------------------- */

int vnc_watch_open(struct vnc_watch *v, const char *host, int port, const char *password,
		   struct rect r)
{
	v->r = r;
	v->before = NULL;
	v->c = viewer_connect(host, port, password, "tight zrle raw", VIEWER_LOSSLESS | VIEWER_QUIET);
	if (!v->c || viewer_whole_frame(v->c, 10000, 10000) < 0 ||
	    !clip_rect(&v->r, v->c->width, v->c->height))
		return -1;
	v->before = malloc((size_t)v->r.w * v->r.h * 4);
	return v->before ? 0 : -1;
}

void vnc_watch_close(struct vnc_watch *v)
{
	viewer_close(v->c);
	free(v->before);
	v->c = NULL;
	v->before = NULL;
}

static bool vnc_region_differs(struct vnc_watch *v, bool copy)
{
	size_t stride = (size_t)v->c->width * 4, row = (size_t)v->r.w * 4;
	bool differs = false;

	for (int y = 0; y < v->r.h; y++) {
		const uint8_t *src = v->c->frameBuffer + (size_t)(v->r.y + y) * stride +
				     (size_t)v->r.x * 4;
		uint8_t *dst = v->before + (size_t)y * row;

		if (copy)
			memcpy(dst, src, row);
		else if (memcmp(dst, src, row) != 0)
			differs = true;
	}
	return differs;
}

/* Takes in whatever the server sent meanwhile, then copies the region. */
static int vnc_mark(void *ctx)
{
	struct vnc_watch *v = ctx;
	int r;

	while ((r = viewer_pump(v->c, 0)) > 0)
		;
	if (r < 0)
		return -1;
	vnc_region_differs(v, true);
	return 0;
}

static double vnc_changed(void *ctx, int timeout_ms)
{
	struct vnc_watch *v = ctx;
	double end = now_ms() + timeout_ms;

	for (;;) {
		int left = (int)(end - now_ms()), r;

		if (left <= 0)
			return -1;
		r = viewer_pump(v->c, left);
		if (r < 0)
			return -1;
		if (r > 0 && vnc_region_differs(v, false))
			return now_ms();
	}
}

struct watcher vnc_watcher(struct vnc_watch *v)
{
	return (struct watcher){ vnc_mark, vnc_changed, v };
}

/* --- by polling screenshots ---------------------------------------------------------- */

int shot_watch_open(struct shot_watch *s, const char *ctl, struct rect r)
{
	memset(s, 0, sizeof(*s));
	s->cap = 4u << 20;
	snprintf(s->req, sizeof(s->req), "{\"op\":\"screenshot\",\"format\":\"png\",\"region\":"
		 "[%d,%d,%d,%d]}\n", r.x, r.y, r.w, r.h);
	s->before = malloc(s->cap);
	s->now = malloc(s->cap);
	s->c = conn_open(ctl);
	return s->before && s->now && s->c ? 0 : -1;
}

void shot_watch_close(struct shot_watch *s)
{
	conn_close(s->c);
	free(s->before);
	free(s->now);
	memset(s, 0, sizeof(*s));
}

static int shot_take(struct shot_watch *s)
{
	long long n = conn_image(s->c, s->req, s->now, s->cap);

	if (n < 0)
		return -1;
	s->now_len = (size_t)n;
	return 0;
}

static int shot_mark(void *ctx)
{
	struct shot_watch *s = ctx;

	if (shot_take(s) < 0)
		return -1;
	memcpy(s->before, s->now, s->now_len);
	s->before_len = s->now_len;
	return 0;
}

static double shot_changed(void *ctx, int timeout_ms)
{
	struct shot_watch *s = ctx;
	double end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if (shot_take(s) < 0)
			return -1;
		if (s->now_len != s->before_len || memcmp(s->now, s->before, s->now_len) != 0)
			return now_ms();
	}
	return -1;
}

struct watcher shot_watcher(struct shot_watch *s)
{
	return (struct watcher){ shot_mark, shot_changed, s };
}
