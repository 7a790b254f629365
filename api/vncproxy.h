/*
 * The live view through cubicled's own port: GET /sandboxes/{id}/vnc
 * upgrades to a websocket that is carried, byte for byte, to the
 * sandbox's VNC server (which speaks websockets itself), so a browser
 * anywhere that reaches cubicled reaches every desktop. Browsers cannot
 * send the API key with a websocket, so the way in is a ticket that
 * GET /sandboxes/{id}/stream hands out (with the key): used once, for that
 * sandbox, within a minute. The VNC password is still asked inside.
 */
#ifndef CUBICLE_API_VNCPROXY_H
#define CUBICLE_API_VNCPROXY_H

#include <stddef.h>

#include "server.h"

#define VNC_TICKET_LEN 32           /* hex characters */
#define VNC_TICKET_TTL_MS 60000

/* A new ticket for sandbox id into out (VNC_TICKET_LEN + 1); 0 or -errno. */
int api_vnc_ticket(const char *id, char *out);

/* GET /sandboxes/{id}/vnc?ticket=T with Upgrade: websocket. */
void api_vnc_proxy(struct api_req *r);
/* Its request is over: frees what the websocket left if it never began. */
void api_vnc_proxy_done(struct api_req *r);

#endif
