/*
 * cubicled's routes (docs/api.md; api/openapi.yaml describes the same):
 * one table, matched by method and path pattern, `{id}` standing for a
 * sandbox id and a last `*` for one or more segments.
 */
#ifndef CUBICLE_API_ROUTES_H
#define CUBICLE_API_ROUTES_H

#include <stddef.h>

#include "server.h"

enum {
	ROUTE_PUBLIC = 1,       /* no API key needed */
	ROUTE_SANDBOX = 2,      /* seg[1] names a sandbox, which must be running */
	ROUTE_ANY_STATE = 4,    /* with ROUTE_SANDBOX: in any state */
	ROUTE_UPLOAD = 8,       /* the body goes to upload() as it arrives */
	ROUTE_WEB = 16,         /* the web console's files; a pattern's `*` is the rest */
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

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

#endif
