/*
 * The one authority for screenshot options: a request's format, quality,
 * scale, width or fit, region (screen pixels), box (corners in the request's
 * coordinate space, space.h) and cursor, read and checked here whether
 * they come in a screenshot request or in an actions request that answers
 * with one. cubicled passes them through; only the monitor knows the
 * screen they must fit.
 */
#ifndef CUBICLE_SHOT_H
#define CUBICLE_SHOT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "encode.h"
#include "space.h"

struct shot_opts {
	struct img_opts img;
	bool cursor;                /* draw the pointer in */
};

/*
 * Reads o's screenshot options for the screen of space s into out, every
 * value checked (the screen size is s's). 0, or -EINVAL with a one-line
 * reason in err.
 */
int shot_parse(struct json_object *o, const struct space *s, struct shot_opts *out, char *err,
	       size_t errlen);

#endif
