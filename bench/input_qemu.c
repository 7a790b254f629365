/*
 * bench_input's peer: QEMU's own virtio-keyboard-device driven with QMP
 * input-send-event, on a second guest (same kernel, image and engine) that
 * plain QEMU runs with its own virtio-gpu, tablet and VNC; set up through a
 * root shell on its console. The keys are seen by QEMU's VNC, by QMP
 * screendumps, and by QEMU's trace of the guest's flushes (the earliest any
 * display of QEMU's could show them).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine_qemu.h"
#include "fdio.h"
#include "input.h"
#include "qmp.h"
#include "usock.h"

/*
 * Through the peer's console root shell: the image's X takes only
 * /dev/input/cubicle-keyboard and -tablet (50-desktop links them by
 * Cubicle's device names before starting Xorg); link QEMU's devices there
 * instead and start X again, with the image left as it is.
 */
#define PEER_LINKS "for d in /sys/class/input/event*; do case \"$(cat $d/device/name)\" in " \
	"\"QEMU Virtio Keyboard\") ln -sf /dev/input/${d##*/} /dev/input/cubicle-keyboard;; " \
	"\"QEMU Virtio Tablet\") ln -sf /dev/input/${d##*/} /dev/input/cubicle-tablet;; " \
	"esac; done; readlink /dev/input/cubicle-keyboard /dev/input/cubicle-tablet"
#define PEER_RESTART_X "pkill -x Xorg; for i in $(seq 100); do pgrep -x Xorg >/dev/null || " \
	"break; sleep 0.1; done; /etc/cubicle/start.d/50-desktop </dev/null >/dev/null 2>&1; " \
	"echo x-status=$?"

/* --- QEMU's keyboard and tablet through QMP ------------------------------------------- */

/* input-send-event: the key qcode down, or up. */
static int qmp_key(struct qmp *q, const char *qcode, bool down)
{
	char args[256], err[256];

	snprintf(args, sizeof(args), "{\"events\":[{\"type\":\"key\",\"data\":{\"down\":%s,"
		 "\"key\":{\"type\":\"qcode\",\"data\":\"%s\"}}}]}", down ? "true" : "false", qcode);
	if (qmp_execute(q, "input-send-event", json_tokener_parse(args), -1, NULL, err,
			sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "bench_input: input-send-event: %s\n", err);
	return -1;
}

static int qmp_press(void *ctx, bool letter)
{
	const char *qcode = letter ? "a" : "backspace";

	return qmp_key(ctx, qcode, true) == 0 && qmp_key(ctx, qcode, false) == 0 ? 0 : -1;
}

static int qmp_done(void *ctx)
{
	(void)ctx;
	return 0;
}

/* A click through QMP: QEMU's tablet to (x, y), left button down and up. */
static int qmp_click(struct qmp *q, int x, int y)
{
	static const char *const steps[] = {
		"{\"events\":[{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":%d}},"
		"{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":%d}}]}",
		"{\"events\":[{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"left\"}}]}",
		"{\"events\":[{\"type\":\"btn\",\"data\":{\"down\":false,\"button\":\"left\"}}]}" };
	char args[256], err[256];

	for (int i = 0; i < 3; i++) {
		/* QEMU's absolute axes run 0..0x7fff across the screen. */
		snprintf(args, sizeof(args), steps[i], x * 0x7fff / (SCREEN_W - 1),
			 y * 0x7fff / (SCREEN_H - 1));
		if (qmp_execute(q, "input-send-event", json_tokener_parse(args), -1, NULL, err,
				sizeof(err)) < 0)
			return -1;
		clk_pause_ms(20);       /* a pace the guest takes as a click, like a hand's */
	}
	return 0;
}

/* --- QMP screendump of the whole screen to a PPM file, the region compared ------------- */

struct dump_watch {
	struct qmp *q;
	char path[200];
	struct rect r;
	uint8_t *file, *before, *now;
	size_t cap;
};

