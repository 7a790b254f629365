/*
 * The Model Context Protocol at /mcp (docs/mcp.md): its Streamable HTTP
 * transport without sessions, a JSON answer to each POSTed JSON-RPC
 * request, 202 to a notification, 405 to GET and DELETE (the transport's
 * stream and session are optional, and this server keeps neither). Its
 * tools are rows of a table: the sandbox's lifecycle, the screen (image
 * content), every action, commands and files. Each tool call is one or
 * two requests to this same cubicled's API over loopback, with the
 * caller's own API key, so a tool does what the route does, checks and
 * all. `cubicle mcp` carries stdio to here.
 */
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"

#define PROTOCOL_LATEST "2025-11-25"
#define RESULT_MAX (64u << 20)      /* an inner answer held whole, at most */
#define TEXT_MAX (1u << 20)         /* a file shown as text, at most */

/* The protocol versions this server speaks (the npm SDK's list of 1.x). */
static const char *const versions[] = { "2025-11-25", "2025-06-18", "2025-03-26",
					"2024-11-05", "2024-10-07" };

static bool version_known(const char *v)
{
	for (size_t i = 0; v && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(v, versions[i]))
			return true;
	return false;
}

/* --- one request to this cubicled -------------------------------------------- */

struct answer {
	long status;
	char *body;
	size_t len;
	char type[64];
	bool over;                      /* past RESULT_MAX */
};

static size_t take(char *p, size_t size, size_t n, void *opaque)
{
	struct answer *a = opaque;
	size_t len = size * n;
	char *b;

	if (a->len + len > RESULT_MAX) {
		a->over = true;
		return 0;
	}
	b = realloc(a->body, a->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + a->len, p, len);
	a->len += len;
	b[a->len] = '\0';
	a->body = b;
	return len;
}

static size_t header(char *p, size_t size, size_t n, void *opaque)
{
	struct answer *a = opaque;
	size_t len = size * n;

	size_t v = len;

	while (v > 0 && (p[v - 1] == '\n' || p[v - 1] == '\r'))
		v--;
	if (v > 14 && !strncasecmp(p, "content-type: ", 14))
		snprintf(a->type, sizeof(a->type), "%.*s", (int)(v - 14 > 60 ? 60 : v - 14), p + 14);
	return len;
}

/*
 * method path (escaped already) with body (NULL: none; PUT bodies are raw
 * bytes) to this cubicled, with r's own Authorization; the answer into *a
 * (its body the caller's). false if it could not be asked.
 */
static bool self_call(struct api_req *r, const char *method, const char *path, const char *body,
		      size_t len, struct answer *a)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *xkey = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-API-Key");
	const char *host = strcmp(r->cfg->listen_host, "0.0.0.0") ? r->cfg->listen_host : "127.0.0.1";
	struct curl_slist *h = NULL;
	char url[256], line[600];
	CURL *c = curl_easy_init();
	CURLcode rc;

	*a = (struct answer){ 0 };
	if (!c)
		return false;
	snprintf(url, sizeof(url), "http://%s:%u%s", host, r->cfg->listen_port, path);
	/* The caller's own key, however it sent it. */
	if (auth)
		snprintf(line, sizeof(line), "Authorization: %.560s", auth);
	else
		snprintf(line, sizeof(line), "X-API-Key: %.560s", xkey ? xkey : "");
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, body && strcmp(method, "PUT") ? "Content-Type: application/json" :
			      "Content-Type: application/octet-stream");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

/* --- tools --------------------------------------------------------------------- */

/* A tool call under way: its arguments and the result's content. */
struct call {
	struct api_req *r;
	struct json_object *args;
	struct json_object *content;    /* the result's blocks */
	bool error;                     /* isError */
	const char *action;             /* the row's: our action type, for the action tools */
};

