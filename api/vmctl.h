/*
 * cubicled's side of a sandbox's control socket (docs/control-protocol.md):
 * one JSON line out, one JSON line back, and the image bytes after it when
 * the answer says `bytes`.
 */
#ifndef CUBICLE_API_VMCTL_H
#define CUBICLE_API_VMCTL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Sends req (not taken) on a new connection to the socket at path and reads
 * the answer into *answer (the caller's), and its image bytes into *data
 * (malloc'd, the caller's; NULL when it has none; data may be NULL for
 * requests that never carry any). Each read and write waits at most
 * timeout_ms. 0, or -errno for the transport (-EPROTO: the answer was not
 * JSON); an answer with "ok": false is still 0.
 */
int vmctl_call(const char *path, struct json_object *req, struct json_object **answer,
	       uint8_t **data, size_t *len, int timeout_ms);

#endif
