/*
 * api/openapi.yaml against the routes cubicled serves (api_routes[]): it
 * parses (libyaml); every route is an operation there and every operation
 * is a route; every operation has a response; every {parameter} of a path
 * is declared, directly or through components/parameters.
 *
 * usage: test_openapi OPENAPI_YAML
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "../check.h"
#include "routes.h"

static yaml_document_t doc;

/* The value of key in mapping node n, or NULL. */
static yaml_node_t *get(yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&doc, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Whether the parameter list (a sequence, maybe NULL) declares path parameter name. */
static bool declares(yaml_node_t *params, const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(&doc);

	if (!params || params->type != YAML_SEQUENCE_NODE)
		return false;
	for (yaml_node_item_t *i = params->data.sequence.items.start;
	     i < params->data.sequence.items.top; i++) {
		yaml_node_t *p = yaml_document_get_node(&doc, *i);
		const char *ref = scalar(get(p, "$ref"));

		if (ref && strncmp(ref, "#/components/parameters/", 24) == 0)
			p = get(get(get(root, "components"), "parameters"), ref + 24);
		if (p && scalar(get(p, "name")) && strcmp(scalar(get(p, "name")), name) == 0 &&
		    scalar(get(p, "in")) && strcmp(scalar(get(p, "in")), "path") == 0)
			return true;
	}
	return false;
}

/* Whether api_routes[] has method on "/"-less path. */
static bool served(const char *method, const char *path)
{
	for (size_t i = 0; i < api_nroutes; i++)
		if (strcasecmp(api_routes[i].method, method) == 0 &&
		    strcmp(api_routes[i].pattern, path + 1) == 0)
			return true;
	return false;
}

static int operations;

/* Every operation of paths: served, answered, its path parameters declared. */
static void check_operations(yaml_node_t *paths)
{
	static const char *const methods[] = { "get", "post", "put", "delete", "patch", "head" };

	for (yaml_node_pair_t *p = paths->data.mapping.pairs.start; p < paths->data.mapping.pairs.top;
	     p++) {
		const char *path = scalar(yaml_document_get_node(&doc, p->key));
		yaml_node_t *item = yaml_document_get_node(&doc, p->value);

		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			yaml_node_t *op = get(item, methods[m]), *responses;

			if (!op)
				continue;
			operations++;
			if (!served(methods[m], path)) {
				CHECK(!"an operation in openapi.yaml is a route");
				fprintf(stderr, "  %s %s is not served\n", methods[m], path);
			}
			responses = get(op, "responses");
			CHECK(responses && responses->type == YAML_MAPPING_NODE &&
			      responses->data.mapping.pairs.top > responses->data.mapping.pairs.start);
			for (const char *b = strchr(path, '{'); b; b = strchr(b + 1, '{')) {
				char name[64];
				size_t n = strcspn(b + 1, "}");

				snprintf(name, sizeof(name), "%.*s", (int)n, b + 1);
				if (!declares(get(item, "parameters"), name) &&
				    !declares(get(op, "parameters"), name)) {
					CHECK(!"a path parameter is declared");
					fprintf(stderr, "  %s %s: {%s} is not declared\n", methods[m], path,
						name);
				}
			}
		}
	}
}

/* Every route is an operation. */
static void check_routes(yaml_node_t *paths)
{
	for (size_t i = 0; i < api_nroutes; i++) {
		char path[256], method[16];
		size_t j;

		snprintf(path, sizeof(path), "/%s", api_routes[i].pattern);
		for (j = 0; api_routes[i].method[j] && j < sizeof(method) - 1; j++)
			method[j] = (char)(api_routes[i].method[j] | 0x20);
		method[j] = '\0';
		if (!get(get(paths, path), method)) {
			CHECK(!"a route is in openapi.yaml");
			fprintf(stderr, "  %s %s is not described\n", api_routes[i].method, path);
		}
	}
}

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	yaml_node_t *root, *paths;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OPENAPI_YAML\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	CHECK(f != NULL);
	if (!f)
		return check_done();
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	CHECK(yaml_parser_load(&parser, &doc));
	if (parser.error != YAML_NO_ERROR)
		fprintf(stderr, "%s: %s at line %zu\n", argv[1], parser.problem ? parser.problem : "?",
			parser.problem_mark.line + 1);
	root = yaml_document_get_root_node(&doc);
	CHECK(root && scalar(get(root, "openapi")) &&
	      strncmp(scalar(get(root, "openapi")), "3.", 2) == 0);
	paths = get(root, "paths");
	CHECK(paths && paths->type == YAML_MAPPING_NODE);
	if (paths && paths->type == YAML_MAPPING_NODE) {
		check_operations(paths);
		check_routes(paths);
	}
	CHECK((size_t)operations == api_nroutes);
	printf("%d operations, %zu routes\n", operations, api_nroutes);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return check_done();
}
