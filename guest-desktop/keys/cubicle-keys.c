/*
 * cubicle-keys: maps keys of the guest's X keyboard, all in one request.
 *
 * The host types characters its layout lacks on keys the layout leaves
 * empty (vmm/keys.c), and runs this, through the agent, to give those keys
 * the keysyms it needs next. One XkbSetMap for every key named means X tells
 * its clients of one change, once; xmodmap would send one request (and one
 * MappingNotify) per key, and a client refreshing its map between them may
 * read keys typed earlier with a map half old, half new.
 *
 * Before the map changes, the program that has the keyboard focus is
 * made to show it has looked up every key event sent to it so far: X has
 * taken them all (the host proved it, by the LED round trip, before
 * running this), but a client looks its events up later, in a map it may
 * fetch anew meanwhile, so a key rewritten under events it still holds
 * would type the new character. The proof is _NET_WM_PING (EWMH): sent to
 * the focused window after those key events, it is answered only once the
 * client has handled everything before it. GTK, Qt and Firefox answer; a
 * client that does not (xterm, Xt and Motif programs) gets --rest MS of
 * waiting instead, the host's reckoning of how long since the keys were
 * last pressed.
 *
 * Each key gets one keysym (one level: Shift types it too), two (two
 * levels: the second with Shift) or up to four (the keymap's FOUR_LEVEL
 * type: then with AltGr, and with Shift+AltGr). Keysyms are numbers, as X
 * names them (0x1000000 + U for a Unicode character), so any character can
 * be named.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/XKBlib.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>

#define MAX_KEYS 256
#define PING_WAIT_MS 3000   /* for the focused client to answer */

struct want {
	unsigned int code;          /* X keycode */
	KeySym syms[4];
	int nsyms;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cubicle-keys [--display NAME] [--rest MS] KEYCODE=KEYSYM[,KEYSYM]... ...\n"
		   "Maps each X keycode (8-255) to one keysym, two (the second with Shift) or\n"
		   "up to four (then AltGr, Shift+AltGr: the FOUR_LEVEL type), all in one\n"
		   "request to the X server. Keysyms are numbers (0x1000000 + U for a Unicode\n"
		   "character U). First the focused window is pinged (_NET_WM_PING) to show\n"
		   "its client handled every key sent before; one that cannot answer gets\n"
		   "--rest MS (0 to 10000, default 0) of waiting instead. Says 'proof: ping' or\n"
		   "'proof: rest' and exits 0 once the server has the new map.\n");
}

static int number(const char *s, char **end, unsigned long max, unsigned long *out)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 0);
	if (errno || *end == s || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "CODE=SYM[,SYM]" into w; 0, or -1 with the reason said. */
static int parse(const char *arg, struct want *w)
{
	unsigned long v;
	char *end;

	if (number(arg, &end, 255, &v) < 0 || v < 8 || *end != '=')
		goto bad;
	w->code = (unsigned int)v;
	w->nsyms = 0;
	do {
		if (number(end + 1, &end, 0x1fffffffUL, &v) < 0 || !v)
			goto bad;
		w->syms[w->nsyms++] = (KeySym)v;
	} while (*end == ',' && w->nsyms < 4);
	if (*end)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "cubicle-keys: '%s' is not KEYCODE=KEYSYM[,KEYSYM]... (keycode 8-255, "
			"one to four keysyms, non-zero numbers)\n", arg);
	return -1;
}

/* Whether window w says it answers _NET_WM_PING. */
static int pings(Display *dpy, Window w, Atom ping)
{
	Atom *protos = NULL;
	int n = 0, yes = 0;

	if (XGetWMProtocols(dpy, w, &protos, &n)) {
		for (int i = 0; i < n; i++)
			yes |= protos[i] == ping;
		XFree(protos);
	}
	return yes;
}

static int ignore_errors(Display *dpy, XErrorEvent *e)
{
	(void)dpy;
	(void)e;
	return 0;
}

/*
 * Pings the window with the keyboard focus, or its nearest ancestor that
 * answers pings, and waits (up to PING_WAIT_MS) for the answer; whether it
 * came. The client answers from its event loop, after every event queued
 * to it before the ping: so after every key event X took before this.
 */
static int ping_focus(Display *dpy)
{
	Atom ping = XInternAtom(dpy, "_NET_WM_PING", False), proto = XInternAtom(dpy, "WM_PROTOCOLS", False);
	Window root = DefaultRootWindow(dpy), w, parent, *kids;
	unsigned int nkids;
	int revert, found = 0;
	XEvent ev;
	long stamp = (long)getpid() << 8 | 0x5a;
	struct pollfd pfd = { .fd = ConnectionNumber(dpy), .events = POLLIN };
	int left = PING_WAIT_MS;

	XSetErrorHandler(ignore_errors);    /* the window may go meanwhile */
	XGetInputFocus(dpy, &w, &revert);
	while (w != None && w != PointerRoot && w != root && !(found = pings(dpy, w, ping))) {
		if (!XQueryTree(dpy, w, &root, &parent, &kids, &nkids))
			break;
		if (kids)
			XFree(kids);
		w = parent;
	}
	if (!found)
		return 0;
	XSelectInput(dpy, root, SubstructureNotifyMask);
	memset(&ev, 0, sizeof(ev));
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = proto;
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)ping;
	ev.xclient.data.l[1] = stamp;
	ev.xclient.data.l[2] = (long)w;
	XSendEvent(dpy, w, False, NoEventMask, &ev);
	XFlush(dpy);
	while (left > 0) {
		while (XPending(dpy)) {
			XNextEvent(dpy, &ev);
			if (ev.type == ClientMessage && ev.xclient.message_type == proto &&
			    (Atom)ev.xclient.data.l[0] == ping && ev.xclient.data.l[1] == stamp)
				return 1;
		}
		if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
			return 0;
		left -= 50;
	}
	return 0;
}

