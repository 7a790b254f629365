/*
 * The guest's ports through cubicled's own listener (docs/networking.md,
 * "Ports"): a request whose host name is PORT-ID.<anything> (or that names
 * X-Cubicle-Sandbox and X-Cubicle-Port) goes, with its body as it arrives,
 * to TCP port PORT inside sandbox ID through the agent's `connect` op, so
 * servers bound to the guest's 127.0.0.1 are reached too; the answer comes
 * back as it is read, and a websocket upgrade becomes a byte stream both
 * ways. The sandbox's port token (or the API key) must come with it, as
 * X-Cubicle-Token, Authorization: Bearer, the cubicle_token cookie, or
 * once as ?cubicle_token=, which sets the cookie; none of ours is passed
 * to the guest. Answers from header-routed requests carry
 * `Content-Security-Policy: sandbox`, so guest pages never run on the
 * API's origin.
 */
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "fdio.h"
#include "handlers.h"
#include "routes.h"

#define HEAD_MAX 65536
#define ANSWER_WAIT_MS 300000    /* a guest server slow to answer: 5 minutes */
#define STALL_MS 30000
#define TOKEN_COOKIE "cubicle_token"

struct port_req {
	char id[SANDBOX_ID_LEN + 1];
	unsigned int port;
	bool by_header;          /* routed by X-Cubicle-* headers on any host name */
	bool websocket;
	bool chunked_up;         /* the body goes to the guest chunked (its length unknown) */
	bool failed;             /* writing to the guest failed: answer 502 */
	int fd;                  /* to the guest's server, through the agent */
	/* What came from the guest and is not yet passed on. */
	char *buf;
	size_t pos, len;
	/* The answer's framing. */
	enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_EOF } body;
	uint64_t left;           /* BODY_LENGTH: bytes; BODY_CHUNKED: of this chunk */
	bool chunk_done;         /* the last chunk was read */
	struct api_server *srv;
	bool upgrading;          /* a 101 is queued: on_upgrade or the request's end claims fd */
	atomic_bool claimed;     /* the upgrade took the socket */
	atomic_int refs;
};

static void port_req_put(struct port_req *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->buf);
	free(p);
}

/* "3000-0123456789abcdef" at the head of a host name: its port and id. */
static bool port_host(const char *host, unsigned int *port, char *id)
{
	char *end;
	unsigned long n;

	if (!host || host[0] < '1' || host[0] > '9')
		return false;
	n = strtoul(host, &end, 10);
	if (n < 1 || n > 65535 || *end != '-' || strspn(end + 1, "0123456789abcdef") != SANDBOX_ID_LEN)
		return false;
	end += 1 + SANDBOX_ID_LEN;
	if (*end != '.' && *end != ':' && *end != '\0')
		return false;
	*port = (unsigned int)n;
	memcpy(id, end - SANDBOX_ID_LEN, SANDBOX_ID_LEN);
	id[SANDBOX_ID_LEN] = '\0';
	return true;
}

static const char *header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool api_ports_match(struct api_req *r)
{
	const char *sid = header(r, "X-Cubicle-Sandbox"), *sport = header(r, "X-Cubicle-Port");
	struct port_req *p = calloc(1, sizeof(*p));

	if (!p)
		return false;
	p->fd = -1;
	atomic_init(&p->refs, 1);
	if (port_host(header(r, MHD_HTTP_HEADER_HOST), &p->port, p->id)) {
		r->stream = p;
		return true;
	}
	if (sid && sport) {
		char *end;
		unsigned long n = strtoul(sport, &end, 10);

		p->by_header = true;
		p->port = *sport && !*end && n <= 65535 ? (unsigned int)n : 0;
		snprintf(p->id, sizeof(p->id), "%.*s", SANDBOX_ID_LEN, sid);
		r->stream = p;
		return true;
	}
	free(p);
	return false;
}

/*
 * The value of the next cookie called name in a Cookie header, from
 * cookies on, into out; *next is where to look for another. False if none.
 */
static bool cookie_value(const char *cookies, const char *name, char *out, size_t cap,
			 const char **next)
{
	size_t n = strlen(name);

	for (const char *c = cookies; c && *c;) {
		c += strspn(c, " ;");
		if (!strncmp(c, name, n) && c[n] == '=') {
			size_t len = strcspn(c + n + 1, ";");

			*next = c + n + 1 + len;
			if (len >= cap) {
				c = *next;      /* too long to be ours: the next one */
				continue;
			}
			memcpy(out, c + n + 1, len);
			out[len] = '\0';
			return true;
		}
		c += strcspn(c, ";");
	}
	return false;
}

