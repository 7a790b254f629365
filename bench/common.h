/* Shared by the benchmarks: see common.c. */
#ifndef CUBICLE_BENCH_COMMON_H
#define CUBICLE_BENCH_COMMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

#define READY "cubicle-agent: ready"

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
 * One boot of plain QEMU microvm with the same machine options, its own
 * virtio-rng and nothing of ours, told `cubicle.once`; ms from process start
 * to the ready line, or -1.
 */
double boot_plain(const struct vmm_config *cfg, enum vmm_engine engine);
/* The q-quantile (nearest rank) of n values; sorts them. */
double quantile(double *v, int n, double q);

#endif
