/*
 * bench_network: what a sandbox's own network costs and gives, beside QEMU's
 * user-mode network on the same engine and sandbox shape, in the network
 * tests' lab of namespaces (tests/net/netlab.sh), so no packet leaves it.
 *
 *   setup     time net_sandbox_up takes (namespace, TAP, veth, addresses,
 *             routes, nftables, DNS socket), and with 256 namespaces held;
 *   transfer  a guest's download of 100 MiB, its upload of 100 MiB and its
 *             HTTP request latency to the lab's web server, over our network
 *             and over `-netdev user`, each on a `minimal` sandbox of 2 vCPUs
 *             and 1024 MiB booted by cubicle-vmm;
 *   density   sandboxes booted at once with networking, each fetching a page.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "desktop.h"
#include "common.h"
#include "dns.h"
#include "netns.h"
#include "rules.h"
#include "sandbox.h"
#include "vmtest.h"

static const char usage[] =
	"usage: bench_network --vmm PATH --guest-dir DIR --netlab PATH [--runs N] [--sandboxes N]\n"
	"\n"
	"Times a sandbox network's setup, a guest's download, upload and request\n"
	"latency over it beside QEMU's -netdev user, and N sandboxes up at once\n"
	"with networking (default 4), inside a lab of network namespaces\n"
	"(tests/net/netlab.sh). Needs root.\n";

static char lab[32], lab_dir[96], run_dir[96];
static const char *netlab;
static struct net_host *host;
static struct net_dns *dns;

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool enter_lab(void)
{
	char cmd[512], path[96];
	int fd;

	snprintf(cmd, sizeof(cmd), "%s up %s %s", netlab, lab, lab_dir);
	if (sh(cmd) != 0)
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s-host", lab);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		return false;
	close(fd);
	return true;
}

static void leave_lab(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s down %s %s; rm -rf %s %s", netlab, lab, lab_dir, lab_dir,
		 run_dir);
	sh(cmd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --- setup ------------------------------------------------------------------ */