static void text(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text(struct call *c, const char *fmt, ...)
{
	struct json_object *t = json_object_new_object();
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	json_object_object_add(t, "type", json_object_new_string("text"));
	json_object_object_add(t, "text", json_object_new_string(s ? s : ""));
	json_object_array_add(c->content, t);
	free(s);
}

static void image(struct call *c, const char *b64, const char *mime)
{
	struct json_object *t = json_object_new_object();

	json_object_object_add(t, "type", json_object_new_string("image"));
	json_object_object_add(t, "data", json_object_new_string(b64));
	json_object_object_add(t, "mimeType", json_object_new_string(mime));
	json_object_array_add(c->content, t);
}

/* A failed tool: isError with one line. false, for `return failed(...)`. */
static bool failed(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failed(struct call *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	text(c, "%s", line);
	c->error = true;
	return false;
}

/* The string argument key, or NULL (then, if needed, the call failed). */
static const char *arg(struct call *c, const char *key, bool needed)
{
	const char *v = api_str_field(c->args, key);

	if (!v && needed)
		failed(c, "%s: want a string", key);
	return v;
}

/* Path fmt with %s parts URL-escaped (the arguments), into out; false (and out "") if it does not fit. */
static bool path_of(char *out, size_t cap, const char *fmt, const char *a, const char *b)
{
	char *ea = a ? curl_easy_escape(NULL, a, 0) : NULL, *eb = b ? curl_easy_escape(NULL, b, 0) : NULL;
	int n = snprintf(out, cap, fmt, ea ? ea : "", eb ? eb : "");

	curl_free(ea);
	curl_free(eb);
	if (n >= 0 && (size_t)n < cap)
		return true;
	out[0] = '\0';
	return false;
}

/*
 * An inner request's answer: true when 2xx (then *o is its JSON when it is
 * JSON, the caller's); else the call fails with the API's code and message.
 */
static bool api(struct call *c, const char *method, const char *path, struct json_object *body,
		struct answer *a, struct json_object **o)
{
	const char *text_body = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) :
				NULL;
	struct json_object *err;

	*o = NULL;
	if (!self_call(c->r, method, path, text_body, text_body ? strlen(text_body) : 0, a))
		return failed(c, "cubicled did not answer its own request");
	if (a->over)
		return failed(c, "the answer is over %u MiB", RESULT_MAX >> 20);
	if (a->body && !strncmp(a->type, "application/json", 16))
		*o = json_tokener_parse(a->body);
	if (a->status >= 200 && a->status < 300)
		return true;
	err = *o;
	failed(c, "%s: %s", api_str_field(err, "code") ?: "error",
	       api_str_field(err, "message") ?: (a->body ? a->body : ""));
	json_object_put(err);
	*o = NULL;
	return false;
}

/* A JSON answer as the call's text. */
static bool json_text(struct call *c, struct json_object *o)
{
	text(c, "%s", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE) : "");
	return true;
}

/* Runs method path (body: the arguments less sandbox, or NULL) and answers its JSON. */
static bool plain(struct call *c, const char *method, const char *path, struct json_object *body)
{
	struct answer a;
	struct json_object *o;
	bool ok = api(c, method, path, body, &a, &o);

	if (ok && a.status != 204)
		json_text(c, o);
	else if (ok)
		text(c, "done");
	json_object_put(o);
	free(a.body);
	return ok;
}

/* The arguments less those named (a new object, the caller's). */
static struct json_object *rest(struct json_object *args, const char *a, const char *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_foreach(args, k, v) {
		if ((a && !strcmp(k, a)) || (b && !strcmp(k, b)))
			continue;
		json_object_object_add(o, k, json_object_get(v));
	}
	return o;
}

static bool list_sandboxes(struct call *c)
{
	return plain(c, "GET", "/sandboxes", NULL);
}

static bool create_sandbox(struct call *c)
{
	struct json_object *body = rest(c->args, NULL, NULL);
	bool ok = plain(c, "POST", "/sandboxes", body);

	json_object_put(body);
	return ok;
}

static bool kill_sandbox(struct call *c)
{
	const char *sb = arg(c, "sandbox", true);
	char path[160];

	if (!sb)
		return false;
	if (!path_of(path, sizeof(path), "/sandboxes/%s", sb, NULL))
		return failed(c, "the path is too long");
	return plain(c, "DELETE", path, NULL);
}

