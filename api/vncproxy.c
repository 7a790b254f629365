/*
 * The live view: GET /sandboxes/{id}/stream says what a VNC viewer or
 * noVNC needs, and GET /sandboxes/{id}/vnc upgrades to a websocket carried,
 * byte for byte, to the sandbox's VNC server (which speaks websockets
 * itself) through cubicled's own port, so a browser anywhere that reaches
 * cubicled reaches every desktop. Browsers cannot send the API key with a
 * websocket, so the way in is a ticket that stream hands out (with the
 * key): used once, for that sandbox, within a minute. The VNC password is
 * still asked inside. The rows are api_live_routes (routes.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "routes.h"

#define VNC_TICKET_LEN 32           /* hex characters */
#define VNC_TICKET_TTL_MS 60000
#define MAX_TICKETS 64
#define HANDSHAKE_MAX 4096
#define HANDSHAKE_MS 5000

struct ticket {
	char value[VNC_TICKET_LEN + 1];
	char id[SANDBOX_ID_LEN + 1];
	int64_t expires_ms;
};

/* Tickets of the process (one cubicled), newest over the oldest. */
static struct ticket tickets[MAX_TICKETS];
static unsigned int next_ticket;
static pthread_mutex_t tickets_lock = PTHREAD_MUTEX_INITIALIZER;

/* A new ticket for sandbox id into out (VNC_TICKET_LEN + 1); 0 or -errno. */
static int new_ticket(const char *id, char *out)
{
	unsigned char b[VNC_TICKET_LEN / 2];
	struct ticket *t;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	pthread_mutex_lock(&tickets_lock);
	t = &tickets[next_ticket++ % MAX_TICKETS];
	snprintf(t->value, sizeof(t->value), "%s", out);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->expires_ms = clk_mono_ms() + VNC_TICKET_TTL_MS;
	pthread_mutex_unlock(&tickets_lock);
	return 0;
}

/* Whether value is a live ticket for sandbox id; it is used up either way. */
static bool take_ticket(const char *value, const char *id)
{
	bool ok = false;

	if (!value || strlen(value) != VNC_TICKET_LEN)
		return false;
	pthread_mutex_lock(&tickets_lock);
	for (size_t i = 0; i < MAX_TICKETS; i++) {
		struct ticket *t = &tickets[i];
		unsigned char diff = 0;

		for (size_t j = 0; j < VNC_TICKET_LEN; j++)
			diff |= (unsigned char)(t->value[j] ^ value[j]);
		if (diff || !t->value[0])
			continue;
		ok = !strcmp(t->id, id) && clk_mono_ms() < t->expires_ms;
		memset(t, 0, sizeof(*t));
		break;
	}
	pthread_mutex_unlock(&tickets_lock);
	return ok;
}

/* A TCP connection to host:port, or -errno. */
static int dial(const char *host, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	char service[16];
	int fd, ret;

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &ai))
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	ret = fd < 0 ? -errno : connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
	freeaddrinfo(ai);
	if (ret && fd >= 0)
		close(fd);
	return ret ? ret : fd;
}

#define STALL_MS 30000          /* a peer that takes nothing this long is gone */

/*
 * Sends all of p; MHD's upgraded socket is non-blocking, so a full send
 * buffer (a slow browser) waits for room, up to STALL_MS at a time.
 */
static bool write_all(int fd, const char *p, size_t n)
{
	return fdio_write_all_timed(fd, p, n, STALL_MS) == 0;
}

/* Reads an HTTP head (up to the blank line) from fd into buf; false if none in time. */
static bool read_head(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	int64_t end = clk_mono_ms() + HANDSHAKE_MS;

	while (len + 1 < cap) {
		int64_t left = end - clk_mono_ms();
		ssize_t n;

		if (left <= 0 || fdio_wait(fd, POLLIN, (int)left) < 0)
			return false;
		n = recv(fd, buf + len, 1, 0);  /* byte by byte: what follows is VNC's */
		if (n <= 0)
			return false;
		buf[++len] = '\0';
		if (len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4))
			return true;
	}
	return false;
}

