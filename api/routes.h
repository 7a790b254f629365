/*
 * cubicled's routes (docs/api.md; api/openapi.yaml describes the same):
 * rows matched by method and path pattern, `{id}` standing for a sandbox
 * id and a last `*` for one or more segments. Each resource's file declares
 * its own rows; api_routes_new assembles them into the one table the
 * server walks.
 */
#ifndef CUBICLE_API_ROUTES_H
#define CUBICLE_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

enum {
	ROUTE_PUBLIC = 1,       /* no API key needed */
	ROUTE_SANDBOX = 2,      /* seg[1] names a sandbox, which must be running */
	ROUTE_ANY_STATE = 4,    /* with ROUTE_SANDBOX: in any state */
	ROUTE_UPLOAD = 8,       /* the body goes to upload() as it arrives */
	ROUTE_WEB = 16,         /* the web console's files; a pattern's `*` is the rest */
	ROUTE_ALWAYS_DONE = 32, /* with ROUTE_UPLOAD: abandon() at the end even after handle() */
};

struct api_route {
	const char *method;
	const char *pattern;
	unsigned int flags;
	void (*handle)(struct api_req *r);      /* answers, once the body is in */
	/*
	 * Upload routes: begin() once the headers are in (answers on error),
	 * then data() per piece of the body (false: stop taking it).
	 */
	void (*begin)(struct api_req *r);
	bool (*data)(struct api_req *r, const char *buf, size_t len);
	/*
	 * Upload routes: the request ended without handle(). Other routes:
	 * the request is over (to free what handle() left in r->stream).
	 */
	void (*abandon)(struct api_req *r);
};

/* Rows of routes. */
struct api_routes {
	const struct api_route *rows;
	size_t n;
};

/* Each resource's rows. */
extern const struct api_routes api_lifecycle_routes;   /* lifecycle.c: health, sandboxes */
extern const struct api_routes api_screen_routes;      /* screen.c: screen and hands */
extern const struct api_routes api_command_routes;     /* commands.c: commands, processes */
extern const struct api_routes api_file_routes;        /* files.c */
extern const struct api_routes api_anthropic_routes;   /* anthropic.c: Claude's computer use */
extern const struct api_routes api_openai_routes;      /* openai.c: OpenAI's computer tool */
extern const struct api_routes api_gemini_routes;      /* gemini.c: Gemini's computer use */
extern const struct api_routes api_mcp_routes;         /* mcp.c: the MCP server */
extern const struct api_routes api_e2b_routes;         /* e2b.c: E2B's control plane */
extern const struct api_routes api_envd_routes;        /* envd.c: E2B's envd */
extern const struct api_routes api_live_routes;        /* vncproxy.c: the live view */
extern const struct api_routes api_network_routes;     /* network.c: rules, address, ports */

/*
 * ports.c: whether r is for a guest's port (a host name PORT-ID.<domain>,
 * or X-Cubicle-Sandbox and X-Cubicle-Port), and the route that serves it.
 */
bool api_ports_match(struct api_req *r);
extern const struct api_route api_port_route;

/* Carries bytes both ways between a and b until one side closes or cubicled stops. */
void api_splice(int a, int b, struct api_server *srv);
extern const struct api_routes api_web_routes;         /* web.c: the web console's files */

/* The whole table (the caller's: api_routes_free), or NULL when out of memory. */
struct api_routes *api_routes_new(void);

/* Accepts NULL. */
void api_routes_free(struct api_routes *t);

#endif
