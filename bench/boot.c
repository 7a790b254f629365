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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine_qemu.h"

#define READY "cubicle-agent: ready"
#define TIMEOUT_MS 300000

static const char usage[] =
	"usage: bench_boot --vmm PATH --guest-dir DIR [--runs N] [--vcpus N] [--memory MIB]\n"
	"                  [--qemu PATH]\n"
	"Boots the minimal guest N times (default 10) with cubicle-vmm and N times with\n"
	"plain QEMU microvm (built-in virtio-rng), alternating, and prints the median and\n"
	"p90 of process start -> guest ready for each, their ratio, and the device\n"
	"host's RSS. `make bench` runs it on the built tree.\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *read_line_file(const char *dir, const char *name)
{
	char path[4096], buf[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "bench_boot: cannot read %s (run `make guest` first)\n", path);
		exit(1);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* VmRSS and VmHWM of pid, in KiB; false if it is gone. */
static bool proc_rss(pid_t pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*rss = *hwm = -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld kB", rss);
		sscanf(line, "VmHWM: %ld kB", hwm);
	}
	fclose(f);
	return *rss >= 0;
}

/*
 * Reads fd until the ready line shows up; returns ms since t0, or -1. The
 * rest of the output is drained until end of file so the guest can finish.
 */
static double wait_ready(int fd, double t0, bool *seen)
{
	char buf[65536];
	size_t len = 0;
	double ready = -1;

	*seen = false;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(t0 + TIMEOUT_MS - now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return ready;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return ready;
		len += (size_t)n;
		buf[len] = '\0';
		if (!*seen && strstr(buf, READY)) {
			ready = now_ms() - t0;
			*seen = true;
			return ready;
		}
		if (len > sizeof(buf) / 2) {      /* keep the tail: the line may straddle */
			memmove(buf, buf + len - 64, 64);
			len = 64;
		}
	}
}

static void drain_and_reap(int fd, pid_t pid)
{
	char buf[4096];
	struct pollfd p = { fd, POLLIN, 0 };

	while (poll(&p, 1, 30000) > 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

struct sample {
	double ms;
	long rss_kib, hwm_kib;
};

/* One boot through cubicle-vmm; its console comes on a pipe (--serial stdout). */
static bool boot_cubicle(const char *vmm, const struct vmm_config *cfg, struct sample *s)
{
	char mem[16], cpus[16];
	int out[2];
	double t0;
	pid_t pid;
	bool seen;

	snprintf(mem, sizeof(mem), "%u", cfg->memory_mib);
	snprintf(cpus, sizeof(cpus), "%u", cfg->vcpus);
	if (pipe2(out, O_CLOEXEC) < 0)
		return false;
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(devnull, 2);
		execl(vmm, vmm, "--kernel", cfg->kernel, "--disk", cfg->disk, "--memory", mem,
		      "--vcpus", cpus, "--engine", vmm_engine_name(cfg->engine), "--qemu", cfg->qemu,
		      "--append", "cubicle.once", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (pid < 0) {
		close(out[0]);
		return false;
	}
	s->ms = wait_ready(out[0], t0, &seen);
	if (seen && !proc_rss(pid, &s->rss_kib, &s->hwm_kib))
		s->rss_kib = s->hwm_kib = -1;
	drain_and_reap(out[0], pid);
	return seen;
}

/* One boot of plain QEMU with the same machine and its built-in virtio-rng. */
static bool boot_plain(const struct vmm_config *cfg, enum vmm_engine engine, struct sample *s)
{
	struct vmm_config c = *cfg;
	struct qemu_launch l = { .cfg = &c, .engine = engine };
	char err[256], **argv, **full;
	int con[2];
	size_t n = 0;
	double t0;
	pid_t pid;
	bool seen;

	c.append = "cubicle.once";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
		return false;
	l.console_fd = con[1];
	t0 = now_ms();
	argv = qemu_argv(&l);
	while (argv[n])
		n++;
	full = calloc(n + 5, sizeof(*full));
	memcpy(full, argv, n * sizeof(*full));
	full[n++] = "-object";
	full[n++] = "rng-random,id=rng0,filename=/dev/urandom";
	full[n++] = "-device";
	full[n++] = "virtio-rng-device,rng=rng0";
	pid = qemu_spawn(&l, full, err, sizeof(err));
	close(con[1]);
	free(full);
	qemu_argv_free(argv);
	if (pid < 0) {
		fprintf(stderr, "bench_boot: %s\n", err);
		close(con[0]);
		return false;
	}
	s->ms = wait_ready(con[0], t0, &seen);
	drain_and_reap(con[0], pid);
	return seen;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n values; sorts them. */
static double quantile(double *v, int n, double q)
{
	int rank;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	rank = (int)(q * n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
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
	cfg.kernel = read_line_file(guest, "kernel.path");
	cfg.disk = read_line_file(guest, "minimal.path");
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

		if (!boot_cubicle(vmm, &cfg, &a) || !boot_plain(&cfg, cfg.engine, &b)) {
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
