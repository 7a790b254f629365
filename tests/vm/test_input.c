/*
 * The hands end to end on one booted `minimal` desktop (Xorg's evdev driver
 * on our virtio-input keyboard and tablet), with the keyboard layout given:
 * - text with shell metacharacters, quotes, a leading dash and a newline,
 *   typed into an xterm, arrives byte for byte (read back through the agent):
 *   on de, ^ and ` are dead keys and come through borrowed keys, and many
 *   characters need AltGr; on fr most need Shift or AltGr;
 * - so do é, ß, €, 日本語 and an emoji, which need keys the layout may lack;
 * - a VNC viewer's keys, sent as a US viewer does, type the same characters
 *   on the guest's layout, and its pointer reaches the guest;
 * with layout "us" also:
 * - the pointer lands on the exact pixel asked (xdotool getmouselocation),
 *   at two resolutions, and at a screenshot scale of 0.5 on the pixel under
 *   the middle of the screenshot pixel's share;
 * - double and triple clicks select a word and a line in an xterm;
 * - the wheel scrolls an xterm's scrollback and back to the same pixels;
 * - ctrl+shift+t and a ctrl+click reach the app with their modifiers (xev);
 *   KP_0 and KP_7 arrive as such (NumLock on around them, off after), and
 *   text typed with Caps Lock on arrives as written;
 * - bad batches are refused whole, with the reason, and move nothing.
 *
 * usage: test_input CUBICLE_VMM GUEST_DIR LAYOUT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "fdio.h"
#include "desktop.h"
#include "viewer.h"

static struct desktop dt;
/* The booted guest's sockets, by the names the checks use. */
static const char *const ctl_path = dt.ctl, *const vsock_path = dt.vsock;
static char password[16];
static int vnc_port;

static const char *guest(const char *cmd)
{
	return guest_exec(vsock_path, cmd);
}

/* Sends {"op":"actions",...extra, "actions": actions}; the answer line (malloc'd). */
static char *actions(const char *list, const char *extra)
{
	return control_actions(ctl_path, list, extra);
}

static bool act(const char *list)
{
	return control_act(ctl_path, list);
}

static bool type_text(const char *text)
{
	return control_type(ctl_path, text);
}

/* The guest's pointer, as X sees it. */
static bool pointer_at(int *x, int *y)
{
	const char *out = guest("xdotool getmouselocation --shell");

	return out && sscanf(out, "X=%d\nY=%d", x, y) == 2;
}

/*
 * Opens an xterm (title `title`, at +x+y, running cmd), waits until it is
 * mapped, clicks into it so it has the focus, and returns the top left of
 * its window in *wx, *wy.
 */
static bool open_xterm(const char *title, const char *geometry, const char *cmd, int *wx, int *wy)
{
	char sh[1024];
	const char *out;
	struct rect r;
	char click[128];

	/*
	 * xwininfo, not xdotool: xdotool counts the frame's offset twice. Both
	 * walking every window (xdotool search, xwininfo -name) fail with
	 * BadWindow on one that an earlier xterm, exiting, destroys meanwhile:
	 * the search is retried, and xwininfo asks by id.
	 */
	snprintf(sh, sizeof(sh), "LC_ALL=C.UTF-8 setsid xterm -u8 -fn 6x13 -T %s -geometry %s "
		 "-e sh -c '%s' </dev/null >/dev/null 2>&1 & "
		 "for i in 1 2 3 4 5; do id=$(timeout 30 xdotool search --sync --onlyvisible "
		 "--name '^%s$' 2>/dev/null | head -n 1); [ -n \"$id\" ] && break; sleep 0.2; done; "
		 "xwininfo -id \"$id\"", title, geometry, cmd, title);
	out = guest(sh);
	if (!xwininfo_rect(out, &r))
		return false;
	*wx = r.x;
	*wy = r.y;
	snprintf(click, sizeof(click), "[{\"type\":\"click\",\"x\":%d,\"y\":%d}]", r.x + r.w / 2,
		 r.y + r.h / 2);
	return act(click) && guest("sleep 0.3") != NULL;
}

