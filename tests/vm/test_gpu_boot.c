/*
 * The guest's KMS driver on our virtio-gpu over vhost-user: the connector
 * reports the mode we configured (from our display info and EDID), the
 * console draws through it (flushes reach our framebuffer), and no command
 * is refused.
 *
 * usage: test_gpu_boot CUBICLE_VMM GUEST_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "vmtest.h"

int main(int argc, char **argv)
{
	struct vm vm;
	unsigned long long cmds = 0, flushes = 0, refused = 1;
	unsigned int w = 0, h = 0;
	const char *p;
	char *out;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	char *kernel = vm_guest_path(argv[2], "kernel.path"), *image = vm_guest_path(argv[2], "minimal.path");
	char *vm_argv[] = { argv[1], "--kernel", kernel, "--disk", image, "--display", "1024x768", NULL };

	CHECK(vm_start(&vm, vm_argv) == 0);
	if (!vm_expect(&vm, "cubicle-agent: ready", 240)) {
		CHECK(!"guest ready");
		goto out;
	}
	vm_send(&vm, "stty -echo\n");
	out = vm_run(&vm, "head -1 /sys/class/drm/card0-*/modes; cat /sys/class/drm/card0-*/status", 60);
	CHECK(out && strstr(out, "1024x768") == out && strstr(out, "connected"));
	free(out);
	vm_send(&vm, "exit\n");
	CHECK(vm_wait(&vm, 60) == 0);
	/* The statistics line, among the device's other log lines. */
	int got = 0;
	for (p = strstr(vm.err_buf, "virtio-gpu: "); p && got != 5; p = strstr(p + 1, "virtio-gpu: "))
		got = sscanf(p, "virtio-gpu: %llu commands, %llu flushes, %llu refused; screen %ux%u",
			     &cmds, &flushes, &refused, &w, &h);
	CHECK(got == 5);
	CHECK(cmds > 0 && flushes > 0 && refused == 0 && w == 1024 && h == 768);
out:
	if (check_failed)
		fprintf(stderr, "cubicle-vmm said:\n%s", vm.err_buf);
	vm_free(&vm);
	free(kernel);
	free(image);
	return check_done();
}
