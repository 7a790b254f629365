/*
 * cubicled end to end over HTTP on loopback, with real `minimal` sandboxes:
 * - auth: no key and a wrong key are refused, /health needs none;
 * - a VNC viewer with the view-only password moves nothing, one with the
 *   password moves the pointer;
 * - a sandbox is created and answers: a PNG screenshot that decodes to the
 *   size asked, a batch of actions (click, type, key) that makes a file in
 *   the guest, read back through the files API; the same through
 *   Anthropic's computer tool (on a declared 1024x640 screen: the points
 *   map exactly, screenshots come at that size) and OpenAI's; a 50 MiB upload downloads
 *   byte for byte; a command's output streams as NDJSON, line by line;
 * - one authority for coordinates: at scale 1, 0.5 and a declared 1024x640,
 *   corner, edge and inner points land on the same pixel through /actions,
 *   Anthropic's and OpenAI's routes, inside the screenshot pixel's share,
 *   and read back as sent;
 * - every bad input gets its 4xx and a JSON {code, message}: malformed JSON,
 *   wrong types, unknown fields, an unknown action or key name, a point off
 *   the screen, an unknown sandbox, a body over the limit, a bad path;
 * - five sandboxes at once, and a sixth refused (max_sandboxes 5);
 * - a sandbox whose timeout passes is ended and its files go;
 * - a monitor killed with SIGKILL is reported dead at once, its files gone;
 * - cubicled killed with SIGKILL takes its monitors along, and a new
 *   cubicled on the same data dir cleans what was left;
 * - SIGTERM ends cubicled and every sandbox, with status 0.
 *
 * usage: test_api CUBICLED GUEST_DIR
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <png.h>
#include <rfb/rfbclient.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "cubicled.h"
#include "http_client.h"

static char data_dir[64];
static const char *cubicled, *guest_dir;
static struct cubicled service;

/* Creates a sandbox with extra fields; its id in id (empty on failure). */
static void create(const char *extra, char *id)
{
	char body[512];
	struct json_object *o;

	/* A long timeout: under ASan the suite takes a while; one check sets its own. */
	snprintf(body, sizeof(body), "{\"template\":\"minimal\",\"memory_mib\":512,\"vcpus\":1,"
		 "\"timeout\":3600%s%s}", extra ? "," : "", extra ? extra : "");
	o = tc_expect("POST", "/sandboxes", body, 201);
	snprintf(id, 32, "%s", tc_str(o, "id"));
	CHECK(o && strcmp(tc_str(o, "state"), "running") == 0);
	json_object_put(o);
}

static bool sandbox_dir_exists(const char *id)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sandboxes/%s", data_dir, id);
	return stat(path, &st) == 0;
}

/* Starts cubicled, its log in DATA.log (which a pipe could not hold). */
static bool start_daemon(void)
{
	char log[96];

	snprintf(log, sizeof(log), "%s.log", data_dir);
	if (!cubicled_start(&service, cubicled, data_dir, guest_dir, log))
		return false;
	tc_init(service.url, service.key);
	return true;
}

static char first[32];

static void check_auth(void)
{
	struct tc_resp r;

	CHECK(tc_http_key("GET", "/health", NULL, NULL, 0, &r) && r.status == 200);
	free(r.body);
	CHECK(tc_http_key("GET", "/sandboxes", NULL, NULL, 0, &r) && r.status == 401 &&
	      strstr(r.body, "\"unauthorized\""));
	free(r.body);
	CHECK(tc_http_key("GET", "/sandboxes", "cbk_wrong_key_of_some_length", NULL, 0, &r) &&
	      r.status == 401);
	free(r.body);
}

/* The PNG's size (libpng's simplified API), or false if it is not one. */
static bool png_size(const void *data, size_t len, unsigned int *w, unsigned int *h)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	png_bytep px;
	bool ok;

	if (!png_image_begin_read_from_memory(&img, data, len))
		return false;
	img.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(img));
	ok = px && png_image_finish_read(&img, NULL, px, 0, NULL);
	*w = img.width;
	*h = img.height;
	free(px);
	png_image_free(&img);
	return ok;
}

static char *vnc_password_value;

static char *give_password(rfbClient *c)
{
	(void)c;
	return strdup(vnc_password_value);
}

/* Connects a VNC viewer as the stream route says and moves its pointer to x, y. */
static bool vnc_pointer(const char *stream_path, int x, int y)
{
	struct json_object *o = tc_expect("GET", stream_path, NULL, 200), *vnc;
	rfbClient *c;
	bool ok;

	if (!o || !json_object_object_get_ex(o, "vnc", &vnc)) {
		json_object_put(o);
		return false;
	}
	c = rfbGetClient(8, 3, 4);
	vnc_password_value = strdup(tc_str(vnc, "password"));
	c->GetPassword = give_password;
	free(c->serverHost);
	c->serverHost = strdup(tc_str(vnc, "host"));
	c->serverPort = json_object_get_int(json_object_object_get(vnc, "port"));
	json_object_put(o);
	ok = rfbInitClient(c, NULL, NULL);       /* frees c on failure */
	if (ok) {
		ok = SendPointerEvent(c, x, y, 0);
		usleep(500000);
		free(c->frameBuffer);
		rfbClientCleanup(c);
	}
	free(vnc_password_value);
	return ok;
}

