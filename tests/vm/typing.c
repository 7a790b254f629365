/*
 * The typing checks (typing.h). The layouts, each for what it stresses:
 * - us: the base; every non-ASCII character goes through borrowed keys;
 * - de: QWERTZ (Z and Y swap: ctrl+z must press the key labelled Z), ^ `
 *   and ´ are dead keys, many symbols need AltGr;
 * - fr: AZERTY, digits need Shift, ^ and ¨ are dead keys;
 * - gb: £ and ¬ on keys, " and @ swapped against us;
 * - es: dead ´ ` ^ ¨, ñ and ç on keys;
 * - ru: no Latin letter at all, so ASCII text and ctrl+c need borrowed keys;
 * - jp: ¥ and the extra keys of a Japanese keyboard (Yen, Ro), symbols
 *   moved.
 * Readback is byte for byte: an xterm's `head -c N` writes what it got to a
 * file; Mousepad and Firefox hand their text over through the clipboard.
 */
#include "typing.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define CHECK_SHARED
#include "../check.h"
#include "corpus.h"
#include "desktop.h"

static const char *ctl_path, *vsock_path;

void typing_init(const char *ctl, const char *vsock)
{
	ctl_path = ctl;
	vsock_path = vsock;
}

static const char *guest(const char *cmd)
{
	return guest_exec(vsock_path, cmd);
}

/* As guest(), for a command that waits for a program's window (activate()). */
static const char *guest_window(const char *cmd)
{
	int status;
	const char *out = guest_run(vsock_path, NULL, cmd, 150000, &status);

	if (status != 0) {
		fprintf(stderr, "guest command failed (status %d): %s\n%s\n", status, cmd, out);
		return NULL;
	}
	return out;
}

/* Says where got and want part, for the log; whether they are equal. */
static bool same(const char *what, const char *got, const char *want)
{
	size_t i = 0;

	if (got && !strcmp(got, want))
		return true;
	while (got && got[i] && got[i] == want[i])
		i++;
	fprintf(stderr, "%s: differs at byte %zu of %zu\n  want: %.80s\n  got:  %.80s\n", what, i,
		strlen(want), want + (i > 20 ? i - 20 : 0),
		got ? got + (i > 20 ? i - 20 : 0) : "(nothing)");
	return false;
}

/* Types the corpus into an xterm on layout: line by line, one request each, then whole. */
static void xterm_on(const char *layout, const char *all)
{
	char what[64];
	bool ok = true;

	CHECK(typing_layout(ctl_path, layout));
	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/lines", strlen(all)));
	for (size_t i = 0; i < TYPING_LINES && ok; i++) {
		char line[512];

		snprintf(line, sizeof(line), "%s\n", typing_corpus[i]);
		ok = control_type(ctl_path, line);
	}
	CHECK(ok);
	snprintf(what, sizeof(what), "xterm %s, line by line", layout);
	CHECK(same(what, typing_file(vsock_path, "/tmp/lines", strlen(all)), all));

	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/whole", strlen(all)));
	CHECK(control_type(ctl_path, all));
	snprintf(what, sizeof(what), "xterm %s, whole", layout);
	CHECK(same(what, typing_file(vsock_path, "/tmp/whole", strlen(all)), all));
}

void check_typing_xterm(void)
{
	char *all = typing_corpus_text();

	CHECK(all != NULL);
	for (size_t i = 0; all && i < TYPING_LAYOUTS; i++)
		xterm_on(typing_layouts[i], all);
	CHECK(typing_layout(ctl_path, "us"));
	free(all);
}

void check_typing_long(void)
{
	static const char piece[] = "abc DEF 123 é€ Жж 日本 🙂 ";   /* 41 bytes */
	size_t n = 4096, len;
	char *line = malloc(n + 2), *big;
	struct json_object *list, *a;
	char *answer;

	CHECK(line != NULL);
	if (!line)
		return;
	/* A 4 KiB line (no newline in it: a terminal line that long), then Return. */
	for (len = 0; len + sizeof(piece) - 1 <= n; len += sizeof(piece) - 1)
		memcpy(line + len, piece, sizeof(piece) - 1);
	while (len < n)
		line[len++] = 'z';
	line[len++] = '\n';
	line[len] = '\0';
	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/long", len));
	CHECK(control_type(ctl_path, line));
	CHECK(same("xterm, a 4 KiB line", typing_file(vsock_path, "/tmp/long", len), line));
	free(line);

	/* 64 KiB in one action, the most there may be: read back 4 KiB at a time. */
	big = malloc(64 * 1024 + 1);
	CHECK(big != NULL);
	if (!big)
		return;
	for (len = 0; len < 64 * 1024; len++)     /* lines of 63 letters and digits */
		big[len] = len % 64 == 63 ? '\n' : "abcdefghijklmnopqrstuvwxyz0123456789"[len % 36];
	big[len] = '\0';
	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/big", len));
	CHECK(control_type(ctl_path, big));
	CHECK(typing_file(vsock_path, "/tmp/big", len) != NULL);
	for (size_t at = 0; at < len; at += 4096) {
		char sh[128];
		const char *got;
		bool ok;

		snprintf(sh, sizeof(sh), "dd if=/tmp/big bs=4096 skip=%zu count=1 2>/dev/null",
			 at / 4096);
		got = guest(sh);
		ok = got && strlen(got) == 4096 && !memcmp(got, big + at, 4096);
		if (!ok)
			fprintf(stderr, "xterm, 64 KiB: bytes %zu to %zu differ\n", at, at + 4095);
		CHECK(ok);
	}
	free(big);

	/* One byte past 64 KiB is refused whole, with the limit, and types nothing. */
	big = malloc(64 * 1024 + 2);
	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, 'x', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	list = json_object_new_array();
	a = json_object_new_object();
	json_object_object_add(a, "type", json_object_new_string("type"));
	json_object_object_add(a, "text", json_object_new_string(big));
	json_object_array_add(list, a);
	answer = control_actions(ctl_path, json_object_to_json_string_ext(list,
				 JSON_C_TO_STRING_PLAIN), NULL);
	CHECK(answer && strstr(answer, "\"ok\":false") && strstr(answer, "EINVAL") &&
	      strstr(answer, "65536"));
	free(answer);
	json_object_put(list);
	free(big);
}

