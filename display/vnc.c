#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "clock.h"

/*
 * The server's pixels live in one mapping sized for the largest screen
 * (FB_MAX_DIM squared); only the pages a mode draws become resident. A
 * resize then never moves or frees the buffer a viewer's thread may be
 * encoding from: the worst a racing thread sees is a torn frame, which the
 * next update repairs. Pixels are stored R, G, B, X, libvncserver's default
 * 32-bit format, which rfbNewFramebuffer() puts back on every resize.
 */
#define VNC_MAP_BYTES ((size_t)FB_MAX_DIM * FB_MAX_DIM * 4)

struct vnc {
	rfbScreenInfoPtr screen;
	uint8_t *buf;
	size_t used;                /* bytes of buf the current mode covers */
	char password[VNC_PASSWORD_MAX + 1];
	char view_password[VNC_PASSWORD_MAX + 1];
	char *passwords[3];         /* libvncserver's NULL-terminated list */
	struct vnc_input input;
	bool view_only;
	/* drop_viewers() waits on it; on_gone() signals it. */
	pthread_mutex_t viewers_lock;
	pthread_cond_t viewers_gone;
	/* Cursor state, only touched on the device loop's thread (and vnc_new). */
	rfbCursorPtr shape;         /* the guest's last cursor, from the cache */
	rfbCursorPtr hidden;        /* an empty 1x1 cursor, from the cache */
	bool cursor_visible;
	/*
	 * Every cursor handed to libvncserver, kept until vnc_free(): viewer
	 * threads send screen->cursor without its lock, so a replaced cursor
	 * must stay valid. Guests reuse a few shapes; beyond the cap the shape
	 * stops changing.
	 */
	struct cached_cursor {
		rfbCursorPtr c;
		uint32_t w, h, hot_x, hot_y;
		uint8_t pixels[64 * 64 * 4];
	} *cursors;
	unsigned int ncursors;
};

#define VNC_MAX_CURSORS 128

static void apply_cursor(struct vnc *v);
static void release(struct vnc *v);
static void free_cursor(rfbCursorPtr c);
static rfbCursorPtr cursor_for(struct vnc *v, const uint8_t *bgra, uint32_t w, uint32_t h,
			       uint32_t hot_x, uint32_t hot_y);

static void vnc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("cubicle-vmm: vnc: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Copies rectangle r of fb into the server's buffer, B,G,R,X to R,G,B,X. */
static void copy_rect(struct vnc *v, const struct framebuffer *fb, const struct fb_rect *r)
{
	for (uint32_t y = r->y; y < r->y + r->h; y++) {
		const uint32_t *src = (const uint32_t *)(fb->pixels + (size_t)y * fb->stride) + r->x;
		uint32_t *dst = (uint32_t *)(v->buf + (size_t)y * fb->width * 4) + r->x;

		for (uint32_t x = 0; x < r->w; x++) {
			uint32_t p = src[x];

			dst[x] = (p & 0x0000ff00u) | (p >> 16 & 0xffu) | (p & 0xffu) << 16;
		}
	}
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	/* libvncserver passes no input of a view-only viewer; this is the second lock. */
	if (!cl->viewOnly && v->input.key)
		v->input.key(v->input.opaque, down, (uint32_t)keysym);
}

static void on_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	if (cl->viewOnly)
		return;
	if (v->input.pointer)
		v->input.pointer(v->input.opaque, buttons, x, y);
	/* Moves the cursor libvncserver draws for viewers without cursor shapes. */
	rfbDefaultPtrAddEvent(buttons, x, y, cl);
}

/* libvncserver's chatter (per-viewer statistics) is dropped; errors are kept. */
static void vnc_quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void on_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	vnc_log("viewer %s left\n", cl->host ? cl->host : "?");
	if (!cl->viewOnly && v->input.gone)
		v->input.gone(v->input.opaque);
	pthread_mutex_lock(&v->viewers_lock);
	pthread_cond_broadcast(&v->viewers_gone);
	pthread_mutex_unlock(&v->viewers_lock);
}

static enum rfbNewClientAction on_client(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	cl->viewOnly = v->view_only;
	cl->clientGoneHook = on_gone;
	vnc_log("viewer %s connected%s\n", cl->host ? cl->host : "?",
		v->view_only ? " (view only)" : "");
	return RFB_CLIENT_ACCEPT;
}

