/*
 * The typing corpus and the xterm reader shared by the typing checks
 * (typing.c) and the typing benchmark (bench/typing.c): corpus.h.
 */
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desktop.h"

/* One line of each kind; none holds a newline. */
const char *const typing_corpus[TYPING_LINES] = {
	"Latin: Ünïcödé naïve café déjà vu Ångström Øre œuvre ß ẞ Ł ţ ğ ı",
	"Cyrillic: Привет, мир! Съешь же ещё этих мягких французских булок.",
	"Greek: Γειά σου Κόσμε! ξεσκεπάζω την ψυχοφθόρα βδελυγμία",
	"CJK: こんにちは世界、ありがとう。日本語の文章、カタカナ。我能吞下玻璃而不伤身体。",
	"Hangul: 나는 유리를 먹을 수 있어요. 그래도 아프지 않아요",
	"Hebrew: אני יכול לאכול זכוכית וזה לא מזיק לי",
	"Arabic: أنا قادر على أكل الزجاج و هذا لا يؤلمني",
	"Emoji: 🙂🎉👋 👩‍💻 👨‍👩‍👧‍👦 👍🏽👋🏿 🇩🇪🇫🇷🇯🇵 ❤️ ☺︎ 1️⃣",
	"Combining: e\xcc\x81 a\xcc\x88 n\xcc\x83 o\xcc\x82\xcc\xa3 precomposed: é ä ñ ộ ",
	"Symbols: € £ ¥ © ® ™ ° ± × ÷ µ ¶ § ¬ ¦ ← → ∀ ∃ ∑ √ ∞ ≠ ≤ ≥ ‰ • … – — „“ «»",
	"Dead keys: ^ ` ´ ~ ¨ ¸ â ê î ô û à è ì ò ù á é í ó ú ã õ ñ ç ë ï ü ÿ",
	"Shell: -rf \"$HOME\" 'it''s' `id` $(x) a;b|c&d<e>f*g?h!j#k%l{n}[o]\\p=q+r,s.t:u@v _w/",
	"Tabs:\tone\ttwo\t\tend, and trailing spaces   ",
	"ASCII: The quick brown fox jumps over the lazy dog 0123456789 QWERTZ AZERTY",
};

const char *const typing_layouts[TYPING_LAYOUTS] = { "us", "de", "fr", "gb", "es", "ru", "jp" };

/* The whole corpus, each line ending in "\n" (malloc'd). */
char *typing_corpus_text(void)
{
	size_t n = 1;
	char *s;

	for (size_t i = 0; i < TYPING_LINES; i++)
		n += strlen(typing_corpus[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < TYPING_LINES; i++) {
		strcat(s, typing_corpus[i]);
		strcat(s, "\n");
	}
	return s;
}

bool typing_layout(const char *ctl_path, const char *layout)
{
	char req[128], *line;
	bool ok;

	snprintf(req, sizeof(req), "{\"op\":\"keyboard\",\"layout\":\"%s\"}\n", layout);
	line = control_line(ctl_path, req);
	ok = line && strncmp(line, "{\"ok\":true", 10) == 0;
	if (!ok)
		fprintf(stderr, "keyboard %s: %s\n", layout, line ? line : "(no answer)");
	free(line);
	return ok;
}

/*
 * Opens an xterm whose `head -c bytes` writes what is typed into the guest
 * file path (the terminal raw: no line editing, no echo), and gives it the
 * focus.
 */
bool typing_xterm(const char *ctl_path, const char *vsock_path, const char *path, size_t bytes)
{
	char sh[1024];
	struct rect r;
	char click[128];

	/* Readers left from before (one given too few bytes) go first: one reader at a time. */
	snprintf(sh, sizeof(sh), "pkill -f '^xterm .*-T reader '; rm -f %s; "
		 "LC_ALL=C.UTF-8 setsid xterm -u8 -fn 6x13 -T reader "
		 "-geometry 100x20+40+40 -e sh -c 'stty -icanon -echo; stdbuf -o0 head -c %zu > %s' "
		 "</dev/null >/dev/null 2>&1 & "
		 "id=; end=$((SECONDS + 45)); while [ -z \"$id\" ] && [ $SECONDS -lt $end ]; do "
		 "id=$(timeout 10 xdotool search --sync --onlyvisible --name '^reader$' 2>/dev/null "
		 "| head -n 1); done; xwininfo -id \"$id\"", path, bytes, path);
	if (!xwininfo_rect(guest_exec(vsock_path, sh), &r))
		return false;
	snprintf(click, sizeof(click), "[{\"type\":\"click\",\"x\":%d,\"y\":%d}]", r.x + r.w / 2,
		 r.y + r.h / 2);
	return control_act(ctl_path, click) && guest_exec(vsock_path, "sleep 0.3") != NULL;
}

/* The guest file path once it holds bytes (or what it holds after 45 s), as a string. */
const char *typing_file(const char *vsock_path, const char *path, size_t bytes)
{
	char sh[256];

	/* 45 s by the clock, short of the exec's 60 s, so what did come is shown. */
	snprintf(sh, sizeof(sh), "end=$((SECONDS + 45)); while [ $SECONDS -lt $end ]; do "
		 "[ \"$(stat -c %%s %s 2>/dev/null || echo 0)\" -ge %zu ] && break; sleep 0.1; done; "
		 "cat %s", path, bytes, path);
	return guest_exec(vsock_path, sh);
}

