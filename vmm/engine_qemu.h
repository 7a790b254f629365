/*
 * The `qemu` engine: QEMU's microvm machine runs the vCPUs and memory (KVM
 * where the host has hardware virtualization, TCG elsewhere) and carries our
 * devices to the guest over vhost-user. QEMU's own virtio-blk serves the root
 * disk; its isa-debug-exit port lets the guest's init power off (docs/boot.md).
 */
#ifndef CUBICLE_ENGINE_QEMU_H
#define CUBICLE_ENGINE_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "engine.h"
#include "exit_port.h"

#define QEMU_MIN_MAJOR 10

#define QEMU_MAX_VHOST_USER 8

struct qemu_launch {
	const struct vmm_config *cfg;
	enum vmm_engine engine;          /* resolved: tcg or kvm */
	int console_fd;                  /* QEMU's end of the console socket */
	unsigned int nvu;
	struct {
		const char *device;      /* QEMU device type, e.g. "vhost-user-rng" */
		int fd;                  /* QEMU's end of the vhost-user socket */
	} vu[QEMU_MAX_VHOST_USER];
};

/* A NULL-terminated argument vector; qemu_argv_free() frees it. */
char **qemu_argv(const struct qemu_launch *l);
void qemu_argv_free(char **argv);

/* Whether the CPU has VMX or SVM and /dev/kvm opens read-write. */
bool qemu_host_has_kvm(void);

/*
 * Runs `qemu --version` and checks it is at least QEMU_MIN_MAJOR. Returns 0,
 * or -errno with a one-line reason in err (missing, not QEMU, too old).
 */
int qemu_check(const char *qemu, char *err, size_t errlen);

/*
 * Makes the qcow2 overlay over base with qemu-img if it does not exist, or
 * checks that an existing one lies over base. Returns 0, or -errno with a
 * one-line reason in err.
 */
int qemu_prepare_overlay(const char *base, const char *overlay, char *err, size_t errlen);

/* Parses "QEMU emulator version X.Y.Z..." into major; false if it is not that. */
bool qemu_parse_version(const char *text, int *major, int *minor);

/*
 * Starts QEMU with argv; the fds named in l stay open in the child, all other
 * descriptors are closed on exec. QEMU dies with us (PR_SET_PDEATHSIG).
 * Returns the pid, or -errno (exec failures included) with a reason in err.
 */
pid_t qemu_spawn(const struct qemu_launch *l, char **argv, char *err, size_t errlen);

/* The engine itself (engine.h); the functions above are its parts, for tests. */
extern const struct engine_ops engine_qemu_ops;

#endif
