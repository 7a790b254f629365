#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "jsontext.h"
#include "log.h"
#include "routes.h"

#define PATH_MAX_LEN 2048

struct api_server {
	const struct api_config *cfg;
	struct sandboxes *sandboxes;
	const struct api_routes *routes;
	struct MHD_Daemon *daemon;
	char key[128];
	atomic_bool stopping;
};

/* Per request, besides what handlers see. */
struct request {
	struct api_req r;
	const struct api_route *route;
	char path[PATH_MAX_LEN];        /* split into r.seg */
	char url[PATH_MAX_LEN];         /* as asked, for the log */
	char uri[8192];                 /* the request target with its query, for guest ports */
	bool started, uri_too_long;
	size_t body_cap;
	bool too_big, upload_stopped, handled;
	uint64_t start_us;              /* monotonic */
};

void api_note(struct api_req *r, const char *what, const char *fmt, ...)
{
	va_list ap;

	snprintf(r->what, sizeof(r->what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

const char *api_arg(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool api_flag(struct api_req *r, const char *name, bool def, bool *out)
{
	const char *v = api_arg(r, name);

	*out = def;
	if (!v)
		return true;
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*out = v[0] == 't' || v[0] == '1';
		return true;
	}
	api_reply_error(r, 400, "invalid_request", "%s: want true or false", name);
	return false;
}

static void set_response(struct api_req *r, unsigned int status, struct MHD_Response *resp,
			 const char *type)
{
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
	if (resp && type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
}

void api_reply_json(struct api_req *r, unsigned int status, struct json_object *json)
{
	const char *text = json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	char *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, text, len);
		copy[len++] = '\n';
	}
	json_object_put(json);
	set_response(r, copy ? status : 500, copy ?
		     MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE) : NULL,
		     "application/json");
}

static void reply_error(struct api_req *r, unsigned int status, const char *code,
			struct json_object *extra, const char *fmt, va_list ap)
{
	struct json_object *o = json_object_new_object();
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->error[0] = '\0';
	activity_appendf(r->error, sizeof(r->error), "%s: %s", code, msg);
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	if (extra) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(o, k, json_object_get(v));
		json_object_put(extra);
	}
	api_reply_json(r, status, o);
}

void api_reply_error(struct api_req *r, unsigned int status, const char *code,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error(r, status, code, NULL, fmt, ap);
	va_end(ap);
}

void api_reply_error_with(struct api_req *r, unsigned int status, const char *code,
			  struct json_object *extra, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error(r, status, code, extra, fmt, ap);
	va_end(ap);
}

void api_reply_bytes(struct api_req *r, unsigned int status, const char *type, void *data,
		     size_t len)
{
	set_response(r, status, MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE),
		     type);
}

struct fd_reader {
	int fd;
	void (*done)(void *opaque);
	void *opaque;
};

