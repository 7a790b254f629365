/*
 * The screen end to end on one booted `minimal` desktop (Xorg with the
 * modesetting driver on our virtio-gpu, openbox):
 * - the KMS connector reports our mode; PNG and JPEG screenshots of the
 *   control socket decode to the configured size and are not one colour;
 * - VNC (libvncclient): a wrong password is refused; with the password the
 *   framebuffer equals the screenshot pixel for pixel in tight, zrle and raw,
 *   and the cursor arrives as a shape, not drawn into the pixels;
 * - an xterm started through the agent appears in its region only, and the
 *   VNC viewer then receives only the damaged rectangles;
 * - a resize to 1024x768 changes the screenshot and what xrandr says, and
 *   the viewer follows;
 * - bad requests get clear errors, and the device refuses no guest command.
 *
 * usage: test_desktop CUBICLE_VMM GUEST_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "../check.h"
#include "fdio.h"
#include "clock.h"
#include "desktop.h"
#include "viewer.h"

static struct desktop dt;
/* The booted guest's sockets, by the names the checks use. */
static const char *const ctl_path = dt.ctl, *const vsock_path = dt.vsock;
static char password[16];
static int vnc_port;

static char *control(const char *req, uint8_t **data, size_t *len)
{
	return control_request(ctl_path, req, data, len);
}

static const char *guest(const char *cmd)
{
	return guest_exec(vsock_path, cmd);
}

/* --- VNC ------------------------------------------------------------------------ */

/* A viewer and what it received: the damage since reset, the cursor shapes. */
struct view {
	rfbClient *c;
	int rects, cursor_shapes;
	long long area;
	int x0, y0, x1, y1;         /* bounding box of rectangles since reset */
};

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	struct view *v = rfbClientGetClientData(c, (void *)got_update);

	v->rects++;
	v->area += (long long)w * h;
	if (x < v->x0) v->x0 = x;
	if (y < v->y0) v->y0 = y;
	if (x + w > v->x1) v->x1 = x + w;
	if (y + h > v->y1) v->y1 = y + h;
}

static void got_cursor(rfbClient *c, int xhot, int yhot, int w, int h, int bpp)
{
	struct view *v = rfbClientGetClientData(c, (void *)got_update);

	(void)xhot; (void)yhot; (void)w; (void)h; (void)bpp;
	v->cursor_shapes++;
}

static void reset_damage(struct view *v)
{
	v->rects = 0;
	v->area = 0;
	v->x0 = v->y0 = 1 << 30;
	v->x1 = v->y1 = -1;
}

/* A lossless viewer of our VNC server in encodings, with the cursor as a shape. */
static bool view_open(struct view *v, const char *encodings, const char *pw)
{
	memset(v, 0, sizeof(*v));
	reset_damage(v);
	v->c = viewer_connect("127.0.0.1", vnc_port, pw, encodings,
			      VIEWER_LOSSLESS | VIEWER_REMOTE_CURSOR);
	if (!v->c)
		return false;
	v->c->GotFrameBufferUpdate = got_update;
	v->c->GotCursorShape = got_cursor;
	rfbClientSetClientData(v->c, (void *)got_update, v);
	return true;
}

/* Handles messages until none came for quiet_ms (or max_ms passed). */
static bool view_drain(struct view *v, int quiet_ms, int max_ms)
{
	int64_t end = clk_mono_ms() + max_ms;
	int idle = 0;

	for (;;) {
		int n = viewer_pump(v->c, 50);

		if (n < 0)
			return false;
		if (n > 0)
			idle = 0;
		else if ((idle += 50) >= quiet_ms)
			return true;
		if (clk_mono_ms() > end)
			return true;
	}
}

static void view_close(struct view *v)
{
	viewer_close(v->c);
	v->c = NULL;
}

/* Pixels of the viewer (R, G, B, X) that differ from rgb; -1 if sizes differ. */
static long diff_pixels(const struct view *v, const uint8_t *rgb, uint32_t w, uint32_t h)
{
	long bad = 0;

	if ((uint32_t)v->c->width != w || (uint32_t)v->c->height != h)
		return -1;
	for (size_t i = 0; i < (size_t)w * h; i++)
		bad += memcmp(v->c->frameBuffer + i * 4, rgb + i * 3, 3) != 0;
	return bad;
}

