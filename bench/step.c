/*
 * bench/step: one agent step as a computer-use loop takes it, a click and
 * the screenshot the model needs next (a 1280x800 PNG), through each way
 * cubicled offers it, on one `minimal` sandbox over HTTP on loopback:
 * /actions with its screenshot; Claude's toolset turn (left_click,
 * screenshot) and the older tool's one input; OpenAI's computer_call;
 * Gemini's click_at; the MCP click tool; and beside them the E2B Desktop
 * way, `xdotool` and then `scrot` through the commands API and the file
 * downloaded. Median and p99 of N steps each, 20 ms apart (an agent's steps
 * are a model's answer apart), and the engine the guest runs on.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "common.h"
#include "cubicled.h"
#include "http.h"
#include "engine_qemu.h"

#define GAP_MS 20

static char base[128], auth[300];

/* One request on the one handle (its connection kept, as a client's is); the status. */
static long http(CURL *c, const char *method, const char *path, const char *body,
		 struct bench_buf *out)
{
	return bench_http(c, base, auth, method, path, body, out);
}

/* One request of a step; the step's last answers a PNG (base64 in JSON, or its bytes). */
struct req {
	const char *method, *path, *body;
};

/* Whether an answer holds a PNG (base64 "iVBOR" in JSON, or raw bytes). */
static bool has_png(const struct bench_buf *b)
{
	return b->p && (strstr(b->p, "iVBOR") || (b->n > 8 && !memcmp(b->p, "\x89PNG", 4)));
}

/* Times runs steps of the requests in r (after 3 untimed); prints the figure. */
static void bench_step(CURL *c, const char *what, const struct req *r, int nr, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	int n = 0;

	for (int i = 0; v && i < runs + 3; i++) {
		double t0 = now_ms();
		bool ok = true;
		struct bench_buf b = { NULL, 0 };

		for (int k = 0; k < nr && ok; k++) {
			long st;

			free(b.p);
			st = http(c, r[k].method, r[k].path, r[k].body, &b);
			ok = st == 200 || st == 201;
			if (!ok)
				fprintf(stderr, "bench_step: %s %s: %ld %.200s\n", r[k].method, r[k].path, st,
					b.p ? b.p : "");
		}
		ok = ok && has_png(&b);
		free(b.p);
		if (ok && i >= 3)
			v[n++] = now_ms() - t0;
		clk_pause_ms(GAP_MS);   /* the pace is the point: steps are a model's answer apart */
	}
	figure_print(what, figure_of(v, n));
	fflush(stdout);
	free(v);
}

