/*
 * Our sandbox as the desktop benchmarks boot it: cubicle-vmm with a 1280x800
 * screen, its control socket, vsock and a VNC server on a free loopback port with a
 * password file, its files named DIR/TAG.*, the guest told cubicle.noshell
 * (so its console carries only the agent's lines).
 */
#ifndef CUBICLE_BENCH_SANDBOX_H
#define CUBICLE_BENCH_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

struct sandbox {
	pid_t pid;                   /* 0 once stopped */
	int console;                 /* our end of its console (its stdout) */
	char ctl[160], vsock[160], pwfile[160];
	char password[16];           /* the VNC password, once sandbox_password() read it */
};

/*
 * Starts vmm on cfg's kernel, disk, memory_mib, vcpus and qemu, its stderr
 * on err_fd (-1: /dev/null); with cfg's net (a TAP's fd must be inheritable,
 * and cfg->append then carries the guest's addresses). 0, or -1.
 */
int sandbox_start(struct sandbox *sb, const char *vmm, const struct vmm_config *cfg,
		  const char *dir, const char *tag, int err_fd);

/* Reads the VNC password cubicle-vmm wrote into sb->password; false if there is none. */
bool sandbox_password(struct sandbox *sb);

/*
 * Powers the guest off through its agent, drains its console, reaps it and
 * removes the password file. Does nothing to a sandbox that never started.
 */
void sandbox_stop(struct sandbox *sb);

#endif
