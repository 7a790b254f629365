#include "viewer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* What the callbacks need, kept with the client under the address of tag. */
struct viewer_state {
	char *password;
	long long pixels;
};

static const int tag;

static struct viewer_state *state_of(rfbClient *c)
{
	return rfbClientGetClientData(c, (void *)&tag);
}

static char *give_password(rfbClient *c)
{
	struct viewer_state *s = state_of(c);

	return strdup(s && s->password ? s->password : "");
}

static void count_pixels(rfbClient *c, int x, int y, int w, int h)
{
	struct viewer_state *s = state_of(c);

	(void)x; (void)y;
	if (s)
		s->pixels += (long long)w * h;
}

rfbClient *viewer_connect(const char *host, int port, const char *password,
			  const char *encodings, unsigned int flags)
{
	struct viewer_state *s = calloc(1, sizeof(*s));
	rfbClient *c = s ? rfbGetClient(8, 3, 4) : NULL;

	if (!c) {
		free(s);
		return NULL;
	}
	if (flags & VIEWER_QUIET)
		rfbEnableClientLogging = FALSE;
	s->password = strdup(password ? password : "");
	rfbClientSetClientData(c, (void *)&tag, s);
	c->GetPassword = give_password;
	c->GotFrameBufferUpdate = count_pixels;
	if (encodings)
		c->appData.encodingsString = encodings;
	if (flags & VIEWER_LOSSLESS)
		c->appData.enableJPEG = FALSE;
	if (flags & VIEWER_REMOTE_CURSOR)
		c->appData.useRemoteCursor = TRUE;
	free(c->serverHost);
	c->serverHost = strdup(host);
	c->serverPort = port;
	if (!rfbInitClient(c, NULL, NULL)) {     /* it freed c */
		free(s->password);
		free(s);
		return NULL;
	}
	return c;
}

long long viewer_pixels(rfbClient *c)
{
	struct viewer_state *s = state_of(c);

	return s ? s->pixels : 0;
}

void viewer_reset_pixels(rfbClient *c)
{
	struct viewer_state *s = state_of(c);

	if (s)
		s->pixels = 0;
}

int viewer_pump(rfbClient *c, int timeout_ms)
{
	/* Bytes libvncclient has read already are no event on the socket. */
	if (c->buffered == 0) {
		int r = WaitForMessage(c, (unsigned int)timeout_ms * 1000u);

		if (r <= 0)
			return r < 0 ? -1 : 0;
	}
	return HandleRFBServerMessage(c) ? 1 : -1;
}

int viewer_whole_frame(rfbClient *c, int stall_ms, int total_ms)
{
	int64_t end = clk_mono_ms() + total_ms;
	long long frame = (long long)c->width * c->height;

	viewer_reset_pixels(c);
	while (viewer_pixels(c) < frame) {
		int wait = stall_ms;

		if (total_ms >= 0) {
			int64_t left = end - clk_mono_ms();

			if (left <= 0)
				return -1;
			if (left < wait)
				wait = (int)left;
		}
		int r = viewer_pump(c, wait);

		/* A wait cut short by total_ms ends at the check above. */
		if (r < 0 || (r == 0 && wait == stall_ms))
			return -1;
	}
	return 0;
}

void viewer_close(rfbClient *c)
{
	struct viewer_state *s;

	if (!c)
		return;
	s = state_of(c);
	free(c->frameBuffer);
	free(c->rcSource);
	free(c->rcMask);
	rfbClientCleanup(c);
	if (s)
		free(s->password);
	free(s);
}
