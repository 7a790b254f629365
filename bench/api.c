/*
 * bench/api: cubicled as its users feel it, over HTTP on loopback, with
 * `minimal` sandboxes (or --template):
 *  - create -> first screenshot: POST /sandboxes (which answers once the
 *    desktop is ready) then GET its screenshot, from a cold boot;
 *  - a screenshot over HTTP (full PNG, full JPEG, half-size JPEG), median
 *    and p99; beside it the E2B Desktop way on the same sandbox: `scrot` in
 *    the guest through the commands API, then the file downloaded;
 *  - an action batch's round trip (one move; a click, a key and a move);
 *  - sandboxes created per minute: N creates at once until all are ready;
 *  - host memory per idle sandbox: RSS and PSS of its cubicle-vmm and QEMU,
 *    with N sandboxes idle.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "common.h"
#include "cubicled.h"
#include "http.h"

#define ACTION_GAP_MS 20

static char base[128], auth[300], data_dir[64];
static struct cubicled service;
static const char *template_name = "minimal";

/* One request (a connection of its own); the status, the body in *out. */
static long http(const char *method, const char *path, const char *body, struct bench_buf *out)
{
	return bench_http(NULL, base, auth, method, path, body, out);
}

/* Creates a sandbox; its id in id, the ms it took; -1 on failure. */
static double create(char *id)
{
	char body[160];
	struct bench_buf b;
	struct json_object *o;
	double t0 = now_ms();
	long st;

	snprintf(body, sizeof(body), "{\"template\":\"%s\",\"timeout\":3600}", template_name);
	st = http("POST", "/sandboxes", body, &b);
	t0 = now_ms() - t0;
	o = st == 201 ? json_tokener_parse(b.p) : NULL;
	if (!o) {
		fprintf(stderr, "bench_api: create: %ld %s\n", st, b.p);
		free(b.p);
		return -1;
	}
	snprintf(id, 32, "%s", json_object_get_string(json_object_object_get(o, "id")));
	json_object_put(o);
	free(b.p);
	return t0;
}

static double timed(const char *method, const char *path, const char *body, long want)
{
	struct bench_buf b;
	double t0 = now_ms();
	long st = http(method, path, body, &b);

	t0 = now_ms() - t0;
	if (st != want) {
		fprintf(stderr, "bench_api: %s %s: %ld %.200s\n", method, path, st, b.p);
		t0 = -1;
	}
	free(b.p);
	return t0;
}

/*
 * Times runs requests (after 3 untimed), each answered 200 and gap_ms
 * after the one before; prints the figure. A GET is timed back to back,
 * actions a gap apart (an agent's actions are a screenshot apart).
 */
static void bench_requests(const char *what, const char *method, const char *path,
			   const char *body, int runs, int gap_ms)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	int n = 0;

	for (int i = 0; v && i < runs + 3; i++) {
		double t = timed(method, path, body, 200);

		if (t >= 0 && i >= 3)
			v[n++] = t;
		if (gap_ms)
			clk_pause_ms((unsigned int)gap_ms);     /* the pace is the point */
	}
	figure_print(what, figure_of(v, n));
	free(v);
}

/* The E2B way: scrot in the guest, then the file fetched. */
static void bench_scrot(const char *id, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	char cmd[128], file[128];
	int n = 0;

	snprintf(cmd, sizeof(cmd), "/sandboxes/%s/commands", id);
	snprintf(file, sizeof(file), "/sandboxes/%s/files?path=/tmp/scrot.png", id);
	for (int i = 0; v && i < runs + 1; i++) {
		double t0 = now_ms(), a = timed("POST", cmd, "{\"cmd\":\"scrot -o /tmp/scrot.png\"}", 200),
		       b = a >= 0 ? timed("GET", file, NULL, 200) : -1;

		if (a >= 0 && b >= 0 && i >= 1)
			v[n++] = now_ms() - t0;
	}
	figure_print("E2B way: commands `scrot`, then GET the file", figure_of(v, n));
	free(v);
}

