/*
 * cubicle-vmm: one sandbox. Owns the device host (our virtio devices served
 * over vhost-user), launches the engine (QEMU microvm), forwards the guest
 * console, and exits with a status that says how the guest ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "engine_qemu.h"
#include "hands.h"
#include "keymap.h"
#include "loop.h"
#include "screen.h"
#include "vhost_user.h"
#include "virtio_gpu.h"
#include "virtio_input.h"
#include "virtio_rng.h"
#include "virtio_vsock.h"

#define CTRL_RBRACKET 0x1d   /* Ctrl-]: leave an interactive console */

struct vmm {
	struct loop *loop;
	pid_t qemu;
	int console;              /* our end of the console socket */
	int out;                  /* where the console goes */
	bool forward_stdin;
	bool raw_tty;
	struct termios saved_tty;
	bool stopping;            /* we asked QEMU to stop */
	int exit_status;
};

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("cubicle-vmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void stop_guest(struct vmm *vmm, int status)
{
	if (vmm->stopping)
		return;
	vmm->stopping = true;
	vmm->exit_status = status;
	if (vmm->qemu > 0)
		kill(vmm->qemu, SIGTERM);
}

/* Guest console → the serial target. */
static void on_console(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vmm *vmm = opaque;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n > 0) {
		write_all(vmm->out, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_del(loop, fd);
}

/* Standard input → the guest console; Ctrl-] on a terminal stops the guest. */
static void on_stdin(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vmm *vmm = opaque;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		loop_del(loop, fd);    /* end of input: the guest runs on */
		return;
	}
	if (vmm->raw_tty && memchr(buf, CTRL_RBRACKET, (size_t)n)) {
		log_msg("stopping the guest (Ctrl-])");
		stop_guest(vmm, VMM_EXIT_STOPPED);
		return;
	}
	write_all(vmm->console, buf, (size_t)n);
}

static int qemu_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus)) {
		int code = WEXITSTATUS(wstatus);

		if (code == QEMU_STATUS_POWEROFF) {
			log_msg("guest powered off");
			return VMM_EXIT_POWEROFF;
		}
		if (code == 0) {
			log_msg("guest crashed or reset");
			return VMM_EXIT_CRASH;
		}
		log_msg("qemu failed with status %d", code);
		return VMM_EXIT_ERROR;
	}
	log_msg("qemu killed by signal %d", WTERMSIG(wstatus));
	return VMM_EXIT_ERROR;
}

static void drain_console(struct vmm *vmm)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(vmm->console, buf, sizeof(buf))) > 0)
		write_all(vmm->out, buf, (size_t)n);
}

static void on_signal(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct vmm *vmm = opaque;
	struct signalfd_siginfo si;
	int wstatus;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
		log_msg("stopping the guest (signal %u)", si.ssi_signo);
		stop_guest(vmm, VMM_EXIT_STOPPED);
		return;
	}
	if (vmm->qemu <= 0 || waitpid(vmm->qemu, &wstatus, WNOHANG) != vmm->qemu)
		return;
	vmm->qemu = 0;
	drain_console(vmm);
	if (vmm->stopping)
		log_msg("guest stopped");
	else
		vmm->exit_status = qemu_exit_status(wstatus);
	loop_stop(loop);
}

static void on_vu_close(struct vu_server *vu, const char *why)
{
	if (why)
		log_msg("%s: vhost-user session ended: %s", vu->dev->ops->name, why);
}

static int open_serial(struct vmm *vmm, const char *serial)
{
	if (strcmp(serial, "stdout") == 0) {
		vmm->out = STDOUT_FILENO;
		vmm->forward_stdin = true;
		return 0;
	}
	vmm->out = open(serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return vmm->out < 0 ? -errno : 0;
}

static void tty_raw(struct vmm *vmm)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &vmm->saved_tty) < 0)
		return;
	t = vmm->saved_tty;
	cfmakeraw(&t);
	t.c_oflag |= OPOST;      /* keep our own log lines readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		vmm->raw_tty = true;
		log_msg("console attached; Ctrl-] stops the guest\r");
	}
}

/*
 * Carries dev to QEMU over vhost-user on a new socketpair: our end goes to a
 * back-end on loop, the other is added to the launch as `device`. Takes dev
 * (freed on failure too). Returns 0 or -errno.
 */
