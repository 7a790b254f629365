/*
 * The agent's server (server.c): vsock port AGENT_PORT, one thread per
 * connection, each running the operation its first frame names.
 */
#ifndef CUBICLE_AG_SERVER_H
#define CUBICLE_AG_SERVER_H

/* Listens on the agent's vsock port. The fd, or -errno. */
int ag_server_listen(void);

/* Serves connections on lfd forever (with lfd < 0, waits forever). */
void ag_server_run(int lfd) __attribute__((noreturn));

#endif
