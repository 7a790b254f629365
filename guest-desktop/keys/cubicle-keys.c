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
 * client has handled everything before it. GTK, Qt and Firefox answer. A
 * client that does not (xterm, Xt and Motif programs) is watched instead
 * until it is seen idle: every thread waiting for events, nothing unread
 * on its X connection, and it did not run while the server answered two
 * round trips of ours (so it was not waiting for a reply either). An event
 * loop only waits once it has handled every event it read, so that proves
 * it too. Only when neither can be had (the client named no _NET_WM_PID,
 * or never went idle in PROOF_WAIT_MS) does --rest MS of waiting stand in,
 * the host's reckoning of how long since the keys were last pressed.
 *
 * Each key gets one keysym (one level: Shift types it too), two (two
 * levels: the second with Shift) or up to four (the keymap's FOUR_LEVEL
 * type: then with AltGr, and with Shift+AltGr). Keysyms are numbers, as X
 * names them (0x1000000 + U for a Unicode character), so any character can
 * be named.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <X11/XKBlib.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>

#define MAX_KEYS 256
#define PING_WAIT_MS 3000   /* for the focused client to answer */
#define PROOF_WAIT_MS 8000  /* for either proof, all told (the host waits 10 s for us) */
#define IDLE_STEP_MS 10
#define MAX_XFDS 4          /* X connections of one client looked at */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

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
		   "its client handled every key sent before; one that cannot answer is\n"
		   "watched until it is idle (waiting for events, its X connection read);\n"
		   "failing both, --rest MS (0 to 10000, default 0) of waiting. Says 'proof:\n"
		   "ping', 'proof: idle' or 'proof: rest' and exits 0 once the server has the\n"
		   "new map.\n");
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

static int64_t clk_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	int64_t deadline;

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
	for (deadline = clk_ms() + PING_WAIT_MS; clk_ms() < deadline;) {
		while (XPending(dpy)) {
			XNextEvent(dpy, &ev);
			if (ev.type == ClientMessage && ev.xclient.message_type == proto &&
			    (Atom)ev.xclient.data.l[0] == ping && ev.xclient.data.l[1] == stamp)
				return 1;
		}
		if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
			return 0;
	}
	return 0;
}

/* --- the idle proof, for clients that do not answer pings ------------------ */

/* The pid the focused window's client named (_NET_WM_PID, on it or an ancestor), or 0. */
static pid_t focus_pid(Display *dpy)
{
	Atom prop = XInternAtom(dpy, "_NET_WM_PID", False), type;
	Window root = DefaultRootWindow(dpy), w, parent, *kids;
	unsigned long n, after;
	unsigned char *data;
	unsigned int nkids;
	int revert, format;
	pid_t pid = 0;

	XGetInputFocus(dpy, &w, &revert);
	while (!pid && w != None && w != PointerRoot && w != root) {
		data = NULL;
		if (XGetWindowProperty(dpy, w, prop, 0, 1, False, XA_CARDINAL, &type, &format, &n,
				       &after, &data) == Success && data && type == XA_CARDINAL &&
		    format == 32 && n == 1 && *(unsigned long *)data <= INT_MAX)
			pid = (pid_t)*(unsigned long *)data;
		if (data)
			XFree(data);
		if (pid || !XQueryTree(dpy, w, &root, &parent, &kids, &nkids))
			break;
		if (kids)
			XFree(kids);
		w = parent;
	}
	return pid;
}

/*
 * Copies (pidfd_getfd) of the client's sockets connected to an X server,
 * at most max, into fds; how many.
 */