/* Whether t is sb's port token or the API key (both compared in constant time). */
static bool token_ok(struct api_req *r, struct sandbox *sb, const char *t)
{
	size_t n = strlen(sb->port_token), got;
	unsigned char diff = 0;

	if (!t)
		return false;
	if (api_is_key(r, t))
		return true;
	got = strlen(t);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(sb->port_token[i] ^ (i < got ? t[i] : 0));
	return n && got == n && diff == 0;
}

/* The token the request carries, if one of ours: in tok (cap bytes). */
static bool request_token(struct api_req *r, struct sandbox *sb, char *tok, size_t cap)
{
	const char *h = header(r, "X-Cubicle-Token"), *auth = header(r, "Authorization");
	const char *cookies = header(r, "Cookie");

	if (token_ok(r, sb, h) || api_is_key(r, header(r, "X-API-Key")))
		return true;
	if (auth && !strncasecmp(auth, "Bearer ", 7) && token_ok(r, sb, auth + 7))
		return true;
	/* Every cubicle_token cookie: a page elsewhere may have set one for a wider domain. */
	for (const char *c = cookies; c && cookie_value(c, TOKEN_COOKIE, tok, cap, &c);)
		if (token_ok(r, sb, tok))
			return true;
	return false;
}

/* ?cubicle_token=T on a host-routed request: the cookie set, and the same URI without it. */
static bool token_redirect(struct api_req *r, struct sandbox *sb)
{
	const char *t = api_arg(r, TOKEN_COOKIE), *q = strchr(r->uri, '?');
	char loc[8192], cookie[128];
	size_t n;

	if (!t || !q || !token_ok(r, sb, t) || strlen(t) > 64)
		return false;
	n = (size_t)(q - r->uri);
	snprintf(loc, sizeof(loc), "%.*s", (int)n, r->uri);
	/* The other arguments stay, in their order. */
	for (const char *a = q + 1; *a;) {
		size_t len = strcspn(a, "&");

		if (strncmp(a, TOKEN_COOKIE "=", sizeof(TOKEN_COOKIE)))
			snprintf(loc + strlen(loc), sizeof(loc) - strlen(loc), "%c%.*s",
				 strchr(loc, '?') ? '&' : '?', (int)len, a);
		a += len + (a[len] == '&');
	}
	snprintf(cookie, sizeof(cookie), TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax", t);
	api_reply_bytes(r, 302, "text/plain", NULL, 0);
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_LOCATION, loc);
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	return true;
}

/* Hop-by-hop headers (RFC 9110 §7.6.1) and ours: never passed on. */
static bool hop_header(const char *name)
{
	static const char *const names[] = { "Connection", "Keep-Alive", "Proxy-Connection", "TE",
					     "Trailer", "Transfer-Encoding", "Upgrade",
					     "Proxy-Authorization", "X-API-Key", "X-Cubicle-Token",
					     "X-Cubicle-Sandbox", "X-Cubicle-Port", NULL };

	for (const char *const *n = names; *n; n++)
		if (!strcasecmp(name, *n))
			return true;
	return false;
}

struct head {
	char *text;
	size_t len, cap;
	bool oom;
	struct api_req *r;
	struct sandbox *sb;
};

static void head_add(struct head *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void head_add(struct head *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->text + h->len, h->cap - h->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= h->cap - h->len)
		h->oom = true;
	else
		h->len += (size_t)n;
}

/* The Cookie header without ours. */
static void add_cookies(struct head *h, const char *value)
{
	char out[8192] = "";

	for (const char *c = value; *c;) {
		size_t len;

		c += strspn(c, " ;");
		len = strcspn(c, ";");
		if (len && strncmp(c, TOKEN_COOKIE "=", sizeof(TOKEN_COOKIE)))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.*s",
				 out[0] ? "; " : "", (int)len, c);
		c += len;
	}
	if (out[0])
		head_add(h, "Cookie: %s\r\n", out);
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct head *h = cls;

	(void)kind;
	if (!value || hop_header(key))
		return MHD_YES;
	if (!strcasecmp(key, "Cookie"))
		add_cookies(h, value);
	else if (!strcasecmp(key, "Authorization") && !strncasecmp(value, "Bearer ", 7) &&
		 token_ok(h->r, h->sb, value + 7))
		;       /* ours */
	else
		head_add(h, "%s: %s\r\n", key, value);
	return MHD_YES;
}