/* The screenshot in an actions answer, or a screenshot route's PNG, as image content. */
static bool screenshot(struct call *c)
{
	const char *sb = arg(c, "sandbox", true);
	struct json_object *o = json_object_new_object(), *list = json_object_new_array(), *ans;
	struct json_object *shot = json_object_new_object(), *w;
	struct answer a;
	char path[160];
	bool ok;

	/* One empty batch would be refused: a cursor action answers where the pointer is too. */
	json_object_array_add(list, json_object_new_object());
	json_object_object_add(json_object_array_get_idx(list, 0), "type",
			       json_object_new_string("cursor"));
	json_object_object_add(o, "actions", list);
	if (json_object_object_get_ex(c->args, "width", &w))
		json_object_object_add(shot, "width", json_object_get(w));
	json_object_object_add(o, "screenshot", shot);
	if (!sb) {
		json_object_put(o);
		return false;
	}
	if (!path_of(path, sizeof(path), "/sandboxes/%s/actions", sb, NULL)) {
		json_object_put(o);
		return failed(c, "the path is too long");
	}
	ok = api(c, "POST", path, o, &a, &ans);
	if (ok && json_object_is_type(json_object_object_get(ans, "results"), json_type_array)) {
		struct json_object *s = NULL, *res = json_object_array_get_idx(
			json_object_object_get(ans, "results"), 0);

		json_object_object_get_ex(ans, "screenshot", &s);
		text(c, "%lldx%lld screenshot; the pointer at %lld,%lld",
		     (long long)json_object_get_int64(json_object_object_get(s, "width")),
		     (long long)json_object_get_int64(json_object_object_get(s, "height")),
		     (long long)json_object_get_int64(json_object_object_get(res, "x")),
		     (long long)json_object_get_int64(json_object_object_get(res, "y")));
		image(c, api_str_field(s, "data") ?: "", "image/png");
	}
	json_object_put(ans);
	json_object_put(o);
	free(a.body);
	return ok;
}

/*
 * The action tools: a batch (actions: the list) or one action of the
 * row's type (the arguments less sandbox), then the screen unless
 * screenshot is false.
 */
static bool actions(struct call *c)
{
	const char *sb = arg(c, "sandbox", true);
	struct json_object *o = json_object_new_object(), *v, *ans = NULL;
	bool shot = true, ok;
	struct answer a;
	char path[160];

	if (!sb) {
		json_object_put(o);
		return false;
	}
	if (json_object_object_get_ex(c->args, "screenshot", &v))
		shot = json_object_get_boolean(v);
	if (c->action) {
		struct json_object *one = rest(c->args, "sandbox", "screenshot"), *list;

		json_object_object_add(one, "type", json_object_new_string(c->action));
		list = json_object_new_array();
		json_object_array_add(list, one);
		json_object_object_add(o, "actions", list);
	} else if (json_object_object_get_ex(c->args, "actions", &v)) {
		json_object_object_add(o, "actions", json_object_get(v));
	}
	if (json_object_object_get_ex(c->args, "scale", &v))
		json_object_object_add(o, "scale", json_object_get(v));
	if (shot)
		json_object_object_add(o, "screenshot", json_object_new_boolean(1));
	if (!path_of(path, sizeof(path), "/sandboxes/%s/actions", sb, NULL)) {
		json_object_put(o);
		return failed(c, "the path is too long");
	}
	ok = api(c, "POST", path, o, &a, &ans);
	if (ok) {
		struct json_object *s = NULL;

		text(c, "%s", json_object_to_json_string_ext(json_object_object_get(ans, "results"),
							     JSON_C_TO_STRING_PLAIN));
		if (json_object_object_get_ex(ans, "screenshot", &s))
			image(c, api_str_field(s, "data") ?: "", "image/png");
	}
	json_object_put(ans);
	json_object_put(o);
	free(a.body);
	return ok;
}

