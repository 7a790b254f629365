/*
 * The VNC server against a real viewer (libvncclient) over loopback, no
 * guest: the password is required, the viewer's pixels equal the
 * framebuffer's (no cursor drawn in before the guest defines one, even for a
 * viewer without cursor shapes), an update sends only its rectangle, a
 * resize reaches the viewer, and the password file is made 0600 and refused
 * when others can read it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../check.h"
#include "framebuffer.h"
#include "screen.h"
#include "vnc.h"

static const char *password;
static int rects;
static long long area;

static char *get_password(rfbClient *c)
{
	(void)c;
	return strdup(password);
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	(void)c; (void)x; (void)y;
	rects++;
	area += (long long)w * h;
}

static rfbClient *viewer(int port, const char *pw)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	password = pw;
	c->GetPassword = get_password;
	c->GotFrameBufferUpdate = got_update;
	c->appData.encodingsString = "zrle raw";
	free(c->serverHost);
	c->serverHost = strdup("127.0.0.1");
	c->serverPort = port;
	return rfbInitClient(c, NULL, NULL) ? c : NULL;
}

static void drain(rfbClient *c, int quiet_ms)
{
	for (int idle = 0; idle < quiet_ms;) {
		int n = WaitForMessage(c, 20000);

		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return;
		idle = n > 0 ? 0 : idle + 20;
	}
}

static void close_viewer(rfbClient *c)
{
	free(c->frameBuffer);
	free(c->rcSource);
	free(c->rcMask);
	rfbClientCleanup(c);
}

/* Pixels differing between the viewer (R,G,B,X) and fb (B,G,R,X). */
static long differ(rfbClient *c, const struct framebuffer *fb)
{
	long bad = 0;

	if ((uint32_t)c->width != fb->width || (uint32_t)c->height != fb->height)
		return -1;
	for (size_t i = 0; i < (size_t)fb->width * fb->height; i++) {
		const uint8_t *v = (uint8_t *)c->frameBuffer + i * 4, *f = fb->pixels + i * 4;

		bad += v[0] != f[2] || v[1] != f[1] || v[2] != f[0];
	}
	return bad;
}

static void paint(struct framebuffer *fb, const struct fb_rect *r, uint32_t seed)
{
	for (uint32_t y = r->y; y < r->y + r->h; y++)
		for (uint32_t x = r->x; x < r->x + r->w; x++) {
			uint8_t *p = fb->pixels + (size_t)y * fb->stride + x * 4;

			p[0] = (uint8_t)(x * 3 + seed);
			p[1] = (uint8_t)(y * 5 + seed);
			p[2] = (uint8_t)((x ^ y) + seed);
			p[3] = 0xff;
		}
}

static void test_server(void)
{
	struct framebuffer *fb = fb_new(320, 200);
	struct vnc_options o = { .addr = "127.0.0.1", .port = 0, .password = "s3cret" };
	char err[256];
	struct vnc *v;
	rfbClient *c;

	paint(fb, &(struct fb_rect){ 0, 0, 320, 200 }, 0);
	v = vnc_new(fb, &o, NULL, err, sizeof(err));
	CHECK(v && vnc_port(v) > 0);
	if (!v)
		goto out;
	CHECK(viewer(vnc_port(v), "wrong") == NULL);
	c = viewer(vnc_port(v), "s3cret");
	CHECK(c != NULL);
	if (!c)
		goto out;
	drain(c, 300);
	CHECK(differ(c, fb) == 0);
	CHECK(vnc_clients(v) == 1);

	/* One rectangle changes: the viewer gets that much, and equal pixels. */
	rects = 0;
	area = 0;
	paint(fb, &(struct fb_rect){ 40, 30, 50, 20 }, 99);
	vnc_update(v, fb, &(struct fb_rect){ 40, 30, 50, 20 });
	drain(c, 300);
	CHECK(differ(c, fb) == 0);
	CHECK(rects >= 1 && area <= 50 * 20);

	/* A bigger screen reaches the viewer. */
	CHECK(fb_resize(fb, 640, 480) == 0);
	paint(fb, &(struct fb_rect){ 0, 0, 640, 480 }, 7);
	CHECK(vnc_resize(v, fb) == 0);
	drain(c, 500);
	CHECK(c->width == 640 && c->height == 480 && differ(c, fb) == 0);
	close_viewer(c);
out:
	vnc_free(v);
	fb_free(fb);
}

