/*
 * What handlers in more than one file share: reading a JSON body's fields
 * (each answers 400 itself when a field is bad), one request to the guest's
 * agent, and the answers for what the agent or the sandbox's monitor
 * refused.
 */
#ifndef CUBICLE_API_HANDLERS_H
#define CUBICLE_API_HANDLERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "server.h"

struct agent_error;
struct vmctl_error;

/* o's string field key, or NULL (absent or not a string). */
const char *api_str_field(struct json_object *o, const char *key);

/* Whether every key of o is one of the NULL-terminated names; answers 400 if not. */
bool api_known_keys(struct api_req *r, struct json_object *o, const char *const *names);

/* Whether v is an object of strings (metadata, env), named what; answers 400 if not. */
bool api_string_map(struct api_req *r, struct json_object *v, const char *what);

/* A whole number field in lo..hi into *out (unchanged if absent); answers 400 if bad. */
bool api_uint_field(struct api_req *r, struct json_object *o, const char *key,
		    unsigned int lo, unsigned int hi, unsigned int *out);

/* A name field of 1..cap - 1 bytes copied into out (unchanged if absent); answers 400 if bad. */
bool api_name_field(struct api_req *r, struct json_object *o, const char *key, char *out,
		    size_t cap);

struct sandbox_spec;

/*
 * lifecycle.c: the sandbox a create's body (our fields) asks for, over the
 * configuration's defaults, into *spec (its metadata and env referenced,
 * the caller's); false when answered (400). E2B's create comes through it.
 */
bool api_sandbox_spec(struct api_req *r, struct json_object *body, struct sandbox_spec *spec);

/* How long a request to a sandbox's guest agent (host-guest/client.h) may take. */
#define API_AGENT_WAIT_MS 30000

/*
 * The result ret of an agent call that answers nothing but success: 204,
 * or its failure (api_agent_failed).
 */
void api_agent_done(struct api_req *r, int ret, const struct agent_error *e);

/* The same for a call whose reply (taken; NULL on failure) is the answer, less its "ok". */
void api_agent_reply(struct api_req *r, int ret, struct json_object *reply,
		     const struct agent_error *e);

/*
 * The API's code and status for an agent's failure: ret is -EREMOTEIO when
 * the agent answered error e, another -errno when it could not be asked.
 */
const char *api_agent_code(int ret, const struct agent_error *e, unsigned int *status);

/* Answers r for an agent's failure (as api_agent_code says). */
void api_agent_failed(struct api_req *r, int ret, const struct agent_error *e);

/*
 * Answers r for a failed control call (vmctl.h): the monitor's code mapped
 * to a status when it refused (ret -EREMOTEIO, with "done" when a batch
 * said how far it got), 502 when it could not be asked.
 */
void api_control_failed(struct api_req *r, int ret, const struct vmctl_error *e);

#endif