/* A port the system picks as free on addr now; 0 if none. */
static int free_port(struct in_addr addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Frees what vnc_new() made once the server threads are gone (or never ran). */
static void release(struct vnc *v)
{
	if (v->screen) {
		v->screen->cursor = NULL;   /* ours, freed below */
		rfbScreenCleanup(v->screen);
	}
	for (unsigned int i = 0; i < v->ncursors; i++)
		free_cursor(v->cursors[i].c);
	free(v->cursors);
	if (v->buf)
		munmap(v->buf, VNC_MAP_BYTES);
	pthread_cond_destroy(&v->viewers_gone);
	pthread_mutex_destroy(&v->viewers_lock);
	free(v);
}

int vnc_random_password(char out[VNC_PASSWORD_MAX + 1])
{
	static const char set[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t rnd[VNC_PASSWORD_MAX];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	/* 56 symbols: the modulo bias is under 2 %, fine for 47 bits. */
	for (int i = 0; i < VNC_PASSWORD_MAX; i++)
		out[i] = set[rnd[i] % (sizeof(set) - 1)];
	out[VNC_PASSWORD_MAX] = '\0';
	return 0;
}

struct vnc *vnc_new(const struct framebuffer *fb, const struct vnc_options *o,
		    const struct vnc_input *input, char *err, size_t errlen)
{
	int argc = 1;
	char *argv[] = { "cubicle-vmm", NULL };
	struct in_addr addr;
	struct vnc *v;

	if (!o->password || !*o->password || strlen(o->password) > VNC_PASSWORD_MAX ||
	    (o->view_password && (!*o->view_password ||
				  strlen(o->view_password) > VNC_PASSWORD_MAX))) {
		snprintf(err, errlen, "vnc: want a password of 1 to %d characters", VNC_PASSWORD_MAX);
		return NULL;
	}
	/* The list's first match decides: the same word twice would give control. */
	if (o->view_password && strcmp(o->password, o->view_password) == 0) {
		snprintf(err, errlen, "vnc: the view-only password must differ from the password");
		return NULL;
	}
	if (inet_pton(AF_INET, o->addr, &addr) != 1) {
		snprintf(err, errlen, "vnc: '%s' is not an IPv4 address", o->addr);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "vnc: %s", strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&v->viewers_lock, NULL);
	clk_cond_init(&v->viewers_gone);
	v->buf = mmap(NULL, VNC_MAP_BYTES, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->buf == MAP_FAILED) {
		snprintf(err, errlen, "vnc: cannot map the screen: %s", strerror(errno));
		v->buf = NULL;
		release(v);
		return NULL;
	}
	v->cursors = calloc(VNC_MAX_CURSORS, sizeof(*v->cursors));
	if (!v->cursors) {
		snprintf(err, errlen, "vnc: %s", strerror(ENOMEM));
		release(v);
		return NULL;
	}
	snprintf(v->password, sizeof(v->password), "%s", o->password);
	v->passwords[0] = v->password;
	if (o->view_password) {
		snprintf(v->view_password, sizeof(v->view_password), "%s", o->view_password);
		v->passwords[1] = v->view_password;
	}
	v->view_only = o->view_only;
	if (input)
		v->input = *input;
	v->used = (size_t)fb->width * fb->height * 4;
	copy_rect(v, fb, &(struct fb_rect){ 0, 0, fb->width, fb->height });

	rfbLog = vnc_quiet;
	rfbErr = vnc_log;
	v->screen = rfbGetScreen(&argc, argv, (int)fb->width, (int)fb->height, 8, 3, 4);
	if (!v->screen) {
		snprintf(err, errlen, "vnc: libvncserver could not make a screen");
		goto out_release;
	}
	v->screen->screenData = v;
	v->screen->desktopName = "Cubicle";
	v->screen->frameBuffer = (char *)v->buf;
	v->screen->alwaysShared = TRUE;
	v->screen->listenInterface = addr.s_addr;
	/* Not libvncserver's autoPort: it would also listen on every IPv6 address. */
	v->screen->port = o->port ? o->port : free_port(addr);
	v->screen->ipv6port = 0;
	v->screen->httpPort = 0;
	v->screen->authPasswdData = v->passwords;
	v->screen->authPasswdFirstViewOnly = 1;     /* view_password, when there is one */
	v->screen->passwordCheck = rfbCheckPasswordByList;
	v->screen->kbdAddEvent = on_key;
	v->screen->ptrAddEvent = on_pointer;
	v->screen->newClientHook = on_client;
	v->screen->deferUpdateTime = 0;  /* frames already come at the guest's pace */
	/* No cursor until the guest defines one (not libvncserver's arrow). */
	v->hidden = cursor_for(v, (const uint8_t[4]){ 0 }, 1, 1, 0, 0);
	apply_cursor(v);
	rfbInitServer(v->screen);
	if (v->screen->listenSock == RFB_INVALID_SOCKET) {
		snprintf(err, errlen, "vnc: cannot listen on %s:%d", o->addr, o->port);
		goto out_release;
	}
	rfbRunEventLoop(v->screen, -1, TRUE);
	return v;

out_release:
	release(v);
	return NULL;
}

/*
 * Ends every viewer's connection and waits (up to 2 s) for their threads to
 * let go of them: rfbShutdownServer() walks viewers while their threads free
 * them, which can crash when a viewer is leaving at that moment.
 */
static void drop_viewers(struct vnc *v)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	rfbClientPtr cl;
	int64_t end = clk_mono_ms() + 2000;

	while ((cl = rfbClientIteratorNext(it)))
		if (cl->sock != RFB_INVALID_SOCKET)
			shutdown(cl->sock, SHUT_RDWR);
	rfbReleaseClientIterator(it);
	/*
	 * Until libvncserver's list of viewers is empty: each viewer's thread
	 * says it is gone through on_gone, which wakes us. A viewer still being
	 * made (its handshake failing) never had our hook, so the list is also
	 * looked at again every 10 ms: a timed pace, as nothing tells of it.
	 */
	while (vnc_clients(v) > 0 && clk_mono_ms() < end) {
		/* Not held while counting: libvncserver may call on_gone under its list lock. */
		struct timespec until = clk_mono_after(10);

		pthread_mutex_lock(&v->viewers_lock);
		pthread_cond_timedwait(&v->viewers_gone, &v->viewers_lock, &until);
		pthread_mutex_unlock(&v->viewers_lock);
	}
}

void vnc_free(struct vnc *v)
{
	if (!v)
		return;
	drop_viewers(v);
	rfbShutdownServer(v->screen, TRUE);
	release(v);
}

int vnc_port(const struct vnc *v)
{
	return v->screen->port;
}

int vnc_clients(struct vnc *v)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	int n = 0;

	while (rfbClientIteratorNext(it))
		n++;
	rfbReleaseClientIterator(it);
	return n;
}