static bool run_command(struct call *c)
{
	const char *sb = arg(c, "sandbox", true);
	struct json_object *body, *o;
	struct answer a;
	char path[160];
	bool ok;

	if (!sb || !arg(c, "cmd", true))
		return false;
	if (!path_of(path, sizeof(path), "/sandboxes/%s/commands", sb, NULL))
		return failed(c, "the path is too long");
	body = rest(c->args, "sandbox", NULL);
	ok = api(c, "POST", path, body, &a, &o);
	if (ok)
		text(c, "exit_code: %s\nstdout:\n%s\nstderr:\n%s",
		     json_object_get_string(json_object_object_get(o, "exit_code")) ?: "null",
		     api_str_field(o, "stdout") ?: "", api_str_field(o, "stderr") ?: "");
	json_object_put(o);
	json_object_put(body);
	free(a.body);
	return ok;
}

/* Whether p holds UTF-8 text (by its sequences' shape) with no NUL. */
static bool utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char b = p[i];
		size_t k;

		if (!b)
			return false;
		k = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 :
		    (b & 0xf8) == 0xf0 ? 3 : 4;
		if (k > 3 || n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static bool read_file(struct call *c)
{
	const char *sb = arg(c, "sandbox", true), *file = arg(c, "path", true);
	struct answer a;
	struct json_object *o;
	char path[4400];
	bool ok;

	if (!sb || !file)
		return false;
	if (!path_of(path, sizeof(path), "/sandboxes/%s/files?path=%s", sb, file))
		return failed(c, "the path is too long");
	ok = api(c, "GET", path, NULL, &a, &o);
	json_object_put(o);
	if (ok && a.len <= TEXT_MAX && utf8((const unsigned char *)(a.body ? a.body : ""), a.len))
		text(c, "%s", a.body ? a.body : "");
	else if (ok)
		ok = failed(c, "%s is %zu bytes%s: read it with the files API (GET /sandboxes/%s/files)",
			    file, a.len, a.len > TEXT_MAX ? "" : " and not UTF-8 text", sb);
	free(a.body);
	return ok;
}

static bool write_file(struct call *c)
{
	const char *sb = arg(c, "sandbox", true), *file = arg(c, "path", true);
	const char *content = arg(c, "content", true);
	struct answer a;
	char path[4400];
	size_t len;
	bool ok;

	if (!sb || !file || !content)
		return false;
	if (!path_of(path, sizeof(path), "/sandboxes/%s/files?path=%s", sb, file))
		return failed(c, "the path is too long");
	len = (size_t)json_object_get_string_len(json_object_object_get(c->args, "content"));
	if (!self_call(c->r, "PUT", path, content, len, &a))
		return failed(c, "cubicled did not answer its own request");
	ok = a.status >= 200 && a.status < 300;
	if (ok)
		text(c, "wrote %zu bytes to %s", len, file);
	else
		failed(c, "%s", a.body ? a.body : "the write failed");
	free(a.body);
	return ok;
}

static bool list_files(struct call *c)
{
	const char *sb = arg(c, "sandbox", true), *file = arg(c, "path", true);
	char path[4400];

	if (!sb || !file)
		return false;
	if (!path_of(path, sizeof(path), "/sandboxes/%s/files/list?path=%s", sb, file))
		return failed(c, "the path is too long");
	return plain(c, "GET", path, NULL);
}

#define SB "\"sandbox\":{\"type\":\"string\",\"description\":\"the sandbox's id\"}"
#define XY "\"x\":{\"type\":\"integer\",\"minimum\":0},\"y\":{\"type\":\"integer\",\"minimum\":0}"
#define SHOT "\"screenshot\":{\"type\":\"boolean\",\"description\":\"answer the screen after it " \
	     "(default true)\"}"
#define KEYS "\"keys\":{\"description\":\"a combination, \\\"ctrl+shift+t\\\", or a list of key " \
	     "names\",\"anyOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":" \
	     "\"string\"}}]}"
#define MODS "\"modifiers\":{\"type\":\"string\",\"description\":\"keys held, \\\"ctrl+shift\\\"\"}"

struct tool {
	const char *name, *title, *description;
	const char *schema;             /* the input schema's properties, and required */
	bool (*run)(struct call *c);
	const char *action;             /* for the action tools: our action type */
	bool read_only;
};

static const struct tool tools[] = {
	{ "list_sandboxes", "List sandboxes", "The sandboxes running, with their ids, templates, "
	  "screens and expiry.", "{}", list_sandboxes, NULL, true },
	{ "create_sandbox", "Create a sandbox", "Starts a new Linux desktop sandbox (a microVM) "
	  "and answers once it is ready: its id, screen and VNC address.",
	  "{\"template\":{\"type\":\"string\",\"description\":\"desktop or minimal\"},"
	  "\"resolution\":{\"type\":\"string\",\"description\":\"WxH, e.g. 1280x800\"},"
	  "\"timeout\":{\"type\":\"integer\",\"description\":\"seconds it lives\"},"
	  "\"keyboard_layout\":{\"type\":\"string\"},\"metadata\":{\"type\":\"object\"}}",
	  create_sandbox, NULL, false },
	{ "kill_sandbox", "End a sandbox", "Ends a sandbox and removes everything of it.",
	  "{" SB "},\"required\":[\"sandbox\"", kill_sandbox, NULL, false },
	{ "screenshot", "Take a screenshot", "The sandbox's screen as a PNG image (downscaled to "
	  "width when given), and where the pointer is.",
	  "{" SB ",\"width\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"sandbox\"",
	  screenshot, NULL, true },
	{ "click", "Click", "Clicks at x, y in screen pixels (or where the pointer is).",
	  "{" SB "," XY ",\"button\":{\"type\":\"string\",\"enum\":[\"left\",\"right\",\"middle\","
	  "\"back\",\"forward\"]},\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3}," MODS
	  "," SHOT "},\"required\":[\"sandbox\"", actions, "click", false },
	{ "move", "Move the pointer", "Moves the pointer to x, y in screen pixels.",
	  "{" SB "," XY "," SHOT "},\"required\":[\"sandbox\",\"x\",\"y\"", actions, "move", false },
	{ "drag", "Drag", "Holds a button along a path of points [[x, y], ...].",
	  "{" SB ",\"path\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":"
	  "\"integer\"}}},\"button\":{\"type\":\"string\"}," MODS "," SHOT
	  "},\"required\":[\"sandbox\",\"path\"", actions, "drag", false },
	{ "scroll", "Scroll", "Turns the wheel amount steps in direction, at x, y (or where the "
	  "pointer is).", "{" SB "," XY ",\"direction\":{\"type\":\"string\",\"enum\":[\"up\","
	  "\"down\",\"left\",\"right\"]},\"amount\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":"
	  "100}," MODS "," SHOT "},\"required\":[\"sandbox\",\"direction\"", actions, "scroll",
	  false },
	{ "type", "Type text", "Types text exactly as given (any language, on any keyboard "
	  "layout); \\n is Enter.", "{" SB ",\"text\":{\"type\":\"string\"}," SHOT
	  "},\"required\":[\"sandbox\",\"text\"", actions, "type", false },
	{ "key", "Press keys", "Presses a key or combination (X key names: Return, ctrl+s, "
	  "alt+Tab) repeat times.", "{" SB "," KEYS ",\"repeat\":{\"type\":\"integer\",\"minimum\":"
	  "1,\"maximum\":100}," SHOT "},\"required\":[\"sandbox\",\"keys\"", actions, "key", false },
	{ "actions", "Run actions", "Runs a batch of actions in order (docs/control-protocol.md: "
	  "move, click, down, up, drag, scroll, type, key, hold, key_down, key_up, wait, cursor), "
	  "then answers the screen.",
	  "{" SB ",\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"},\"minItems\":1},"
	  "\"scale\":{\"type\":\"number\",\"description\":\"the points are on a screenshot scaled "
	  "by this\"}," SHOT "},\"required\":[\"sandbox\",\"actions\"", actions, NULL, false },
	{ "run_command", "Run a command", "Runs a bash command in the sandbox as its user and "
	  "answers its exit code and output.",
	  "{" SB ",\"cmd\":{\"type\":\"string\"},\"cwd\":{\"type\":\"string\"},\"env\":{\"type\":"
	  "\"object\"},\"timeout_ms\":{\"type\":\"integer\"}},\"required\":[\"sandbox\",\"cmd\"",
	  run_command, NULL, false },
	{ "read_file", "Read a file", "A text file of the sandbox (UTF-8, up to 1 MiB).",
	  "{" SB ",\"path\":{\"type\":\"string\"}},\"required\":[\"sandbox\",\"path\"", read_file,
	  NULL, true },
	{ "write_file", "Write a file", "Writes text to a file of the sandbox (made or replaced).",
	  "{" SB ",\"path\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"}},"
	  "\"required\":[\"sandbox\",\"path\",\"content\"", write_file, NULL, false },
	{ "list_files", "List a folder", "A folder of the sandbox, with sizes and types.",
	  "{" SB ",\"path\":{\"type\":\"string\"}},\"required\":[\"sandbox\",\"path\"", list_files,
	  NULL, true },
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