/* Whether GET cursor says x, y. */
static bool cursor_is(int x, int y)
{
	char path[128];
	struct json_object *o;
	bool ok;

	snprintf(path, sizeof(path), "/sandboxes/%s/cursor", first);
	o = tc_expect("GET", path, NULL, 200);
	ok = o && json_object_get_int(json_object_object_get(o, "x")) == x &&
	     json_object_get_int(json_object_object_get(o, "y")) == y;
	if (o && !ok)
		fprintf(stderr, "cursor %s, want %d,%d\n", json_object_to_json_string(o), x, y);
	json_object_put(o);
	return ok;
}

/* The size of a PNG given in base64 (its IHDR, from the first 32 characters). */

/*
 * The websocket through cubicled wants a ticket from stream: a made-up one
 * is refused, a real one is used up by its first request (here one that is
 * not a websocket), and is no good for another sandbox. (vm_web carries
 * noVNC through it.)
 */
static void check_vnc_tickets(const char *stream_path)
{
	struct json_object *o = tc_expect("GET", stream_path, NULL, 200);
	const char *wp = tc_str(o, "websocket_path");
	char path[256];

	CHECK(strncmp(wp, "/sandboxes/", 11) == 0 && strstr(wp, "/vnc?ticket="));
	snprintf(path, sizeof(path), "/sandboxes/%s/vnc?ticket=%032d", first, 0);
	CHECK(tc_refused("GET", path, NULL, 401, "unauthorized"));
	snprintf(path, sizeof(path), "/sandboxes/0123456789abcdef/vnc%s", strchr(wp, '?'));
	CHECK(tc_refused("GET", path, NULL, 404, "sandbox_not_found"));
	snprintf(path, sizeof(path), "%s", wp);
	CHECK(tc_refused("GET", path, NULL, 400, "invalid_request"));
	CHECK(tc_refused("GET", path, NULL, 401, "unauthorized"));
	json_object_put(o);
}

/* A resize changes the screen, and the sandbox's resolution with it; then back. */
/* Where X's pointer is in the sandbox (xdotool, through the agent); false if unknown. */
static bool x_pointer(int *x, int *y)
{
	char path[128];
	struct json_object *o;
	bool ok;

	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	o = tc_expect("POST", path, "{\"cmd\":\"xdotool getmouselocation\"}", 200);
	ok = o && sscanf(tc_str(o, "stdout"), "x:%d y:%d", x, y) == 2;
	json_object_put(o);
	return ok;
}

/* Moves the pointer to screen pixel (x, y) through /actions; false if refused. */
static bool move_to(unsigned int x, unsigned int y)
{
	char path[128], body[128];
	struct json_object *o;

	snprintf(path, sizeof(path), "/sandboxes/%s/actions", first);
	snprintf(body, sizeof(body), "{\"actions\":[{\"type\":\"move\",\"x\":%u,\"y\":%u}]}",
		 x, y);
	o = tc_expect("POST", path, body, 200);
	json_object_put(o);
	return o != NULL;
}

/* GET cursor's answer (screen pixels), into *x, *y; false if it failed. */
static bool cursor_get(int *x, int *y)
{
	char path[128];
	struct json_object *o;

	snprintf(path, sizeof(path), "/sandboxes/%s/cursor", first);
	o = tc_expect("GET", path, NULL, 200);
	*x = o ? json_object_get_int(json_object_object_get(o, "x")) : -1;
	*y = o ? json_object_get_int(json_object_object_get(o, "y")) : -1;
	json_object_put(o);
	return o != NULL;
}

/*
 * Moves to client point (d, e) of a cw x ch screenshot of the 1280x800
 * screen through route (0 /actions with scale, 1 Anthropic's tool, 2
 * OpenAI's, both told of a cw x ch screen), reads GET cursor at once (as
 * E2B's getCursorPosition does), then the cursor the way that route's
 * clients do; X's pointer into *x, *y. false if a request failed, or GET
 * cursor is not X's pointer, or the route's own read is not (d, e).
 */
