/*
 * cubicle mcp: the Model Context Protocol over stdio (newline-delimited
 * JSON-RPC), for clients that start their servers as programs (Claude
 * Desktop, Claude Code). Each message read goes to cubicled's /mcp, which
 * holds the server (api/mcp.c), and what it answers is written back as one
 * line; notifications are answered with nothing. Logs and failures go to
 * stderr, stdout carries the protocol only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "http.h"
#include "json.h"

static const char mcp_usage[] =
	"usage: cubicle mcp\n"
	"\n"
	"Serves the Model Context Protocol on stdin and stdout, one JSON-RPC message\n"
	"a line, for MCP clients that start their servers as commands: each message\n"
	"goes to cubicled's /mcp endpoint (docs/mcp.md) with the API key, and its\n"
	"answer comes back on stdout. The tools create, list and end sandboxes, take\n"
	"screenshots, act (click, type, key, scroll, drag, batches), run commands\n"
	"and read and write files. Ends at the end of stdin.\n"
	"\n"
	"example, in an MCP client's settings:\n"
	"  {\"mcpServers\": {\"cubicle\": {\"command\": \"cubicle\", \"args\": [\"mcp\"],\n"
	"   \"env\": {\"CUBICLE_URL\": \"http://127.0.0.1:8080\",\n"
	"           \"CUBICLE_API_KEY_FILE\": \"/var/lib/cubicle/api-key\"}}}}\n";

/* Writes o as one line on stdout (no newline inside: JSON strings escape theirs). */
static void put_line(struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A JSON-RPC error for the message msg (its id, if it has one). */
static void put_error(struct json_object *msg, int code, const char *message)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object(), *id;

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	if (json_object_object_get_ex(msg, "id", &id) && !json_object_is_type(id, json_type_null))
		json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "error", e);
	put_line(o);
	json_object_put(o);
}

/* One message's round trip to cubicled. */
static void relay(struct cli *c, struct json_object *msg)
{
	struct http h = { .method = "POST", .json = json_object_get(msg) };
	struct json_object *ans = NULL, *id;
	bool request = json_object_object_get_ex(msg, "id", &id) &&
		       json_object_object_get_ex(msg, "method", NULL);
	char why[160];
	int ret;

	http_path_add(c->curl, &h.path, "/mcp");
	ret = http_run(c, &h);
	if (h.body.len)
		ans = cj_parse(h.body.data, h.body.len);
	if (json_object_object_get_ex(ans, "jsonrpc", NULL)) {
		put_line(ans);
	} else if (ret == 0 && h.status == 202) {
		/* A notification or a response: nothing to answer. */
	} else if (request) {
		snprintf(why, sizeof(why), "cubicled answered %ld%s%s", h.status,
			 h.code[0] ? ": " : "", h.code);
		put_error(msg, -32603, why);
	}
	json_object_put(ans);
	http_free(&h);
}

static int cmd_mcp(struct cli *c, void *opts, int n, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	(void)opts, (void)n, (void)argv;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		struct json_object *msg;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		if ((size_t)len > CLI_STDIN_MAX) {
			put_error(NULL, -32600, "message too large");
			continue;
		}
		msg = cj_parse(line, (size_t)len);
		if (!json_object_is_type(msg, json_type_object))
			put_error(NULL, -32700, "parse error: want one JSON-RPC message a line");
		else
			relay(c, msg);
		json_object_put(msg);
	}
	free(line);
	return 0;
}

const struct cli_command cli_mcp = { mcp_usage, NULL, 0, cmd_mcp };