/* --- checks ----------------------------------------------------------------------- */

static void check_mode_and_screenshots(void)
{
	const char *out = guest("head -1 /sys/class/drm/card0-Virtual-1/modes");
	uint32_t w = 0, h = 0;
	uint8_t *rgb = screenshot_rgb(ctl_path, &w, &h), *data;
	bool varied = false;
	size_t len;

	CHECK(out && strncmp(out, "1280x800", 8) == 0);
	CHECK(rgb && w == 1280 && h == 800);
	for (size_t i = 3; rgb && i < (size_t)w * h * 3 && !varied; i++)
		varied = rgb[i] != rgb[i % 3];
	CHECK(varied);
	free(rgb);

	tjhandle tj = tjInitDecompress();
	int jw = 0, jh = 0, sub, cs;
	char *line = control("{\"op\":\"screenshot\",\"format\":\"jpeg\",\"quality\":70}\n", &data, &len);
	CHECK(line && data && tjDecompressHeader3(tj, data, (unsigned long)len, &jw, &jh, &sub, &cs) == 0);
	CHECK(jw == 1280 && jh == 800);
	free(line);
	free(data);
	line = control("{\"op\":\"screenshot\",\"format\":\"jpeg\",\"scale\":0.5}\n", &data, &len);
	CHECK(line && data && tjDecompressHeader3(tj, data, (unsigned long)len, &jw, &jh, &sub, &cs) == 0);
	CHECK(jw == 640 && jh == 400);
	tjDestroy(tj);
	free(line);
	free(data);
}

static void check_bad_requests(void)
{
	char *l = control_line(ctl_path, "{\"op\":\"screenshot\",\"region\":[1200,700,100,200]}\n");

	CHECK(l && strstr(l, "\"ok\":false") && strstr(l, "not inside"));
	free(l);
	l = control_line(ctl_path, "{\"op\":\"resize\",\"width\":10,\"height\":768}\n");
	CHECK(l && strstr(l, "\"ok\":false") && strstr(l, "EINVAL"));
	free(l);
	l = control_line(ctl_path, "{\"op\":\"resize\",\"width\":\"1024\",\"height\":768}\n");
	CHECK(l && strstr(l, "\"ok\":false") && strstr(l, "EINVAL"));
	free(l);
	l = control_line(ctl_path, "{\"op\":\"display\"}\n");
	CHECK(l && strstr(l, "\"width\":1280"));      /* nothing changed */
	free(l);
}

static void check_vnc_password(void)
{
	struct view v;

	CHECK(!view_open(&v, "raw", "wrongpw1"));
	CHECK(view_open(&v, "raw", password));
	view_close(&v);
}

/* A viewer in each encoding sees exactly what the screenshot shows. */
static void check_vnc_pixels(void)
{
	static const char *const encodings[] = { "tight", "zrle", "raw" };

	for (int i = 0; i < 3; i++) {
		struct view v;
		uint32_t w = 0, h = 0;
		uint8_t *rgb;

		if (!view_open(&v, encodings[i], password)) {
			CHECK(!"viewer connects");
			continue;
		}
		CHECK(view_drain(&v, 1000, 20000));
		rgb = screenshot_rgb(ctl_path, &w, &h);
		CHECK(rgb && diff_pixels(&v, rgb, w, h) == 0);
		CHECK(v.cursor_shapes > 0);
		if (check_failed)
			fprintf(stderr, "encoding %s: %ld pixels differ, %d cursor shapes\n", encodings[i],
				rgb ? diff_pixels(&v, rgb, w, h) : -2, v.cursor_shapes);
		free(rgb);
		view_close(&v);
	}
}

