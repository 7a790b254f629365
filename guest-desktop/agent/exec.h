/*
 * Commands (exec.c): the exec, attach, kill and ps operations, and the
 * reaper's hook for the commands they started.
 */
#ifndef CUBICLE_AG_EXEC_H
#define CUBICLE_AG_EXEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

struct ag_conn;

/* Operations: each answers on c and returns when done (docs/agent-protocol.md). */
void ag_op_exec(struct ag_conn *c, struct json_object *req);
void ag_op_attach(struct ag_conn *c, struct json_object *req);
void ag_op_kill(struct ag_conn *c, struct json_object *req);
void ag_op_ps(struct ag_conn *c, struct json_object *req);

/* Called by the reaper for every child that ends; false if not a command's. */
bool ag_exec_reaped(pid_t pid, int status);

#endif
