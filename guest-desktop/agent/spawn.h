/*
 * Starting a command (spawn.c): from an exec request to a child that has
 * exec'd as the request's user, on pipes or a PTY. What happens to it then
 * (output, stdin, its end) is exec.c's.
 */
#ifndef CUBICLE_AG_SPAWN_H
#define CUBICLE_AG_SPAWN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ag_user.h"

#define AG_SPAWN_MAX_GROUPS 64

struct ag_conn;

/* What to run and how, from the request; ag_spawn_free() frees it. */
struct ag_spawn {
	char **argv;                /* NULL-terminated, owned */
	char **envp;                /* NULL-terminated, owned */
	const char *cwd;            /* the request's, or NULL for the user's home */
	struct ag_user user;
	gid_t groups[AG_SPAWN_MAX_GROUPS];
	int ngroups;
	bool pty, want_stdin;
	unsigned short rows, cols;
	long long timeout_ms;       /* 0: none */
	const char *desc;           /* what ps shows: the request's "cmd" or argv[0] */
};

/*
 * The descriptors of a command's stdin, stdout and stderr: the agent's ends
 * (in: the stdin pipe or the PTY master; out, err: read ends, err -1 with a
 * PTY) and the child's (the same PTY slave three times with a PTY). All are
 * close-on-exec; -1 is closed.
 */
struct ag_stdio {
	int in, out, err;
	int child_in, child_out, child_err;
};

/*
 * Fills s from an exec request (fields in docs/agent-protocol.md). 0, or
 * -errno once the error is answered on c. s is to be freed either way.
 */
int ag_spawn_from_request(struct ag_conn *c, struct json_object *req, struct ag_spawn *s);
void ag_spawn_free(struct ag_spawn *s);

/* Opens io for s (pipes, /dev/null for no stdin, or a PTY sized as asked). 0 or -errno. */
int ag_stdio_open(const struct ag_spawn *s, struct ag_stdio *io);
/* Closes the child's ends (once it has them). */
void ag_stdio_close_child(struct ag_stdio *io);
/* Closes every end still open. */
void ag_stdio_close(struct ag_stdio *io);

/*
 * Starts s on io's child ends, in its own session, and returns once the
 * child has exec'd (0) or failed to (-errno from the child). *pid is the
 * child's either way (one that failed has exited with 127 and is reaped
 * like any other), or -1 when there is no child (-errno from clone).
 * Thread-safe.
 */
int ag_spawn_clone(const struct ag_spawn *s, const struct ag_stdio *io, pid_t *pid);

#endif