static struct json_object *tool_json(const struct tool *t)
{
	struct json_object *o = json_object_new_object(), *ann = json_object_new_object();
	char schema[2048];

	/* The rows end a required list's last name, where there is one: closed here. */
	snprintf(schema, sizeof(schema), "{\"type\":\"object\",\"properties\":%s%s}", t->schema,
		 strstr(t->schema, "\"required\"") ? "]" : "");
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "title", json_object_new_string(t->title));
	json_object_object_add(o, "description", json_object_new_string(t->description));
	json_object_object_add(o, "inputSchema", json_tokener_parse(schema));
	json_object_object_add(ann, "readOnlyHint", json_object_new_boolean(t->read_only));
	json_object_object_add(o, "annotations", ann);
	return o;
}

/* --- JSON-RPC ------------------------------------------------------------------ */

/* {"jsonrpc":"2.0","id":id,"result":result} (result taken). */
static struct json_object *rpc_result(struct json_object *id, struct json_object *result)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "result", result);
	return o;
}

static struct json_object *rpc_error(struct json_object *id, int code, const char *message)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	/* An id unknown (a message that could not be read) is left out, never null. */
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "error", e);
	return o;
}

static struct json_object *initialize(struct json_object *params)
{
	const char *want = api_str_field(params, "protocolVersion");
	struct json_object *o = json_object_new_object(), *caps = json_object_new_object();
	struct json_object *t = json_object_new_object(), *info = json_object_new_object();