static void bench_setup(int runs)
{
	static struct net_sandbox held[256];
	struct net_policy p;
	double *t = calloc((size_t)runs, sizeof(*t)), first = 0, last = 0;
	char id[32], err[300];
	int ok = 0;

	net_policy_default(&p);
	for (int i = 0; i < runs; i++) {
		struct net_sandbox sb;
		double t0 = now_ms();

		snprintf(id, sizeof(id), "bench%011d", i);
		if (net_sandbox_up(host, id, &p, &sb, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_network: %s\n", err);
			break;
		}
		t[ok++] = now_ms() - t0;
		close(sb.tap_fd);
		close(sb.dns_fd);
		net_sandbox_down(host, &sb);
	}
	qsort(t, (size_t)ok, sizeof(*t), cmp_double);
	if (ok)
		printf("setup: one sandbox's network up in %.1f ms median, %.1f ms p90 "
		       "(%d runs; torn down each time)\n", quantile(t, ok, 0.5), quantile(t, ok, 0.9), ok);
	/* Held: the 256th costs what the first did. */
	for (int i = 0; i < 256; i++) {
		double t0 = now_ms(), ms;

		snprintf(id, sizeof(id), "held%012d", i);
		if (net_sandbox_up(host, id, &p, &held[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_network: held %d: %s\n", i, err);
			net_sandbox_init(&held[i]);
			break;
		}
		ms = now_ms() - t0;
		if (i < 16)
			first += ms / 16;
		if (i >= 240)
			last += ms / 16;
	}
	printf("setup: with 256 namespaces held, the 1st-16th took %.1f ms each, the "
	       "241st-256th %.1f ms\n", first, last);
	for (int i = 0; i < 256; i++) {
		if (held[i].tap_fd >= 0)
			close(held[i].tap_fd);
		if (held[i].dns_fd >= 0)
			close(held[i].dns_fd);
		net_sandbox_down(host, &held[i]);
	}
	free(t);
}

/* --- a guest on either network --------------------------------------------- */

struct guest {
	struct sandbox sb;
	struct net_sandbox net;
	int64_t dns;
};

/* Boots a minimal guest on our network (ours) or QEMU's user-mode one; false if it did not come up. */
static bool guest_up(struct guest *g, const char *vmm, struct vmm_config *cfg, bool ours,
		     const char *tag)
{
	char err[300], append[200], id[32];
	bool seen = false;
	int tap = -1;

	net_sandbox_init(&g->net);
	g->dns = 0;
	cfg->net = ours ? VMM_NET_TAP : VMM_NET_USER;
	cfg->append = NULL;
	if (ours) {
		struct net_policy p;

		net_policy_default(&p);
		/* A 16-character name, as sandbox ids are. */
		snprintf(id, sizeof(id), "%-16.16s", tag);
		for (char *c = id; *c; c++)
			*c = *c == ' ' ? '0' : *c;
		if (net_sandbox_up(host, id, &p, &g->net, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_network: %s\n", err);
			return false;
		}
		g->dns = net_dns_add(dns, g->net.dns_fd, true);
		g->net.dns_fd = -1;
		tap = fcntl(g->net.tap_fd, F_DUPFD, 3);     /* without close-on-exec: the monitor's */
		cfg->net_tap_fd = tap;
		snprintf(append, sizeof(append), "cubicle.ip=%s/%d cubicle.gw=%s cubicle.dns=%s",
			 NET_GUEST_ADDR, NET_GUEST_PREFIX, NET_GATEWAY_ADDR, NET_GATEWAY_ADDR);
		cfg->append = append;
	}
	if (sandbox_start(&g->sb, vmm, cfg, run_dir, tag, -1) < 0)
		return false;
	if (tap >= 0)
		close(tap);
	wait_for(g->sb.console, now_ms(), READY, &seen);
	return seen && agent_wait_ready(g->sb.vsock, 60000) == 0;
}

static void guest_down(struct guest *g)
{
	sandbox_stop(&g->sb);
	if (g->dns > 0)
		net_dns_remove(dns, g->dns);
	if (g->net.tap_fd >= 0)
		close(g->net.tap_fd);
	g->net.tap_fd = -1;
	net_sandbox_down(host, &g->net);
}

/* cmd's output in the guest, or "" (static). */
static const char *guest_sh(struct guest *g, const char *cmd)
{
	int status;

	return guest_run(g->sb.vsock, NULL, cmd, 600000, &status);
}

/* Median of the numbers, one a line, in text (MB/s or seconds); 0 if none. */
static double median_of(const char *text)
{
	double v[64];
	int n = 0;

	for (const char *l = text; l && *l && n < 64; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (sscanf(l, "%lf", &v[n]) == 1)
			n++;
	return n ? quantile(v, n, 0.5) : 0;
}

static void bench_transfer(const char *vmm, struct vmm_config *cfg, int runs)
{
	struct guest g;
	char cmd[512];

	printf("transfer: a minimal sandbox of %u vCPUs and %u MiB, engine qemu-tcg, to the lab's "
	       "web server (203.0.113.10) in another namespace\n", cfg->vcpus, cfg->memory_mib);
	printf("  %-22s %12s %12s %16s\n", "network", "down MB/s", "up MB/s", "request ms (p50)");
	for (int ours = 1; ours >= 0; ours--) {
		double down, up, lat;

		if (!guest_up(&g, vmm, cfg, ours, ours ? "ours" : "user")) {
			fprintf(stderr, "bench_network: the %s guest did not come up\n",
				ours ? "TAP" : "user-mode");
			guest_down(&g);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "for i in $(seq %d); do curl -s -o /dev/null -w "
			 "'%%{speed_download}\\n' http://203.0.113.10/big; done", runs);
		down = median_of(guest_sh(&g, cmd)) / 1e6;
		snprintf(cmd, sizeof(cmd), "head -c 104857600 /dev/zero >/tmp/up; for i in $(seq %d); "
			 "do curl -s -o /dev/null -w '%%{speed_upload}\\n' -H 'Expect:' --data-binary "
			 "@/tmp/up http://203.0.113.10/sink; done; rm -f /tmp/up", runs);
		up = median_of(guest_sh(&g, cmd)) / 1e6;
		lat = 1000 * median_of(guest_sh(&g, "for i in $(seq 30); do curl -s -o /dev/null -w "
						 "'%{time_total}\\n' http://203.0.113.10/hello; done"));
		printf("  %-22s %12.1f %12.1f %16.1f\n", ours ? "ours (TAP, netns, NAT)" :
		       "QEMU -netdev user", down, up, lat);
		fflush(stdout);
		guest_down(&g);
	}
	printf("  (Firecracker publishes ~25 Gbps host-guest on bare metal with KVM: the ceiling "
	       "to quote; these figures are TCG, where the guest's CPU is the limit)\n");
}

static void bench_density(const char *vmm, struct vmm_config *cfg, int n)
{
	struct guest *g = calloc((size_t)n, sizeof(*g));
	double t0 = now_ms();
	int up = 0, fetched = 0;
	char tag[16];

	for (int i = 0; i < n; i++) {
		snprintf(tag, sizeof(tag), "dens%02d", i);
		up += guest_up(&g[i], vmm, cfg, true, tag);
	}
	for (int i = 0; i < n; i++)
		fetched += strstr(guest_sh(&g[i], "curl -s -m 20 http://203.0.113.10/hello"),
				  "hello from") != NULL;
	printf("density: %d of %d sandboxes up with networking (each booted in turn, %.0f s in "
	       "all), %d fetched a page at once afterwards\n", up, n, (now_ms() - t0) / 1000, fetched);
	for (int i = 0; i < n; i++)
		guest_down(&g[i]);
	free(g);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "netlab", required_argument, NULL, 'n' }, { "runs", required_argument, NULL, 'r' },
		{ "sandboxes", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vmm = NULL, *guest = NULL;
	struct vmm_config cfg = { .vcpus = 2, .memory_mib = 1024, .qemu = "qemu-system-x86_64" };
	struct net_cidr pool = { 10u << 24 | 231u << 16, 16 };
	struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons(53) };
	char err[300], state[128];
	int runs = 3, nsb = 4, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest = optarg; break;
		case 'n': netlab = optarg; break;
		case 'r': runs = atoi(optarg); break;
		case 's': nsb = atoi(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!vmm || !guest || !netlab || optind < argc || runs < 1 || runs > 50 || nsb < 1 ||
	    nsb > 32) {
		fprintf(stderr, "bench_network: %s\n%s", !vmm || !guest || !netlab ?
			"--vmm, --guest-dir and --netlab are required" : "bad arguments", usage);
		return 2;
	}
	cfg.kernel = vm_guest_path(guest, "kernel.path");
	cfg.disk = vm_guest_path(guest, "minimal.path");
	if (!cfg.kernel || !cfg.disk) {
		fprintf(stderr, "bench_network: no kernel or minimal image in %s (make guest)\n", guest);
		return 1;
	}
	snprintf(lab, sizeof(lab), "cbb%d", (int)getpid());
	snprintf(lab_dir, sizeof(lab_dir), "/tmp/%s", lab);
	snprintf(run_dir, sizeof(run_dir), "/tmp/%s-run", lab);
	snprintf(state, sizeof(state), "%s/network.state", run_dir);
	inet_pton(AF_INET, "203.0.113.53", &up.sin_addr);
	if (!enter_lab() || mkdir(run_dir, 0700) < 0) {
		fprintf(stderr, "bench_network: the lab did not come up (root? dnsmasq?)\n");
		leave_lab();
		return 1;
	}
	host = net_host_new(&pool, NULL, state, NULL, err, sizeof(err));
	dns = host ? net_dns_new(&up, 1, err, sizeof(err)) : NULL;
	if (!host || !dns) {
		fprintf(stderr, "bench_network: %s\n", err);
		net_host_free(host);
		leave_lab();
		return 1;
	}
	printf("bench_network: engine qemu-tcg (QEMU microvm under TCG), in a lab of namespaces\n");
	bench_setup(50);
	fflush(stdout);
	bench_transfer(vmm, &cfg, runs);
	bench_density(vmm, &cfg, nsb);
	net_dns_free(dns);
	net_host_free(host);
	leave_lab();
	return 0;
}