/* The value of header name in an HTTP head, copied into out; false if absent. */
static bool head_value(const char *head, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2, *e;

		if (strncasecmp(v, name, n) || v[n] != ':')
			continue;
		for (v += n + 1; *v == ' '; v++)
			;
		e = strstr(v, "\r\n");
		if (!e || (size_t)(e - v) >= cap)
			return false;
		memcpy(out, v, (size_t)(e - v));
		out[e - v] = '\0';
		return true;
	}
	return false;
}

/*
 * One websocket: the 101 and the upgrade callback may never come (the
 * client goes first), so the request's end also looks at it; whichever of
 * the two claims it closes the VNC socket, and the last one frees it.
 */
struct proxy {
	int vnc;                /* the VNC server's socket, after its 101 */
	struct api_server *srv;
	atomic_bool claimed;
	atomic_int refs;
};

/* Drops a reference to px; the last one frees it. */
static void proxy_put(struct proxy *px)
{
	if (atomic_fetch_sub(&px->refs, 1) == 1)
		free(px);
}

struct direction {
	int from, to;
	struct api_server *srv;
};

/*
 * One direction, until from ends, either side fails or cubicled stops;
 * then to's sending side is shut, so its peer sees the end. A thread each:
 * a peer slow to read one way never stops the other.
 */
static void *pass(void *arg)
{
	struct direction *d = arg;
	char *buf = malloc(64 * 1024);

	while (buf && !api_server_stopping(d->srv)) {
		int w = fdio_wait(d->from, POLLIN, 500);
		ssize_t got;

		if (w == -ETIMEDOUT)
			continue;
		got = w == 0 ? recv(d->from, buf, 64 * 1024, 0) : -1;
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0 || !write_all(d->to, buf, (size_t)got))
			break;
	}
	free(buf);
	shutdown(d->to, SHUT_WR);
	return NULL;
}

void api_splice(int a, int b, struct api_server *srv)
{
	struct direction there = { a, b, srv }, back = { b, a, srv };
	pthread_t t;

	if (pthread_create(&t, NULL, pass, &back) != 0)
		return;
	pass(&there);
	pthread_join(t, NULL);
}

/* Thread per connection: MHD lets this block for the life of the websocket. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra,
		       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct proxy *px = cls;

	(void)conn;
	(void)req_cls;
	if (!atomic_exchange(&px->claimed, true)) {
		if (!extra_len || write_all(px->vnc, extra, extra_len))
			api_splice(sock, px->vnc, px->srv);
		close(px->vnc);
	}
	proxy_put(px);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* The websocket's request is over: frees what it left if it never began. */
static void vnc_proxy_done(struct api_req *r)
{
	struct proxy *px = r->stream;

	if (!px)
		return;
	r->stream = NULL;
	if (!atomic_exchange(&px->claimed, true))
		close(px->vnc);         /* never upgraded */
	proxy_put(px);
}

/* The client's websocket request as the VNC server should see it. */
static int vnc_handshake(struct api_req *r, int fd, char *accept, char *proto)
{
	const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *want = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       "Sec-WebSocket-Protocol");
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	char req[1024], head[HANDSHAKE_MAX];
	int n;

	n = snprintf(req, sizeof(req), "GET /websockify HTTP/1.1\r\nHost: %s:%d\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %.64s\r\n"
		     "Sec-WebSocket-Version: 13\r\nOrigin: %.200s\r\n%s%.200s%s\r\n",
		     r->cfg->vnc_host, r->sb->vnc_port, key, origin ? origin : "http://cubicled",
		     want ? "Sec-WebSocket-Protocol: " : "", want ? want : "", want ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req) || !write_all(fd, req, (size_t)n) ||
	    !read_head(fd, head, sizeof(head)) || strncmp(head, "HTTP/1.1 101", 12) ||
	    !head_value(head, "Sec-WebSocket-Accept", accept, 64))
		return -EPROTO;
	if (!head_value(head, "Sec-WebSocket-Protocol", proto, 64))
		proto[0] = '\0';
	return 0;
}