static bool move_via(int route, unsigned int cw, unsigned int ch, unsigned int d, unsigned int e,
		     int *x, int *y)
{
	char path[256], body[256], want[64];
	struct json_object *o, *res;
	int gx, gy;
	bool ok = false, got;

	if (route == 0) {
		snprintf(path, sizeof(path), "/sandboxes/%s/actions", first);
		snprintf(body, sizeof(body), "{\"scale\":%.17g,\"actions\":[{\"type\":\"move\","
			 "\"x\":%u,\"y\":%u}]}", cw / 1280.0, d, e);
		o = tc_expect("POST", path, body, 200);
		json_object_put(o);
		got = o && cursor_get(&gx, &gy);
		snprintf(body, sizeof(body), "{\"scale\":%.17g,\"actions\":[{\"type\":\"cursor\"}]}",
			 cw / 1280.0);
		o = tc_expect("POST", path, body, 200);
		res = o ? json_object_array_get_idx(json_object_object_get(o, "results"), 0) : NULL;
		ok = got && res && json_object_get_int(json_object_object_get(res, "x")) == (int)d &&
		     json_object_get_int(json_object_object_get(res, "y")) == (int)e;
		json_object_put(o);
	} else {
		snprintf(path, sizeof(path), "/sandboxes/%s/computer/%s?display_width=%u&"
			 "display_height=%u", first, route == 1 ? "anthropic" : "openai", cw, ch);
		snprintf(body, sizeof(body), route == 1 ?
			 "{\"action\":\"mouse_move\",\"coordinate\":[%u,%u]}" :
			 "{\"type\":\"move\",\"x\":%u,\"y\":%u}", d, e);
		o = tc_expect("POST", path, body, 200);
		json_object_put(o);
		got = o && cursor_get(&gx, &gy);
		/* Anthropic's cursor_position answers on the declared screen too. */
		snprintf(path, sizeof(path), "/sandboxes/%s/computer/anthropic?display_width=%u&"
			 "display_height=%u", first, cw, ch);
		o = tc_expect("POST", path, "{\"action\":\"cursor_position\"}", 200);
		snprintf(want, sizeof(want), "X=%u,Y=%u", d, e);
		ok = got && o && !strcmp(tc_str(json_object_array_get_idx(json_object_object_get(o,
					 "content"), 0), "text"), want);
		json_object_put(o);
	}
	if (!x_pointer(x, y) || !ok)
		return false;
	if (gx != *x || gy != *y)
		fprintf(stderr, "route %d: GET cursor right after the move said %d,%d; X's pointer "
			"is at %d,%d\n", route, gx, gy, *x, *y);
	return gx == *x && gy == *y;
}

/*
 * One authority for coordinates: at scale 1, at 0.5 and on a declared
 * 1024x640 screen, corner, edge and inner points of the screenshot land on
 * the same screen pixel through /actions, Anthropic's and OpenAI's routes,
 * that pixel's middle lies in the screenshot pixel's share of the screen,
 * GET cursor right after each move is the pointer's new place, and each
 * route reads the cursor back as the point sent.
 */
static void check_coordinates(void)
{
	static const unsigned int sizes[][2] = { { 1280, 800 }, { 640, 400 }, { 1024, 640 } };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned int cw = sizes[s][0], ch = sizes[s][1];
		const unsigned int pts[][2] = { { 0, 0 }, { cw - 1, ch - 1 }, { cw - 1, 0 },
						{ cw / 2, 0 }, { 0, ch / 2 }, { 137, 251 },
						{ cw / 3, 2 * ch / 3 } };

		for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
			unsigned int d = pts[i][0], e = pts[i][1];
			int x[3] = { -1, -1, -1 }, y[3] = { -1, -1, -1 };

			/* From elsewhere each time, so that a stale cursor read shows. */
			for (int route = 0; route < 3; route++)
				CHECK(move_to(2 * d < cw ? 1200 : 40, 2 * e < ch ? 700 : 60) &&
				      move_via(route, cw, ch, d, e, &x[route], &y[route]));
			CHECK(x[0] == x[1] && x[1] == x[2] && y[0] == y[1] && y[1] == y[2]);
			/* The middle of pixel x, x + 1/2, lies in [d * 1280 / cw, (d + 1) * 1280 / cw). */
			CHECK(x[0] >= 0 && (2ull * x[0] + 1) * cw >= 2ull * d * 1280 &&
			      (2ull * x[0] + 1) * cw < 2ull * (d + 1) * 1280);
			CHECK(y[0] >= 0 && (2ull * y[0] + 1) * ch >= 2ull * e * 800 &&
			      (2ull * y[0] + 1) * ch < 2ull * (e + 1) * 800);
			if (x[0] != x[1] || x[1] != x[2] || y[0] != y[1] || y[1] != y[2])
				fprintf(stderr, "%ux%u point (%u, %u): /actions %d,%d anthropic %d,%d "
					"openai %d,%d\n", cw, ch, d, e, x[0], y[0], x[1], y[1], x[2],
					y[2]);
		}
	}
}

static void check_resize(void)
{
	static const unsigned int sizes[][2] = { { 1024, 768 }, { 1280, 800 } };
	char path[128], body[64], want[32];
	struct json_object *o;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sandboxes/%s/display", first);
		snprintf(body, sizeof(body), "{\"width\":%u,\"height\":%u}", sizes[i][0], sizes[i][1]);
		o = tc_expect("POST", path, body, 200);
		CHECK(o && json_object_get_int(json_object_object_get(o, "width")) == (int)sizes[i][0] &&
		      json_object_get_int(json_object_object_get(o, "height")) == (int)sizes[i][1]);
		json_object_put(o);
		snprintf(path, sizeof(path), "/sandboxes/%s", first);
		snprintf(want, sizeof(want), "%ux%u", sizes[i][0], sizes[i][1]);
		o = tc_expect("GET", path, NULL, 200);
		CHECK(o && strcmp(tc_str(o, "resolution"), want) == 0);
		json_object_put(o);
	}
}