static const char usage[] =
	"usage: bench_step --cubicled PATH --guest-dir DIR [--runs N]\n"
	"One agent step (a click and the 1280x800 PNG the model needs next) through\n"
	"/actions, each model's route, MCP, and the E2B Desktop way (xdotool and scrot\n"
	"through commands), on one minimal sandbox: median and p99 of N (default 200).\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cubicled", required_argument, NULL, 'c' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cubicled = NULL, *guest = NULL;
	char data_dir[64], id[32], p[8][256];
	struct cubicled service;
	struct json_object *o;
	int runs = 200, ch;
	struct bench_buf b;
	CURL *c;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cubicled = optarg; break;
		case 'g': guest = optarg; break;
		case 'r': runs = atoi(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!cubicled || !guest || optind < argc || runs < 1 || runs > 100000) {
		fprintf(stderr, "bench_step: %s\n%s", !cubicled || !guest ?
			"--cubicled and --guest-dir are required" : "bad arguments", usage);
		return 2;
	}
	snprintf(data_dir, sizeof(data_dir), "/tmp/cubicle-step-XXXXXX");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!mkdtemp(data_dir) || !cubicled_start(&service, cubicled, data_dir, guest, NULL)) {
		fprintf(stderr, "bench_step: cubicled did not start\n");
		return 1;
	}
	snprintf(base, sizeof(base), "%s", service.url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", service.key);
	c = curl_easy_init();
	if (http(c, "POST", "/sandboxes", "{\"template\":\"minimal\",\"vcpus\":2,\"memory_mib\":1024,"
		 "\"resolution\":\"1280x800\",\"timeout\":3600}", &b) != 201) {
		fprintf(stderr, "bench_step: no sandbox: %.300s\n", b.p ? b.p : "");
		return 1;
	}
	o = json_tokener_parse(b.p);
	snprintf(id, sizeof(id), "%s", json_object_get_string(json_object_object_get(o, "id")));
	json_object_put(o);
	free(b.p);
	printf("bench_step: engine %s, minimal sandbox of 2 vCPU and 1024 MiB at 1280x800, %d steps "
	       "each, %d ms apart: a click, then the PNG the model needs next\n",
	       qemu_host_has_kvm() ? "qemu-kvm" : "qemu-tcg", runs, GAP_MS);
	snprintf(p[0], sizeof(p[0]), "/sandboxes/%s/actions", id);
	snprintf(p[1], sizeof(p[1]), "/sandboxes/%s/computer/anthropic?display_width=1280&"
		 "display_height=800", id);
	snprintf(p[2], sizeof(p[2]), "/sandboxes/%s/computer/openai", id);
	snprintf(p[3], sizeof(p[3]), "/sandboxes/%s/computer/gemini", id);
	snprintf(p[4], sizeof(p[4]), "/sandboxes/%s/commands", id);
	snprintf(p[5], sizeof(p[5]), "/sandboxes/%s/files?path=/tmp/step.png", id);
	{
		const struct req actions[] = { { "POST", p[0], "{\"actions\":[{\"type\":\"click\","
			"\"x\":640,\"y\":400}],\"screenshot\":true}" } };
		const struct req toolset[] = { { "POST", p[1], "{\"content\":[{\"type\":\"tool_use\","
			"\"id\":\"t1\",\"name\":\"left_click\",\"toolset_name\":\"computer\",\"input\":"
			"{\"coordinate\":[640,400]}},{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":"
			"\"screenshot\",\"toolset_name\":\"computer\",\"input\":{}}]}" } };
		const struct req older[] = { { "POST", p[1], "{\"action\":\"left_click\","
			"\"coordinate\":[640,400]}" } };
		const struct req openai[] = { { "POST", p[2], "{\"type\":\"computer_call\",\"call_id\":"
			"\"c1\",\"pending_safety_checks\":[],\"actions\":[{\"type\":\"click\",\"button\":"
			"\"left\",\"x\":640,\"y\":400},{\"type\":\"screenshot\"}]}" } };
		const struct req gemini[] = { { "POST", p[3], "{\"functionCall\":{\"name\":\"click_at\","
			"\"args\":{\"x\":500,\"y\":500}}}" } };
		const struct req mcp[] = { { "POST", "/mcp", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"tools/call\",\"params\":{\"name\":\"click\",\"arguments\":{\"sandbox\":\"" } };
		const struct req e2b[] = {
			{ "POST", p[4], "{\"cmd\":\"xdotool mousemove 640 400 click 1\"}" },
			{ "POST", p[4], "{\"cmd\":\"scrot -o /tmp/step.png\"}" },
			{ "GET", p[5], NULL },
		};
		char mcp_body[256];
		struct req m = mcp[0];

		snprintf(mcp_body, sizeof(mcp_body), "%s%s\",\"x\":640,\"y\":400}}}", mcp[0].body, id);
		m.body = mcp_body;
		bench_step(c, "POST actions [click] + screenshot", actions, 1, runs);
		bench_step(c, "anthropic toolset: left_click, screenshot", toolset, 1, runs);
		bench_step(c, "anthropic older tool: left_click", older, 1, runs);
		bench_step(c, "openai computer_call: click, screenshot", openai, 1, runs);
		bench_step(c, "gemini click_at", gemini, 1, runs);
		bench_step(c, "MCP tools/call click", &m, 1, runs);
		bench_step(c, "E2B way: xdotool, scrot, GET file", e2b, 3, runs / 4 > 10 ? runs / 4 : 10);
	}
	curl_easy_cleanup(c);
	cubicled_finish(&service, data_dir, false);
	curl_global_cleanup();
	return 0;
}