/* Dumps the screen and copies the region's RGB rows into dst. */
static int dump_take(struct dump_watch *d, uint8_t *dst)
{
	struct json_object *args = json_object_new_object();
	char err[256];
	int w, h, max, off = 0;
	size_t len;
	FILE *f;

	json_object_object_add(args, "filename", json_object_new_string(d->path));
	json_object_object_add(args, "format", json_object_new_string("ppm"));
	if (qmp_execute(d->q, "screendump", args, -1, NULL, err, sizeof(err)) < 0)
		return -1;
	if (!(f = fopen(d->path, "re")))
		return -1;
	len = fread(d->file, 1, d->cap, f);
	fclose(f);
	d->file[len < d->cap ? len : d->cap - 1] = '\0';
	if (sscanf((char *)d->file, "P6 %d %d %d%n", &w, &h, &max, &off) != 3 || max != 255 ||
	    d->r.x + d->r.w > w || d->r.y + d->r.h > h ||
	    (size_t)off + 1 + (size_t)w * h * 3 > len)
		return -1;
	for (int y = 0; y < d->r.h; y++)
		memcpy(dst + (size_t)y * d->r.w * 3,
		       d->file + off + 1 + ((size_t)(d->r.y + y) * w + d->r.x) * 3, (size_t)d->r.w * 3);
	return 0;
}

static int dump_mark(void *ctx)
{
	struct dump_watch *d = ctx;

	return dump_take(d, d->before);
}

static double dump_changed(void *ctx, int timeout_ms)
{
	struct dump_watch *d = ctx;
	double end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if (dump_take(d, d->now) < 0)
			return -1;
		if (memcmp(d->now, d->before, (size_t)d->r.w * d->r.h * 3) != 0)
			return now_ms();
	}
	return -1;
}

/*
 * --- QEMU's device itself ---------------------------------------------------------------
 * The first virtio_gpu_cmd_res_flush in QEMU's trace log (-trace, -msg
 * timestamp=on) whose rectangle overlaps the xterm, at the time QEMU stamped
 * on it: when the guest's new frame reached QEMU's virtio-gpu, before any
 * display of QEMU's looks at it.
 */
struct trace_watch {
	char path[200];
	long off;                    /* read up to here */
	double since;                /* the mark: flushes stamped before it are old */
	struct rect r;
};

/*
 * The wall clock to the microsecond, which QEMU's stamps are on (lib's
 * clk_wall_ms() has milliseconds only; the offset to now_ms() needs more).
 */
