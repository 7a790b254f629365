/*
 * api/openapi.yaml against the routes cubicled serves (api_routes_new()): the
 * file parses (libyaml) as OpenAPI 3.0; every route is an operation there
 * and every operation is a route; every operation has a response; every
 * {parameter} of a path is declared as a required path parameter (on the
 * path or the operation, directly or through a $ref) and every declared
 * path parameter is in its path; only public routes drop the API key
 * (security: []), and the others answer 401; sandbox routes answer 404,
 * and those that need a running sandbox 409; every local $ref resolves.
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
static yaml_node_t *root, *paths;      /* of doc */
static struct api_routes *routes;      /* the table cubicled serves */
static int operations;

static const char *const methods[] = { "get", "put", "post", "delete", "options", "head",
				       "patch", "trace" };

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping n, or NULL (also when n is not a mapping). */
static yaml_node_t *get(yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(&doc, p->key));

		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(&doc, p->value);
	}
	return NULL;
}

static bool is_mapping(yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

static bool is_sequence(yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

/*
 * The node a local reference ("#/components/schemas/Foo", RFC 6901 with
 * ~1 for / and ~0 for ~) names, or NULL.
 */
static yaml_node_t *resolve(const char *ref)
{
	yaml_node_t *n = yaml_document_get_root_node(&doc);
	char token[256];

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	for (const char *s = ref + 2; n; ) {
		size_t len = strcspn(s, "/"), o = 0;

		for (size_t i = 0; i < len && o < sizeof(token) - 1; i++) {
			if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1'))
				token[o++] = s[++i] == '1' ? '/' : '~';
			else
				token[o++] = s[i];
		}
		token[o] = '\0';
		n = get(n, token);
		if (!s[len])
			return n;
		s += len + 1;
	}
	return NULL;
}

/* n itself, or what its $ref names (NULL if that does not resolve). */
static yaml_node_t *deref(yaml_node_t *n)
{
	const char *ref = scalar(get(n, "$ref"));

	return ref ? resolve(ref) : n;
}

/* Whether a route has method on the "/"-prefixed path; its flags in *flags. */
static bool served(const char *method, const char *path, unsigned int *flags)
{
	for (size_t i = 0; i < routes->n; i++) {
		if (strcasecmp(routes->rows[i].method, method) == 0 && path[0] == '/' &&
		    strcmp(routes->rows[i].pattern, path + 1) == 0) {
			*flags = routes->rows[i].flags;
			return true;
		}
	}
	return false;
}

/* Whether the parameter list (a sequence or NULL) declares name as a required path parameter. */
static bool declares(yaml_node_t *params, const char *name)
{
	if (!is_sequence(params))
		return false;
	for (yaml_node_item_t *i = params->data.sequence.items.start;
	     i < params->data.sequence.items.top; i++) {
		yaml_node_t *p = deref(yaml_document_get_node(&doc, *i));
		const char *n = scalar(get(p, "name")), *in = scalar(get(p, "in"));
		const char *req = scalar(get(p, "required"));

		if (n && in && strcmp(n, name) == 0 && strcmp(in, "path") == 0)
			return req && strcmp(req, "true") == 0;
	}
	return false;
}

/* Whether path holds the segment {name}. */
static bool path_has(const char *path, const char *name)
{
	size_t len = strlen(name);

	for (const char *b = strchr(path, '{'); b; b = strchr(b + 1, '{'))
		if (strncmp(b + 1, name, len) == 0 && b[1 + len] == '}')
			return true;
	return false;
}

/* Every path parameter declared in params (a sequence or NULL) is in path. */
static void check_declared_in_path(yaml_node_t *params, const char *path)
{
	if (!is_sequence(params))
		return;
	for (yaml_node_item_t *i = params->data.sequence.items.start;
	     i < params->data.sequence.items.top; i++) {
		yaml_node_t *p = deref(yaml_document_get_node(&doc, *i));
		const char *n = scalar(get(p, "name")), *in = scalar(get(p, "in"));

		CHECK(p != NULL);
		if (n && in && strcmp(in, "path") == 0 && !path_has(path, n)) {
			CHECK(!"a declared path parameter is in its path");
			fprintf(stderr, "  %s: {%s} is declared but not in the path\n", path, n);
		}
	}
}

/* Every {name} of path is declared for op (or for the whole path item). */
static void check_path_params(const char *method, const char *path, yaml_node_t *item,
			      yaml_node_t *op)
{
	for (const char *b = strchr(path, '{'); b; b = strchr(b + 1, '{')) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(b + 1, "}"), b + 1);
		if (!declares(get(item, "parameters"), name) && !declares(get(op, "parameters"), name)) {
			CHECK(!"a path parameter is declared, in: path, required: true");
			fprintf(stderr, "  %s %s: {%s} is not declared\n", method, path, name);
		}
	}
}