/* The request's head as the guest's server gets it. */
static char *request_head(struct api_req *r, struct sandbox *sb, struct port_req *p)
{
	struct head h = { .cap = HEAD_MAX, .r = r, .sb = sb };
	const char *len = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	h.text = malloc(h.cap);
	if (!h.text)
		return NULL;
	head_add(&h, "%s %s HTTP/1.1\r\n", r->method, r->uri);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header, &h);
	head_add(&h, "X-Forwarded-Proto: http\r\n");
	if (p->websocket)
		head_add(&h, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
	else
		head_add(&h, "Connection: close\r\n");
	p->chunked_up = !len && te;
	if (p->chunked_up)
		head_add(&h, "Transfer-Encoding: chunked\r\n");
	head_add(&h, "\r\n");
	if (h.oom) {
		free(h.text);
		return NULL;
	}
	return h.text;
}

/* A stream to port inside sb: through the agent, its `connect` answered; -errno, err says why. */
static int dial_guest(struct sandbox *sb, unsigned int port, struct agent_error *err)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	int fd = agent_connect(sb->vsock, AGENT_PORT), ret;

	if (fd < 0) {
		json_object_put(req);
		return fd;
	}
	json_object_object_add(req, "op", json_object_new_string("connect"));
	json_object_object_add(req, "port", json_object_new_int((int)port));
	ret = agent_request(fd, req, &reply, err);
	json_object_put(req);
	json_object_put(reply);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

static bool websocket_asked(struct api_req *r)
{
	const char *up = header(r, "Upgrade"), *conn = header(r, "Connection");

	return up && !strcasecmp(up, "websocket") && conn && strcasestr(conn, "upgrade");
}

/* Headers in: who, whether allowed, and the guest's server reached. */
static void port_begin(struct api_req *r)
{
	struct port_req *p = r->stream;
	struct agent_error err = { 0 };
	char tok[80], *head;
	int ret;

	p->srv = r->srv;
	r->sb = sandbox_get(r->sandboxes, p->id);
	if (!r->sb) {
		api_reply_error(r, 404, "sandbox_not_found", "no sandbox '%s'", p->id);
		return;
	}
	if (!p->by_header && token_redirect(r, r->sb))
		return;
	if (!request_token(r, r->sb, tok, sizeof(tok))) {
		api_reply_error(r, 401, "unauthorized", "a port of sandbox %s needs its port token "
				"(X-Cubicle-Token, Authorization: Bearer, the cubicle_token cookie, "
				"or ?cubicle_token= once) or the API key", p->id);
		return;
	}
	if (p->port < 1) {
		api_reply_error(r, 400, "invalid_request", "X-Cubicle-Port: want a port 1..65535");
		return;
	}
	if (sandbox_state(r->sandboxes, r->sb) != SANDBOX_RUNNING) {
		api_reply_error(r, 409, "sandbox_not_running", "sandbox %s is %s", p->id,
				sandbox_state_name(sandbox_state(r->sandboxes, r->sb)));
		return;
	}
	p->websocket = websocket_asked(r);
	p->fd = dial_guest(r->sb, p->port, &err);
	if (p->fd < 0) {
		ret = p->fd;
		api_reply_error(r, 502, "port_unreachable", "nothing answers on port %u in sandbox "
				"%s%s%s", p->port, p->id, ret == -EREMOTEIO ? ": " : "",
				ret == -EREMOTEIO ? err.message : "");
		return;
	}
	head = request_head(r, r->sb, p);
	if (!head || fdio_write_all_timed(p->fd, head, strlen(head), STALL_MS) < 0) {
		api_reply_error(r, 502, "port_unreachable", "port %u of sandbox %s took no request",
				p->port, p->id);
		free(head);
		return;
	}
	free(head);
}

/* A piece of the body: on to the guest (chunked when its length was not said). */
static bool port_data(struct api_req *r, const char *buf, size_t len)
{
	struct port_req *p = r->stream;
	char size[24];

	if (p->fd < 0 || p->failed)
		return false;
	if (p->chunked_up) {
		snprintf(size, sizeof(size), "%zx\r\n", len);
		p->failed = fdio_write_all_timed(p->fd, size, strlen(size), STALL_MS) < 0;
	}
	p->failed = p->failed || fdio_write_all_timed(p->fd, buf, len, STALL_MS) < 0 ||
		    (p->chunked_up && fdio_write_all_timed(p->fd, "\r\n", 2, STALL_MS) < 0);
	return !p->failed;
}

