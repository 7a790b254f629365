/*
 * Pieces the benchmarks share: the clock figures are timed with, quantiles
 * and figures, children started with their console on a pipe, and plain
 * QEMU microvm (no Cubicle devices) to compare against.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "engine_qemu.h"
#include "fdio.h"

#define TIMEOUT_MS 300000

double now_ms(void)
{
	return clk_mono_us() / 1e3;
}

/* VmRSS and VmHWM of pid, in KiB; false if it is gone. */
bool proc_rss(pid_t pid, long *rss, long *hwm)
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
double wait_ready(int fd, double t0, bool *seen)
{
	return wait_for(fd, t0, READY, seen);
}

double wait_for(int fd, double t0, const char *needle, bool *seen)
{
	char buf[65536];
	size_t len = 0;
	double ready = -1;

	*seen = false;
	for (;;) {
		int left = (int)(t0 + TIMEOUT_MS - now_ms());

		if (left <= 0 || fdio_wait(fd, POLLIN, left) < 0)
			return ready;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return ready;
		len += (size_t)n;
		buf[len] = '\0';
		if (!*seen && strstr(buf, needle)) {
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

void drain_and_reap(int fd, pid_t pid)
{
	char buf[4096];

	while (fdio_wait(fd, POLLIN, 30000) == 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

pid_t bench_spawn(char *const argv[], int *console, int err_fd)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (console && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);    /* never outlive the benchmark */
		dup2(devnull, 0);
		dup2(console ? p[1] : devnull, 1);
		dup2(err_fd >= 0 ? err_fd : devnull, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (console) {
		close(p[1]);
		if (pid < 0)
			close(p[0]);
		else
			*console = p[0];
	}
	return pid < 0 ? -1 : pid;
}

pid_t plain_qemu_start(const struct vmm_config *cfg, enum vmm_engine engine,
		       const char *const extra[], int *console)
{
	static const char *const rng[] = { "-object", "rng-random,id=rng0,filename=/dev/urandom",
					   "-device", "virtio-rng-device,rng=rng0" };
	struct qemu_launch l = { .cfg = cfg, .engine = engine };
	char err[256], **argv, **full = NULL;
	size_t n = 0, nextra = 0;
	int con[2];
	pid_t pid = -1;

	while (extra && extra[nextra])
		nextra++;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
		return -1;
	l.console_fd = con[1];
	argv = qemu_argv(&l);
	while (argv && argv[n])
		n++;
	if (argv)
		full = calloc(n + 4 + nextra + 1, sizeof(*full));
	if (full) {
		memcpy(full, argv, n * sizeof(*full));
		memcpy(full + n, rng, sizeof(rng));
		if (nextra)
			memcpy(full + n + 4, extra, nextra * sizeof(*full));
		pid = qemu_spawn(&l, full, err, sizeof(err));
		if (pid < 0)
			fprintf(stderr, "plain QEMU: %s\n", err);
	}
	close(con[1]);
	free(full);
	qemu_argv_free(argv);
	if (pid < 0) {
		close(con[0]);
		return -1;
	}
	*console = con[0];
	return pid;
}

/* One boot of plain QEMU with the same machine and its built-in virtio-rng. */
double boot_plain(const struct vmm_config *cfg, enum vmm_engine engine)
{
	struct vmm_config c = *cfg;
	double t0 = now_ms(), ms;
	int console;
	pid_t pid;
	bool seen;

	c.append = "cubicle.once";
	pid = plain_qemu_start(&c, engine, NULL, &console);
	if (pid < 0)
		return -1;
	ms = wait_ready(console, t0, &seen);
	drain_and_reap(console, pid);
	return seen ? ms : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n values; sorts them. */
double quantile(double *v, int n, double q)
{
	int rank;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	rank = (int)(q * n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

struct figure figure_of(double *v, int n)
{
	struct figure f = { -1, -1, n };

	if (n > 0) {
		f.med = quantile(v, n, 0.5);
		f.p99 = quantile(v, n, 0.99);
	}
	return f;
}

void figure_print(const char *what, struct figure f)
{
	if (f.n == 0)
		printf("  %-50s no samples\n", what);
	else
		printf("  %-50s median %9.3f ms   p99 %9.3f ms   (n=%d)\n", what, f.med, f.p99, f.n);
	fflush(stdout);
}
