#include "sandbox.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "fdio.h"
#include "desktop.h"
#include "vmtest.h"

int sandbox_start(struct sandbox *sb, const char *vmm, const struct vmm_config *cfg,
		  const char *dir, const char *tag, int err_fd)
{
	char mem[16], cpus[16], net[24], append[200];

	memset(sb, 0, sizeof(*sb));
	sb->console = -1;
	snprintf(sb->ctl, sizeof(sb->ctl), "%s/%s.control", dir, tag);
	snprintf(sb->vsock, sizeof(sb->vsock), "%s/%s.vsock", dir, tag);
	snprintf(sb->pwfile, sizeof(sb->pwfile), "%s/%s.vnc-password", dir, tag);
	snprintf(mem, sizeof(mem), "%u", cfg->memory_mib);
	snprintf(cpus, sizeof(cpus), "%u", cfg->vcpus);
	char *argv[] = { (char *)vmm, "--kernel", (char *)cfg->kernel, "--disk", (char *)cfg->disk,
			 "--vcpus", cpus, "--memory", mem, "--display", "1280x800", "--control", sb->ctl,
			 "--vsock", sb->vsock, "--vnc", "127.0.0.1:0", "--vnc-password-file",
			 sb->pwfile, "--qemu", (char *)cfg->qemu, "--append", "cubicle.noshell", NULL,
			 NULL, NULL };

	/* A network card: QEMU's user-mode one, or a TAP the caller opened (fd inherited). */
	if (cfg->net == VMM_NET_USER) {
		argv[23] = "--net";
		argv[24] = "user";
	} else if (cfg->net == VMM_NET_TAP) {
		snprintf(net, sizeof(net), "tap:%d", cfg->net_tap_fd);
		snprintf(append, sizeof(append), "cubicle.noshell %s", cfg->append ? cfg->append : "");
		argv[22] = append;
		argv[23] = "--net";
		argv[24] = net;
	}

	sb->pid = bench_spawn(argv, &sb->console, err_fd);
	if (sb->pid < 0) {
		sb->pid = 0;
		return -1;
	}
	return 0;
}

bool sandbox_password(struct sandbox *sb)
{
	return fdio_read_line(sb->pwfile, sb->password, sizeof(sb->password)) > 0;
}

void sandbox_stop(struct sandbox *sb)
{
	if (sb->pid <= 0)
		return;
	guest_poweroff(sb->vsock);
	drain_and_reap(sb->console, sb->pid);
	sb->pid = 0;
	unlink(sb->pwfile);
}
