/*
 * What handlers in more than one file share: the control socket with its
 * errors answered, screenshots as JSON, and the computer-use adapters.
 */
#ifndef CUBICLE_API_HANDLERS_H
#define CUBICLE_API_HANDLERS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define ACTIONS_WAIT_MS 180000      /* a batch may hold and wait for a while */

/*
 * One request (req, taken) to the sandbox's control socket; the answer, or
 * NULL when it failed in transport or said "ok": false: then r is answered
 * (with the monitor's code mapped to a status).
 */
struct json_object *api_control(struct api_req *r, struct json_object *req, uint8_t **data,
				size_t *len, int timeout_ms);

/*
 * A screenshot, taken as the fields of how say (format, quality, scale,
 * width, region, cursor; NULL or true: a PNG of the screen), as
 * {"format","width","height","data": BASE64}; NULL when answered.
 */
struct json_object *api_screenshot_json(struct api_req *r, struct json_object *how);

/* Answers for an agent error (or a transport failure when ret is not -EREMOTEIO). */
struct agent_error;
void api_agent_failed(struct api_req *r, int ret, const struct agent_error *e);

/* Background commands and file operations (api/guest.c). */
void api_processes(struct api_req *r);
void api_process_kill(struct api_req *r);
void api_process_stdin(struct api_req *r);
void api_file_stat(struct api_req *r);
void api_file_list(struct api_req *r);
void api_file_mkdir(struct api_req *r);
void api_file_remove(struct api_req *r);
void api_file_rename(struct api_req *r);

/* POST /sandboxes/{id}/computer/anthropic and .../openai (api/computer.c). */
void api_computer_anthropic(struct api_req *r);
void api_computer_openai(struct api_req *r);

#endif