static int x_sockets(pid_t pid, int pidfd, int *fds, int max)
{
	char dir[64], path[PATH_MAX], link[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (n < max && (e = readdir(d))) {
		struct sockaddr_un a;
		socklen_t len = sizeof(a);
		ssize_t m;
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int copy;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (*end || end == e->d_name || (m = readlink(path, link, sizeof(link) - 1)) < 0)
			continue;
		link[m] = '\0';
		if (strncmp(link, "socket:", 7))
			continue;
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
		if (copy < 0)
			continue;
		memset(&a, 0, sizeof(a));
		/* The server's name, on the path or abstract: /tmp/.X11-unix/XN. */
		if (getpeername(copy, (struct sockaddr *)&a, &len) == 0 && a.sun_family == AF_UNIX &&
		    len > sizeof(a.sun_family) + 1 && len <= sizeof(a) &&
		    memmem(a.sun_path, len - sizeof(a.sun_family), "/.X11-unix/X", 12))
			fds[n++] = copy;
		else
			close(copy);
	}
	closedir(d);
	return n;
}

/* Bytes the server sent on fds that the client has not read; -1 if unknown. */
static long unread(const int *fds, int n)
{
	long total = 0;

	for (int i = 0; i < n; i++) {
		int q;

		if (ioctl(fds[i], SIOCINQ, &q) < 0)
			return -1;
		total += q;
	}
	return total;
}

/* Whether syscall nr waits for events (an event loop's wait). */
static bool waits_for_events(long nr)
{
	switch (nr) {
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
	case SYS_ppoll:
	case SYS_pselect6:
	case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return true;
	default:
		return false;
	}
}

struct snap {
	unsigned long switches;     /* context switches of all its threads */
	unsigned int threads;
	bool idle;                  /* each thread waits for events or on a futex, one for events */
};

/*
 * One thread's context switches and what it waits in: 1 events, 0 a futex,
 * -1 anything else (or it is gone), -2 when /proc will not say (not ours).
 */
static int thread_state(const char *task, unsigned long *switches)
{
	char path[PATH_MAX + 16], line[256];
	long nr;
	FILE *f;
	int state = -1;

	*switches = 0;
	snprintf(path, sizeof(path), "%s/syscall", task);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -1 : -2;
	/* "NR ARGS... SP PC" while in a system call; "running", or -1 outside one. */
	if (fgets(line, sizeof(line), f) && sscanf(line, "%ld", &nr) == 1 && nr >= 0)
		state = waits_for_events(nr) ? 1 : nr == SYS_futex ? 0 : -1;
	fclose(f);
	snprintf(path, sizeof(path), "%s/status", task);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;

		if (sscanf(line, "voluntary_ctxt_switches: %lu", &v) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %lu", &v) == 1)
			*switches += v;
	}
	fclose(f);
	return state;
}

/* What pid's threads are doing, into s; -1 if it is gone or /proc will not say. */
static int snapshot(pid_t pid, struct snap *s)
{
	char dir[64], task[PATH_MAX];
	struct dirent *e;
	bool events = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	*s = (struct snap){ .idle = true };
	while ((e = readdir(d))) {
		unsigned long sw;
		int st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(task, sizeof(task), "%s/%s", dir, e->d_name);
		st = thread_state(task, &sw);
		if (st == -2) {
			closedir(d);
			return -1;
		}
		s->switches += sw;
		s->threads++;
		events |= st == 1;
		s->idle &= st >= 0;
	}
	closedir(d);
	s->idle &= events;
	return s->threads ? 0 : -1;
}

/*
 * Watches the focused window's client (until the clock says deadline, in
 * clk_ms()'s milliseconds) until it is seen idle, as the comment at the
 * top says; whether it was. A look at a client of many threads takes a
 * while under TCG, so the clock, not a count of looks, ends it.
 */
static int idle_focus(Display *dpy, int64_t deadline)
{
	pid_t pid = focus_pid(dpy);
	int pidfd, fds[MAX_XFDS], nfds = 0, proved = 0;

	if (pid <= 0 || pid == getpid())
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return 0;
	nfds = x_sockets(pid, pidfd, fds, MAX_XFDS);
	while (nfds > 0 && !proved && clk_ms() < deadline) {
		struct snap a, b;

		if (snapshot(pid, &a) < 0)
			break;      /* gone, or not ours to look at */
		if (a.idle) {
			/* Were it waiting for a reply, the reply would come now and wake it. */
			XSync(dpy, False);
			XSync(dpy, False);
			proved = unread(fds, nfds) == 0 && snapshot(pid, &b) == 0 && b.idle &&
				 b.switches == a.switches && b.threads == a.threads;
		}
		if (!proved)
			poll(NULL, 0, IDLE_STEP_MS);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	close(pidfd);
	return proved;
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
	int64_t start;
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
	start = clk_ms();
	if (ping_focus(dpy)) {
		puts("proof: ping");
	} else if (idle_focus(dpy, start + PROOF_WAIT_MS)) {
		puts("proof: idle");
	} else {
		poll(NULL, 0, (int)rest);
		puts("proof: rest");
	}
	XSetErrorHandler(NULL);
	ret = set_keys(dpy, w, n);
	XCloseDisplay(dpy);
	return ret < 0 ? 1 : 0;
}
