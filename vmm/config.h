/*
 * cubicle-vmm's command line: parsed into a struct vmm_config, checked, and
 * nothing else. Kept apart from main() so that tests can drive it.
 */
#ifndef CUBICLE_CONFIG_H
#define CUBICLE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum vmm_engine { ENGINE_AUTO, ENGINE_QEMU_TCG, ENGINE_QEMU_KVM };

/* Exit statuses (also in --help and docs/boot.md). */
enum vmm_exit {
	VMM_EXIT_POWEROFF = 0,   /* the guest powered off */
	VMM_EXIT_ERROR = 1,      /* the monitor failed: QEMU missing, died, ... */
	VMM_EXIT_USAGE = 2,      /* bad command line */
	VMM_EXIT_CRASH = 3,      /* the guest crashed, panicked or reset */
	VMM_EXIT_STOPPED = 4,    /* stopped by SIGINT or SIGTERM */
};

#define VMM_MIN_MEMORY_MIB 64
#define VMM_MAX_MEMORY_MIB (256 * 1024)
#define VMM_MAX_VCPUS 64
#define VMM_DEFAULT_DISPLAY_W 1280
#define VMM_DEFAULT_DISPLAY_H 800

/* --net: the guest's virtio-net and what its other end is. */
enum vmm_net {
	VMM_NET_NONE,           /* no network card (the default) */
	VMM_NET_TAP,            /* a TAP device the caller opened: cubicled's per-sandbox netns */
	VMM_NET_USER,           /* QEMU's user-mode network: a peer for benchmarks, not isolated */
};

struct vmm_config {
	const char *kernel;
	const char *disk;
	unsigned int memory_mib;
	unsigned int vcpus;
	const char *serial;      /* "stdout" or a file path */
	enum vmm_engine engine;
	const char *append;      /* extra kernel command line, or NULL */
	const char *vsock;       /* unix socket for the guest's vsock, or NULL */
	const char *overlay;     /* per-sandbox qcow2 layer over disk, or NULL */
	const char *control;     /* control socket path (docs/control-protocol.md), or NULL */
	unsigned int display_w;  /* virtio-gpu screen size; 0: no screen */
	unsigned int display_h;
	const char *vnc_addr;    /* VNC server's IPv4 address, or NULL: no VNC */
	char vnc_addr_buf[16];
	int vnc_port;            /* 0: a free one */
	const char *vnc_password_file;
	const char *vnc_view_password_file;
	bool vnc_view_only;
	const char *kbd_layout;  /* XKB layout of the keyboard, host and guest (default "us") */
	const char *kbd_variant; /* its variant, or NULL */
	const char *qemu;        /* QEMU binary */
	enum vmm_net net;        /* the guest's network card, if any */
	int net_tap_fd;          /* VMM_NET_TAP: an open TAP device (inherited) */
	bool help;
};

/*
 * Parses argv into cfg (pointers into argv). Returns 0, or -EINVAL with a
 * one-line reason in err. With --help, sets cfg->help and returns 0.
 */
int vmm_parse_args(int argc, char **argv, struct vmm_config *cfg, char *err, size_t errlen);

/* Checks that the files cfg names exist and are readable; same contract. */
int vmm_check_files(const struct vmm_config *cfg, char *err, size_t errlen);

const char *vmm_engine_name(enum vmm_engine e);

extern const char vmm_usage[];

#endif