static double realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int trace_mark(void *ctx)
{
	struct trace_watch *t = ctx;
	FILE *f = fopen(t->path, "re");

	if (!f || fseek(f, 0, SEEK_END) < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	t->off = ftell(f);
	t->since = now_ms();
	fclose(f);
	return 0;
}

/* The new complete lines of the log: the first matching flush's time, or -1. */
static double trace_scan(struct trace_watch *t)
{
	FILE *f = fopen(t->path, "re");
	char line[512];
	double at = -1;

	if (!f || fseek(f, t->off, SEEK_SET) < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	while (at < 0 && fgets(line, sizeof(line), f) && strchr(line, '\n')) {
		long long sec, usec;
		int w, h, x, y;

		t->off += (long)strlen(line);
		/* QEMU 10: "PID@SEC.USEC:virtio_gpu_cmd_res_flush res 0x7, w 12, h 13, x 123, y 22" */
		if (sscanf(line, "%*d@%lld.%lld:virtio_gpu_cmd_res_flush res %*x, w %d, h %d, x %d, "
			   "y %d", &sec, &usec, &w, &h, &x, &y) == 6 && x < t->r.x + t->r.w &&
		    x + w > t->r.x && y < t->r.y + t->r.h && y + h > t->r.y)
			at = sec * 1e3 + usec / 1e3 - (realtime_ms() - now_ms());
		if (at < t->since)
			at = -1;
	}
	fclose(f);
	return at;
}

static double trace_changed(void *ctx, int timeout_ms)
{
	struct trace_watch *t = ctx;
	double end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		double at = trace_scan(t);

		if (at >= 0)
			return at;
		clk_pause_ms(1);        /* a file QEMU appends to: looked at each millisecond */
	}
	return -1;
}

/* --- the peer guest ------------------------------------------------------------------ */

struct peer {
	pid_t pid;
	int console;
	char vnc[160], qmp[160], dump[160], trace[160];
	char out[8192];              /* console output being searched */
	size_t len;
	struct rect xterm;
};

/*
 * Plain QEMU microvm with the same machine options, its own virtio-rng,
 * virtio-gpu-device, virtio-keyboard-device and virtio-tablet-device, its VNC
 * and QMP on unix sockets, and a root shell on its console (no
 * cubicle.noshell) to set it up through.
 */
static int peer_start(struct peer *pe, const struct vmm_config *cfg, const char *dir)
{
	struct vmm_config c = *cfg;
	char vncarg[200], qmparg[200];

	c.append = NULL;
	snprintf(pe->vnc, sizeof(pe->vnc), "%s/qemu.vnc", dir);
	snprintf(pe->qmp, sizeof(pe->qmp), "%s/qemu.qmp", dir);
	snprintf(pe->dump, sizeof(pe->dump), "%s/screendump.ppm", dir);
	snprintf(pe->trace, sizeof(pe->trace), "%s/qemu-trace.log", dir);
	snprintf(vncarg, sizeof(vncarg), "unix:%s", pe->vnc);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", pe->qmp);
	const char *const extra[] = { "-device", "virtio-gpu-device,xres=1280,yres=800",
				      "-device", "virtio-keyboard-device", "-device", "virtio-tablet-device",
				      "-vnc", vncarg, "-qmp", qmparg, "-msg", "timestamp=on",
				      "-D", pe->trace, "-trace", "virtio_gpu_cmd_res_flush", NULL };

	pe->pid = plain_qemu_start(&c, cfg->engine, extra, &pe->console);
	return pe->pid < 0 ? -1 : 0;
}

/*
 * Runs cmd in the peer's console shell and leaves what it printed between two
 * markers in pe->out (NUL-ended, carriage returns dropped). printf builds the
 * markers, so the echoed command line never matches them. 0, or -1 when the
 * end marker did not show in timeout_ms.
 */
static int console_run(struct peer *pe, const char *cmd, int timeout_ms)
{
	static unsigned int seq;
	char begin[32], end[32], *line, *b, *e;
	double stop = now_ms() + timeout_ms;
	size_t n = strlen(cmd) + 128;
	int ret;

	seq++;
	snprintf(begin, sizeof(begin), "<<%u:b>>\n", seq);
	snprintf(end, sizeof(end), "<<%u:e>>", seq);
	if (!(line = malloc(n)))
		return -1;
	snprintf(line, n, "printf '<<%%s:b>>\\n' %u; %s; printf '<<%%s:e>>\\n' %u\n", seq, cmd, seq);
	pe->len = 0;
	ret = fdio_write_all(pe->console, line, strlen(line));
	free(line);
	if (ret < 0)
		return -1;
	while (!(b = strstr(pe->out, begin)) || !(e = strstr(b, end))) {
		int left = (int)(stop - now_ms());
		char buf[1024];
		ssize_t r;

		if (left <= 0 || fdio_wait(pe->console, POLLIN, left) < 0 ||
		    (r = read(pe->console, buf, sizeof(buf))) <= 0)
			return -1;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != '\r' && pe->len + 1 < sizeof(pe->out))
				pe->out[pe->len++] = buf[i];
		pe->out[pe->len] = '\0';
	}
	*e = '\0';
	memmove(pe->out, b + strlen(begin), strlen(b + strlen(begin)) + 1);
	return 0;
}

