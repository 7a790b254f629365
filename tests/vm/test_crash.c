/*
 * A guest that crashes is reported as one: with init=/bin/false the kernel
 * panics ("Attempted to kill init"), resets, and cubicle-vmm exits with
 * status 3 rather than 0 (powered off) or 1 (monitor error).
 *
 * usage: test_crash CUBICLE_VMM GUEST_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "vmtest.h"

int main(int argc, char **argv)
{
	struct vm vm;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	char *kernel = vm_guest_path(argv[2], "kernel.path"), *image = vm_guest_path(argv[2], "minimal.path");
	char *vm_argv[] = { argv[1], "--kernel", kernel, "--disk", image,
			    "--append", "init=/bin/false", NULL };

	CHECK(vm_start(&vm, vm_argv) == 0);
	status = vm_wait(&vm, 240);
	CHECK(status == 3);
	CHECK(strstr(vm.out_buf, "Kernel panic") != NULL);
	CHECK(strstr(vm.err_buf, "guest crashed") != NULL);
	if (check_failed)
		fprintf(stderr, "status %d; cubicle-vmm said:\n%s", status, vm.err_buf);
	vm_free(&vm);
	free(kernel);
	free(image);
	return check_done();
}