/* Waits for the guest file path to be complete (its writer gone) and returns it. */
static const char *read_typed(const char *path)
{
	char sh[256];

	snprintf(sh, sizeof(sh), "for i in $(seq 100); do [ -s %s ] && ! pgrep -x head >/dev/null "
		 "&& break; sleep 0.1; done; cat %s", path, path);
	return guest(sh);
}

/* Types line into a fresh xterm titled title whose `head` writes it to the guest's path. */
static void check_typed_line(const char *title, const char *path, const char *line)
{
	char cmd[64];
	int x, y;
	const char *got;

	snprintf(cmd, sizeof(cmd), "head -n 1 > %s", path);
	CHECK(open_xterm(title, "80x5+20+20", cmd, &x, &y));
	CHECK(type_text(line));
	got = read_typed(path);
	CHECK(got && strcmp(got, line) == 0);
	if (got && strcmp(got, line))
		fprintf(stderr, "typed:\n%s\ngot:\n%s\n", line, got);
}

static void check_typing(void)
{
	/* Everything a shell reads specially, quotes of both kinds, a leading dash. */
	check_typed_line("typing", "/tmp/typed",
			 "-rf \"$HOME\" 'it''s' `id` $(x) a;b|c&d<e>f*g?h~i!j#k%l^m"
			 "{n}[o]\\p=q+r,s.t:u@v _w/\n");
}

static void check_unicode(void)
{
	check_typed_line("unicode", "/tmp/unicode", "é ß € 日本語 😀 naïve Ωmega\n");
}

/*
 * Moves to each point, through a batch at scale, and checks X's pointer. At
 * scale 1 a point is its pixel. At another scale the point is a pixel d of
 * the scaled screenshot (cw pixels across), and the pointer must land on
 * the screen pixel under the middle of d's share, floor((2d + 1) * w /
 * (2 cw)), whose own middle lies in that share.
 */
static void check_points(uint32_t w, uint32_t h, double scale)
{
	const uint32_t pts[][2] = { { 0, 0 }, { w - 2, h - 2 }, { 137, 251 }, { w / 2, h / 3 },
				    { 2, h - 2 }, { w - 2, 4 }, { w - 1, h - 1 } };
	uint32_t cw = (uint32_t)(w * scale + 0.5), ch = (uint32_t)(h * scale + 0.5);
	char list[256], extra[64];

	snprintf(extra, sizeof(extra), "\"scale\":%g", scale);
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		uint32_t d = (uint32_t)((uint64_t)pts[i][0] * cw / w);
		uint32_t e = (uint32_t)((uint64_t)pts[i][1] * ch / h);
		uint32_t px = (uint32_t)(((2ull * d + 1) * w) / (2ull * cw));
		uint32_t py = (uint32_t)(((2ull * e + 1) * h) / (2ull * ch));
		int gx = -1, gy = -1;
		char *line;

		snprintf(list, sizeof(list), "[{\"type\":\"move\",\"x\":%u,\"y\":%u},{\"type\":\"cursor\"}]",
			 d, e);
		line = actions(list, extra);
		CHECK(line && strncmp(line, "{\"ok\":true", 10) == 0);
		free(line);
		CHECK(pointer_at(&gx, &gy));
		CHECK(gx == (int)px && gy == (int)py);
		/* The middle of X's pixel, gx + 1/2, in [d * w / cw, (d + 1) * w / cw). */
		CHECK((2ull * gx + 1) * cw >= 2ull * d * w && (2ull * gx + 1) * cw < 2ull * (d + 1) * w);
		CHECK((2ull * gy + 1) * ch >= 2ull * e * h && (2ull * gy + 1) * ch < 2ull * (e + 1) * h);
		if (gx != (int)px || gy != (int)py)
			fprintf(stderr, "at %ux%u, scale %g: point %u,%u, want %u,%u, X has %d,%d\n", w,
				h, scale, d, e, px, py, gx, gy);
	}
}

