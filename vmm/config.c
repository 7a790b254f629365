#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"

const char vmm_usage[] =
	"usage: cubicle-vmm --kernel PATH --disk PATH [options]\n"
	"\n"
	"Runs one Cubicle sandbox: starts the device host (virtio-rng, virtio-gpu, a\n"
	"virtio-input keyboard and tablet, and virtio-vsock with --vsock, over\n"
	"vhost-user),\n"
	"launches QEMU's microvm machine with those devices attached and the root disk,\n"
	"forwards the guest console, and exits when the guest stops.\n"
	"\n"
	"  --kernel PATH        guest kernel (PVH-bootable vmlinux)\n"
	"  --disk PATH          root disk image (raw ext4), never written; without\n"
	"                       --overlay the guest's writes are discarded at exit\n"
	"  --overlay PATH       the sandbox's own writable layer (qcow2) over --disk,\n"
	"                       made if missing; keeps the guest's writes\n"
	"  --memory MIB         guest memory in MiB (default 512, 64..262144)\n"
	"  --vcpus N            virtual CPUs (default 1, 1..64)\n"
	"  --serial stdout|PATH where the guest console goes (default stdout);\n"
	"                       with stdout, standard input goes to the console\n"
	"                       (on a terminal: raw mode, Ctrl-] quits)\n"
	"  --engine auto|qemu-tcg|qemu-kvm\n"
	"                       auto picks KVM only where the CPU has VMX or SVM\n"
	"                       and /dev/kvm opens (default auto)\n"
	"  --display WxH|none   the virtio-gpu screen's size (default 1280x800,\n"
	"                       64x64..8192x8192); the control socket can change it\n"
	"  --control PATH       the control socket: screenshots, display info,\n"
	"                       resize and input actions (docs/control-protocol.md)\n"
	"  --keyboard-layout L  the keyboard's XKB layout (default us; de, fr, gb, ...),\n"
	"                       used by the host to type and set in the guest's X\n"
	"  --keyboard-variant V its XKB variant (e.g. nodeadkeys), default none\n"
	"  --vnc [ADDR:]PORT    serve the screen over VNC (and websockets, for noVNC)\n"
	"                       on ADDR (default 127.0.0.1); port 0 picks a free one\n"
	"  --vnc-password-file PATH\n"
	"                       the VNC password (first line, at most 8 characters);\n"
	"                       a random one is written there (mode 0600) if the\n"
	"                       file does not exist. Required with --vnc\n"
	"  --vnc-view-password-file PATH\n"
	"                       a second password (made the same way), for viewers\n"
	"                       that only watch\n"
	"  --vnc-view-only      viewers see the screen but cannot type or click\n"
	"  --vsock PATH         virtio-vsock for the guest (CID 3): host programs\n"
	"                       connect to the unix socket PATH and send\n"
	"                       \"CONNECT <port>\\n\"; guest connections to the host's\n"
	"                       port P go to the unix socket PATH_P\n"
	"  --net MODE           the guest's network card: none (default); tap:FD, a\n"
	"                       TAP device opened by the caller (cubicled's own\n"
	"                       network per sandbox, docs/networking.md); or user,\n"
	"                       QEMU's user-mode network, which leaves the host's\n"
	"                       loopback open to the guest (for comparison only)\n"
	"  --append ARGS        extra kernel command line\n"
	"  --qemu PATH          QEMU binary (default qemu-system-x86_64; needs >= 10)\n"
	"  --help               this text\n"
	"\n"
	"Exit status: 0 guest powered off, 1 monitor error, 2 bad usage,\n"
	"3 guest crashed or reset, 4 stopped by SIGINT/SIGTERM.\n";

/* A whole decimal number in [min, max], or false. */
static bool parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* An XKB layout or variant name; nothing that could break out of a config line. */
static bool xkb_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

const char *vmm_engine_name(enum vmm_engine e)
{
	switch (e) {
	case ENGINE_QEMU_TCG: return "qemu-tcg";
	case ENGINE_QEMU_KVM: return "qemu-kvm";
	default: return "auto";
	}
}

