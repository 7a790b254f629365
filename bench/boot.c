/*
 * bench/boot: how long from process start to a guest that says it is ready,
 * with Cubicle's device host attached (cubicle-vmm: virtio-rng over
 * vhost-user) and, in the same run, plain QEMU microvm with its own built-in
 * virtio-rng on the same kernel, image and machine options. Runs alternate
 * so that drift hits both alike. Also samples the device host's RSS.
 *
 * The guest is told `cubicle.once`: its init prints the ready line and
 * powers off at once, so each boot ends by itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "common.h"
#include "vmtest.h"
#include "engine_qemu.h"

static const char usage[] =
	"usage: bench_boot --vmm PATH --guest-dir DIR [--runs N] [--vcpus N] [--memory MIB]\n"
	"                  [--qemu PATH]\n"
	"Boots the minimal guest N times (default 10) with cubicle-vmm and N times with\n"
	"plain QEMU microvm (built-in virtio-rng), alternating, and prints the median and\n"
	"p90 of process start -> guest ready for each, their ratio, and the device\n"
	"host's RSS. `make bench` runs it on the built tree.\n";

struct sample {
	double ms;
	long rss_kib, hwm_kib;
};

/* One boot through cubicle-vmm; its console comes on a pipe (--serial stdout). */
static bool boot_cubicle(const char *vmm, const struct vmm_config *cfg, struct sample *s)
{
	char mem[16], cpus[16];
	char *argv[] = { (char *)vmm, "--kernel", (char *)cfg->kernel, "--disk", (char *)cfg->disk,
			 "--memory", mem, "--vcpus", cpus, "--engine",
			 (char *)vmm_engine_name(cfg->engine), "--qemu", (char *)cfg->qemu,
			 "--display", "none", "--append", "cubicle.once", NULL };
	int console;
	double t0;
	pid_t pid;
	bool seen;

	snprintf(mem, sizeof(mem), "%u", cfg->memory_mib);
	snprintf(cpus, sizeof(cpus), "%u", cfg->vcpus);
	t0 = now_ms();
	pid = bench_spawn(argv, &console, -1);
	if (pid < 0)
		return false;
	s->ms = wait_ready(console, t0, &seen);
	if (seen && !proc_rss(pid, &s->rss_kib, &s->hwm_kib))
		s->rss_kib = s->hwm_kib = -1;
	drain_and_reap(console, pid);
	return seen;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'n' }, { "vcpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' }, { "qemu", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct vmm_config cfg = { .memory_mib = 512, .vcpus = 1, .qemu = "qemu-system-x86_64" };
	const char *vmm = NULL, *guest = NULL;
	int runs = 10, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest = optarg; break;
		case 'n': runs = atoi(optarg); break;
		case 'c': cfg.vcpus = (unsigned int)atoi(optarg); break;
		case 'm': cfg.memory_mib = (unsigned int)atoi(optarg); break;
		case 'q': cfg.qemu = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!vmm || !guest || runs < 1 || runs > 1000 || cfg.vcpus < 1 || cfg.vcpus > 64 ||
	    cfg.memory_mib < 64) {
		fputs(usage, stderr);
		return 2;
	}
	cfg.kernel = vm_guest_path(guest, "kernel.path");
	cfg.disk = vm_guest_path(guest, "minimal.path");
	cfg.engine = qemu_host_has_kvm() ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG;

	double *ours = calloc((size_t)runs, sizeof(double));
	double *plain = calloc((size_t)runs, sizeof(double));
	double *rss = calloc((size_t)runs, sizeof(double));
	double *hwm = calloc((size_t)runs, sizeof(double));

	printf("bench/boot: engine %s, %u vCPU, %u MiB, minimal image, %d boots each, alternating\n",
	       vmm_engine_name(cfg.engine), cfg.vcpus, cfg.memory_mib, runs);
	fflush(stdout);
	for (int i = 0; i < runs; i++) {
		struct sample a = { 0 }, b = { 0 };

		b.ms = 0;
		if (!boot_cubicle(vmm, &cfg, &a) || (b.ms = boot_plain(&cfg, cfg.engine)) < 0) {
			fprintf(stderr, "bench_boot: boot %d did not reach '%s'\n", i + 1, READY);
			return 1;
		}
		ours[i] = a.ms;
		plain[i] = b.ms;
		rss[i] = a.rss_kib / 1024.0;
		hwm[i] = a.hwm_kib / 1024.0;
		fprintf(stderr, "  boot %2d: cubicle-vmm %7.1f ms   plain QEMU %7.1f ms\n",
			i + 1, a.ms, b.ms);
	}
	double om = quantile(ours, runs, 0.5), o9 = quantile(ours, runs, 0.9);
	double pm = quantile(plain, runs, 0.5), p9 = quantile(plain, runs, 0.9);

	printf("%-36s %10s %10s\n", "process start -> guest ready", "median", "p90");
	printf("%-36s %7.1f ms %7.1f ms\n", "cubicle-vmm (virtio-rng, vhost-user)", om, o9);
	printf("%-36s %7.1f ms %7.1f ms\n", "plain QEMU (built-in virtio-rng)", pm, p9);
	printf("%-36s %10.3f %10.3f\n", "ratio cubicle-vmm / plain QEMU", om / pm, o9 / p9);
	printf("device host RSS at ready: median %.2f MiB, max %.2f MiB (peak VmHWM %.2f MiB)\n",
	       quantile(rss, runs, 0.5), quantile(rss, runs, 1.0), quantile(hwm, runs, 1.0));
	free(ours);
	free(plain);
	free(rss);
	free(hwm);
	return 0;
}