/* Links QEMU's keyboard and tablet where the image's X looks, restarts X, opens the xterm. */
static int peer_setup(struct peer *pe)
{
	if (console_run(pe, PEER_LINKS, 10000) < 0 || !strstr(pe->out, "/dev/input/event")) {
		printf("  QEMU peer: no QEMU Virtio Keyboard/Tablet in the guest\n");
		return -1;
	}
	if (console_run(pe, PEER_RESTART_X, 300000) < 0 || !strstr(pe->out, "x-status=0")) {
		printf("  QEMU peer: X did not come back with QEMU's devices\n");
		return -1;
	}
	if (console_run(pe, "runuser -u user -- env DISPLAY=:0 sh -c '" XTERM_START "'", 10000) < 0)
		return -1;
	for (int i = 0; i < XTERM_TRIES; i++)
		if (console_run(pe, "runuser -u user -- env DISPLAY=:0 sh -c '" XTERM_FIND "'",
				60000) == 0 && parse_xterm(pe->out, &pe->xterm))
			return 0;
	printf("  QEMU peer: no xterm\n");
	return -1;
}

/* The QMP peer's keystrokes: seen by QEMU's VNC, then by screendumps, then in its trace. */
static void bench_peer_keys(struct peer *pe, struct qmp *q, int keys, struct results *res)
{
	struct presser qp = { qmp_press, qmp_done, q };
	struct vnc_watch vw;
	struct watcher vnc = vnc_watcher(&vw);
	struct dump_watch dw = { .q = q, .r = pe->xterm, .cap = 8u << 20 };
	struct watcher dump = { dump_mark, dump_changed, &dw };
	struct trace_watch tw = { .r = pe->xterm };
	struct watcher trace = { trace_mark, trace_changed, &tw };

	if (vnc_watch_open(&vw, pe->vnc, 0, NULL, pe->xterm) == 0)
		res->qmp_vnc = time_keys("QEMU: QMP input-send-event -> QEMU's VNC", &qp, &vnc, keys);
	else
		printf("  QEMU's VNC: no viewer\n");
	vnc_watch_close(&vw);

	snprintf(dw.path, sizeof(dw.path), "%s", pe->dump);
	dw.file = malloc(dw.cap);
	dw.before = malloc((size_t)dw.r.w * dw.r.h * 3);
	dw.now = malloc((size_t)dw.r.w * dw.r.h * 3);
	if (dw.file && dw.before && dw.now)
		res->qmp_dump = time_keys("QEMU: QMP input-send-event -> QMP screendump", &qp, &dump,
					  keys);
	free(dw.file);
	free(dw.before);
	free(dw.now);
	unlink(pe->dump);

	snprintf(tw.path, sizeof(tw.path), "%s", pe->trace);
	res->qmp_flush = time_keys("QEMU: QMP input-send-event -> guest's flush (trace)", &qp,
				   &trace, keys);
}

void bench_peer(const struct vmm_config *cfg, const char *dir, int keys, struct results *res)
{
	struct peer *pe = calloc(1, sizeof(*pe));
	struct qmp *q = NULL;
	double t0 = now_ms(), ms = -1;
	char err[256];
	bool seen = false;
	int fd;

	if (pe && peer_start(pe, cfg, dir) == 0)
		ms = wait_for(pe->console, t0, DESKTOP_READY, &seen);
	printf("QEMU peer (its own virtio-gpu, -keyboard, -tablet, VNC; same kernel, image, "
	       "engine %s):\n", vmm_engine_name(cfg->engine));
	if (!seen) {
		printf("  no desktop on the QEMU peer\n");
		goto out;
	}
	printf("  start -> desktop ready                          %8.0f ms\n", ms);
	if (peer_setup(pe) < 0)
		goto out;
	if ((fd = usock_connect(pe->qmp, 0)) < 0 || !(q = qmp_new(fd))) {
		printf("  QEMU's monitor: cannot connect\n");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (qmp_click(q, pe->xterm.x + pe->xterm.w / 2, pe->xterm.y + pe->xterm.h / 2) < 0)
		printf("  QMP click into the xterm failed\n");
	bench_peer_keys(pe, q, keys, res);
	qmp_execute(q, "quit", NULL, -1, NULL, err, sizeof(err));
out:
	qmp_free(q);
	if (pe && pe->pid > 0) {
		kill(pe->pid, SIGTERM);
		drain_and_reap(pe->console, pe->pid);
	}
	if (pe) {
		unlink(pe->vnc);
		unlink(pe->qmp);
		unlink(pe->trace);
	}
	free(pe);
}
