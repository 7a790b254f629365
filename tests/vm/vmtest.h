/*
 * Helpers for tests that boot real guests: run cubicle-vmm as a child with
 * its console on pipes, wait for text to appear, type into the console, and
 * collect the exit status. Boots are slow under TCG; timeouts are generous.
 */
#ifndef CUBICLE_VMTEST_H
#define CUBICLE_VMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vm {
	pid_t pid;
	int in, out, err;
	char *out_buf, *err_buf;     /* all console output / stderr so far, NUL-ended */
	size_t out_len, err_len;
	size_t mark;                 /* vm_expect() searches from here */
};


/*
 * Reads the path `make` left in GUEST_DIR/NAME (kernel.path, minimal.path);
 * exits the test with a reason if it is absent. The caller frees it.
 */
char *vm_guest_path(const char *guest_dir, const char *name);

/* Starts argv[0] with stdin/stdout/stderr on pipes. Returns 0 or -errno. */
int vm_start(struct vm *vm, char *const argv[]);

/*
 * Waits up to timeout_s for needle in the console output after vm->mark, and
 * moves the mark past it. Returns a pointer to it in out_buf, or NULL.
 */
const char *vm_expect(struct vm *vm, const char *needle, int timeout_s);

/* Writes text to the guest console. */
void vm_send(struct vm *vm, const char *text);

/*
 * Sends a shell command and returns what it printed between two markers
 * (a malloc'd string, trailing newline removed), or NULL on timeout.
 */
char *vm_run(struct vm *vm, const char *cmd, int timeout_s);

/* Waits up to timeout_s for the child to exit; returns its status or -1. */
int vm_wait(struct vm *vm, int timeout_s);

/* Kills the child if still running and frees buffers. */
void vm_free(struct vm *vm);

#endif
