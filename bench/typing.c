/*
 * bench_typing: how fast text arrives, and how exactly, in one run on one
 * engine, on a `minimal` guest with an xterm reading what is typed:
 *  - ours: one `type` action on the control socket per text; characters
 *    per second from the request to the moment the guest file holds all of
 *    it, for each class of text (on the layout, off it: accents, Cyrillic,
 *    CJK, emoji) and layout; and the corpus of the typing checks
 *    (tests/vm/corpus.c) typed whole, with how many of its lines are right;
 *  - the E2B Desktop way on the same guest: `xdotool type --delay 75` run
 *    through the agent on chunks of 25 characters, one process per chunk,
 *    on the same corpus: its speed and how many lines it gets right.
 * Exactness is the file read back byte for byte; nothing is assumed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "corpus.h"
#include "desktop.h"

static const char usage[] =
	"usage: bench_typing --vmm PATH --guest-dir DIR [--xdotool-layouts L,L...]\n"
	"Characters per second and exactness of text typed into an xterm in a minimal\n"
	"guest: our type action for each class of text and layout, and the typing\n"
	"corpus beside `xdotool type --delay 75` in 25-character chunks through the\n"
	"agent (the E2B Desktop way) on the layouts named (default us,de,ru).\n";

static struct desktop dt;

/* A text of about n characters: piece repeated. */
static char *repeat(const char *piece, size_t n)
{
	size_t len = strlen(piece), chars = 0;
	char *s = malloc(n * 4 + len + 1), *p = s;

	for (const char *q = piece; *q; q++)
		chars += ((unsigned char)*q & 0xc0) != 0x80;
	for (size_t done = 0; s && done < n; done += chars, p += len)
		memcpy(p, piece, len);
	if (s)
		*p = '\0';
	return s;
}

/* n code points from lo..hi, step apart, wrapping round (UTF-8, malloc'd). */
static char *run_of(unsigned int lo, unsigned int hi, unsigned int step, size_t n)
{
	char *s = malloc(n * 4 + 1), *p = s;

	for (size_t i = 0; s && i < n; i++) {
		unsigned int cp = lo + (unsigned int)((i * step) % (hi - lo + 1));

		if (cp < 0x800) {
			*p++ = (char)(0xc0 | cp >> 6);
		} else if (cp < 0x10000) {
			*p++ = (char)(0xe0 | cp >> 12);
			*p++ = (char)(0x80 | (cp >> 6 & 0x3f));
		} else {
			*p++ = (char)(0xf0 | cp >> 18);
			*p++ = (char)(0x80 | (cp >> 12 & 0x3f));
			*p++ = (char)(0x80 | (cp >> 6 & 0x3f));
		}
		*p++ = (char)(0x80 | (cp & 0x3f));
	}
	if (s)
		*p = '\0';
	return s;
}

static size_t chars_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * Opens the reader (an xterm writing what it is typed to /tmp/typed), runs
 * send(text), and waits (up to 60 s after send returns) for the file to
 * hold as many bytes; ms from the start of send to then, or -1, and the
 * file into *got (static, NULL when it could not be read).
 */
static double timed(const char *text, bool (*send)(const char *), const char **got)
{
	size_t n = strlen(text);
	double t0, t;

	*got = NULL;
	if (!typing_xterm(dt.ctl, dt.vsock, "/tmp/typed", n))
		return -1;
	t0 = now_ms();
	if (!send(text))
		return -1;
	*got = typing_file(dt.vsock, "/tmp/typed", n);
	t = now_ms() - t0;
	return *got ? t : -1;
}

static bool send_ours(const char *text)
{
	return control_type(dt.ctl, text);
}

/* E2B Desktop's write(): 25-character chunks, each `xdotool type --delay 75 -- CHUNK`. */
static bool send_xdotool(const char *text)
{
	static char cmd[4096];
	const char *p = text;

	while (*p) {
		size_t len = 0, chars = 0;
		char *c = cmd + snprintf(cmd, sizeof(cmd), "xdotool type --delay 75 -- '");

		while (p[len] && (chars < 25 || ((unsigned char)p[len] & 0xc0) == 0x80)) {
			chars += ((unsigned char)p[len] & 0xc0) != 0x80;
			len++;
		}
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '\'') {
				memcpy(c, "'\\''", 4);
				c += 4;
			} else {
				*c++ = p[i];
			}
		}
		*c++ = '\'';
		*c = '\0';
		guest_exec(dt.vsock, cmd);      /* a failed chunk shows in the lines it got wrong */
		p += len;
	}
	return true;
}

/* How many of want's lines got has the same, line for line. */
static int lines_right(const char *got, const char *want)
{
	int right = 0;

	while (got && *want) {
		const char *ge = strchr(got, '\n'), *we = strchr(want, '\n');
		size_t gl = ge ? (size_t)(ge - got) : strlen(got), wl = we ? (size_t)(we - want) : strlen(want);

		right += gl == wl && !memcmp(got, want, wl);
		if (!ge || !we)
			break;
		got = ge + 1;
		want = we + 1;
	}
	return right;
}

static bool layout(const char *name)
{
	return typing_layout(dt.ctl, name);
}

/*
 * The xdotool run waits for the xterm to hold as many bytes as the corpus;
 * what xdotool drops never comes, so its file is read once its chunks are
 * done and a settle has passed instead.
 */