void vnc_update(struct vnc *v, const struct framebuffer *fb, const struct fb_rect *r)
{
	struct fb_rect c = *r;

	if (fb->width != (uint32_t)v->screen->width || fb->height != (uint32_t)v->screen->height ||
	    !fb_clip(fb, &c))
		return;
	copy_rect(v, fb, &c);
	rfbMarkRectAsModified(v->screen, (int)c.x, (int)c.y, (int)(c.x + c.w), (int)(c.y + c.h));
}

int vnc_resize(struct vnc *v, const struct framebuffer *fb)
{
	size_t used = (size_t)fb->width * fb->height * 4;

	if (used > VNC_MAP_BYTES)
		return -ENOMEM;
	copy_rect(v, fb, &(struct fb_rect){ 0, 0, fb->width, fb->height });
	/* A smaller mode gives back the pages only the bigger one drew. */
	if (used < v->used) {
		size_t from = (used + 4095) & ~(size_t)4095;

		if (from < v->used)
			madvise(v->buf + from, v->used - from, MADV_DONTNEED);
	}
	v->used = used;
	rfbNewFramebuffer(v->screen, (char *)v->buf, (int)fb->width, (int)fb->height, 8, 3, 4);
	return 0;
}

/*
 * Builds a libvncserver cursor from a B, G, R, A image: the rich source in
 * the server's format, a mask where alpha is at least half, and the
 * two-colour version for viewers that want X cursors.
 */
