/*
 * The web console's files: `/` is console/index.html, `/console/...` our
 * own files and `/novnc/...` noVNC's modules, both under the configured
 * web_dir (as `make web` lays it out). Public: the page signs in with the
 * API key itself, in the browser. The rows are api_web_routes (routes.h).
 */
#ifndef CUBICLE_API_WEB_H
#define CUBICLE_API_WEB_H

#include <stdbool.h>

#include "config.h"

/* Whether cfg's web_dir holds the console and noVNC. */
bool api_web_ready(const struct api_config *cfg);

#endif