/*
 * What the router does before any handler, as op documents it: public
 * routes have security: [] and others 401; a sandbox route 404; one that
 * needs a running sandbox 409.
 */
static void check_router_answers(const char *method, const char *path, yaml_node_t *op,
				 unsigned int flags)
{
	yaml_node_t *sec = get(op, "security"), *resp = get(op, "responses");
	bool open = is_sequence(sec) && sec->data.sequence.items.top == sec->data.sequence.items.start;
	bool ok = true;

	if (!!(flags & ROUTE_PUBLIC) != open) {
		CHECK(!"exactly the public routes have security: []");
		fprintf(stderr, "  %s %s: public %d, security: [] %d\n", method, path,
			!!(flags & ROUTE_PUBLIC), open);
	}
	if (!(flags & ROUTE_PUBLIC))
		ok &= get(resp, "401") != NULL;
	if (flags & ROUTE_SANDBOX)
		ok &= get(resp, "404") != NULL;
	if ((flags & ROUTE_SANDBOX) && !(flags & ROUTE_ANY_STATE))
		ok &= get(resp, "409") != NULL;
	if (!ok) {
		CHECK(!"the router's 401, 404 and 409 are documented");
		fprintf(stderr, "  %s %s: a 401, 404 or 409 the router answers is missing\n", method,
			path);
	}
}

/* One operation: served, answered, its path parameters declared. */
static void check_operation(const char *method, const char *path, yaml_node_t *item,
			    yaml_node_t *op)
{
	yaml_node_t *responses = get(op, "responses");
	unsigned int flags = 0;

	operations++;
	if (!served(method, path, &flags)) {
		CHECK(!"an operation in openapi.yaml is a route");
		fprintf(stderr, "  %s %s is not served\n", method, path);
	} else {
		check_router_answers(method, path, op, flags);
	}
	if (!is_mapping(responses) ||
	    responses->data.mapping.pairs.top == responses->data.mapping.pairs.start) {
		CHECK(!"an operation has a response");
		fprintf(stderr, "  %s %s has no responses\n", method, path);
	}
	check_path_params(method, path, item, op);
	check_declared_in_path(get(op, "parameters"), path);
}

/* Every operation of paths, as check_operation says. */
static void check_operations(void)
{
	for (yaml_node_pair_t *p = paths->data.mapping.pairs.start;
	     p < paths->data.mapping.pairs.top; p++) {
		const char *path = scalar(yaml_document_get_node(&doc, p->key));
		yaml_node_t *item = yaml_document_get_node(&doc, p->value);

		CHECK(path && path[0] == '/');
		CHECK(is_mapping(item));
		if (!path || !is_mapping(item))
			continue;
		check_declared_in_path(get(item, "parameters"), path);
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			yaml_node_t *op = get(item, methods[m]);

			if (op)
				check_operation(methods[m], path, item, op);
		}
	}
}

