/* Shared by the benchmarks: see common.c. */
#ifndef CUBICLE_BENCH_COMMON_H
#define CUBICLE_BENCH_COMMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

#define READY "cubicle-agent: ready"
#define DESKTOP_READY "cubicle-agent: desktop ready"

/* Milliseconds on the monotonic clock, to the microsecond: what every figure is timed with. */
double now_ms(void);
/* VmRSS and VmHWM of pid in KiB; false if it is gone. */
bool proc_rss(pid_t pid, long *rss, long *hwm);
/* ms from t0 until READY shows on fd, or -1; *seen says whether it did. */
double wait_ready(int fd, double t0, bool *seen);
/* The same for any needle (shorter than 64 bytes). */
double wait_for(int fd, double t0, const char *needle, bool *seen);
/* Drains fd to its end (the guest powers off), then reaps pid. */
void drain_and_reap(int fd, pid_t pid);

/*
 * Starts argv[0] (a NULL-ended vector) with stdin on /dev/null, stdout on a
 * pipe whose read end goes to *console (console NULL: /dev/null) and stderr
 * on err_fd (-1: /dev/null). The child dies with the benchmark. Its pid, or
 * -1.
 */
pid_t bench_spawn(char *const argv[], int *console, int err_fd);

/*
 * Starts plain QEMU microvm with cfg's machine options (and cfg->append),
 * on engine, with its own virtio-rng and then the arguments in extra
 * (NULL-ended), its console on a socket pair whose other end goes to
 * *console. Its pid, or -1 (the reason on stderr).
 */
pid_t plain_qemu_start(const struct vmm_config *cfg, enum vmm_engine engine,
		       const char *const extra[], int *console);

/*
 * One boot of plain QEMU microvm with the same machine options, its own
 * virtio-rng and nothing of ours, told `cubicle.once`; ms from process start
 * to the ready line, or -1.
 */
double boot_plain(const struct vmm_config *cfg, enum vmm_engine engine);

/* The q-quantile (nearest rank) of n values; sorts them. */
double quantile(double *v, int n, double q);

/* A latency figure: median and p99 of n samples, in ms. */
struct figure {
	double med, p99;
	int n;
};

/* The figure of n values (sorted in place); n == 0 gives one of no samples. */
struct figure figure_of(double *v, int n);
/* Prints "  what  median ... ms   p99 ... ms   (n=...)", or that it has no samples. */
void figure_print(const char *what, struct figure f);

#endif