int vmm_parse_args(int argc, char **argv, struct vmm_config *cfg, char *err, size_t errlen)
{
	enum { O_KERNEL = 256, O_DISK, O_MEMORY, O_VCPUS, O_SERIAL, O_ENGINE, O_APPEND,
	       O_QEMU, O_VSOCK, O_OVERLAY, O_DISPLAY, O_CONTROL, O_VNC, O_VNC_PASSWORD_FILE,
	       O_VNC_VIEW_PASSWORD_FILE, O_VNC_VIEW_ONLY, O_KBD_LAYOUT, O_KBD_VARIANT, O_NET, O_HELP };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "disk", required_argument, NULL, O_DISK },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "engine", required_argument, NULL, O_ENGINE },
		{ "append", required_argument, NULL, O_APPEND },
		{ "qemu", required_argument, NULL, O_QEMU },
		{ "vsock", required_argument, NULL, O_VSOCK },
		{ "overlay", required_argument, NULL, O_OVERLAY },
		{ "display", required_argument, NULL, O_DISPLAY },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "vnc", required_argument, NULL, O_VNC },
		{ "vnc-password-file", required_argument, NULL, O_VNC_PASSWORD_FILE },
		{ "vnc-view-only", no_argument, NULL, O_VNC_VIEW_ONLY },
		{ "vnc-view-password-file", required_argument, NULL, O_VNC_VIEW_PASSWORD_FILE },
		{ "keyboard-layout", required_argument, NULL, O_KBD_LAYOUT },
		{ "keyboard-variant", required_argument, NULL, O_KBD_VARIANT },
		{ "net", required_argument, NULL, O_NET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*cfg = (struct vmm_config){ .memory_mib = 512, .vcpus = 1, .serial = "stdout",
				    .engine = ENGINE_AUTO, .qemu = "qemu-system-x86_64",
				    .display_w = VMM_DEFAULT_DISPLAY_W,
				    .display_h = VMM_DEFAULT_DISPLAY_H, .kbd_layout = "us" };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_KERNEL: cfg->kernel = optarg; break;
		case O_DISK: cfg->disk = optarg; break;
		case O_MEMORY:
			if (!parse_uint(optarg, VMM_MIN_MEMORY_MIB, VMM_MAX_MEMORY_MIB, &cfg->memory_mib))
				return errf(err, errlen, "--memory '%s': want MiB from %u to %u",
					    optarg, VMM_MIN_MEMORY_MIB, VMM_MAX_MEMORY_MIB);
			break;
		case O_VCPUS:
			if (!parse_uint(optarg, 1, VMM_MAX_VCPUS, &cfg->vcpus))
				return errf(err, errlen, "--vcpus '%s': want a count from 1 to %u",
					    optarg, VMM_MAX_VCPUS);
			break;
		case O_SERIAL:
			if (!*optarg)
				return errf(err, errlen, "--serial: want stdout or a file path");
			cfg->serial = optarg;
			break;
		case O_ENGINE:
			if (strcmp(optarg, "auto") == 0)
				cfg->engine = ENGINE_AUTO;
			else if (strcmp(optarg, "qemu-tcg") == 0)
				cfg->engine = ENGINE_QEMU_TCG;
			else if (strcmp(optarg, "qemu-kvm") == 0)
				cfg->engine = ENGINE_QEMU_KVM;
			else
				return errf(err, errlen, "--engine '%s': want auto, qemu-tcg or qemu-kvm",
					    optarg);
			break;
		case O_APPEND: cfg->append = optarg; break;
		case O_NET: {
			unsigned int fd;
			struct stat st;

			if (strcmp(optarg, "none") == 0)
				cfg->net = VMM_NET_NONE;
			else if (strcmp(optarg, "user") == 0)
				cfg->net = VMM_NET_USER;
			else if (strncmp(optarg, "tap:", 4) == 0 && parse_uint(optarg + 4, 3, 1u << 20, &fd) &&
				 fstat((int)fd, &st) == 0) {
				cfg->net = VMM_NET_TAP;
				cfg->net_tap_fd = (int)fd;
			} else
				return errf(err, errlen, "--net '%s': want none, user or tap:FD "
					    "(an open descriptor from 3 up)", optarg);
			break;
		}
		case O_QEMU: cfg->qemu = optarg; break;
		case O_DISPLAY: {
			char w[16], h[16];

			if (strcmp(optarg, "none") == 0) {
				cfg->display_w = cfg->display_h = 0;
				break;
			}
			if (sscanf(optarg, "%15[0-9]x%15[0-9]", w, h) != 2 ||
			    strlen(w) + strlen(h) + 1 != strlen(optarg) ||
			    !parse_uint(w, 64, 8192, &cfg->display_w) ||
			    !parse_uint(h, 64, 8192, &cfg->display_h))
				return errf(err, errlen, "--display '%s': want WIDTHxHEIGHT, each 64..8192",
					    optarg);
			break;
		}
		case O_CONTROL:
			if (!*optarg)
				return errf(err, errlen, "--control: want a unix socket path");
			cfg->control = optarg;
			break;
		case O_VNC: {
			const char *colon = strrchr(optarg, ':');
			unsigned int port;
			char *addr = cfg->vnc_addr_buf;

			cfg->vnc_addr = "127.0.0.1";
			if (colon) {
				struct in_addr a;
				size_t n = (size_t)(colon - optarg);

				if (n == 0 || n >= sizeof(cfg->vnc_addr_buf))
					return errf(err, errlen, "--vnc '%s': want [IPv4-ADDRESS:]PORT", optarg);
				memcpy(addr, optarg, n);
				addr[n] = '\0';
				if (inet_pton(AF_INET, addr, &a) != 1)
					return errf(err, errlen, "--vnc '%s': '%s' is not an IPv4 address",
						    optarg, addr);
				cfg->vnc_addr = addr;
			}
			if (!parse_uint(colon ? colon + 1 : optarg, 0, 65535, &port))
				return errf(err, errlen, "--vnc '%s': want a port from 0 to 65535", optarg);
			cfg->vnc_port = (int)port;
			break;
		}
		case O_VNC_PASSWORD_FILE:
			if (!*optarg)
				return errf(err, errlen, "--vnc-password-file: want a file path");
			cfg->vnc_password_file = optarg;
			break;
		case O_VNC_VIEW_PASSWORD_FILE:
			if (!*optarg)
				return errf(err, errlen, "--vnc-view-password-file: want a file path");
			cfg->vnc_view_password_file = optarg;
			break;
		case O_VNC_VIEW_ONLY: cfg->vnc_view_only = true; break;
		case O_KBD_LAYOUT:
		case O_KBD_VARIANT:
			/* They go on the guest's command line and into its X config. */
			if (!xkb_name_ok(optarg))
				return errf(err, errlen, "%s '%s': want an XKB name (letters, digits, "
					    "'_' and '-', at most 32)", c == O_KBD_LAYOUT ?
					    "--keyboard-layout" : "--keyboard-variant", optarg);
			if (c == O_KBD_LAYOUT)
				cfg->kbd_layout = optarg;
			else
				cfg->kbd_variant = optarg;
			break;
		case O_OVERLAY:
			if (!*optarg)
				return errf(err, errlen, "--overlay: want a file path");
			cfg->overlay = optarg;
			break;
		case O_VSOCK:
			if (!*optarg)
				return errf(err, errlen, "--vsock: want a unix socket path");
			cfg->vsock = optarg;
			break;
		case O_HELP: cfg->help = true; return 0;
		case ':':
			return errf(err, errlen, "%s needs a value", argv[optind - 1]);
		default:
			return errf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return errf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
	if (!cfg->kernel)
		return errf(err, errlen, "--kernel is required (see --help)");
	if (!cfg->disk)
		return errf(err, errlen, "--disk is required (see --help)");
	if (cfg->vnc_addr && !cfg->display_w)
		return errf(err, errlen, "--vnc needs a screen (not --display none)");
	if (cfg->vnc_addr && !cfg->vnc_password_file)
		return errf(err, errlen, "--vnc needs --vnc-password-file (VNC always asks a password)");
	if (!cfg->vnc_addr && (cfg->vnc_password_file || cfg->vnc_view_only ||
			       cfg->vnc_view_password_file))
		return errf(err, errlen, "--vnc-password-file, --vnc-view-password-file and "
			    "--vnc-view-only need --vnc");
	if (cfg->vnc_view_password_file && cfg->vnc_password_file &&
	    strcmp(cfg->vnc_view_password_file, cfg->vnc_password_file) == 0)
		return errf(err, errlen, "--vnc-view-password-file: want a file of its own");
	return 0;
}

static int check_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return errf(err, errlen, "%s '%s': not a regular file", what, path);
	if (access(path, R_OK) < 0)
		return errf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
	return 0;
}

int vmm_check_files(const struct vmm_config *cfg, char *err, size_t errlen)
{
	int ret = check_file("kernel", cfg->kernel, err, errlen);

	return ret ? ret : check_file("disk", cfg->disk, err, errlen);
}