static ssize_t read_fd(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fd_reader *f = cls;
	ssize_t n;

	(void)pos;
	do
		n = read(f->fd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void free_fd_reader(void *cls)
{
	struct fd_reader *f = cls;

	close(f->fd);           /* a producer still writing gets EPIPE and stops */
	if (f->done)
		f->done(f->opaque);
	free(f);
}

void api_reply_fd(struct api_req *r, unsigned int status, const char *type, int fd,
		  void (*done)(void *opaque), void *opaque)
{
	struct fd_reader *f = malloc(sizeof(*f));
	struct MHD_Response *resp;

	if (!f) {
		close(fd);
		if (done)
			done(opaque);
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	*f = (struct fd_reader){ fd, done, opaque };
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, read_fd, f,
						 free_fd_reader);
	if (!resp) {
		free_fd_reader(f);
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	set_response(r, status, resp, type);
}

struct json_object *api_body_object(struct api_req *r)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	size_t lone;

	if (!tok) {
		api_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	if (r->body_len)
		o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (!r->body_len) {
		api_reply_error(r, 400, "invalid_json", "the request needs a JSON object body");
	} else if (!o || json_tokener_get_error(tok) != json_tokener_success ||
		   json_tokener_get_parse_end(tok) < r->body_len) {
		size_t at = json_tokener_get_parse_end(tok);

		/* Trailing white space is fine. */
		while (o && at < r->body_len && strchr(" \t\r\n", r->body[at]))
			at++;
		if (!o || at < r->body_len) {
			api_reply_error(r, 400, "invalid_json", "the body is not valid JSON (%s, at "
					"byte %zu)", o ? "text after the value" :
					json_tokener_get_error(tok) == json_tokener_continue ?
					"it ends early" :
					json_tokener_error_desc(json_tokener_get_error(tok)), at);
			json_object_put(o);
			o = NULL;
		}
	}
	if (o && jsontext_lone_surrogate(r->body, r->body_len, &lone)) {
		/* json-c made it U+FFFD: the client's text would change under it. */
		api_reply_error(r, 400, "invalid_json", "the body holds a lone UTF-16 surrogate "
				"(\\u%.4s) at byte %zu: text must be Unicode; nothing was done",
				r->body + lone + 2, lone);
		json_object_put(o);
		o = NULL;
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		api_reply_error(r, 400, "invalid_json", "the body must be a JSON object");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Constant-time: whether the request carries the key. */
static bool same_key(const char *want, const char *key)
{
	size_t n = strlen(want), got = strlen(key);
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ (i < got ? key[i] : 0));
	return diff == 0 && got == n;
}

bool api_is_key(struct api_req *r, const char *key)
{
	return key && same_key(r->srv->key, key);
}

static bool authorized(struct api_server *s, struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");

	if (!key && auth && strncasecmp(auth, "Bearer ", 7) == 0)
		key = auth + 7;
	return key && same_key(s->key, key);
}

/* Splits path into r's segments (in req->path); false if there are too many. */
static bool split(struct request *req, const char *url)
{
	char *save = NULL, *tok;

	snprintf(req->path, sizeof(req->path), "%s", url);
	req->r.nseg = 0;
	for (tok = strtok_r(req->path, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (req->r.nseg == sizeof(req->r.seg) / sizeof(req->r.seg[0]))
			return false;
		req->r.seg[req->r.nseg++] = tok;
	}
	return true;
}

static bool pattern_matches(const char *pattern, struct api_req *r)
{
	char buf[128], *save = NULL, *tok;
	unsigned int i = 0;

	snprintf(buf, sizeof(buf), "%s", pattern);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
		if (!strcmp(tok, "*"))
			return i < r->nseg;     /* one segment or more */
		if (i >= r->nseg || (tok[0] != '{' && strcmp(tok, r->seg[i])))
			return false;
	}
	return i == r->nseg;
}

/* Finds r's row of routes; answers 404/405 itself when there is none. */
static const struct api_route *route_of(const struct api_routes *routes, struct api_req *r)
{
	bool path_known = false;

	for (size_t i = 0; i < routes->n; i++) {
		if (!pattern_matches(routes->rows[i].pattern, r))
			continue;
		path_known = true;
		if (strcmp(routes->rows[i].method, r->method) == 0)
			return &routes->rows[i];
	}
	if (path_known)
		api_reply_error(r, 405, "method_not_allowed", "%s is not allowed here", r->method);
	else
		api_reply_error(r, 404, "not_found", "no such route");
	return NULL;
}

/* The first call of a request: auth, route, sandbox. Answers itself on error. */
static void begin(struct api_server *s, struct request *req, const char *url)
{
	struct api_req *r = &req->r;
	const char *len;

	snprintf(req->url, sizeof(req->url), "%s", url);
	if (strlen(url) >= PATH_MAX_LEN || req->uri_too_long || !split(req, url)) {
		api_reply_error(r, 414, "uri_too_long", "the path is too long");
		return;
	}
	/* A guest's port, by host name or headers: never one of the API's routes. */
	req->route = api_ports_match(r) ? &api_port_route : route_of(s->routes, r);
	if (!req->route)
		return;
	if (!(req->route->flags & ROUTE_PUBLIC) && !authorized(s, r->conn)) {
		api_reply_error(r, 401, "unauthorized", "a valid API key is needed "
				"(Authorization: Bearer KEY, or X-API-Key: KEY)");
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
		return;
	}
	if (req->route->flags & ROUTE_SANDBOX) {
		r->sb = sandbox_get(s->sandboxes, r->seg[1]);
		if (!r->sb) {
			api_reply_error(r, 404, "sandbox_not_found", "no sandbox '%.64s'", r->seg[1]);
			return;
		}
		if (!(req->route->flags & ROUTE_ANY_STATE) &&
		    sandbox_state(s->sandboxes, r->sb) != SANDBOX_RUNNING) {
			api_reply_error(r, 409, "sandbox_not_running", "sandbox %s is %s", r->sb->id,
					sandbox_state_name(sandbox_state(s->sandboxes, r->sb)));
			return;
		}
	}
	len = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && !(req->route->flags & ROUTE_UPLOAD) && strtoull(len, NULL, 10) > s->cfg->max_body) {
		api_reply_error(r, 413, "payload_too_large", "the body is over %zu bytes",
				s->cfg->max_body);
		return;
	}
	if (req->route->flags & ROUTE_UPLOAD)
		req->route->begin(r);
}

static void take_body(struct api_server *s, struct request *req, const char *data, size_t len)
{
	struct api_req *r = &req->r;

	if (r->resp || !req->route)
		return;                 /* answered already: the rest is dropped */
	if (req->route->flags & ROUTE_UPLOAD) {
		if (!req->upload_stopped && !req->route->data(r, data, len))
			req->upload_stopped = true;
		return;
	}
	if (req->too_big || r->body_len + len > s->cfg->max_body) {
		req->too_big = true;
		return;
	}
	if (r->body_len + len + 1 > req->body_cap) {
		size_t cap = (r->body_len + len + 1) * 2;
		char *b = realloc(r->body, cap < s->cfg->max_body + 1 ? cap : s->cfg->max_body + 1);

		if (!b) {
			req->too_big = true;
			return;
		}
		r->body = b;
		req->body_cap = cap < s->cfg->max_body + 1 ? cap : s->cfg->max_body + 1;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **ctx)
{
	struct api_server *s = cls;
	struct request *req = *ctx;
	enum MHD_Result ret;

	(void)version;
	if (!req)
		return MHD_NO;
	if (!req->started) {
		req->started = true;
		req->start_us = clk_mono_us();
		req->r.srv = s;
		req->r.cfg = s->cfg;
		req->r.sandboxes = s->sandboxes;
		req->r.conn = conn;
		req->r.method = method;
		req->r.uri = req->uri;
		begin(s, req, url);
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_body(s, req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!req->r.resp && req->too_big)
		api_reply_error(&req->r, 413, "payload_too_large", "the body is over %zu bytes",
				s->cfg->max_body);
	if (!req->r.resp && req->route) {
		req->handled = true;
		req->route->handle(&req->r);
	}
	if (!req->r.resp)
		api_reply_error(&req->r, 500, "internal", "the request got no answer");
	ret = MHD_queue_response(conn, req->r.status, req->r.resp);
	MHD_destroy_response(req->r.resp);
	req->r.resp = NULL;
	return ret;
}

/*
 * Adds what the request did to its sandbox's activity: its note, or, for a
 * request that would have changed the sandbox but failed, its route.
 */
static void note_activity(struct request *req, bool completed, double ms)
{
	struct api_req *r = &req->r;
	const char *what = r->what, *slash;

	/* A guest port's traffic (a page and its assets) is not done to the sandbox. */
	if (!r->sb || !req->route || req->route == &api_port_route)
		return;
	if (!what[0]) {
		if (r->status < 400 || !strcmp(r->method, "GET"))
			return;
		slash = strrchr(req->route->pattern, '/');
		what = slash ? slash + 1 : req->route->pattern;
		r->note[0] = '\0';
		activity_appendf(r->note, sizeof(r->note), "%s %s", r->method, req->url);
	}
	if (!completed && !r->error[0])
		snprintf(r->error, sizeof(r->error), "the client went away before the answer ended");
	activity_add(&r->sb->activity, what, r->note, r->status, r->status >= 400 ? r->error : "",
		     ms > 1e9 ? 1000000000u : (unsigned int)ms);
}

/* Before anything else of a request: its state, with the target as it was sent. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request *req = calloc(1, sizeof(*req));

	(void)cls;
	(void)conn;
	if (req) {
		req->uri_too_long = strlen(uri) >= sizeof(req->uri);
		snprintf(req->uri, sizeof(req->uri), "%s", req->uri_too_long ? "/" : uri);
	}
	return req;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **ctx,
		    enum MHD_RequestTerminationCode why)
{
	struct api_server *s = cls;
	struct request *req = *ctx;
	char q[300];
	double ms;

	(void)conn;
	if (!req)
		return;
	if (req->route && req->route->abandon &&
	    (!(req->route->flags & ROUTE_UPLOAD) || !req->handled ||
	     (req->route->flags & ROUTE_ALWAYS_DONE)))
		req->route->abandon(&req->r);
	ms = (double)(clk_mono_us() - req->start_us) / 1e3;
	api_log("info", "msg=request method=%s path=%s status=%u ms=%.1f%s",
		req->r.method ? req->r.method : "-",
		api_log_str(q, sizeof(q), req->url[0] ? req->url : "/"), req->r.status, ms,
		why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
	note_activity(req, why == MHD_REQUEST_TERMINATED_COMPLETED_OK, ms);
	if (req->r.resp)
		MHD_destroy_response(req->r.resp);
	sandbox_put(s->sandboxes, req->r.sb);
	free(req->r.body);
	free(req);
}

/* libmicrohttpd's own complaints, as log lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], q[600];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	api_log("warn", "msg=%s source=libmicrohttpd", api_log_str(q, sizeof(q), msg));
}

struct api_server *api_server_start(const struct api_config *cfg, struct sandboxes *t,
				    const struct api_routes *routes, const char *key, char *err,
				    size_t errlen)
{
	struct api_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->listen_port) };

	if (!s || strlen(key) >= sizeof(s->key)) {
		snprintf(err, errlen, "%s", s ? "the API key is too long" : "out of memory");
		free(s);
		return NULL;
	}
	s->cfg = cfg;
	s->sandboxes = t;
	s->routes = routes;
	strcpy(s->key, key);
	inet_pton(AF_INET, cfg->listen_host, &sa.sin_addr);
	s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE,
				     0, NULL, NULL, on_request, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
				     MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
				     MHD_OPTION_CONNECTION_TIMEOUT, 0u,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%u (in use, or not an address here?)",
			 cfg->listen_host, cfg->listen_port);
		free(s);
		return NULL;
	}
	return s;
}

bool api_server_stopping(struct api_server *s)
{
	return atomic_load(&s->stopping);
}

uint16_t api_server_port(struct api_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : s->cfg->listen_port;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);      /* websockets end within half a second */
	MHD_stop_daemon(s->daemon);
	free(s);
}