/* An xterm appears where asked; a connected viewer gets just that area. */
static void check_xterm_and_damage(void)
{
	struct view v;
	uint32_t w = 0, h = 0, w2 = 0, h2 = 0;
	uint8_t *before, *after;
	long changed_in = 0, changed_out = 0;

	if (!view_open(&v, "tight", password)) {
		CHECK(!"viewer connects");
		return;
	}
	CHECK(view_drain(&v, 1000, 20000));
	before = screenshot_rgb(ctl_path, &w, &h);
	reset_damage(&v);
	CHECK(guest("setsid xterm -geometry 40x10+300+200 -bg '#ffff00' </dev/null >/dev/null 2>&1 & "
		    "xdotool search --sync --onlyvisible --class xterm >/dev/null && sleep 1") != NULL);
	CHECK(view_drain(&v, 1500, 20000));
	after = screenshot_rgb(ctl_path, &w2, &h2);
	CHECK(before && after && w == w2 && h == h2);
	for (uint32_t y = 0; before && after && y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			size_t i = ((size_t)y * w + x) * 3;
			bool in = x >= 280 && x < 800 && y >= 160 && y < 500;

			if (memcmp(before + i, after + i, 3) == 0)
				continue;
			if (in)
				changed_in++;
			else
				changed_out++;
		}
	}
	CHECK(changed_in > 10000);      /* the yellow xterm */
	CHECK(changed_out == 0);
	CHECK(after && diff_pixels(&v, after, w2, h2) == 0);
	/* Only the damaged area travelled: far less than the screen. */
	CHECK(v.rects > 0 && v.area < (long long)w * h / 4);
	CHECK(v.x0 >= 280 && v.x1 <= 800 && v.y0 >= 160 && v.y1 <= 500);
	if (check_failed)
		fprintf(stderr, "changed in %ld out %ld; %d rects, area %lld, box %d,%d-%d,%d\n",
			changed_in, changed_out, v.rects, v.area, v.x0, v.y0, v.x1, v.y1);
	free(before);
	free(after);
	view_close(&v);
}

static void check_resize(void)
{
	struct view v;
	uint32_t w = 0, h = 0;
	uint8_t *rgb;
	char *l;
	const char *out;
	bool viewer = view_open(&v, "tight", password);

	CHECK(viewer && view_drain(&v, 500, 20000));
	l = control_line(ctl_path, "{\"op\":\"resize\",\"width\":1024,\"height\":768}\n");
	CHECK(l && strstr(l, "\"ok\":true"));
	if (l && !strstr(l, "\"ok\":true"))
		fprintf(stderr, "resize: %s\n", l);
	free(l);
	rgb = screenshot_rgb(ctl_path, &w, &h);
	CHECK(rgb && w == 1024 && h == 768);
	out = guest("xrandr --query | head -1");
	CHECK(out && strstr(out, "current 1024 x 768"));
	l = control_line(ctl_path, "{\"op\":\"display\"}\n");
	CHECK(l && strstr(l, "\"width\":1024") && strstr(l, "\"height\":768"));
	free(l);
	if (viewer) {
		CHECK(view_drain(&v, 1000, 20000));
		free(rgb);
		rgb = screenshot_rgb(ctl_path, &w, &h);
		CHECK(rgb && diff_pixels(&v, rgb, w, h) == 0);
		view_close(&v);
	}
	free(rgb);
}

int main(int argc, char **argv)
{
	unsigned long long cmds = 0, flushes = 0, refused = 1;
	unsigned int w = 0, h = 0;
	const char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	if (desktop_boot(&dt, argv[1], argv[2], "minimal.path", "1024", true, NULL, 300) < 0) {
		CHECK(!"desktop ready");
		goto out;
	}
	CHECK(fdio_read_line(dt.pw_path, password, sizeof(password)) > 0);
	CHECK(strlen(password) == 8);
	CHECK((vnc_port = control_vnc_port(ctl_path)) > 0);

	RUN(check_mode_and_screenshots);
	RUN(check_bad_requests);
	RUN(check_vnc_password);
	RUN(check_vnc_pixels);
	RUN(check_xterm_and_damage);
	RUN(check_resize);

	guest_poweroff(vsock_path);
	CHECK(vm_wait(&dt.vm, 60) == 0);
	int got = 0;
	for (p = strstr(dt.vm.err_buf, "virtio-gpu: "); p && got != 5; p = strstr(p + 1, "virtio-gpu: "))
		got = sscanf(p, "virtio-gpu: %llu commands, %llu flushes, %llu refused; screen %ux%u",
			     &cmds, &flushes, &refused, &w, &h);
	CHECK(got == 5);
	CHECK(cmds > 0 && flushes > 0 && refused == 0 && w == 1024 && h == 768);
out:
	desktop_end(&dt, check_failed);
	return check_done();
}