/* Whether the activity has an entry of `what` whose summary starts with `start`, with status. */
static bool has_activity(struct json_object *entries, const char *what, const char *start,
			 int status)
{
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);

		if (!strcmp(tc_str(e, "what"), what) && !strncmp(tc_str(e, "summary"), start, strlen(start)) &&
		    json_object_get_int(json_object_object_get(e, "status")) == status &&
		    (status < 400 || strstr(tc_str(e, "error"), "invalid_request")))
			return true;
	}
	return false;
}

/* What was done to the first sandbox, in order, failures included; reads left out. */
static void check_activity(void)
{
	struct json_object *o, *entries;
	char path[128];
	int64_t last;

	snprintf(path, sizeof(path), "/sandboxes/%s/activity", first);
	o = tc_expect("GET", path, NULL, 200);
	entries = o ? json_object_object_get(o, "entries") : NULL;
	CHECK(entries && json_object_array_length(entries) > 5);
	CHECK(entries && !strcmp(tc_str(json_object_array_get_idx(entries, 0), "what"), "create"));
	CHECK(entries && has_activity(entries, "actions", "click x=200 y=60; type text=", 200));
	CHECK(entries && has_activity(entries, "anthropic", "left_click coordinate=[160,48]", 200));
	CHECK(entries && has_activity(entries, "anthropic", "left_click coordinate=[1024,10]", 400));
	CHECK(entries && has_activity(entries, "openai", "click x=10 y=10 button=\"nose\"", 400));
	CHECK(entries && has_activity(entries, "command", "$ setsid xterm", 200));
	CHECK(entries && has_activity(entries, "resize", "1024x768", 200));
	for (size_t i = 0; entries && i < json_object_array_length(entries); i++)
		CHECK(strcmp(tc_str(json_object_array_get_idx(entries, i), "what"), "screenshot") &&
		      strcmp(tc_str(json_object_array_get_idx(entries, i), "what"), "cursor"));
	last = o ? json_object_get_int64(json_object_object_get(o, "last")) : 0;
	CHECK(last == (int64_t)(entries ? json_object_array_length(entries) : 0));
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/activity?after=%lld", first, (long long)last);
	o = tc_expect("GET", path, NULL, 200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "entries")) == 0);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/activity?after=-1", first);
	CHECK(tc_refused("GET", path, NULL, 400, "invalid_request"));
}

/* Whether Anthropic's zoom of region answers a PNG of w x h. */
static bool zoom_size(const char *path, const char *region, unsigned int w, unsigned int h)
{
	char body[128];
	struct json_object *o;
	unsigned int gw = 0, gh = 0;
	bool ok;

	snprintf(body, sizeof(body), "{\"action\":\"zoom\",\"region\":%s}", region);
	o = tc_expect("POST", path, body, 200);
	ok = o && tc_png_b64_size(tc_str(json_object_object_get(json_object_array_get_idx(
		json_object_object_get(o, "content"), 0), "source"), "data"), &gw, &gh);
	json_object_put(o);
	if (ok && (gw != w || gh != h))
		fprintf(stderr, "zoom %s: %ux%u, want %ux%u\n", region, gw, gh, w, h);
	return ok && gw == w && gh == h;
}