static int keys, pointers;

static void on_key(void *opaque, bool down, uint32_t keysym)
{
	(void)opaque; (void)down; (void)keysym;
	keys++;
}

static void on_pointer(void *opaque, int buttons, int x, int y)
{
	(void)opaque; (void)buttons; (void)x; (void)y;
	pointers++;
}

/* Two viewers at once; input reaches the hook unless the server is view-only. */
static void test_viewers_and_input(void)
{
	struct framebuffer *fb = fb_new(128, 96);
	const struct vnc_input in = { .key = on_key, .pointer = on_pointer };
	char err[256];

	for (int view_only = 0; view_only < 2; view_only++) {
		struct vnc_options o = { .addr = "127.0.0.1", .password = "pw", .view_only = view_only };
		struct vnc *v = vnc_new(fb, &o, &in, err, sizeof(err));
		rfbClient *a = v ? viewer(vnc_port(v), "pw") : NULL;
		rfbClient *b = v ? viewer(vnc_port(v), "pw") : NULL;

		CHECK(a && b);
		if (a && b) {
			drain(a, 200);
			drain(b, 200);
			CHECK(vnc_clients(v) == 2);
			keys = pointers = 0;
			SendKeyEvent(a, 0x61, TRUE);
			SendKeyEvent(a, 0x61, FALSE);
			SendPointerEvent(b, 10, 20, 1);
			drain(a, 300);
			drain(b, 300);
			CHECK(view_only ? keys == 0 && pointers == 0 : keys == 2 && pointers == 1);
		}
		if (a)
			close_viewer(a);
		if (b)
			close_viewer(b);
		vnc_free(v);
	}
	fb_free(fb);
}

/* noVNC's way in: a websocket upgrade on the same port. */
static void test_websocket(void)
{
	struct framebuffer *fb = fb_new(64, 64);
	struct vnc_options o = { .addr = "127.0.0.1", .password = "pw" };
	char err[256], reply[512] = "";
	struct vnc *v = vnc_new(fb, &o, NULL, err, sizeof(err));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char req[] = "GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
			   "Origin: http://127.0.0.1\r\n\r\n";
	struct timeval tv = { 5, 0 };
	ssize_t n;

	CHECK(v != NULL);
	if (v) {
		sa.sin_port = htons((uint16_t)vnc_port(v));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CHECK(write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
		n = read(fd, reply, sizeof(reply) - 1);
		reply[n > 0 ? n : 0] = '\0';
		CHECK(strstr(reply, "HTTP/1.1 101") && strstr(reply, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	}
	close(fd);
	vnc_free(v);
	fb_free(fb);
}

static void test_bad_options(void)
{
	struct framebuffer *fb = fb_new(64, 64);
	char err[256];
	struct vnc_options o = { .addr = "127.0.0.1", .password = "toolongpassword" };

	CHECK(vnc_new(fb, &o, NULL, err, sizeof(err)) == NULL && strstr(err, "1 to 8"));
	o = (struct vnc_options){ .addr = "localhost", .password = "pw" };
	CHECK(vnc_new(fb, &o, NULL, err, sizeof(err)) == NULL && strstr(err, "not an IPv4"));
	fb_free(fb);
}

static void test_password_file(void)
{
	char dir[] = "/tmp/cubicle-vncpw-XXXXXX", path[64], pw[VNC_PASSWORD_MAX + 1], again[9];
	char err[256];
	struct stat st;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	CHECK(screen_vnc_password(path, pw, err, sizeof(err)) == 0 && strlen(pw) == 8);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(screen_vnc_password(path, again, err, sizeof(err)) == 0 && strcmp(pw, again) == 0);
	chmod(path, 0644);
	CHECK(screen_vnc_password(path, again, err, sizeof(err)) == -EPERM && strstr(err, "chmod 600"));
	f = fopen(path, "w");
	fputs("muchtoolong\n", f);
	fclose(f);
	chmod(path, 0600);
	CHECK(screen_vnc_password(path, again, err, sizeof(err)) == -EINVAL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	rfbEnableClientLogging = FALSE;
	RUN(test_server);
	RUN(test_viewers_and_input);
	RUN(test_websocket);
	RUN(test_bad_options);
	RUN(test_password_file);
	return check_done();
}