/* Whether header name is absent or plain text of up to max bytes (no CR, LF or controls). */
static bool plain_header(struct api_req *r, const char *name, size_t max)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);

	if (!v)
		return true;
	for (size_t i = 0; v[i]; i++)
		if (i >= max || (unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/*
 * Whether the request asks for a websocket (RFC 6455 §4.1), with the
 * headers we pass on to the VNC server plain enough to pass on.
 */
static bool wants_websocket(struct api_req *r)
{
	const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade");
	const char *conn = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Connection");
	const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");

	return up && !strcasecmp(up, "websocket") && conn && strcasestr(conn, "upgrade") && key &&
	       plain_header(r, "Sec-WebSocket-Key", 64) && plain_header(r, "Origin", 200) &&
	       plain_header(r, "Sec-WebSocket-Protocol", 200);
}

/* GET /sandboxes/{id}/vnc?ticket=T with Upgrade: websocket. */
static void vnc_proxy(struct api_req *r)
{
	char accept[64], proto[64];
	struct MHD_Response *resp;
	struct proxy *px;
	int fd, ret;

	if (!take_ticket(api_arg(r, "ticket"), r->sb->id)) {
		api_reply_error(r, 401, "unauthorized", "want a live ticket from GET "
				"/sandboxes/%s/stream (each is good once, for a minute)", r->sb->id);
		return;
	}
	if (!wants_websocket(r)) {
		api_reply_error(r, 400, "invalid_request", "this route is a websocket "
				"(Upgrade: websocket, with Sec-WebSocket-Key)");
		return;
	}
	fd = dial(r->cfg->vnc_host, r->sb->vnc_port);
	ret = fd < 0 ? fd : vnc_handshake(r, fd, accept, proto);
	if (ret) {
		if (fd >= 0)
			close(fd);
		api_reply_error(r, 502, "sandbox_unreachable", "the sandbox's VNC server did not "
				"take the websocket: %s", strerror(-ret));
		return;
	}
	px = malloc(sizeof(*px));
	resp = px ? MHD_create_response_for_upgrade(on_upgrade, px) : NULL;
	if (!resp) {
		free(px);
		close(fd);
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	px->vnc = fd;
	px->srv = r->srv;
	atomic_init(&px->claimed, false);
	atomic_init(&px->refs, 2);      /* the upgrade's and the request's */
	r->stream = px;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (proto[0])
		MHD_add_response_header(resp, "Sec-WebSocket-Protocol", proto);
	r->resp = resp;
	r->status = MHD_HTTP_SWITCHING_PROTOCOLS;
}

/*
 * GET .../stream[?view_only=true]: what a VNC viewer or noVNC needs, with a
 * ticket for the websocket through cubicled.
 */
static void stream(struct api_req *r)
{
	struct json_object *o, *vnc;
	char url[128], ticket[VNC_TICKET_LEN + 1];
	bool view;

	/* A misspelt flag must not hand out the control password. */
	if (!api_flag(r, "view_only", false, &view))
		return;
	o = json_object_new_object();
	vnc = json_object_new_object();

	json_object_object_add(vnc, "host", json_object_new_string(r->cfg->vnc_host));
	json_object_object_add(vnc, "port", json_object_new_int(r->sb->vnc_port));
	json_object_object_add(vnc, "password", json_object_new_string(
		view ? r->sb->vnc_view_password : r->sb->vnc_password));
	json_object_object_add(vnc, "view_only", json_object_new_boolean(view));
	json_object_object_add(o, "vnc", vnc);
	/* libvncserver takes websockets (noVNC) on the same port. */
	snprintf(url, sizeof(url), "ws://%s:%d/websockify", r->cfg->vnc_host, r->sb->vnc_port);
	json_object_object_add(o, "websocket_url", json_object_new_string(url));
	/* The same through cubicled's own port, with a ticket for one connection. */
	if (new_ticket(r->sb->id, ticket) == 0) {
		snprintf(url, sizeof(url), "/sandboxes/%s/vnc?ticket=%s", r->sb->id, ticket);
		json_object_object_add(o, "websocket_path", json_object_new_string(url));
	}
	api_reply_json(r, 200, o);
}

static const struct api_route rows[] = {
	{ "GET", "sandboxes/{id}/stream", ROUTE_SANDBOX, stream, NULL, NULL, NULL },
	/* Public: browsers send no key with a websocket; a ticket from stream instead. */
	{ "GET", "sandboxes/{id}/vnc", ROUTE_PUBLIC | ROUTE_SANDBOX, vnc_proxy, NULL, NULL,
	  vnc_proxy_done },
};

const struct api_routes api_live_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
