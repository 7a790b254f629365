/*
 * For vm tests that drive a desktop guest: run a shell command as `user`
 * through its agent, and ask its control socket for answers and screenshots.
 */
#ifndef CUBICLE_VM_DESKTOP_H
#define CUBICLE_VM_DESKTOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Runs cmd in the guest behind the vsock socket (60 s at most); its output
 * (stdout and stderr, up to 8 KiB, in a static buffer), or NULL when it could
 * not run or exited non-zero (said on stderr).
 */
const char *guest_exec(const char *vsock, const char *cmd);

/* Asks the guest's agent to power off (the caller waits for the monitor). */
void guest_poweroff(const char *vsock);

/*
 * One request on the control socket ctl: the answer line (malloc'd), and the
 * image bytes after it in *data (malloc'd) when it has any; NULL if the
 * socket cannot be reached.
 */
char *control_request(const char *ctl, const char *req, uint8_t **data, size_t *len);

/*
 * Runs the action batch list (a JSON array) through ctl, which must succeed;
 * says why on stderr when it does not.
 */
bool control_act(const char *ctl, const char *list);

/* Types text (UTF-8) with one `type` action through ctl. */
bool control_type(const char *ctl, const char *text);

/* A PNG screenshot through ctl decoded to R, G, B rows; NULL if it is not one. */
uint8_t *screenshot_rgb(const char *ctl, uint32_t *w, uint32_t *h);

#endif