static void check_pointer_exact(void)
{
	char *line;

	check_points(1280, 800, 1);
	check_points(1280, 800, 0.5);
	line = control_request(ctl_path, "{\"op\":\"resize\",\"width\":1024,\"height\":768}\n",
			       &(uint8_t *){ NULL }, &(size_t){ 0 });
	CHECK(line && strncmp(line, "{\"ok\":true", 10) == 0);
	free(line);
	check_points(1024, 768, 1);
	check_points(1024, 768, 0.5);
	line = control_request(ctl_path, "{\"op\":\"resize\",\"width\":1280,\"height\":800}\n",
			       &(uint8_t *){ NULL }, &(size_t){ 0 });
	CHECK(line && strncmp(line, "{\"ok\":true", 10) == 0);
	free(line);
}

/* Double click selects a word, triple click the line (xterm's PRIMARY). */
static void check_multi_click(void)
{
	int x, y;
	char list[256];
	const char *sel;

	CHECK(open_xterm("select", "60x4+400+300", "echo alpha beta gamma; sleep 600", &x, &y));
	/* 6x13 cells, 2-pixel border: "beta" is columns 6..9 of row 0. */
	snprintf(list, sizeof(list), "[{\"type\":\"click\",\"x\":%d,\"y\":%d,\"count\":2}]",
		 x + 2 + 7 * 6 + 3, y + 2 + 6);
	CHECK(act(list));
	sel = guest("sleep 0.3; xclip -o -selection primary");
	CHECK(sel && strcmp(sel, "beta") == 0);
	/* Well past xterm's multi-click time (250 ms), so this is a click of its own. */
	snprintf(list, sizeof(list), "[{\"type\":\"wait\",\"ms\":600},"
		 "{\"type\":\"click\",\"x\":%d,\"y\":%d,\"count\":3}]",
		 x + 2 + 7 * 6 + 3, y + 2 + 6);
	CHECK(act(list));
	sel = guest("sleep 0.3; xclip -o -selection primary");
	CHECK(sel && strncmp(sel, "alpha beta gamma", 16) == 0);
	guest("pkill -f 'alpha beta gamm[a]' || true");
}

/* Pixels of a region of two screenshots that differ. */
static long region_diff(const uint8_t *a, const uint8_t *b, uint32_t w, int x, int y, int rw, int rh)
{
	long n = 0;

	for (int j = y; j < y + rh; j++)
		n += memcmp(a + ((size_t)j * w + x) * 3, b + ((size_t)j * w + x) * 3, (size_t)rw * 3) != 0;
	return n;
}

static void check_scroll(void)
{
	int x, y;
	uint32_t w, h;
	uint8_t *before, *up, *back;
	char list[256];

	CHECK(open_xterm("scroll", "40x10+600+100", "seq 1 200; sleep 600", &x, &y));
	guest("sleep 0.5");
	before = screenshot_rgb(ctl_path, &w, &h);
	snprintf(list, sizeof(list), "[{\"type\":\"scroll\",\"x\":%d,\"y\":%d,\"direction\":\"up\","
		 "\"amount\":3}]", x + 100, y + 60);
	CHECK(act(list));
	guest("sleep 0.5");
	up = screenshot_rgb(ctl_path, &w, &h);
	snprintf(list, sizeof(list), "[{\"type\":\"scroll\",\"x\":%d,\"y\":%d,\"direction\":\"down\","
		 "\"amount\":3}]", x + 100, y + 60);
	CHECK(act(list));
	guest("sleep 0.5");
	back = screenshot_rgb(ctl_path, &w, &h);
	CHECK(before && up && back);
	if (before && up && back) {
		CHECK(region_diff(before, up, w, x + 2, y + 2, 200, 120) > 20);
		CHECK(region_diff(before, back, w, x + 2, y + 2, 200, 120) == 0);
	}
	free(before);
	free(up);
	free(back);
	guest("pkill -f 'seq 1 20[0]' || true");
}