	json_object_object_add(o, "protocolVersion", json_object_new_string(
		version_known(want) ? want : PROTOCOL_LATEST));
	json_object_object_add(t, "listChanged", json_object_new_boolean(0));
	json_object_object_add(caps, "tools", t);
	json_object_object_add(o, "capabilities", caps);
	json_object_object_add(info, "name", json_object_new_string("cubicle"));
	json_object_object_add(info, "title", json_object_new_string("Cubicle desktop sandboxes"));
	json_object_object_add(info, "version", json_object_new_string("0.1"));
	json_object_object_add(o, "serverInfo", info);
	json_object_object_add(o, "instructions", json_object_new_string(
		"Linux desktop sandboxes: create one, look at its screen with screenshot, act with "
		"click, type, key, scroll, drag or actions (points in screen pixels), run commands "
		"and move files. Each action answers the screen after it."));
	return o;
}

static struct json_object *call_tool(struct api_req *r, struct json_object *id,
				     struct json_object *params)
{
	const char *name = api_str_field(params, "name");
	struct json_object *args = NULL, *result;
	struct call c = { .r = r };

	for (size_t i = 0; name && i < NTOOLS; i++) {
		if (strcmp(tools[i].name, name))
			continue;
		if (!json_object_object_get_ex(params, "arguments", &args) ||
		    json_object_is_type(args, json_type_null))
			args = NULL;
		if (args && !json_object_is_type(args, json_type_object))
			return rpc_error(id, -32602, "arguments: want an object");
		c.args = args ? json_object_get(args) : json_object_new_object();
		c.content = json_object_new_array();
		c.action = tools[i].action;
		tools[i].run(&c);
		result = json_object_new_object();
		json_object_object_add(result, "content", c.content);
		if (c.error)
			json_object_object_add(result, "isError", json_object_new_boolean(1));
		json_object_put(c.args);
		return rpc_result(id, result);
	}
	return rpc_error(id, -32602, "unknown tool");
}