/* The clipboard's text after ctrl+a, ctrl+c in the focused app (up to 10 s). */
static const char *copied(void)
{
	if (!control_act(ctl_path, "[{\"type\":\"key\",\"keys\":\"ctrl+a\"},"
				   "{\"type\":\"key\",\"keys\":\"ctrl+c\"}]"))
		return NULL;
	return guest("for i in $(seq 100); do xclip -o -selection clipboard 2>/dev/null && exit; "
		     "sleep 0.1; done; exit 1");
}

/*
 * Shell that waits (up to about 2 minutes: Firefox under TCG takes one or
 * more to show its first window) for a visible window named
 * name (a regex), activates it and prints the active window's name;
 * searching again when a window goes while xdotool looks at it (BadWindow).
 */
static const char *activate(char *sh, size_t len, const char *name)
{
	snprintf(sh, len, "for i in $(seq 600); do id=$(xdotool search --onlyvisible --name '%s' "
		 "2>/dev/null | head -n 1); [ -n \"$id\" ] && xdotool windowactivate --sync \"$id\" "
		 "2>/dev/null && break; sleep 0.2; done; sleep 1; xdotool getactivewindow getwindowname",
		 name);
	return sh;
}

/* GTK's own text view, on de and ru: the corpus whole, then its copy. */
void check_typing_mousepad(void)
{
	static const char *const on[] = { "de", "ru" };
	char *all = typing_corpus_text();

	CHECK(all != NULL);
	for (size_t i = 0; all && i < sizeof(on) / sizeof(on[0]); i++) {
		char sh[1024], wait[512], name[32], what[64];
		const char *out;

		CHECK(typing_layout(ctl_path, on[i]));
		snprintf(name, sizeof(name), "m%zu.txt", i);
		snprintf(sh, sizeof(sh), "pkill -x mousepad; sleep 0.5; rm -f /tmp/%s; setsid "
			 "mousepad /tmp/%s </dev/null >/dev/null 2>&1 & %s", name, name,
			 activate(wait, sizeof(wait), name));
		out = guest_window(sh);
		CHECK(out && strstr(out, "Mousepad"));
		CHECK(control_type(ctl_path, all));
		snprintf(what, sizeof(what), "mousepad %s", on[i]);
		CHECK(same(what, copied(), all));
	}
	guest("pkill -x mousepad; true");
	CHECK(typing_layout(ctl_path, "us"));
	free(all);
}

/*
 * A Firefox textarea on fr, with a page of our own (Tab types a tab there
 * instead of moving the focus): the corpus whole, then its copy.
 */
void check_typing_firefox(void)
{
	static const char page[] =
		"<!doctype html><meta charset=utf-8><title>typing field</title>"
		"<textarea id=t rows=30 cols=100 autofocus></textarea><script>"
		"const t=document.getElementById('t');t.addEventListener('keydown',e=>{"
		"if(e.key==='Tab'){e.preventDefault();t.setRangeText('\\t',t.selectionStart,"
		"t.selectionEnd,'end');}});</script>";
	char *all = typing_corpus_text(), sh[1536], wait[512];
	const char *out;

	CHECK(all != NULL);
	if (!all)
		return;
	CHECK(typing_layout(ctl_path, "fr"));
	snprintf(sh, sizeof(sh), "printf '%%s' '%s' > /tmp/field.html && setsid firefox-esr "
		 "--new-instance --profile $(mktemp -d) file:///tmp/field.html </dev/null "
		 ">/dev/null 2>&1 & %s", page, activate(wait, sizeof(wait), "typing field"));
	out = guest_window(sh);
	CHECK(out && strstr(out, "typing field"));
	CHECK(control_type(ctl_path, all));
	CHECK(same("firefox fr", copied(), all));
	guest("pkill -x firefox-esr; true");
	CHECK(typing_layout(ctl_path, "us"));
	free(all);
}