/* ctrl+shift+t and ctrl+click arrive with their modifier state. */
static void check_combos(void)
{
	const char *log;

	CHECK(guest("setsid stdbuf -oL xev -geometry 200x200+700+400 -event keyboard "
		    "-event button >/tmp/xev.log 2>&1 </dev/null & "
		    "timeout 30 xdotool search --sync --onlyvisible --name '^Event Tester$' >/dev/null") != NULL);
	/* xev's window is at 700,400 (the client area lies inside it). */
	CHECK(act("[{\"type\":\"click\",\"x\":800,\"y\":520}]"));
	CHECK(act("[{\"type\":\"key\",\"keys\":\"ctrl+shift+t\"},"
		  "{\"type\":\"click\",\"x\":800,\"y\":520,\"modifiers\":\"ctrl\"},"
		  "{\"type\":\"key\",\"keys\":[\"CTRL\",\"C\"]}]"));
	log = guest("sleep 0.5; grep -a -e keysym -e 'button ' -e ButtonPress /tmp/xev.log");
	CHECK(log && strstr(log, "state 0x5, keycode 28 (keysym 0x54, T)"));
	CHECK(log && strstr(log, "ButtonPress event") && strstr(log, "state 0x4, button 1"));
	CHECK(log && strstr(log, "state 0x4, keycode 54 (keysym 0x63, c)"));

	/*
	 * KP_0 and KP_7 need NumLock, which is turned on around them and off
	 * again (KP_Home); typing with Caps Lock on gives the text as written.
	 */
	CHECK(act("[{\"type\":\"key\",\"keys\":\"KP_0\"},{\"type\":\"key\",\"keys\":\"KP_7\"},"
		  "{\"type\":\"key\",\"keys\":\"KP_Home\"},{\"type\":\"key\",\"keys\":\"caps_lock\"},"
		  "{\"type\":\"type\",\"text\":\"qW\"},{\"type\":\"key\",\"keys\":\"caps_lock\"}]"));
	log = guest("sleep 0.5; grep -a -e keysym -e 'button ' -e ButtonPress /tmp/xev.log");
	CHECK(log && strstr(log, "keycode 90 (keysym 0xffb0, KP_0)"));
	CHECK(log && strstr(log, "keycode 79 (keysym 0xffb7, KP_7)"));
	CHECK(log && strstr(log, "keycode 79 (keysym 0xff95, KP_Home)"));
	CHECK(log && strstr(log, "(keysym 0x71, q)") && strstr(log, "(keysym 0x57, W)"));
	CHECK(log && !strstr(log, "(keysym 0x51, Q)") && !strstr(log, "(keysym 0x77, w)"));
	guest("pkill -x xev || true");
}

/* Refused whole: nothing of the batch runs, and the reason names the culprit. */
static void check_bad_batches(void)
{
	static const struct { const char *list, *says; } bad[] = {
		{ "[{\"type\":\"move\",\"x\":5,\"y\":5},{\"type\":\"jump\"}]", "unknown type 'jump'" },
		{ "[{\"type\":\"move\",\"x\":5,\"y\":5},{\"type\":\"key\",\"keys\":\"ctrl+foo\"}]", "foo" },
		{ "[{\"type\":\"move\",\"x\":5,\"y\":5},{\"type\":\"move\",\"x\":1280,\"y\":1}]", "outside" },
		{ "[{\"type\":\"click\",\"x\":5,\"y\":5,\"button\":\"fourth\"}]", "button" },
		{ "[{\"type\":\"type\",\"text\":\"a\\u0007b\"}]", "U+0007" },
		{ "[{\"type\":\"scroll\",\"direction\":\"sideways\"}]", "sideways" },
		{ "[]", "actions" },
	};
	int x0, y0, x1, y1;

	CHECK(act("[{\"type\":\"move\",\"x\":321,\"y\":123}]"));
	CHECK(pointer_at(&x0, &y0) && x0 == 321 && y0 == 123);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *line = actions(bad[i].list, NULL);

		CHECK(line && strstr(line, "\"ok\":false") && strstr(line, "EINVAL") &&
		      strstr(line, bad[i].says));
		if (line && !strstr(line, bad[i].says))
			fprintf(stderr, "%s: %s\n", bad[i].list, line);
		free(line);
	}
	CHECK(pointer_at(&x1, &y1) && x1 == 321 && y1 == 123);
}