/* Every route but the web console's files is an operation. */
static void check_routes(void)
{
	for (size_t i = 0; i < routes->n; i++) {
		char path[256], method[16];
		size_t j;

		if (routes->rows[i].flags & ROUTE_WEB)
			continue;       /* the console's files, not operations */
		snprintf(path, sizeof(path), "/%s", routes->rows[i].pattern);
		for (j = 0; routes->rows[i].method[j] && j < sizeof(method) - 1; j++)
			method[j] = (char)(routes->rows[i].method[j] | 0x20);
		method[j] = '\0';
		if (!get(get(paths, path), method)) {
			CHECK(!"a route is in openapi.yaml");
			fprintf(stderr, "  %s %s is not described\n", routes->rows[i].method, path);
		}
	}
}

/* Every "$ref" in the document names a node of it. */
static void check_refs(void)
{
	for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++) {
		const char *ref = scalar(get(n, "$ref"));

		if (ref && !resolve(ref)) {
			CHECK(!"a $ref resolves");
			fprintf(stderr, "  $ref %s resolves to nothing\n", ref);
		}
	}
}

/* The document's security names only schemes components.securitySchemes defines. */
static void check_security(void)
{
	yaml_node_t *sec = get(root, "security");
	yaml_node_t *schemes = get(get(root, "components"), "securitySchemes");

	CHECK(is_sequence(sec) && sec->data.sequence.items.top > sec->data.sequence.items.start);
	if (!is_sequence(sec))
		return;
	for (yaml_node_item_t *i = sec->data.sequence.items.start; i < sec->data.sequence.items.top;
	     i++) {
		yaml_node_t *req = yaml_document_get_node(&doc, *i);

		CHECK(is_mapping(req));
		if (!is_mapping(req))
			continue;
		for (yaml_node_pair_t *p = req->data.mapping.pairs.start;
		     p < req->data.mapping.pairs.top; p++) {
			const char *name = scalar(yaml_document_get_node(&doc, p->key));

			CHECK(name && get(schemes, name));
		}
	}
}

/* Loads path into doc; false (reported) if it cannot be read or parsed. */
static bool load(const char *path)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	bool ok;

	if (!f) {
		perror(path);
		return false;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	ok = yaml_parser_load(&parser, &doc) && parser.error == YAML_NO_ERROR &&
	     yaml_document_get_root_node(&doc);
	if (parser.error != YAML_NO_ERROR)
		fprintf(stderr, "%s:%zu:%zu: %s%s%s\n", path, parser.problem_mark.line + 1,
			parser.problem_mark.column + 1, parser.problem ? parser.problem : "?",
			parser.context ? " " : "", parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	fclose(f);
	return ok;
}

/* The document is OpenAPI 3.0 with a paths mapping. */
static void test_version(void)
{
	const char *version = scalar(get(root, "openapi"));

	CHECK(version && strncmp(version, "3.0.", 4) == 0);
	CHECK(is_mapping(paths));
}

/* Every operation is a route, answered, with its parameters declared; none twice. */
static void test_operations_are_routes(void)
{
	size_t web = 0;

	for (size_t i = 0; i < routes->n; i++)
		web += !!(routes->rows[i].flags & ROUTE_WEB);
	if (is_mapping(paths))
		check_operations();
	CHECK((size_t)operations == routes->n - web);
}

static void test_routes_are_operations(void)
{
	if (is_mapping(paths))
		check_routes();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OPENAPI_YAML\n", argv[0]);
		return 2;
	}
	routes = api_routes_new();
	if (!routes) {
		CHECK(!"the route table is made");
		return check_done();
	}
	if (!load(argv[1])) {
		CHECK(!"openapi.yaml parses");
		yaml_document_delete(&doc);
		api_routes_free(routes);
		return check_done();
	}
	root = yaml_document_get_root_node(&doc);
	paths = get(root, "paths");
	RUN(test_version);
	RUN(test_operations_are_routes);
	RUN(test_routes_are_operations);
	RUN(check_refs);
	RUN(check_security);
	printf("%d operations, %zu routes\n", operations, routes->n);
	yaml_document_delete(&doc);
	api_routes_free(routes);
	return check_done();
}