static void check_screen_and_hands(void)
{
	char path[256], body[512];
	struct tc_resp r;
	unsigned int w = 0, h = 0;
	struct json_object *o;

	create("\"metadata\":{\"suite\":\"api\"}", first);
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?scale=0.5", first);
	CHECK(tc_http("GET", path, NULL, &r) && r.status == 200 && strcmp(r.type, "image/png") == 0);
	CHECK(png_size(r.body, r.len, &w, &h) && w == 640 && h == 400);
	free(r.body);

	/* An xterm, then a click into it, text and Return: the guest gets a file. */
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	o = tc_expect("POST", path, "{\"cmd\":\"setsid xterm -geometry 80x10+0+0 </dev/null "
		   ">/dev/null 2>&1 & timeout 30 xdotool search --sync --onlyvisible --class "
		   "xterm\"}", 200);
	CHECK(o && json_object_get_int(json_object_object_get(o, "exit_code")) == 0);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/actions", first);
	o = tc_expect("POST", path, "{\"actions\":[{\"type\":\"click\",\"x\":200,\"y\":60},"
		   "{\"type\":\"type\",\"text\":\"echo 'made by the API' > /tmp/made.txt\"},"
		   "{\"type\":\"key\",\"keys\":\"Return\"}],\"screenshot\":{\"format\":\"jpeg\"}}",
		   200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "results")) == 3);
	CHECK(o && strcmp(tc_str(json_object_object_get(o, "screenshot"), "format"), "jpeg") == 0 &&
	      strncmp(tc_str(json_object_object_get(o, "screenshot"), "data"), "/9j/", 4) == 0);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	o = tc_expect("POST", path, "{\"cmd\":\"for i in $(seq 50); do [ -s /tmp/made.txt ] && "
		   "break; sleep 0.1; done\"}", 200);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/tmp/made.txt", first);
	CHECK(tc_http("GET", path, NULL, &r) && r.status == 200 &&
	      strcmp(r.body, "made by the API\n") == 0);
	free(r.body);

	/*
	 * The same through Anthropic's tool, told of a 1024x640 screen: (160, 48)
	 * there is (200, 60) here. Each call answers a PNG of the declared size.
	 */
	snprintf(path, sizeof(path), "/sandboxes/%s/computer/anthropic?display_width=1024&"
		 "display_height=640", first);
	o = tc_expect("POST", path, "{\"action\":\"left_click\",\"coordinate\":[160,48]}", 200);
	CHECK(o && tc_png_b64_size(tc_str(json_object_object_get(json_object_array_get_idx(
		json_object_object_get(o, "content"), 0), "source"), "data"), &w, &h) &&
	      w == 1024 && h == 640);
	json_object_put(o);
	o = tc_expect("POST", path, "{\"action\":\"cursor_position\"}", 200);
	CHECK(o && strcmp(tc_str(json_object_array_get_idx(json_object_object_get(o, "content"), 0),
			       "text"), "X=160,Y=48") == 0);
	json_object_put(o);
	json_object_put(tc_expect("POST", path, "{\"action\":\"type\",\"text\":\"echo \\\"by "
			       "claude\\\" > /tmp/claude.txt\"}", 200));
	json_object_put(tc_expect("POST", path, "{\"action\":\"key\",\"text\":\"Return\"}", 200));
	CHECK(tc_refused("POST", path, "{\"action\":\"fly\"}", 400, "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"action\":\"left_click\",\"coordinate\":[1024,10]}", 400,
		      "invalid_request"));
	/* zoom's region is a box's corners on the declared screen, answered at the real size. */
	CHECK(zoom_size(path, "[0,0,1024,640]", 1280, 800));
	CHECK(zoom_size(path, "[512,320,1024,640]", 640, 400));
	CHECK(tc_refused("POST", path, "{\"action\":\"zoom\",\"region\":[0,0,1025,640]}", 400,
		      "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"action\":\"zoom\",\"region\":[10,0,10,640]}", 400,
		      "invalid_request"));
	/* And OpenAI's, batched, on the real size. */
	snprintf(path, sizeof(path), "/sandboxes/%s/computer/openai", first);
	o = tc_expect("POST", path, "{\"actions\":[{\"type\":\"click\",\"x\":200,\"y\":60},"
		   "{\"type\":\"type\",\"text\":\"echo by openai > /tmp/openai.txt\"},"
		   "{\"type\":\"keypress\",\"keys\":[\"ENTER\"]}]}", 200);
	CHECK(o && strcmp(tc_str(o, "type"), "computer_screenshot") == 0 &&
	      strncmp(tc_str(o, "image_url"), "data:image/png;base64,", 22) == 0 &&
	      tc_png_b64_size(tc_str(o, "image_url") + 22, &w, &h) && w == 1280 && h == 800);
	json_object_put(o);
	CHECK(tc_refused("POST", path, "{\"type\":\"click\",\"x\":10,\"y\":10,\"button\":\"nose\"}",
		      400, "invalid_request"));
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	o = tc_expect("POST", path, "{\"cmd\":\"for i in $(seq 50); do [ -s /tmp/openai.txt ] && "
		   "break; sleep 0.1; done; cat /tmp/claude.txt /tmp/openai.txt\"}", 200);
	CHECK(o && strcmp(tc_str(o, "stdout"), "by claude\nby openai\n") == 0);
	json_object_put(o);

	/* Off the xterm, which hides the pointer while one types. */
	snprintf(path, sizeof(path), "/sandboxes/%s/actions", first);
	json_object_put(tc_expect("POST", path, "{\"actions\":[{\"type\":\"move\",\"x\":300,"
			       "\"y\":500}]}", 200));
	snprintf(path, sizeof(path), "/sandboxes/%s/cursor", first);
	o = tc_expect("GET", path, NULL, 200);
	CHECK(o && json_object_get_int(json_object_object_get(o, "x")) == 300 &&
	      json_object_get_int(json_object_object_get(o, "y")) == 500);
	json_object_put(o);
	/*
	 * VNC: a viewer with the view-only password moves nothing; one with the
	 * password moves the pointer.
	 */
	snprintf(path, sizeof(path), "/sandboxes/%s/stream?view_only=true", first);
	CHECK(vnc_pointer(path, 700, 650) && cursor_is(300, 500));
	snprintf(path, sizeof(path), "/sandboxes/%s/stream", first);
	CHECK(vnc_pointer(path, 700, 650) && cursor_is(700, 650));
	check_vnc_tickets(path);
	snprintf(body, sizeof(body), "/sandboxes?metadata.suite=api&state=running");
	o = tc_expect("GET", body, NULL, 200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "sandboxes")) == 1);
	json_object_put(o);
	check_resize();
	check_activity();
}