/* The keymap's type named name, or -1. */
static int type_named(Display *dpy, XkbDescPtr xkb, const char *name)
{
	Atom want = XInternAtom(dpy, name, True);

	/* XkbGetMap leaves the types unnamed; their names come apart. */
	if (XkbGetNames(dpy, XkbKeyTypeNamesMask, xkb) != Success)
		return -1;

	for (int t = 0; want != None && t < xkb->map->num_types; t++)
		if (xkb->map->types[t].name == want)
			return t;
	return -1;
}

static int set_keys(Display *dpy, const struct want *w, int n)
{
	/* Actions too: giving a key more levels resizes its actions, which must be there. */
	XkbDescPtr xkb = XkbGetMap(dpy, XkbKeyTypesMask | XkbKeySymsMask | XkbKeyActionsMask,
				   XkbUseCoreKbd);
	XkbMapChangesRec changes;
	int lo = 255, hi = 0;

	if (!xkb) {
		fprintf(stderr, "cubicle-keys: the server gave no keyboard map\n");
		return -1;
	}
	memset(&changes, 0, sizeof(changes));
	for (int i = 0; i < n; i++) {
		int type = w[i].nsyms == 1 ? XkbOneLevelIndex :
			   w[i].nsyms == 2 ? XkbTwoLevelIndex : type_named(dpy, xkb, "FOUR_LEVEL");
		KeySym *syms;

		if (w[i].code < xkb->min_key_code || w[i].code > xkb->max_key_code) {
			fprintf(stderr, "cubicle-keys: keycode %u is outside the server's %d-%d\n",
				w[i].code, xkb->min_key_code, xkb->max_key_code);
			goto fail;
		}
		if (type < 0) {
			fprintf(stderr, "cubicle-keys: the keymap has no FOUR_LEVEL type for keycode "
				"%u's %d keysyms\n", w[i].code, w[i].nsyms);
			goto fail;
		}
		if (XkbChangeTypesOfKey(xkb, (int)w[i].code, 1, XkbGroup1Mask, &type, &changes)) {
			fprintf(stderr, "cubicle-keys: keycode %u could not take %d levels\n",
				w[i].code, w[i].nsyms);
			goto fail;
		}
		/* A FOUR_LEVEL key has four keysyms; the ones not named type nothing. */
		syms = XkbResizeKeySyms(xkb, (int)w[i].code, w[i].nsyms > 2 ? 4 : w[i].nsyms);
		if (!syms) {
			fprintf(stderr, "cubicle-keys: out of memory\n");
			goto fail;
		}
		for (int j = 0; j < (w[i].nsyms > 2 ? 4 : w[i].nsyms); j++)
			syms[j] = j < w[i].nsyms ? w[i].syms[j] : NoSymbol;
		lo = (int)w[i].code < lo ? (int)w[i].code : lo;
		hi = (int)w[i].code > hi ? (int)w[i].code : hi;
	}
	/* One request for the span of keys named (keys between them are sent as they are). */
	changes.changed |= XkbKeySymsMask;
	changes.first_key_sym = (KeyCode)lo;
	changes.num_key_syms = (unsigned char)(hi - lo + 1);
	if (!XkbChangeMap(dpy, xkb, &changes)) {
		fprintf(stderr, "cubicle-keys: the server refused the new map\n");
		goto fail;
	}
	XSync(dpy, False);      /* the server has it (and said so to its clients) */
	XkbFreeKeyboard(xkb, 0, True);
	return 0;
fail:
	XkbFreeKeyboard(xkb, 0, True);
	return -1;
}

int main(int argc, char **argv)
{
	static struct want w[MAX_KEYS];
	const char *name = NULL;
	int major = XkbMajorVersion, minor = XkbMinorVersion, n = 0, ret;
	long rest = 0;
	Display *dpy;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--display") && i + 1 < argc) {
			name = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--rest") && i + 1 < argc) {
			char *end;

			rest = strtol(argv[++i], &end, 10);
			if (*end || end == argv[i] || rest < 0 || rest > 10000) {
				fprintf(stderr, "cubicle-keys: --rest takes 0 to 10000 ms, not '%s'\n",
					argv[i]);
				return 2;
			}
			continue;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "cubicle-keys: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		if (n == MAX_KEYS) {
			fprintf(stderr, "cubicle-keys: at most %d keys at once\n", MAX_KEYS);
			return 2;
		}
		if (parse(argv[i], &w[n++]) < 0)
			return 2;
	}
	if (!n) {
		usage(stderr);
		return 2;
	}
	dpy = XkbOpenDisplay(name, NULL, NULL, &major, &minor, &ret);
	if (!dpy) {
		fprintf(stderr, "cubicle-keys: cannot open display '%s' (XKB: %d)\n",
			name ? name : getenv("DISPLAY") ? getenv("DISPLAY") : "", ret);
		return 1;
	}
	if (ping_focus(dpy)) {
		puts("proof: ping");
	} else {
		poll(NULL, 0, (int)rest);
		puts("proof: rest");
	}
	XSetErrorHandler(NULL);
	ret = set_keys(dpy, w, n);
	XCloseDisplay(dpy);
	return ret < 0 ? 1 : 0;
}
