/*
 * For vm tests (and benchmarks) that drive a desktop guest: boot one with its
 * sockets in a folder of its own, run a shell command as `user` through its
 * agent, and ask its control socket for answers and screenshots.
 */
#ifndef CUBICLE_VM_DESKTOP_H
#define CUBICLE_VM_DESKTOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmtest.h"

/* A rectangle on the guest's screen, in pixels. */
struct rect {
	int x, y, w, h;
};

/* A desktop guest under test: cubicle-vmm with its sockets in dir. */
struct desktop {
	struct vm vm;
	char dir[32];
	char ctl[108], vsock[108], pw_path[128];   /* control, vsock, VNC password file */
	char *kernel, *image;
};

/*
 * Boots GUEST_DIR's image (the name of its path file: "minimal.path") on
 * cubicle-vmm at vmm with 2 vCPUs and memory_mib, a control and a vsock
 * socket in a fresh folder, VNC on a free loopback port with a password file
 * when vnc, the arguments in extra (NULL-ended; may be NULL) and
 * cubicle.noshell, and waits up to timeout_s for "desktop ready". 0, or -1
 * with the reason on stderr. desktop_end() undoes it either way.
 */
int desktop_boot(struct desktop *d, const char *vmm, const char *guest_dir, const char *image,
		 const char *memory_mib, bool vnc, char *const extra[], int timeout_s);

/*
 * Stops the guest if it still runs and removes its files; when failed, first
 * prints what cubicle-vmm and the console said, for the test's log.
 */
void desktop_end(struct desktop *d, bool failed);

/*
 * Runs cmd in the guest behind the vsock socket (60 s at most); its output
 * (stdout and stderr, up to 8 KiB, in a static buffer), or NULL when it could
 * not run or exited non-zero (said on stderr).
 */
const char *guest_exec(const char *vsock, const char *cmd);

/*
 * Runs cmd in the guest as user (NULL: the agent's default), for at most
 * timeout_ms: its output (the same static buffer) whatever its exit status,
 * which goes to *status (-1 when it could not run).
 */
const char *guest_run(const char *vsock, const char *user, const char *cmd, int timeout_ms,
		      int *status);

/*
 * Asks the guest's agent to power off, waiting at most 30 s for its answer
 * (the caller waits for the monitor to end).
 */
void guest_poweroff(const char *vsock);

/*
 * One request on the control socket ctl: the answer line (malloc'd), and the
 * image bytes after it in *data (malloc'd) when it has any; NULL if the
 * socket cannot be reached.
 */
char *control_request(const char *ctl, const char *req, uint8_t **data, size_t *len);

/* The same when only the answer line counts: any bytes after it are dropped. */
char *control_line(const char *ctl, const char *req);

/*
 * Sends {"op":"actions", extra, "actions": list} (extra: more members, or
 * NULL); the answer line (malloc'd), or NULL.
 */
char *control_actions(const char *ctl, const char *list, const char *extra);

/*
 * Runs the action batch list (a JSON array) through ctl, which must succeed;
 * says why on stderr when it does not.
 */
bool control_act(const char *ctl, const char *list);

/* Types text (UTF-8) with one `type` action through ctl. */
bool control_type(const char *ctl, const char *text);

/* The port of the sandbox's VNC server, from the display op; 0 if there is none. */
int control_vnc_port(const char *ctl);

/* A PNG screenshot through ctl decoded to R, G, B rows; NULL if it is not one. */
uint8_t *screenshot_rgb(const char *ctl, uint32_t *w, uint32_t *h);

/* A window's place from `xwininfo -id`'s output; false if a field is missing. */
bool xwininfo_rect(const char *out, struct rect *r);

#endif
