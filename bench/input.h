/*
 * bench_input's parts (see input.c): the keystroke timing loop and the ways a
 * key is pressed (input_keys.c), the ways the xterm's change is seen from
 * our side (input_watch.c), and the QEMU peer (input_qemu.c).
 */
#ifndef CUBICLE_BENCH_INPUT_H
#define CUBICLE_BENCH_INPUT_H

#include <pthread.h>
#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "conn.h"
#include "desktop.h"

#define SCREEN_W 1280
#define SCREEN_H 800
#define KEY_WARMUP 3                /* key pairs before timing */
#define KEY_GAP_MS 100              /* the screen is still this long before each key */
#define KEY_TIMEOUT_MS 5000         /* for one key's change to show */
#define FIRST_KEY_TIMEOUT_MS 10000  /* the first: does this guest take these keys at all? */
#define MAX_MISSES 3

/*
 * The xterm every way types into, at the top left; then its place as
 * xwininfo sees it once the window manager shows it. Run as `user` on the
 * guest's X; no single quotes, so the peer's console can wrap them in
 * sh -c '...'. The image's openbox can leave a new window's MapRequest
 * unhandled until some other event reaches it (seen 3 times in 3 boots), so
 * the wait nudges it each second with a property change on the root window.
 * The steps fit the agent's 60 s per command.
 */
#define XTERM_START "setsid xterm -fn 6x13 -geometry 80x24+0+0 </dev/null >/dev/null 2>&1 &"
#define XTERM_FIND "for i in $(seq 40); do xsetroot -name cubicle-bench; " \
	"w=$(xdotool search --onlyvisible --class xterm | head -n 1); [ -n \"$w\" ] && break; " \
	"sleep 1; done; xwininfo -id $w"
#define XTERM_TRIES 4

/* Our keyboard: a key action on the control socket. */
#define KEY_ACTION(keys) \
	"{\"op\":\"actions\",\"actions\":[{\"type\":\"key\",\"keys\":\"" keys "\"}]}\n"

struct results {
	struct figure move, key, cursor;          /* control socket round trips, spaced */
	struct figure move_b2b, key_b2b;          /* the same back to back (paced) */
	struct figure ours_vnc, ours_poll, xdo_vnc, xdo_exec, qmp_vnc, qmp_dump, qmp_flush;
};

/* Cuts r down to a w x h screen; false if nothing of it is left. */
bool clip_rect(struct rect *r, int w, int h);

/* The xterm's place from xwininfo's output, kept inside the screen. */
bool parse_xterm(const char *s, struct rect *r);

/* --- input_keys.c: how a key is pressed, and the timing ---------------------------- */

/* A way to press a key in a guest: the letter 'a', or BackSpace. */
struct presser {
	int (*press)(void *ctx, bool letter);   /* sends it; 0 or -1 */
	int (*done)(void *ctx);                 /* after a successful press: its answer */
	void *ctx;
};

/*
 * A way to see the guest's xterm: mark takes a picture of it now; changed
 * waits for it to differ and says when that was (on now_ms()'s clock), or -1.
 */
struct watcher {
	int (*mark)(void *ctx);
	double (*changed)(void *ctx, int timeout_ms);
	void *ctx;
};

/*
 * Keystroke -> first changed frame, n letters timed after a warm-up; prints
 * the figure as what and returns it.
 */
struct figure time_keys(const char *what, const struct presser *p, const struct watcher *w,
			int n);

/* Ours: key actions on the control connection c; each answer is read after the change shows. */
struct presser action_presser(struct conn *c);

/*
 * The E2B Desktop way: `xdotool key` run through the agent at vsock, one
 * process per key; each command's own round trip (exec -> exit status) is
 * kept in exec_ms (cap of them, nexec so far).
 */
struct xdo_keys {
	const char *vsock;
	bool letter;
	pthread_t tid;
	int ret;
	double t0, *exec_ms;
	int nexec, cap;
};

struct presser xdo_presser(struct xdo_keys *x);

/* --- input_watch.c: how the change is seen from our side --------------------------- */

/* A VNC viewer's copy of the region r (ours, or QEMU's VNC). */
struct vnc_watch {
	rfbClient *c;
	struct rect r;
	uint8_t *before;
};

/*
 * Connects a lossless viewer to host:port holding its first full frame
 * (10 s at most), r cut to its screen. 0, or -1 (vnc_watch_close() either way).
 */
int vnc_watch_open(struct vnc_watch *v, const char *host, int port, const char *password,
		   struct rect r);
void vnc_watch_close(struct vnc_watch *v);
struct watcher vnc_watcher(struct vnc_watch *v);

/* Ours by polling: PNG screenshots of the region r on a control connection c of its own. */
struct shot_watch {
	struct conn *c;
	char req[160];
	uint8_t *before, *now;
	size_t before_len, now_len, cap;
};

/* 0, or -1 (shot_watch_close() either way). */
int shot_watch_open(struct shot_watch *s, const char *ctl, struct rect r);
void shot_watch_close(struct shot_watch *s);
struct watcher shot_watcher(struct shot_watch *s);

/* --- input_qemu.c: the QEMU peer --------------------------------------------------- */

/*
 * A second guest that plain QEMU runs with cfg (same kernel, image, engine),
 * its own virtio-gpu, keyboard, tablet and VNC, files in dir: boot, xterm,
 * then QMP input-send-event keys seen by its VNC, its screendumps and its
 * trace of the guest's flushes, into res.
 */
void bench_peer(const struct vmm_config *cfg, const char *dir, int keys, struct results *res);

#endif
