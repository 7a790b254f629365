/*
 * cubicle-vmm: one sandbox. Parses its command line, makes the devices the
 * configuration wants (devices.c's table), picks the engine that runs the
 * guest (engine.c's table), adds the hands, VNC and the control socket,
 * runs the loop until the guest ends, and exits with a status that says
 * how it ended.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "console.h"
#include "control.h"
#include "devices.h"
#include "engine.h"
#include "hands.h"
#include "keymap.h"
#include "loop.h"
#include "screen.h"
#include "vhost_user.h"
#include "virtio_gpu.h"

struct vmm {
	const struct vmm_config *cfg;
	struct loop *loop;
	struct console *console;
	struct engine *engine;
	struct devices devs;
	struct hands *hands;
	struct screen_vnc *vnc;
	struct control *control;
	int sfd;
	bool stopping;              /* we asked the guest to stop */
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

static void log_line(const char *line)
{
	log_msg("%s", line);
}

static void stop_guest(struct vmm *vmm, const char *why)
{
	if (vmm->stopping)
		return;
	log_msg("stopping the guest (%s)", why);
	vmm->stopping = true;
	vmm->exit_status = VMM_EXIT_STOPPED;
	engine_stop(vmm->engine);
}

static void on_ctrl_rbracket(void *opaque)
{
	stop_guest(opaque, "Ctrl-]");
}

static void on_signal(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct signalfd_siginfo si;
	char why[32];

	(void)loop;
	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(why, sizeof(why), "signal %u", si.ssi_signo);
	stop_guest(opaque, why);
}

/* The engine says the guest is gone: what is left of its console, then out of the loop. */
static void on_ended(void *opaque, int status, const char *why)
{
	struct vmm *vmm = opaque;

	console_drain(vmm->console);
	if (vmm->stopping) {
		log_msg("guest stopped");
	} else {
		log_msg("%s", why);
		vmm->exit_status = status;
	}
	loop_stop(vmm->loop);
}

static void on_vu_close(struct vu_server *vu, const char *why)
{
	if (why)
		log_msg("%s: vhost-user session ended: %s", vu->dev->ops->name, why);
}

/* SIGINT and SIGTERM come through the loop; SIGPIPE is an error return instead. */
static int watch_signals(struct vmm *vmm)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	vmm->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vmm->sfd < 0)
		return -errno;
	return loop_add(vmm->loop, vmm->sfd, EPOLLIN, on_signal, vmm);
}

/* The hands, VNC and the control socket, as the configuration asks. */
static int add_services(struct vmm *vmm, char *err, size_t errlen)
{
	const struct vmm_config *cfg = vmm->cfg;
	struct virtio_dev *gpu = devices_get(&vmm->devs, DEV_GPU);

	if (gpu) {
		struct kbd_keymap *km = kbd_keymap_new(cfg->kbd_layout, cfg->kbd_variant, err, errlen);

		if (!km)
			return -EINVAL;
		vmm->hands = hands_new(devices_get(&vmm->devs, DEV_KEYBOARD),
				       devices_get(&vmm->devs, DEV_TABLET), gpu, km);   /* takes km */
		if (!vmm->hands) {
			kbd_keymap_free(km);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (cfg->vnc_addr) {
		struct vnc_input vin = hands_vnc_input(vmm->hands);

		vmm->vnc = screen_vnc_start(gpu_display(gpu), cfg, &vin, err, errlen);
		if (!vmm->vnc)
			return -EINVAL;
		log_msg("vnc: %s:%d (password in %s)%s", cfg->vnc_addr,
			vnc_port(screen_vnc_server(vmm->vnc)), cfg->vnc_password_file,
			cfg->vnc_view_only ? ", view only" : "");
	}
	if (cfg->control) {
		struct control_deps deps = { .gpu = gpu, .vnc = screen_vnc_server(vmm->vnc),
					     .agent_vsock = cfg->vsock, .hands = vmm->hands };

		vmm->control = control_new(vmm->loop, cfg->control, &deps, err, errlen);
		if (!vmm->control)
			return -EINVAL;
	}
	return 0;
}

/* The start-up line: the engine and the devices it carries. */
static void log_start(const struct vmm *vmm)
{
	char line[512];
	size_t n = 0;

	for (int i = 0; i < DEV_COUNT; i++)
		if (devices_get(&vmm->devs, i) && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? ", " : "",
					      dev_types[i].name);
	log_msg("engine %s, %u vCPU, %u MiB; devices over vhost-user: %s",
		engine_describe(vmm->engine), vmm->cfg->vcpus, vmm->cfg->memory_mib, line);
}

/* Makes everything and boots the guest; a VMM_EXIT_* to leave with on failure, else -1. */
static int start(struct vmm *vmm)
{
	const struct vmm_config *cfg = vmm->cfg;
	struct engine_env env = { .cfg = cfg, .ended = on_ended, .opaque = vmm };
	char err[512] = "";
	int status, ret;

	vmm->loop = loop_new();
	vmm->console = vmm->loop ? console_new(err, sizeof(err)) : NULL;
	if (!vmm->console) {
		log_msg("cannot set up: %s", vmm->loop ? err : strerror(errno));
		return VMM_EXIT_ERROR;
	}
	env.loop = vmm->loop;
	env.console_fd = console_engine_fd(vmm->console);
	/* Before signals are blocked: the engine's checks run programs of their own. */
	vmm->engine = engine_new(&env, &status, err, sizeof(err));
	if (!vmm->engine) {
		log_msg("%s", err);
		return status;
	}
	console_handed(vmm->console);
	if (console_open(vmm->console, cfg->serial, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_USAGE;
	}
	if (watch_signals(vmm) < 0) {
		log_msg("cannot set up: %s", strerror(errno));
		return VMM_EXIT_ERROR;
	}
	ret = devices_make(&vmm->devs, cfg, vmm->loop, vmm->engine, on_vu_close, err, sizeof(err));
	if (ret == 0)
		ret = add_services(vmm, err, sizeof(err));
	if (ret == 0 && (ret = console_start(vmm->console, vmm->loop, on_ctrl_rbracket, vmm)) < 0)
		snprintf(err, sizeof(err), "cannot watch the console: %s", strerror(-ret));
	if (ret < 0) {
		log_msg("%s", err);
		return ret == -EINVAL ? VMM_EXIT_USAGE : VMM_EXIT_ERROR;
	}
	log_start(vmm);
	if (engine_start(vmm->engine, err, sizeof(err)) < 0) {
		log_msg("%s", err);
		return VMM_EXIT_ERROR;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm vmm = { .cfg = &cfg, .sfd = -1, .exit_status = VMM_EXIT_ERROR };
	char err[512] = "";
	int status;

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
	status = start(&vmm);
	if (status >= 0) {
		vmm.exit_status = status;
	} else {
		if (loop_run(vmm.loop) < 0)
			log_msg("event loop failed: %s", strerror(errno));
		devices_report(&vmm.devs, &cfg, log_line);
	}
	engine_free(vmm.engine);        /* a guest still running is ended here */
	control_free(vmm.control);
	screen_vnc_stop(vmm.vnc);
	hands_free(vmm.hands);
	devices_free(&vmm.devs);
	console_free(vmm.console);
	if (vmm.sfd >= 0)
		close(vmm.sfd);
	loop_free(vmm.loop);
	return vmm.exit_status;
}