static void check_files_and_commands(void)
{
	size_t n = 50u << 20;
	uint8_t *blob = malloc(n);
	char path[256];
	struct tc_resp r;
	struct json_object *o;
	uint32_t x = 2463534242u;
	int pid;

	for (size_t i = 0; blob && i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		blob[i] = (uint8_t)x;
	}
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/home/user/blob.bin&mode=600", first);
	CHECK(blob && tc_http_key("PUT", path, tc_key, blob, n, &r) && r.status == 201 &&
	      strstr(r.body, "\"size\":52428800"));
	free(r.body);
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/home/user/blob.bin", first);
	CHECK(tc_http("GET", path, NULL, &r) && r.status == 200 && r.len == n &&
	      memcmp(r.body, blob, n) == 0);
	free(r.body);
	free(blob);

	/* Streamed: three lines a fifth of a second apart, then the exit. */
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	CHECK(tc_http("POST", path, "{\"cmd\":\"for i in 1 2 3; do echo line$i; sleep 0.2; done; "
		   "exit 7\",\"stream\":\"ndjson\"}", &r) && r.status == 200 &&
	      strcmp(r.type, "application/x-ndjson") == 0);
	CHECK(strstr(r.body, "{\"data\":\"line1\\n\",\"type\":\"stdout\"}\n"
			     "{\"data\":\"line2\\n\",\"type\":\"stdout\"}\n"
			     "{\"data\":\"line3\\n\",\"type\":\"stdout\"}\n") != NULL);
	CHECK(strstr(r.body, "\"exit_code\":7") && strstr(r.body, "\"type\":\"exit\""));
	free(r.body);
	/* A program that is not there: the same code whole or streamed. */
	CHECK(tc_refused("POST", path, "{\"argv\":[\"/no/such/program\"]}", 404, "not_found"));
	CHECK(tc_http("POST", path, "{\"argv\":[\"/no/such/program\"],\"stream\":\"ndjson\"}", &r) &&
	      r.status == 200 && strstr(r.body, "\"type\":\"error\"") &&
	      strstr(r.body, "\"code\":\"not_found\""));
	free(r.body);
	o = tc_expect("POST", path, "{\"argv\":[\"sh\",\"-c\",\"echo $FOO; cat\"],\"env\":{\"FOO\":\"bar\"},"
		   "\"stdin\":\"from stdin\"}", 200);
	CHECK(o && strcmp(tc_str(o, "stdout"), "bar\nfrom stdin") == 0);
	json_object_put(o);

	/* In the background: stdin fed later, a process list, a kill. */
	o = tc_expect("POST", path, "{\"cmd\":\"cat > /tmp/bg.txt\",\"background\":true,"
		   "\"keep_stdin\":true}", 201);
	pid = o ? json_object_get_int(json_object_object_get(o, "pid")) : 0;
	CHECK(pid > 0);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/processes/%d/stdin", first, pid);
	json_object_put(tc_expect("POST", path, "hello ", 204));
	snprintf(path, sizeof(path), "/sandboxes/%s/processes/%d/stdin?close=true", first, pid);
	json_object_put(tc_expect("POST", path, "world", 204));
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	o = tc_expect("POST", path, "{\"cmd\":\"while pgrep -x cat >/dev/null; do sleep 0.1; done; "
		   "cat /tmp/bg.txt\"}", 200);
	CHECK(o && strcmp(tc_str(o, "stdout"), "hello world") == 0);
	json_object_put(o);
	o = tc_expect("POST", path, "{\"cmd\":\"sleep 1000\",\"background\":true}", 201);
	pid = o ? json_object_get_int(json_object_object_get(o, "pid")) : 0;
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/processes", first);
	o = tc_expect("GET", path, NULL, 200);
	CHECK(o && strstr(json_object_to_json_string(o), "sleep 1000"));
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/processes/%d", first, pid);
	json_object_put(tc_expect("DELETE", path, NULL, 204));
	CHECK(tc_refused("DELETE", "/sandboxes/x/processes/1", NULL, 404, "sandbox_not_found"));

	/* Folders, stat, list, rename, remove. */
	snprintf(path, sizeof(path), "/sandboxes/%s/files/mkdir?path=/tmp/a/b", first);
	json_object_put(tc_expect("POST", path, NULL, 204));
	snprintf(path, sizeof(path), "/sandboxes/%s/files/rename?from=/tmp/bg.txt&to=/tmp/a/b/f",
		 first);
	json_object_put(tc_expect("POST", path, NULL, 204));
	snprintf(path, sizeof(path), "/sandboxes/%s/files/stat?path=/tmp/a/b/f", first);
	o = tc_expect("GET", path, NULL, 200);
	CHECK(o && strcmp(tc_str(o, "type"), "file") == 0 &&
	      json_object_get_int(json_object_object_get(o, "size")) == 11);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/files/list?path=/tmp/a&depth=2", first);
	o = tc_expect("GET", path, NULL, 200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "entries")) == 2);
	json_object_put(o);
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/tmp/a", first);
	CHECK(tc_refused("DELETE", path, NULL, 409, "conflict"));
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/tmp/a&recursive=true", first);
	json_object_put(tc_expect("DELETE", path, NULL, 204));
	snprintf(path, sizeof(path), "/sandboxes/%s/files/stat?path=/tmp/a", first);
	CHECK(tc_refused("GET", path, NULL, 404, "not_found"));
}