/* More bytes from the guest into p->buf (compacted first); false at EOF, error or stall. */
static bool fill(struct port_req *p, int wait_ms)
{
	ssize_t n;

	if (p->pos && p->pos == p->len)
		p->pos = p->len = 0;
	if (p->len == HEAD_MAX) {
		if (!p->pos)
			return false;
		memmove(p->buf, p->buf + p->pos, p->len - p->pos);
		p->len -= p->pos;
		p->pos = 0;
	}
	/* In slices, so that a cubicled that stops does not wait on a quiet guest. */
	for (;;) {
		int slice = wait_ms < 500 ? wait_ms : 500, w = fdio_wait(p->fd, POLLIN, slice);

		if (w == 0)
			break;
		if (w != -ETIMEDOUT)
			return false;
		wait_ms -= slice;
		if (wait_ms <= 0 || api_server_stopping(p->srv))
			return false;
	}
	n = recv(p->fd, p->buf + p->len, HEAD_MAX - p->len, 0);
	if (n <= 0)
		return false;
	p->len += (size_t)n;
	return true;
}

/* The guest's answer head, up to its blank line, at p->buf + p->pos; its length, or 0. */
static size_t read_answer_head(struct port_req *p)
{
	for (;;) {
		char *end;

		p->buf[p->len] = '\0';         /* buf has HEAD_MAX + 1 bytes */
		end = memmem(p->buf + p->pos, p->len - p->pos, "\r\n\r\n", 4);
		if (end)
			return (size_t)(end + 4 - (p->buf + p->pos));
		if (p->len == HEAD_MAX && p->pos == 0)
			return 0;
		if (!fill(p, ANSWER_WAIT_MS))
			return 0;
	}
}

/* A line's header name and value, split in place; false if it is not one. */
static bool split_header(char *line, char **name, char **value)
{
	char *colon = strchr(line, ':');

	if (!colon || colon == line)
		return false;
	*colon = '\0';
	*name = line;
	for (*value = colon + 1; **value == ' ' || **value == '\t'; (*value)++)
		;
	return true;
}

/* Reads the next chunk-size line of a chunked body; false if it is not one. */
static bool chunk_size(struct port_req *p)
{
	for (;;) {
		char *nl = memchr(p->buf + p->pos, '\n', p->len - p->pos);

		if (nl) {
			char *end;

			*nl = '\0';
			p->left = strtoull(p->buf + p->pos, &end, 16);
			if (end == p->buf + p->pos)
				return false;
			p->pos = (size_t)(nl + 1 - p->buf);
			p->chunk_done = p->left == 0;
			return true;
		}
		if (!fill(p, STALL_MS * 10))
			return false;
	}
}

/* Skips n bytes of CRLF after a chunk's data; false if they are not there. */
static bool chunk_crlf(struct port_req *p)
{
	while (p->len - p->pos < 2)
		if (!fill(p, STALL_MS * 10))
			return false;
	if (memcmp(p->buf + p->pos, "\r\n", 2))
		return false;
	p->pos += 2;
	return true;
}

/* MHD asks for the next piece of the answer's body (thread per connection: it may wait). */
static ssize_t body_reader(void *cls, uint64_t at, char *out, size_t max)
{
	struct port_req *p = cls;
	size_t n;

	(void)at;
	if (p->body == BODY_NONE || (p->body == BODY_LENGTH && p->left == 0))
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (p->body == BODY_CHUNKED && p->left == 0) {
		if (p->chunk_done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!chunk_size(p))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (p->chunk_done)
			return MHD_CONTENT_READER_END_OF_STREAM;   /* trailers are dropped */
	}
	if (p->pos == p->len && !fill(p, STALL_MS * 10))
		return p->body == BODY_EOF ? MHD_CONTENT_READER_END_OF_STREAM :
					     MHD_CONTENT_READER_END_WITH_ERROR;
	n = p->len - p->pos;
	if (n > max)
		n = max;
	if (p->body != BODY_EOF && n > p->left)
		n = (size_t)p->left;
	memcpy(out, p->buf + p->pos, n);
	p->pos += n;
	if (p->body != BODY_EOF)
		p->left -= n;
	if (p->body == BODY_CHUNKED && p->left == 0 && !chunk_crlf(p))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return (ssize_t)n;
}

static void body_done(void *cls)
{
	port_req_put(cls);
}

/* The websocket's two streams, joined until either ends. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra,
		       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct port_req *p = cls;

	(void)conn;
	(void)req_cls;
	if (!atomic_exchange(&p->claimed, true)) {
		bool ok = (!extra_len || fdio_write_all_timed(p->fd, extra, extra_len, STALL_MS) == 0) &&
			  (p->pos == p->len ||
			   fdio_write_all_timed(sock, p->buf + p->pos, p->len - p->pos, STALL_MS) == 0);

		if (ok)
			api_splice(sock, p->fd, p->srv);
	}
	port_req_put(p);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* The body's framing from the guest's head (after its status line) into p. */