static int attach(struct qemu_launch *l, struct vu_server **vu, struct virtio_dev *dev,
		  const char *device, struct loop *loop)
{
	int sv[2];

	if (l->nvu == QEMU_MAX_VHOST_USER ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		vdev_free(dev);
		return -EMFILE;
	}
	*vu = vu_new(dev, sv[0], loop);
	if (!*vu) {
		vdev_free(dev);
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	(*vu)->on_close = on_vu_close;
	l->vu[l->nvu].device = device;
	l->vu[l->nvu++].fd = sv[1];
	return 0;
}

static enum vmm_engine resolve_engine(enum vmm_engine want, char *err, size_t errlen)
{
	bool kvm = qemu_host_has_kvm();

	if (want == ENGINE_AUTO)
		return kvm ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG;
	if (want == ENGINE_QEMU_KVM && !kvm) {
		snprintf(err, errlen, "--engine qemu-kvm: this host has no hardware "
			 "virtualization (no vmx/svm flag, or /dev/kvm does not open)");
		return ENGINE_AUTO;
	}
	return want;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm vmm = { .console = -1, .out = -1, .exit_status = VMM_EXIT_ERROR };
	struct qemu_launch launch = { .cfg = &cfg };
	struct virtio_dev *rng = NULL, *vsock = NULL, *gpu = NULL, *kbd = NULL, *tablet = NULL;
	struct vu_server *vu[5] = { NULL, NULL, NULL, NULL, NULL };
	struct kbd_keymap *km = NULL;
	struct hands *hands = NULL;
	struct control *control = NULL;
	struct vnc *vnc = NULL;
	char err[512] = "";
	int con[2] = { -1, -1 }, sfd = -1;
	char **qargv = NULL;
	sigset_t mask;
	pid_t pid;

	if (vmm_parse_args(argc, argv, &cfg, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_USAGE;
	}
	if (cfg.help) {
		fputs(vmm_usage, stdout);
		return 0;
	}
	if (vmm_check_files(&cfg, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_USAGE;
	}
	if (cfg.overlay && qemu_prepare_overlay(cfg.disk, cfg.overlay, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_USAGE;
	}
	if (qemu_check(cfg.qemu, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_ERROR;
	}
	launch.engine = resolve_engine(cfg.engine, err, sizeof(err));
	if (launch.engine == ENGINE_AUTO) {
		log_msg("%s", err);
		return VMM_EXIT_ERROR;
	}
	if (open_serial(&vmm, cfg.serial) < 0) {
		log_msg("--serial '%s': %s", cfg.serial, strerror(errno));
		return VMM_EXIT_USAGE;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	vmm.loop = loop_new();
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!vmm.loop || sfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0) {
		log_msg("cannot set up: %s", strerror(errno));
		goto out;
	}
	rng = rng_new();
	if (!rng || attach(&launch, &vu[0], rng, "vhost-user-rng", vmm.loop) < 0) {
		log_msg("cannot make the virtio-rng device: %s", strerror(ENOMEM));
		goto out;
	}
	if (cfg.display_w) {
		gpu = gpu_new(cfg.display_w, cfg.display_h, GPU_DEFAULT_MEM_CAP);
		if (!gpu || attach(&launch, &vu[2], gpu, "vhost-user-gpu", vmm.loop) < 0) {
			log_msg("cannot make the virtio-gpu device: %s", strerror(ENOMEM));
			goto out;
		}
	}
	if (cfg.display_w) {
		km = kbd_keymap_new(cfg.kbd_layout, cfg.kbd_variant, err, sizeof(err));
		if (!km) {
			log_msg("%s", err);
			vmm.exit_status = VMM_EXIT_USAGE;
			goto out;
		}
		kbd = input_new(INPUT_KEYBOARD, vmm.loop);
		if (!kbd || attach(&launch, &vu[3], kbd, "vhost-user-input", vmm.loop) < 0) {
			kbd_keymap_free(km);
			log_msg("cannot make the virtio-input keyboard: %s", strerror(ENOMEM));
			goto out;
		}
		tablet = input_new(INPUT_TABLET, vmm.loop);
		if (!tablet || attach(&launch, &vu[4], tablet, "vhost-user-input", vmm.loop) < 0) {
			kbd_keymap_free(km);
			log_msg("cannot make the virtio-input tablet: %s", strerror(ENOMEM));
			goto out;
		}
		hands = hands_new(kbd, tablet, gpu, km);   /* takes km */
		if (!hands) {
			kbd_keymap_free(km);
			log_msg("out of memory");
			goto out;
		}
	}
	if (cfg.vnc_addr) {
		struct vnc_input vin = hands_vnc_input(hands);

		vnc = screen_start_vnc(gpu, &cfg, &vin, err, sizeof(err));
		if (!vnc) {
			log_msg("%s", err);
			vmm.exit_status = VMM_EXIT_USAGE;
			goto out;
		}
		log_msg("vnc: %s:%d (password in %s)%s", cfg.vnc_addr, vnc_port(vnc),
			cfg.vnc_password_file, cfg.vnc_view_only ? ", view only" : "");
	}
	if (cfg.control) {
		struct control_deps deps = { .gpu = gpu, .vnc = vnc, .agent_vsock = cfg.vsock,
					     .hands = hands };

		control = control_new(vmm.loop, cfg.control, &deps, err, sizeof(err));
		if (!control) {
			log_msg("%s", err);
			vmm.exit_status = VMM_EXIT_USAGE;
			goto out;
		}
	}
	if (cfg.vsock) {
		vsock = vsock_new(vmm.loop, cfg.vsock, VSOCK_DEFAULT_GUEST_CID, err, sizeof(err));
		if (!vsock) {
			log_msg("%s", err);
			vmm.exit_status = VMM_EXIT_USAGE;
			goto out;
		}
		if (attach(&launch, &vu[1], vsock, "vhost-user-vsock-device", vmm.loop) < 0) {
			log_msg("cannot make the virtio-vsock device: %s", strerror(ENOMEM));
			goto out;
		}
	}

	vmm.console = con[0];
	fcntl(vmm.console, F_SETFL, O_NONBLOCK);
	launch.console_fd = con[1];
	qargv = qemu_argv(&launch);
	if (!qargv) {
		log_msg("out of memory");
		goto out;
	}
	if (loop_add(vmm.loop, sfd, EPOLLIN, on_signal, &vmm) < 0 ||
	    loop_add(vmm.loop, vmm.console, EPOLLIN, on_console, &vmm) < 0) {
		log_msg("cannot watch the console");
		goto out;
	}
	if (vmm.forward_stdin) {
		tty_raw(&vmm);
		loop_add(vmm.loop, STDIN_FILENO, EPOLLIN, on_stdin, &vmm);
	}

	log_msg("engine %s, %u vCPU, %u MiB; devices over vhost-user: virtio-rng%s%s%s",
		vmm_engine_name(launch.engine), cfg.vcpus, cfg.memory_mib,
		vsock ? ", virtio-vsock" : "", gpu ? ", virtio-gpu" : "",
		kbd ? ", virtio-input (keyboard, tablet)" : "");
	pid = qemu_spawn(&launch, qargv, err, sizeof(err));
	if (pid < 0) {
		log_msg("%s", err);
		goto out;
	}
	vmm.qemu = pid;
	close(con[1]);
	con[1] = -1;
	for (unsigned int i = 0; i < launch.nvu; i++) {
		close(launch.vu[i].fd);
		launch.vu[i].fd = -1;
	}

	if (loop_run(vmm.loop) < 0)
		log_msg("event loop failed: %s", strerror(errno));
	{
		struct rng_stats st = rng_stats(rng);

		log_msg("virtio-rng served %llu bytes in %llu requests",
			(unsigned long long)st.bytes, (unsigned long long)st.requests);
	}
	if (gpu) {
		struct gpu_stats gst = gpu_stats(gpu);
		struct framebuffer *fb = gpu_framebuffer(gpu);

		log_msg("virtio-gpu: %llu commands, %llu flushes, %llu refused; screen %ux%u",
			(unsigned long long)gst.commands, (unsigned long long)gst.flushes,
			(unsigned long long)gst.errors, fb->width, fb->height);
	}
	if (kbd) {
		struct input_stats k = input_stats(kbd), t = input_stats(tablet);

		log_msg("virtio-input: %llu keyboard and %llu tablet events delivered, "
			"%llu refused (queue full), %llu discarded at a reset; layout %s",
			(unsigned long long)k.delivered, (unsigned long long)t.delivered,
			(unsigned long long)(k.refused + t.refused),
			(unsigned long long)(k.discarded + t.discarded), cfg.kbd_layout);
	}
	if (vsock) {
		struct vsock_stats vst = vsock_stats(vsock);

		log_msg("virtio-vsock: %llu connections, %llu bytes to the guest, %llu from it, "
			"%llu reset", (unsigned long long)vst.connections,
			(unsigned long long)vst.bytes_to_guest,
			(unsigned long long)vst.bytes_from_guest, (unsigned long long)vst.resets);
	}

out:
	if (vmm.qemu > 0) {
		kill(vmm.qemu, SIGKILL);
		waitpid(vmm.qemu, NULL, 0);
	}
	if (vmm.raw_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &vmm.saved_tty);
	qemu_argv_free(qargv);
	control_free(control);
	vnc_free(vnc);
	hands_free(hands);
	for (int i = 0; i < 5; i++)
		vu_free(vu[i]);
	for (int i = 0; i < 2; i++)
		if (con[i] >= 0)
			close(con[i]);
	for (unsigned int i = 0; i < launch.nvu; i++)
		if (launch.vu[i].fd >= 0)
			close(launch.vu[i].fd);
	if (sfd >= 0)
		close(sfd);
	if (vmm.out > STDOUT_FILENO)
		close(vmm.out);
	loop_free(vmm.loop);
	return vmm.exit_status;
}