static const char *xdotool_corpus(const char *all, double *ms)
{
	double t0;

	if (!guest_exec(dt.vsock, "rm -f /tmp/typed; LC_ALL=C.UTF-8 setsid xterm -u8 -fn 6x13 "
			"-T reader -geometry 100x20+40+40 -e sh -c 'stty -icanon -echo; cat > "
			"/tmp/typed' </dev/null >/dev/null 2>&1 & sleep 2; xdotool search --sync "
			"--onlyvisible --name '^reader$' windowactivate --sync; sleep 0.3"))
		return NULL;
	t0 = now_ms();
	send_xdotool(all);
	*ms = now_ms() - t0;
	guest_exec(dt.vsock, "sleep 1");
	return guest_exec(dt.vsock, "cat /tmp/typed; pkill -x cat; true");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "xdotool-layouts", required_argument, NULL, 'x' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *vmm = NULL, *guest_dir = NULL, *engine;
	char xlayouts[256] = "us,de,ru";
	int c, failed = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest_dir = optarg; break;
		case 'x': snprintf(xlayouts, sizeof(xlayouts), "%s", optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		case ':':
			fprintf(stderr, "bench_typing: %s needs a value (see --help)\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "bench_typing: bad option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (!vmm || !guest_dir || optind < argc) {
		fprintf(stderr, "bench_typing: %s (see --help)\n", optind < argc ? "unexpected argument"
			: "--vmm and --guest-dir are required");
		return 2;
	}
	printf("booting a minimal guest...\n");
	fflush(stdout);
	if (desktop_boot(&dt, vmm, guest_dir, "minimal.path", "1024", false, NULL, 600) < 0) {
		desktop_end(&dt, true);
		return 1;
	}
	engine = dt.vm.err_buf && strstr(dt.vm.err_buf, "engine ") ? strstr(dt.vm.err_buf, "engine ") + 7
								: "unknown";
	printf("engine: %.*s, 2 vCPUs, an xterm reading into a file; chars/s from request to "
	       "the file holding it all\n", (int)strcspn(engine, ",\n"), engine);

	struct {
		const char *what, *layout;
		char *text;
	} classes[] = {
		{ "ASCII, on the layout", "us",
		  repeat("The quick brown fox jumps over the lazy dog 0123456789. ", 2000) },
		{ "German, on the layout", "de",
		  repeat("Größe, Übermäßig schön: Jürgen aß Bratäpfel; €5 @home {x} ", 2000) },
		{ "Cyrillic, on the layout", "ru", repeat("Съешь же ещё этих мягких булок. ", 2000) },
		{ "Latin accents, off the layout", "us", repeat("café déjà naïve Ångström œuvre ", 600) },
		{ "Cyrillic, off the layout", "us", repeat("Съешь же ещё этих мягких булок. ", 600) },
		{ "ASCII, off the layout (no Latin keys)", "ru",
		  repeat("The quick brown fox jumps over the lazy dog. ", 600) },
		{ "CJK, every character new", "us", run_of(0x4e00, 0x9fa5, 37, 600) },
		{ "CJK, every character new", "de", run_of(0x4e00, 0x9fa5, 37, 600) },
		{ "emoji (astral plane)", "us", run_of(0x1f600, 0x1f64f, 1, 600) },
	};
	const size_t nclasses = sizeof(classes) / sizeof(classes[0]);

	printf("\nours: one type action per text\n");
	for (size_t i = 0; i < nclasses; i++) {
		const char *got;
		double ms;

		if (!classes[i].text || !layout(classes[i].layout)) {
			failed++;
			continue;
		}
		ms = timed(classes[i].text, send_ours, &got);
		printf("  %-40s %-3s %6zu chars  %7.0f chars/s  %s\n", classes[i].what,
		       classes[i].layout, chars_of(classes[i].text),
		       ms > 0 ? chars_of(classes[i].text) / (ms / 1000) : 0.0,
		       got && !strcmp(got, classes[i].text) ? "exact" : "NOT EXACT");
		failed += !(got && !strcmp(got, classes[i].text));
		fflush(stdout);
	}

	char *all = typing_corpus_text();

	printf("\nthe typing corpus (%d lines, %zu chars), whole: ours beside xdotool type "
	       "--delay 75 in 25-char chunks\n", TYPING_LINES, all ? chars_of(all) : 0);
	for (char *l = strtok(xlayouts, ","); all && l; l = strtok(NULL, ",")) {
		const char *got;
		double ms, xms = 0;
		int ours, theirs;

		if (!layout(l)) {
			failed++;
			continue;
		}
		ms = timed(all, send_ours, &got);
		ours = lines_right(got, all);
		printf("  %-3s ours     %7.0f chars/s  %2d/%d lines right\n", l,
		       ms > 0 ? chars_of(all) / (ms / 1000) : 0.0, ours, TYPING_LINES);
		fflush(stdout);
		got = xdotool_corpus(all, &xms);
		theirs = lines_right(got, all);
		printf("  %-3s xdotool  %7.0f chars/s  %2d/%d lines right\n", l,
		       xms > 0 ? chars_of(all) / (xms / 1000) : 0.0, theirs, TYPING_LINES);
		fflush(stdout);
		failed += ours != TYPING_LINES;
	}
	layout("us");
	free(all);
	for (size_t i = 0; i < nclasses; i++)
		free(classes[i].text);
	guest_poweroff(dt.vsock);
	vm_wait(&dt.vm, 120);
	desktop_end(&dt, false);
	return failed ? 1 : 0;
}
