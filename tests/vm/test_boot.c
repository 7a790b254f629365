/*
 * Boots the `minimal` guest on cubicle-vmm and shows the guest using our
 * virtio-rng device over vhost-user: the kernel binds virtio_rng to it, the
 * guest reads /dev/hwrng, and the device host counts the bytes it served.
 * One boot serves every check (boots are slow under TCG).
 *
 * usage: test_boot CUBICLE_VMM GUEST_DIR VCPUS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "vmtest.h"

#define BOOT_TIMEOUT 240
#define CMD_TIMEOUT 60

static struct vm vm;

static char *run(const char *cmd)
{
	char *out = vm_run(&vm, cmd, CMD_TIMEOUT);

	CHECK(out != NULL);
	return out ? out : strdup("");
}

static void check_hwrng(void)
{
	char *avail = run("cat /sys/class/misc/hw_random/rng_available");
	char *cur = run("cat /sys/class/misc/hw_random/rng_current");
	/* Exactly one virtio device of type 4 (entropy): ours, not QEMU's. */
	char *ids = run("cat /sys/bus/virtio/devices/*/device | grep -c '^0x0004$'");
	char *len = run("head -c 4096 /dev/hwrng | wc -c");
	char *nonzero = run("head -c 4096 /dev/hwrng | tr -d '\\000' | wc -c");
	char *a = run("head -c 64 /dev/hwrng | sha256sum");
	char *b = run("head -c 64 /dev/hwrng | sha256sum");

	CHECK(strstr(avail, "virtio_rng.0") != NULL);
	CHECK(strcmp(cur, "virtio_rng.0") == 0);
	CHECK(strcmp(ids, "1") == 0);
	CHECK(atoi(len) == 4096);
	/* Random bytes are zero 1 time in 256; 3900 of 4096 leaves a wide margin. */
	CHECK(atoi(nonzero) > 3900);
	CHECK(strlen(a) >= 64 && strcmp(a, b) != 0);
	free(avail);
	free(cur);
	free(ids);
	free(len);
	free(nonzero);
	free(a);
	free(b);
}

static void check_vcpus(const char *want)
{
	char *n = run("nproc");

	CHECK(strcmp(n, want) == 0);
	free(n);
}

int main(int argc, char **argv)
{
	unsigned long long served = 0;
	const char *p;
	int status;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR VCPUS\n", argv[0]);
		return 2;
	}
	char *kernel = vm_guest_path(argv[2], "kernel.path"), *image = vm_guest_path(argv[2], "minimal.path");
	char *vm_argv[] = { argv[1], "--kernel", kernel, "--disk", image, "--vcpus", argv[3],
			    "--engine", "auto", NULL };

	CHECK(vm_start(&vm, vm_argv) == 0);
	CHECK(vm_expect(&vm, "cubicle-agent: hwrng virtio_rng.0", BOOT_TIMEOUT) != NULL);
	CHECK(vm_expect(&vm, "cubicle-agent: ready", BOOT_TIMEOUT) != NULL);
	if (check_failed) {
		fprintf(stderr, "guest did not come up; cubicle-vmm said:\n%s", vm.err_buf);
		goto out;
	}
	vm_send(&vm, "stty -echo\n");
	RUN(check_hwrng);
	check_vcpus(argv[3]);

	/* The shell ends, init powers off, cubicle-vmm exits 0. */
	vm_send(&vm, "exit\n");
	status = vm_wait(&vm, CMD_TIMEOUT);
	CHECK(status == 0);
	CHECK(strstr(vm.err_buf, "guest powered off") != NULL);
	p = strstr(vm.err_buf, "virtio-rng served ");
	CHECK(p && sscanf(p, "virtio-rng served %llu bytes", &served) == 1);
	/* 4096 + 4096 + 2 * 64 bytes read above, plus what the kernel took to seed. */
	CHECK(served >= 4096 * 2 + 128);
	if (check_failed)
		fprintf(stderr, "cubicle-vmm said:\n%s", vm.err_buf);
out:
	vm_free(&vm);
	free(kernel);
	free(image);
	return check_done();
}
