/*
 * The `desktop` template boots to a ready XFCE desktop: the agent says
 * "desktop ready" and answers status "ready" with DISPLAY :0, the XFCE panel
 * and desktop windows are mapped, Firefox ESR and Mousepad are installed,
 * nothing blanks the screen, and the screenshot is of the configured size
 * and far from one colour. The same boot then runs the typing checks
 * (typing.h): a multilingual corpus into an xterm, Mousepad and Firefox on
 * seven layouts, read back byte for byte; refusals; combinations by symbol.
 *
 * usage: test_template_desktop CUBICLE_VMM GUEST_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAIN
#include "../check.h"
#include "client.h"
#include "desktop.h"
#include "typing.h"

static struct desktop dt;
/* The booted guest's sockets, by the names the checks use. */
static const char *const ctl_path = dt.ctl, *const vsock_path = dt.vsock;

static const char *guest(const char *cmd)
{
	return guest_exec(vsock_path, cmd);
}

/* Distinct colours in a PNG screenshot of the screen (capped at 64). */
static int screenshot_colours(uint32_t *w, uint32_t *h)
{
	uint8_t *rgb = screenshot_rgb(ctl_path, w, h);
	uint32_t seen[64];
	int n = 0;

	for (size_t i = 0; rgb && i < (size_t)*w * *h && n < 64; i += 97) {
		uint32_t c = (uint32_t)rgb[i * 3] << 16 | rgb[i * 3 + 1] << 8 | rgb[i * 3 + 2];
		bool dup = false;

		for (int j = 0; j < n && !dup; j++)
			dup = seen[j] == c;
		if (!dup)
			seen[n++] = c;
	}
	free(rgb);
	return n;
}

int main(int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *v;
	struct agent_error err;
	uint32_t w = 0, h = 0;
	const char *out;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	if (desktop_boot(&dt, argv[1], argv[2], "desktop.path", "2048", false, NULL, 600) < 0) {
		CHECK(!"desktop ready");
		goto out;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("status"));
	CHECK(agent_call(vsock_path, req, &reply, &err) == 0);
	CHECK(reply && json_object_object_get_ex(reply, "services", &v) &&
	      strcmp(json_object_get_string(v), "ready") == 0);
	CHECK(reply && json_object_object_get_ex(reply, "display", &v) &&
	      strcmp(json_object_get_string(v), ":0") == 0);
	json_object_put(req);
	json_object_put(reply);

	out = guest("xdotool search --onlyvisible --class xfce4-panel | wc -l");
	CHECK(out && atoi(out) > 0);
	out = guest("test -x /usr/bin/firefox-esr && test -x /usr/bin/mousepad && "
		    "test -x /usr/bin/xfce4-terminal && test -x /usr/bin/thunar && echo apps");
	CHECK(out && strstr(out, "apps"));
	out = guest("xset q");
	CHECK(out && strstr(out, "timeout:  0"));   /* the screen saver never starts */
	out = guest("id -un; ps -o user= -C xfwm4");
	CHECK(out && strncmp(out, "user\nuser", 9) == 0);
	CHECK(screenshot_colours(&w, &h) >= 8);
	CHECK(w == 1280 && h == 800);

	typing_init(ctl_path, vsock_path);
	RUN(check_typing_refusals);
	RUN(check_typing_combos);
	RUN(check_typing_xterm);
	RUN(check_typing_long);
	RUN(check_typing_mousepad);
	RUN(check_typing_firefox);

	guest_poweroff(vsock_path);
	CHECK(vm_wait(&dt.vm, 120) == 0);
out:
	desktop_end(&dt, check_failed);
	return check_done();
}