/* --- VNC ------------------------------------------------------------------------- */

static void check_vnc_input(void)
{
	/* As a US viewer sends them: Shift held for '!' and '@'. */
	static const struct { uint32_t sym; bool shift; } keys[] = {
		{ XK_v, false }, { XK_n, false }, { XK_c, false }, { XK_space, false },
		{ XK_exclam, true }, { XK_at, true }, { XK_y, false }, { XK_z, false },
		{ XK_Return, false },
	};
	rfbClient *c;
	int x, y, gx = -1, gy = -1;
	const char *got;

	CHECK(open_xterm("vnc", "80x5+20+20", "head -n 1 > /tmp/vnc", &x, &y));
	c = viewer_connect("127.0.0.1", vnc_port, password, NULL, 0);
	if (!c) {
		CHECK(!"vnc viewer connects");
		return;
	}
	/*
	 * The guest's layout decides the keys: on de '@' is AltGr+q (Shift let
	 * go, AltGr pressed) and y and z trade places; on fr '!' has no Shift.
	 */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].shift)
			SendKeyEvent(c, XK_Shift_L, TRUE);
		SendKeyEvent(c, keys[i].sym, TRUE);
		SendKeyEvent(c, keys[i].sym, FALSE);
		if (keys[i].shift)
			SendKeyEvent(c, XK_Shift_L, FALSE);
	}
	got = read_typed("/tmp/vnc");
	CHECK(got && strcmp(got, "vnc !@yz\n") == 0);
	if (got && strcmp(got, "vnc !@yz\n"))
		fprintf(stderr, "vnc typed: %s", got);
	SendPointerEvent(c, 555, 444, 0);
	guest("sleep 0.3");
	CHECK(pointer_at(&gx, &gy) && gx == 555 && gy == 444);
	viewer_close(c);
}

int main(int argc, char **argv)
{
	const char *p, *layout;
	char want[64];

	if (argc != 4) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR LAYOUT\n", argv[0]);
		return 2;
	}
	layout = argv[3];
	char *extra[] = { "--keyboard-layout", (char *)layout, NULL };

	if (desktop_boot(&dt, argv[1], argv[2], "minimal.path", "1024", true, extra, 300) < 0) {
		CHECK(!"desktop ready");
		goto out;
	}
	CHECK(fdio_read_line(dt.pw_path, password, sizeof(password)) > 0);
	CHECK((vnc_port = control_vnc_port(ctl_path)) > 0);
	snprintf(want, sizeof(want), "layout:     %s", layout);
	p = guest("setxkbmap -query");
	CHECK(p && strstr(p, want));

	RUN(check_typing);
	RUN(check_unicode);
	RUN(check_vnc_input);
	if (strcmp(layout, "us") == 0) {
		RUN(check_bad_batches);
		RUN(check_pointer_exact);
		RUN(check_multi_click);
		RUN(check_scroll);
		RUN(check_combos);
	}

	guest_poweroff(vsock_path);
	CHECK(vm_wait(&dt.vm, 60) == 0);
	CHECK(strstr(dt.vm.err_buf, "virtio-input: ") && !strstr(dt.vm.err_buf, "needs reset"));
out:
	desktop_end(&dt, check_failed);
	return check_done();
}