static rfbCursorPtr make_cursor(struct vnc *v, const uint8_t *bgra, uint32_t w, uint32_t h,
				uint32_t hot_x, uint32_t hot_y)
{
	rfbCursorPtr c = calloc(1, sizeof(*c));
	uint32_t row = (w + 7) / 8;

	if (!c)
		return NULL;
	c->width = (unsigned short)w;
	c->height = (unsigned short)h;
	c->xhot = (unsigned short)hot_x;
	c->yhot = (unsigned short)hot_y;
	c->richSource = calloc((size_t)w * h, 4);
	c->mask = calloc((size_t)row * h, 1);
	if (!c->richSource || !c->mask) {
		free(c->richSource);
		free(c->mask);
		free(c);
		return NULL;
	}
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = bgra + ((size_t)y * w + x) * 4;
			uint8_t *d = c->richSource + ((size_t)y * w + x) * 4;

			d[0] = p[2];
			d[1] = p[1];
			d[2] = p[0];
			if (p[3] >= 0x80)
				c->mask[y * row + x / 8] |= (uint8_t)(0x80 >> (x % 8));
		}
	}
	c->cleanup = FALSE;         /* ours: see struct vnc */
	c->foreRed = c->foreGreen = c->foreBlue = 0xffff;
	rfbMakeXCursorFromRichCursor(v->screen, c);
	return c;
}

/* The cached cursor for this image, made and cached if new; NULL if full. */
static rfbCursorPtr cursor_for(struct vnc *v, const uint8_t *bgra, uint32_t w, uint32_t h,
			       uint32_t hot_x, uint32_t hot_y)
{
	size_t len = (size_t)w * h * 4;
	struct cached_cursor *k;

	for (unsigned int i = 0; i < v->ncursors; i++) {
		k = &v->cursors[i];
		if (k->w == w && k->h == h && k->hot_x == hot_x && k->hot_y == hot_y &&
		    memcmp(k->pixels, bgra, len) == 0)
			return k->c;
	}
	if (v->ncursors == VNC_MAX_CURSORS)
		return NULL;
	k = &v->cursors[v->ncursors];
	k->c = make_cursor(v, bgra, w, h, hot_x, hot_y);
	if (!k->c)
		return NULL;
	k->w = w;
	k->h = h;
	k->hot_x = hot_x;
	k->hot_y = hot_y;
	memcpy(k->pixels, bgra, len);
	v->ncursors++;
	return k->c;
}

static void free_cursor(rfbCursorPtr c)
{
	free(c->source);
	free(c->mask);
	free(c->richSource);
	free(c);
}

/* Shows the guest's cursor, or the empty one while the guest hides it. */
static void apply_cursor(struct vnc *v)
{
	rfbCursorPtr c = v->cursor_visible && v->shape ? v->shape : v->hidden;

	if (c && c != v->screen->cursor)
		rfbSetCursor(v->screen, c);
}

void vnc_set_cursor(struct vnc *v, const uint8_t *bgra, uint32_t w, uint32_t h,
		    uint32_t hot_x, uint32_t hot_y)
{
	rfbCursorPtr c;

	if (w == 0 || h == 0 || w > 64 || h > 64)
		return;
	c = cursor_for(v, bgra, w, h, hot_x < w ? hot_x : 0, hot_y < h ? hot_y : 0);
	if (c)                      /* a full cache keeps the last shape */
		v->shape = c;
	v->cursor_visible = true;
	apply_cursor(v);
}

void vnc_move_cursor(struct vnc *v, uint32_t x, uint32_t y, bool visible)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	if (visible != v->cursor_visible) {
		v->cursor_visible = visible;
		apply_cursor(v);
	}
	if (x >= (uint32_t)v->screen->width || y >= (uint32_t)v->screen->height)
		return;
	pthread_mutex_lock(&v->screen->cursorMutex);
	v->screen->cursorX = (int)x;
	v->screen->cursorY = (int)y;
	pthread_mutex_unlock(&v->screen->cursorMutex);
	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)))
		cl->cursorWasMoved = TRUE;
	rfbReleaseClientIterator(it);
}
