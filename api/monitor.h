/*
 * A sandbox's monitor as a process and its files on disk: starting
 * cubicle-vmm in the sandbox's folder (its `pid` file names it by pid and
 * start time), saying why it exited, removing the folder, and ending what
 * a previous cubicled left. The table (sandbox.c) decides when; this says
 * how. Nothing here takes the table's lock.
 */
#ifndef CUBICLE_API_MONITOR_H
#define CUBICLE_API_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sandbox.h"

/*
 * Forks and execs sb's monitor with cfg's cubicle-vmm, kernel and sb's
 * spec, its output in sb->dir/vmm.log. After fork, the child makes only
 * async-signal-safe calls and dies with cubicled (PR_SET_PDEATHSIG), so
 * the caller must be a thread that lives as long as cubicled. 0 with
 * sb->pid and sb->pidfd set; or -errno with the reason in sb->reason.
 */
int monitor_spawn(const struct api_config *cfg, const char *kernel, struct sandbox *sb);

/* Why sb's monitor exited (status from waitpid), with its log's last line, into sb->reason. */
void monitor_exit_reason(struct sandbox *sb, int status);

/*
 * Ends what a previous cubicled left in root (DATA/sandboxes): a monitor
 * still running (the same pid and start time as its `pid` file) is killed
 * (its QEMU dies with it), then its folder goes.
 */
void monitor_clean_leftovers(const char *root);

/* Removes dir and all in it (a failure is logged). */
void monitor_rm_dir(const char *dir);


#endif
