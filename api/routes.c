#include "routes.h"

#include <stdlib.h>
#include <string.h>

/* Every resource, in the order its rows are matched (none overlaps another). */
static const struct api_routes *const resources[] = {
	&api_lifecycle_routes, &api_web_routes, &api_screen_routes, &api_live_routes,
	&api_command_routes, &api_file_routes, &api_anthropic_routes, &api_openai_routes,
	&api_gemini_routes, &api_network_routes, &api_mcp_routes,
	&api_e2b_routes, &api_envd_routes,
};

#define NRESOURCES (sizeof(resources) / sizeof(resources[0]))

struct api_routes *api_routes_new(void)
{
	struct api_routes *t = malloc(sizeof(*t));
	struct api_route *rows;
	size_t n = 0;

	for (size_t i = 0; i < NRESOURCES; i++)
		n += resources[i]->n;
	rows = t ? calloc(n, sizeof(*rows)) : NULL;
	if (!rows) {
		free(t);
		return NULL;
	}
	t->rows = rows;
	t->n = 0;
	for (size_t i = 0; i < NRESOURCES; i++) {
		memcpy(rows + t->n, resources[i]->rows, resources[i]->n * sizeof(*rows));
		t->n += resources[i]->n;
	}
	return t;
}

void api_routes_free(struct api_routes *t)
{
	if (!t)
		return;
	free((struct api_route *)t->rows);
	free(t);
}
