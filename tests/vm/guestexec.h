/*
 * For vm tests that drive a desktop guest through its agent: run a shell
 * command as `user` and get what it printed.
 */
#ifndef CUBICLE_GUESTEXEC_H
#define CUBICLE_GUESTEXEC_H

/*
 * Runs cmd in the guest behind the vsock socket (60 s at most); its output
 * (stdout and stderr, up to 8 KiB, in a static buffer), or NULL when it could
 * not run or exited non-zero (said on stderr).
 */
const char *guest_exec(const char *vsock, const char *cmd);

#endif
