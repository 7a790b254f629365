/*
 * The screen as JSON, for the handlers that answer a screenshot inside a
 * JSON answer (api/screen.c's actions, the models' routes: api/model.h).
 */
#ifndef CUBICLE_API_SCREEN_H
#define CUBICLE_API_SCREEN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "vmctl.h"

#define API_CONTROL_WAIT_MS 10000   /* screenshots, the cursor, the display */
#define API_ACTIONS_WAIT_MS 180000  /* a batch may hold and wait for a while */

/*
 * How long to wait for the batch list (a JSON array) to run: that, plus
 * what its text, waits and holds take at the slowest (a byte of text typed
 * on borrowed keys, the client's delay_ms per byte, ms of waits and holds).
 */
int api_actions_wait_ms(struct json_object *list);

/* in as base64 into out (4 * ((len + 2) / 3) + 1 bytes, NUL-terminated). */
void api_base64(const uint8_t *in, size_t len, char *out);

/*
 * An image the monitor answered, as {"format","width","height","data":
 * BASE64}; NULL when r is answered (out of memory).
 */
struct json_object *api_image_json(struct api_req *r, const struct vmctl_image *img);

#endif