/* Sends a type action with text as raw JSON (escapes as given); the answer (malloc'd). */
static char *type_raw(const char *json_text)
{
	char list[512];

	snprintf(list, sizeof(list), "[{\"type\":\"key\",\"keys\":\"a\"},"
		 "{\"type\":\"type\",\"text\":%s}]", json_text);
	return control_actions(ctl_path, list, NULL);
}

/*
 * Untypeable text is refused whole with the character's place, and nothing
 * is typed; CR LF is typed as one Return.
 */
void check_typing_refusals(void)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "\"ok \\ud83d then\"", "surrogate" },     /* a lone high surrogate */
		{ "\"x\\udc00\"", "surrogate" },            /* a lone low one */
		{ "\"bell\\u0007 at 4\"", "character 4" },  /* a control character */
		{ "\"es\\u001bc\"", "character 2" },
		{ "\"nul\\u0000\"", "character 3" },
	};
	const char *got;

	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/refused", 2));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *answer = type_raw(bad[i].text);

		CHECK(answer && strstr(answer, "\"ok\":false") && strstr(answer, "EINVAL") &&
		      strstr(answer, bad[i].says));
		if (answer && !strstr(answer, bad[i].says))
			fprintf(stderr, "refusal of %s: %s\n", bad[i].text, answer);
		free(answer);
	}
	/* Nothing of them reached the xterm: only what is typed now. */
	CHECK(control_type(ctl_path, "ok"));
	got = typing_file(vsock_path, "/tmp/refused", 2);
	CHECK(got && !strcmp(got, "ok"));

	/* CR LF is one line break, as a lone CR or LF is (the tty makes Return's CR a LF). */
	CHECK(typing_xterm(ctl_path, vsock_path, "/tmp/crlf", 8));
	CHECK(control_type(ctl_path, "a\r\nb\rc\nd\r\n"));
	got = typing_file(vsock_path, "/tmp/crlf", 8);
	CHECK(got && !strcmp(got, "a\nb\nc\nd\n"));
}

/* Starts xev on a window of its own and gives it the focus; the log is /tmp/xev. */
static bool xev_focused(void)
{
	const char *out = guest("pkill -x xev; rm -f /tmp/xev; setsid stdbuf -oL xev -geometry "
				"200x200+700+400 -event keyboard -name xevwin >/tmp/xev 2>&1 "
				"</dev/null & for i in $(seq 50); do xdotool search --onlyvisible "
				"--classname xevwin >/dev/null && break; sleep 0.2; done; echo up");

	return out && control_act(ctl_path, "[{\"type\":\"click\",\"x\":800,\"y\":500}]") &&
	       guest("sleep 0.3") != NULL;
}

/* The xev log once a line matches the extended regex want (up to 5 s); whether it did. */
static bool xev_saw(const char *want)
{
	char sh[256];

	snprintf(sh, sizeof(sh), "for i in $(seq 50); do grep -qE '%s' /tmp/xev && exit 0; "
		 "sleep 0.1; done; exit 1", want);
	return guest(sh) != NULL;
}

/*
 * Combinations press the key that carries the symbol on the guest's
 * layout: ctrl+z on de is the key labelled Z (keycode 29, where us has Y);
 * ctrl+c on ru (no c on any key) goes to a borrowed key carrying c.
 */
void check_typing_combos(void)
{
	CHECK(typing_layout(ctl_path, "de"));
	CHECK(xev_focused());
	CHECK(control_act(ctl_path, "[{\"type\":\"key\",\"keys\":\"ctrl+z\"},"
				    "{\"type\":\"key\",\"keys\":\"ctrl+shift+t\"}]"));
	CHECK(xev_saw("state 0x4, keycode 29 \\(keysym 0x7a, z\\)"));
	CHECK(xev_saw("state 0x5, keycode 28 \\(keysym 0x54, T\\)"));

	CHECK(typing_layout(ctl_path, "ru"));
	CHECK(xev_focused());
	CHECK(control_act(ctl_path, "[{\"type\":\"key\",\"keys\":\"ctrl+c\"},"
				    "{\"type\":\"key\",\"keys\":\"super\"},"
				    "{\"type\":\"key\",\"keys\":\"XF86AudioMute\"}]"));
	CHECK(xev_saw("state 0x4, keycode [0-9]+ \\(keysym 0x63, c\\)"));
	CHECK(xev_saw("\\(keysym 0xffeb, Super_L\\)"));
	CHECK(xev_saw("\\(keysym 0x1008ff12, XF86AudioMute\\)"));
	guest("pkill -x xev; true");
	CHECK(typing_layout(ctl_path, "us"));
}