/* The answer to one JSON-RPC request (NULL: a notification or a response, 202). */
static struct json_object *dispatch(struct api_req *r, struct json_object *msg)
{
	struct json_object *id = NULL, *params = NULL, *list;
	const char *method = api_str_field(msg, "method");
	bool has_id = json_object_object_get_ex(msg, "id", &id) && !json_object_is_type(id,
		json_type_null);

	if (!json_object_is_type(msg, json_type_object) ||
	    strcmp(api_str_field(msg, "jsonrpc") ?: "", "2.0"))
		return rpc_error(has_id ? id : NULL, -32600, "want a JSON-RPC 2.0 message");
	if (!method)
		return has_id && !json_object_object_get_ex(msg, "result", NULL) &&
		       !json_object_object_get_ex(msg, "error", NULL) ?
		       rpc_error(id, -32600, "want a method") : NULL;
	if (!has_id)
		return NULL;    /* notifications/initialized, cancelled, ...: nothing to answer */
	json_object_object_get_ex(msg, "params", &params);
	if (!strcmp(method, "initialize"))
		return rpc_result(id, initialize(params));
	if (!strcmp(method, "ping"))
		return rpc_result(id, json_object_new_object());
	if (!strcmp(method, "tools/list")) {
		struct json_object *res = json_object_new_object();

		list = json_object_new_array();
		for (size_t i = 0; i < NTOOLS; i++)
			json_object_array_add(list, tool_json(&tools[i]));
		json_object_object_add(res, "tools", list);
		return rpc_result(id, res);
	}
	if (!strcmp(method, "tools/call"))
		return call_tool(r, id, params);
	return rpc_error(id, -32601, "method not found");
}

/* POST /mcp: one JSON-RPC message. */
static void mcp_post(struct api_req *r)
{
	const char *version = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							  "MCP-Protocol-Version");
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	struct json_object *msg, *ans;
	char self[300];

	/* A page elsewhere must not reach it through a browser (the transport's DNS-rebinding rule). */
	snprintf(self, sizeof(self), "http://%s", host ? host : "");
	if (origin && strcmp(origin, self)) {
		api_reply_error(r, 403, "forbidden", "Origin %.200s is not this server's", origin);
		return;
	}
	if (version && !version_known(version)) {
		api_reply_json(r, 400, rpc_error(NULL, -32600, "unsupported MCP-Protocol-Version"));
		return;
	}
	msg = r->body_len ? json_tokener_parse(r->body) : NULL;
	if (!msg) {
		api_reply_json(r, 400, rpc_error(NULL, -32700, "parse error: want one JSON-RPC message"));
		return;
	}
	ans = dispatch(r, msg);
	json_object_put(msg);
	if (ans)
		api_reply_json(r, 200, ans);
	else
		api_reply_bytes(r, 202, "application/json", NULL, 0);
}

/* GET and DELETE /mcp: no stream, no session. */
static void mcp_other(struct api_req *r)
{
	api_reply_error(r, 405, "method_not_allowed", "this MCP server answers each POST; it keeps "
			"no stream and no session");
	MHD_add_response_header(r->resp, "Allow", "POST");
}

static const struct api_route rows[] = {
	{ "POST", "mcp", 0, mcp_post, NULL, NULL, NULL },
	{ "GET", "mcp", 0, mcp_other, NULL, NULL, NULL },
	{ "DELETE", "mcp", 0, mcp_other, NULL, NULL, NULL },
};

const struct api_routes api_mcp_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