static void check_bad_input(void)
{
	char path[256], *big;
	struct tc_resp r;

	CHECK(tc_refused("POST", "/sandboxes", "{\"template\":", 400, "invalid_json"));
	CHECK(tc_refused("POST", "/sandboxes", "[1,2]", 400, "invalid_json"));
	CHECK(tc_refused("POST", "/sandboxes", "{\"vcpus\":\"two\"}", 400, "invalid_request"));
	CHECK(tc_refused("POST", "/sandboxes", "{\"colour\":\"red\"}", 400, "invalid_request"));
	CHECK(tc_refused("POST", "/sandboxes", "{\"template\":\"nope\"}", 400, "invalid_request"));
	CHECK(tc_refused("POST", "/sandboxes", "{\"resolution\":\"10x10\"}", 400, "invalid_request"));
	CHECK(tc_refused("GET", "/sandboxes/0123456789abcdef", NULL, 404, "sandbox_not_found"));
	CHECK(tc_refused("GET", "/nowhere", NULL, 404, "not_found"));
	CHECK(tc_refused("PATCH", "/sandboxes", NULL, 405, "method_not_allowed"));
	CHECK(tc_refused("GET", "/sandboxes?state=asleep", NULL, 400, "invalid_request"));
	snprintf(path, sizeof(path), "/sandboxes/%s/actions", first);
	CHECK(tc_refused("POST", path, "{\"actions\":[{\"type\":\"teleport\"}]}", 400,
		      "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"actions\":[{\"type\":\"key\",\"keys\":\"ctrl+nosuchkey\"}]}",
		      400, "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"actions\":[{\"type\":\"click\",\"x\":5000,\"y\":10}]}", 400,
		      "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"actions\":[{\"type\":\"move\",\"x\":\"10\",\"y\":10}]}",
		      400, "invalid_request"));
	big = malloc((2u << 20) + 1);
	memset(big, ' ', 2u << 20);
	big[2u << 20] = '\0';
	CHECK(tc_refused("POST", path, big, 413, "payload_too_large"));
	free(big);
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?region=1,2,3", first);
	CHECK(tc_refused("GET", path, NULL, 400, "invalid_request"));
	/* Query values are parsed whole: no number read off a prefix, no flag guessed. */
	static const char *const bad_queries[] = {
		"screenshot?format=jpeg&quality=abc", "screenshot?format=jpeg&quality=101",
		"screenshot?scale=2", "screenshot?scale=0.5x", "screenshot?width=12.5",
		"screenshot?cursor=yes", "stream?view_only=yes", "files/mkdir?path=/tmp/q&parents=no",
		"activity?after=1x",
	};
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); i++) {
		snprintf(path, sizeof(path), "/sandboxes/%s/%s", first, bad_queries[i]);
		CHECK(tc_refused(strncmp(bad_queries[i], "files/", 6) ? "GET" : "POST", path, NULL, 400,
			      "invalid_request"));
	}
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?format=gif", first);
	CHECK(tc_refused("GET", path, NULL, 400, "invalid_request"));
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=relative.txt", first);
	CHECK(tc_refused("GET", path, NULL, 400, "invalid_request"));
	snprintf(path, sizeof(path), "/sandboxes/%s/files?path=/no/such/file", first);
	CHECK(tc_refused("GET", path, NULL, 404, "not_found"));
	snprintf(path, sizeof(path), "/sandboxes/%s/commands", first);
	CHECK(tc_refused("POST", path, "{\"cmd\":\"true\",\"argv\":[\"true\"]}", 400, "invalid_request"));
	CHECK(tc_refused("POST", path, "{\"argv\":[\"/no/such/program\"]}", 404, "not_found"));
	/* A bad request changed nothing: the sandbox still answers. */
	snprintf(path, sizeof(path), "/sandboxes/%s", first);
	json_object_put(tc_expect("GET", path, NULL, 200));
	CHECK(tc_http("GET", "/sandboxes", NULL, &r) && r.status == 200 &&
	      strstr(r.body, first) != NULL);
	free(r.body);
}

struct creator {
	pthread_t thread;
	char id[32];
	const char *extra;
};

static void *create_thread(void *arg)
{
	struct creator *c = arg;

	create(c->extra, c->id);
	return NULL;
}