static void framing(struct port_req *p, const char *head)
{
	for (const char *l = head; l && *l; l = strstr(l, "\r\n"), l = l ? l + 2 : NULL) {
		if (!strncasecmp(l, "Transfer-Encoding:", 18)) {
			const char *e = strstr(l, "\r\n");
			size_t len = e ? (size_t)(e - l) : strlen(l);

			if (memmem(l, len, "chunked", 7))
				p->body = BODY_CHUNKED;
		} else if (!strncasecmp(l, "Content-Length:", 15) && p->body == BODY_EOF) {
			p->body = BODY_LENGTH;
			p->left = strtoull(l + 15, NULL, 10);
		}
	}
}

/* The guest's headers onto resp, less hop-by-hop ones (an upgrade keeps Upgrade). */
static void pass_headers(char *head, struct MHD_Response *resp, bool upgrade)
{
	char *save = NULL, *name, *value;

	for (char *line = strtok_r(head, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!split_header(line, &name, &value) || !strcasecmp(name, "Content-Length"))
			continue;
		if (hop_header(name) && !(upgrade && !strcasecmp(name, "Upgrade")))
			continue;
		MHD_add_response_header(resp, name, value);
	}
}

/* The guest's answer head read; its status and head (in p->buf), or 0 with r answered. */
static unsigned int answer_head(struct api_req *r, struct port_req *p, char **head)
{
	unsigned int status = 0;
	size_t n;

	p->buf = malloc(HEAD_MAX + 1);
	do {
		n = p->buf ? read_answer_head(p) : 0;
		if (!n || sscanf(p->buf + p->pos, "HTTP/1.%*c %3u", &status) != 1) {
			api_reply_error(r, 502, "port_unreachable", "port %u of sandbox %s gave no "
					"HTTP answer", p->port, p->id);
			return 0;
		}
		*head = p->buf + p->pos;
		(*head)[n - 2] = '\0';
		p->pos += n;
	} while (status >= 100 && status < 200 && status != 101);     /* 100 Continue and such */
	return status;
}

/* The body is in: the guest's answer, passed on as it comes. */
static void port_handle(struct api_req *r)
{
	struct port_req *p = r->stream;
	struct MHD_Response *resp;
	unsigned int status;
	char *head, *rest;
	bool upgrade;

	if (p->fd < 0)
		return;         /* answered in begin */
	if (p->failed || (p->chunked_up && fdio_write_all_timed(p->fd, "0\r\n\r\n", 5, STALL_MS) < 0)) {
		api_reply_error(r, 502, "port_unreachable", "port %u of sandbox %s stopped taking "
				"the request", p->port, p->id);
		return;
	}
	status = answer_head(r, p, &head);
	if (!status)
		return;
	upgrade = status == 101 && p->websocket;
	rest = strstr(head, "\r\n");
	rest = rest ? rest + 2 : head + strlen(head);
	p->body = BODY_EOF;
	framing(p, rest);
	if (!strcmp(r->method, "HEAD") || status == 204 || status == 304 || status < 200)
		p->body = BODY_NONE;
	resp = upgrade ? MHD_create_response_for_upgrade(on_upgrade, p) :
		MHD_create_response_from_callback(p->body == BODY_NONE ? 0 :
						  p->body == BODY_LENGTH ? p->left : MHD_SIZE_UNKNOWN,
						  32 * 1024, body_reader, p, body_done);
	if (!resp) {
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	atomic_fetch_add(&p->refs, 1);          /* the answer's */
	p->upgrading = upgrade;
	pass_headers(rest, resp, upgrade);
	if (p->by_header)
		MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
	r->resp = resp;
	r->status = status;
	/* The request's reference goes at its end (port_abandon). */
}

/*
 * The request is over, answered or not: its reference goes, and the guest's
 * socket once the answer (if any) is done with it. A websocket whose
 * upgrade never came (the client left first) has its socket closed here;
 * the little the upgrade's reference holds then stays (MHD gives upgrade
 * answers no free callback).
 */
static void port_abandon(struct api_req *r)
{
	struct port_req *p = r->stream;

	if (!p)
		return;
	r->stream = NULL;
	if (p->upgrading && !atomic_exchange(&p->claimed, true)) {
		close(p->fd);
		p->fd = -1;
		free(p->buf);
		p->buf = NULL;
	}
	port_req_put(p);
}

const struct api_route api_port_route = {
	"*", "{port}-{id}", ROUTE_PUBLIC | ROUTE_UPLOAD | ROUTE_ALWAYS_DONE, port_handle, port_begin,
	port_data,
	port_abandon,
};
