/*
 * Pieces the benchmarks share: clocks, quantiles, the paths `make` leaves,
 * and a boot of plain QEMU microvm (no Cubicle devices) to compare against.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_qemu.h"

#define TIMEOUT_MS 300000

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
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
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(t0 + TIMEOUT_MS - now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
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
	struct pollfd p = { fd, POLLIN, 0 };

	while (poll(&p, 1, 30000) > 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* One boot of plain QEMU with the same machine and its built-in virtio-rng. */
double boot_plain(const struct vmm_config *cfg, enum vmm_engine engine)
{
	struct vmm_config c = *cfg;
	struct qemu_launch l = { .cfg = &c, .engine = engine };
	char err[256], **argv, **full;
	int con[2];
	size_t n = 0;
	double t0, ms;
	pid_t pid;
	bool seen;

	c.append = "cubicle.once";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
		return -1;
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
		return -1;
	}
	ms = wait_ready(con[0], t0, &seen);
	drain_and_reap(con[0], pid);
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