static void check_many_and_timeout(void)
{
	struct creator c[4] = {
		{ .extra = NULL }, { .extra = NULL }, { .extra = NULL },
		{ .extra = "\"metadata\":{\"role\":\"short\"}" },
	};
	char path[256];
	struct json_object *o;

	for (int i = 0; i < 4; i++)
		pthread_create(&c[i].thread, NULL, create_thread, &c[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(c[i].thread, NULL);
	o = tc_expect("GET", "/sandboxes?state=running", NULL, 200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "sandboxes")) == 5);
	json_object_put(o);
	CHECK(tc_refused("POST", "/sandboxes", "{\"template\":\"minimal\"}", 429, "too_many_sandboxes"));

	/* The last one's timeout, cut to 2 s, passes: it is ended and its files go. */
	snprintf(path, sizeof(path), "/sandboxes/%s/timeout", c[3].id);
	json_object_put(tc_expect("POST", path, "{\"timeout\":2}", 200));
	snprintf(path, sizeof(path), "/sandboxes/%s", c[3].id);
	for (int i = 0; i < 200 && sandbox_dir_exists(c[3].id); i++)
		usleep(100000);
	CHECK(!sandbox_dir_exists(c[3].id));
	CHECK(tc_refused("GET", path, NULL, 404, "sandbox_not_found"));

	/* A monitor killed outright: reported dead at once, files gone, then deleted. */
	{
		int pid = cubicled_monitor_pid(data_dir, c[2].id);

		CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
		snprintf(path, sizeof(path), "/sandboxes/%s", c[2].id);
		o = NULL;
		for (int i = 0; i < 50; i++) {
			json_object_put(o);
			o = tc_expect("GET", path, NULL, 200);
			if (o && strcmp(tc_str(o, "state"), "dead") == 0)
				break;
			usleep(100000);
		}
		CHECK(o && strcmp(tc_str(o, "state"), "dead") == 0 &&
		      strstr(tc_str(o, "reason"), "signal 9"));
		json_object_put(o);
		CHECK(!sandbox_dir_exists(c[2].id));
		snprintf(path, sizeof(path), "/sandboxes/%s/screenshot", c[2].id);
		CHECK(tc_refused("GET", path, NULL, 409, "sandbox_not_running"));
		snprintf(path, sizeof(path), "/sandboxes/%s", c[2].id);
		json_object_put(tc_expect("DELETE", path, NULL, 204));
		CHECK(tc_refused("GET", path, NULL, 404, "sandbox_not_found"));
	}
	snprintf(path, sizeof(path), "/sandboxes/%s", c[1].id);
	json_object_put(tc_expect("DELETE", path, NULL, 204));
	CHECK(!sandbox_dir_exists(c[1].id));
}

/* Whether any cubicle-vmm of this data dir still runs. */
static int monitors_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[300], cmd[4096];
		FILE *f;
		size_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		len = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			cmd[i] = cmd[i] ? cmd[i] : ' ';
		cmd[len] = '\0';
		n += strstr(cmd, "cubicle-vmm") && strstr(cmd, data_dir);
	}
	if (d)
		closedir(d);
	return n;
}

static void check_restart_and_stop(void)
{
	struct json_object *o;
	char path[256];
	DIR *d;
	struct dirent *e;
	int left = 0;

	/* cubicled killed outright: its monitors die with it. */
	CHECK(monitors_running() >= 1);
	kill(service.pid, SIGKILL);
	cubicled_wait(&service, 10);
	for (int i = 0; i < 100 && monitors_running(); i++)
		usleep(100000);
	CHECK(monitors_running() == 0);

	/* A new cubicled cleans what the old one left. */
	CHECK(start_daemon());
	snprintf(path, sizeof(path), "%s/sandboxes", data_dir);
	d = opendir(path);
	while (d && (e = readdir(d)))
		left += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(left == 0);
	o = tc_expect("GET", "/sandboxes", NULL, 200);
	CHECK(o && json_object_array_length(json_object_object_get(o, "sandboxes")) == 0);
	json_object_put(o);

	/* SIGTERM ends every sandbox, then cubicled, with status 0. */
	create(NULL, first);
	CHECK(monitors_running() == 1);
	kill(service.pid, SIGTERM);
	CHECK(cubicled_wait(&service, 60) == 0);
	CHECK(monitors_running() == 0);
	CHECK(!sandbox_dir_exists(first));
}

int main(int argc, char **argv)
{
	char cfg_path[128];
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLED GUEST_DIR\n", argv[0]);
		return 2;
	}
	cubicled = argv[1];
	guest_dir = argv[2];
	snprintf(data_dir, sizeof(data_dir), "/tmp/cubicle-api-XXXXXX");
	CHECK(mkdtemp(data_dir) != NULL);
	snprintf(cfg_path, sizeof(cfg_path), "%s/cubicled.json", data_dir);
	f = fopen(cfg_path, "w");
	CHECK(f && fputs("{\"max_sandboxes\": 5, \"template\": \"minimal\", \"memory_mib\": 512, "
			 "\"vcpus\": 1, \"max_body\": 1048576}\n", f) >= 0);
	if (f)
		fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!start_daemon()) {
		CHECK(!"cubicled starts");
		goto out;
	}
	RUN(check_auth);
	RUN(check_screen_and_hands);
	RUN(check_files_and_commands);
	RUN(check_coordinates);
	RUN(check_bad_input);
	RUN(check_many_and_timeout);
	RUN(check_restart_and_stop);
out:
	cubicled_finish(&service, data_dir, check_failed);
	curl_global_cleanup();
	return check_done();
}
