/*
 * Computer-use actions (docs/control-protocol.md, "actions"): move, click,
 * down/up, drag, scroll, type, key, hold, wait and cursor, in a batch run
 * in order. A batch is parsed and checked whole before anything runs, so a
 * bad one changes nothing in the guest. Running it takes time (delays, held
 * keys, a guest-side keysym remap for characters the layout lacks), so it
 * runs on a worker, never on the device loop.
 */
#ifndef CUBICLE_ACTIONS_H
#define CUBICLE_ACTIONS_H

#include <json-c/json.h>
#include <stddef.h>

#include "hands.h"
#include "space.h"

struct action_batch;

/*
 * Parses list (an array of action objects) whose points are in space (the
 * screenshot the client read them on, space.h); cursor answers come back
 * in it too. NULL with a one-line reason in err, naming the action, if
 * anything is wrong, and the refused action's index in *refused (-1: the
 * list itself). agent_vsock may be NULL (then text the layout cannot type
 * is refused).
 */
struct action_batch *actions_parse(struct json_object *list, const struct space *space,
				   struct hands *h, const char *agent_vsock, int *refused,
				   char *err, size_t errlen);
void action_batch_free(struct action_batch *b);   /* accepts NULL */

/*
 * Runs b to its end or its first failure, and returns the answer to send
 * (the caller puts it): {"ok":true,"results":[...]} or
 * {"ok":false,"code":...,"message":...,"done":N}. After a failure every key
 * and button still held is released. NULL only without memory.
 */
struct json_object *actions_run(struct action_batch *b, struct hands *h);

#endif