/* RSS and PSS (KiB) of pid (the monitor) in m[0..1] and of its children (QEMU) in m[2..3]. */
static void memory_of(int pid, long m[4])
{
	char path[64], line[256];
	FILE *f;
	int kids[16], nk = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	while (f && nk < 16 && fscanf(f, "%d", &kids[nk]) == 1)
		nk++;
	if (f)
		fclose(f);
	for (int i = -1; i < nk; i++) {
		long *at = m + (i < 0 ? 0 : 2);

		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", i < 0 ? pid : kids[i]);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			long v;

			if (sscanf(line, "Rss: %ld kB", &v) == 1)
				at[0] += v;
			else if (sscanf(line, "Pss: %ld kB", &v) == 1)
				at[1] += v;
		}
		if (f)
			fclose(f);
	}
}

struct creator {
	pthread_t t;
	char id[32];
	double ms;
};

static void *create_thread(void *arg)
{
	struct creator *c = arg;

	c->ms = create(c->id);
	return NULL;
}

static bool start_daemon(const char *cubicled, const char *guest_dir, int max)
{
	char path[128], cfg[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cubicled.json", data_dir);
	snprintf(cfg, sizeof(cfg), "{\"max_sandboxes\": %d, \"memory_mib\": 512, \"vcpus\": 1}\n",
		 max);
	f = fopen(path, "w");
	if (!f || fputs(cfg, f) < 0 || fclose(f) != 0 ||
	    !cubicled_start(&service, cubicled, data_dir, guest_dir, NULL))
		return false;
	snprintf(base, sizeof(base), "%s", service.url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", service.key);
	return true;
}

static const char usage[] =
	"usage: bench_api --cubicled PATH --guest-dir DIR [--runs N] [--sandboxes N]\n"
	"                 [--template NAME]\n"
	"cubicled over HTTP on loopback: create -> first screenshot, screenshots (and\n"
	"the in-guest scrot way), action round trips (N runs, default 200), sandboxes\n"
	"created per minute and host memory per idle sandbox (N at once, default 4).\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cubicled", required_argument, NULL, 'c' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' }, { "sandboxes", required_argument, NULL, 's' },
		{ "template", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cubicled = NULL, *guest = NULL;
	int runs = 200, nsb = 4, c;
	char id[32], path[256];
	struct creator *cr;
	double t, t0;
	struct bench_buf b;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cubicled = optarg; break;
		case 'g': guest = optarg; break;
		case 'r': runs = atoi(optarg); break;
		case 's': nsb = atoi(optarg); break;
		case 't': template_name = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!cubicled || !guest || optind < argc || runs < 1 || runs > 100000 || nsb < 1 ||
	    nsb > 64) {
		fprintf(stderr, "bench_api: %s\n%s", !cubicled || !guest ?
			"--cubicled and --guest-dir are required" : "bad arguments", usage);
		return 2;
	}
	snprintf(data_dir, sizeof(data_dir), "/tmp/cubicle-bench-XXXXXX");
	if (!mkdtemp(data_dir) || (curl_global_init(CURL_GLOBAL_DEFAULT), 0) ||
	    !start_daemon(cubicled, guest, nsb + 1)) {
		fprintf(stderr, "bench_api: cubicled did not start\n");
		return 1;
	}
	printf("bench_api: cubicled at %s, template %s, sandboxes of 1 vCPU and 512 MiB\n", base,
	       template_name);
	fflush(stdout);

	printf("create -> first screenshot (cold boot, one at a time):\n");
	for (int i = 0; i < 3; i++) {
		t0 = now_ms();
		t = create(id);
		snprintf(path, sizeof(path), "/sandboxes/%s/screenshot", id);
		if (t < 0 || timed("GET", path, NULL, 200) < 0)
			break;
		printf("  run %d: create %.0f ms, then the first screenshot: %.0f ms in all\n", i + 1,
		       t, now_ms() - t0);
		if (i < 2) {
			snprintf(path, sizeof(path), "/sandboxes/%s", id);
			timed("DELETE", path, NULL, 204);
		}
		fflush(stdout);
	}

	printf("screenshot over HTTP (1280x800 desktop, idle):\n");
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?format=png", id);
	bench_requests("GET screenshot PNG", "GET", path, NULL, runs, 0);
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?format=jpeg&quality=80", id);
	bench_requests("GET screenshot JPEG q80", "GET", path, NULL, runs, 0);
	snprintf(path, sizeof(path), "/sandboxes/%s/screenshot?format=jpeg&scale=0.5", id);
	bench_requests("GET screenshot JPEG, scale 0.5", "GET", path, NULL, runs, 0);
	bench_scrot(id, runs / 10 > 10 ? runs / 10 : 10);
	fflush(stdout);

	printf("action batch round trip (%d ms apart):\n", ACTION_GAP_MS);
	snprintf(path, sizeof(path), "/sandboxes/%s/actions", id);
	bench_requests("POST actions [move]", "POST", path,
		       "{\"actions\":[{\"type\":\"move\",\"x\":300,\"y\":300}]}", runs, ACTION_GAP_MS);
	bench_requests("POST actions [click, key shift, move]", "POST", path,
		       "{\"actions\":[{\"type\":\"click\",\"x\":900,\"y\":700},{\"type\":\"key\","
		       "\"keys\":\"shift\"},{\"type\":\"move\",\"x\":300,\"y\":300}]}", runs,
		       ACTION_GAP_MS);
	snprintf(path, sizeof(path), "/sandboxes/%s/computer/anthropic?display_width=1024&"
		 "display_height=640", id);
	bench_requests("POST computer/anthropic mouse_move (+ PNG back)", "POST", path,
		       "{\"action\":\"mouse_move\",\"coordinate\":[100,100]}",
		       runs / 4 > 10 ? runs / 4 : 10, ACTION_GAP_MS);
	fflush(stdout);

	printf("sandboxes created per minute (%d at once, plus the one running):\n", nsb);
	cr = calloc((size_t)nsb, sizeof(*cr));
	t0 = now_ms();
	for (int i = 0; cr && i < nsb; i++)
		pthread_create(&cr[i].t, NULL, create_thread, &cr[i]);
	for (int i = 0; cr && i < nsb; i++)
		pthread_join(cr[i].t, NULL);
	t = now_ms() - t0;
	{
		int ok = 0;

		for (int i = 0; cr && i < nsb; i++)
			ok += cr[i].ms >= 0;
		printf("  %d of %d ready in %.1f s: %.1f sandboxes a minute\n", ok, nsb, t / 1e3,
		       ok * 60e3 / t);
	}
	clk_pause_ms(10000);    /* let them settle idle */
	printf("host memory per idle sandbox (guest RAM, shared memfd, counts in both):\n");
	{
		long m[4] = { 0, 0, 0, 0 };
		int n = 0;

		for (int i = 0; cr && i < nsb; i++) {
			int pid = cr[i].ms >= 0 ? cubicled_monitor_pid(data_dir, cr[i].id) : 0;

			if (pid > 0) {
				memory_of(pid, m);
				n++;
			}
		}
		if (n) {
			printf("  cubicle-vmm (device host)  RSS %7.1f MiB   PSS %7.1f MiB   (mean of %d)\n",
			       m[0] / 1024.0 / n, m[1] / 1024.0 / n, n);
			printf("  QEMU (vCPUs, guest RAM)    RSS %7.1f MiB   PSS %7.1f MiB\n",
			       m[2] / 1024.0 / n, m[3] / 1024.0 / n);
			printf("  the sandbox, all told      PSS %7.1f MiB\n", (m[1] + m[3]) / 1024.0 / n);
		}
	}
	free(cr);
	if (http("GET", "/sandboxes", NULL, &b) == 200)
		free(b.p);
	kill(service.pid, SIGTERM);
	cubicled_wait(&service, 120);
	snprintf(path, sizeof(path), "rm -rf %s", data_dir);
	if (system(path) != 0)
		fprintf(stderr, "bench_api: could not remove %s\n", data_dir);
	curl_global_cleanup();
	return 0;
}
