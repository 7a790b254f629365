/*
 * Sandboxes' networks end to end (label vm): cubicled runs inside a lab
 * of network namespaces this test makes (netlab.sh: a "host" whose uplink
 * leads only to a namespace playing the internet on TEST-NET addresses,
 * with decoys on private, shared, link-local and benchmarking addresses),
 * so no packet leaves the lab, and everything is removed at the end.
 *
 * Two sandboxes share the suite: A (desktop) browses and is refused; B
 * (minimal) serves ports through cubicled. Shown: DNS, HTTP, a 100 MiB
 * download with its sha256, Firefox rendering a page of the test host;
 * every always-denied target and the host's own addresses refused;
 * internet false; deny_out; an allow list; allow beats deny; an
 * always-denied range a user rule cannot open; a rule change cutting an
 * open connection; A cannot reach B; a spoofed source dropped; HTTP,
 * chunked answers, bodies both ways and a websocket through cubicled to a
 * server on B's 127.0.0.1; 401, 404, 502; all of it through a FORWARD
 * chain whose policy is drop, as Docker leaves one; teardown, and a
 * cubicled killed with SIGKILL cleaned up by the next one.
 *
 * usage: test_network CUBICLED GUEST_DIR NETLAB_SH GUESTWEB_PY CUBICLE_CLI
 */
#define CHECK_MAIN
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "client.h"
#include "cubicled.h"
#include "desktop.h"
#include "http_client.h"

#define WEB "203.0.113.10"
#define WEB2 "203.0.113.20"

static const char *cubicled_bin, *guest_dir, *netlab, *guestweb, *cli_bin;
static char lab[32], lab_dir[96], data_dir[64], cfg_path[128];
static struct cubicled service;

struct sb {
	char id[32], vsock[128], ctl[128], token[80];
};
static struct sb A, B;

/* --- the lab and the guests ---------------------------------------------------- */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* cmd in a guest as user (default "user"): its output, whatever its status (*rc). */
static const char *sh_as(const struct sb *s, const char *user, const char *cmd, int *rc)
{
	return guest_run(s->vsock, user, cmd, 120000, rc);
}

static const char *sh(const struct sb *s, const char *cmd)
{
	int rc;

	return sh_as(s, NULL, cmd, &rc);
}

/* Whether the guest's GET of url answers body (curl, at most 6 s). */
static bool fetches(const struct sb *s, const char *url, const char *body)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "curl -s -m 6 %s; echo \" rc=$?\"", url);
	return strstr(sh(s, cmd), body) != NULL;
}

/* Whether the guest's GET of url is refused: no answer, a non-zero curl status. */
static bool refused(const struct sb *s, const char *url)
{
	char cmd[512];
	const char *out;

	snprintf(cmd, sizeof(cmd), "curl -s -m 6 %s; echo \" rc=$?\"", url);
	out = sh(s, cmd);
	if (strstr(out, "hello") || strstr(out, " rc=0"))
		fprintf(stderr, "reached %s: %s\n", url, out);
	return !strstr(out, "hello") && !strstr(out, " rc=0") && strstr(out, " rc=");
}

/* PUT .../network with body; the answer status. */
static long set_network(const struct sb *s, const char *body)
{
	struct tc_resp r;
	char path[96];

	snprintf(path, sizeof(path), "/sandboxes/%s/network", s->id);
	if (!tc_http("PUT", path, body, &r))
		return -1;
	free(r.body);
	return r.status;
}

static bool create(struct sb *s, const char *body)
{
	struct json_object *o = tc_expect("POST", "/sandboxes", body, 201), *ports, *tok;

	if (!o)
		return false;
	snprintf(s->id, sizeof(s->id), "%s", tc_str(o, "id"));
	snprintf(s->vsock, sizeof(s->vsock), "%s/sandboxes/%s/vsock", data_dir, s->id);
	snprintf(s->ctl, sizeof(s->ctl), "%s/sandboxes/%s/control", data_dir, s->id);
	if (json_object_object_get_ex(o, "ports", &ports) &&
	    json_object_object_get_ex(ports, "token", &tok))
		snprintf(s->token, sizeof(s->token), "%s", json_object_get_string(tok));
	json_object_put(o);
	return s->token[0] != '\0';
}

/* The lab's host namespace for the whole process: cubicled and every check run in it. */
static bool enter_lab(void)
{
	char path[128];
	int fd;

	snprintf(lab_dir, sizeof(lab_dir), "/tmp/%s", lab);
	if (run("%s up %s %s", netlab, lab, lab_dir) != 0)
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s-host", lab);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror(path);
		return false;
	}
	close(fd);
	return true;
}

/*
 * The lab's host drops what it forwards unless told otherwise, as Docker
 * leaves a host (iptables-nft's FORWARD chain, policy drop): cubicled must
 * make room for its links there, and take it back when it stops.
 */
static bool docker_like_forward(void)
{
	return run("nft add table ip filter && nft add chain ip filter FORWARD "
		   "'{ type filter hook forward priority 0; policy drop; }'") == 0;
}

static int our_forward_rules(void)
{
	return run("nft list chain ip filter FORWARD | grep -c 'comment \"cubicle\"' "
		   ">/dev/null");
}

static bool start_service(void)
{
	char log[160];
	FILE *f;

	snprintf(cfg_path, sizeof(cfg_path), "%s/cubicled.json", data_dir);
	f = fopen(cfg_path, "w");
	if (!f)
		return false;
	/* cubicled's and VNC's ports on every address: the guests must still not reach them. */
	fprintf(f, "{\"vnc_host\":\"0.0.0.0\",\"network\":{\"dns\":[\"203.0.113.53\"],"
		"\"open\":[\"100.64.99.0/24\"]}}\n");
	fclose(f);
	snprintf(log, sizeof(log), "%s/cubicled.log", lab_dir);
	if (!cubicled_start_networked(&service, cubicled_bin, data_dir, guest_dir, log, "0.0.0.0:0"))
		return false;
	tc_init(service.url, service.key);
	return true;
}

/* --- out of the sandbox ------------------------------------------------------- */

static void check_dns_http(void)
{
	CHECK(strstr(sh(&A, "getent hosts web.test"), WEB));
	CHECK(fetches(&A, "http://web.test/hello", "hello from " WEB));
	CHECK(strstr(sh(&A, "hostname; cat /etc/resolv.conf"), A.id));
	/* Unknown names fail as names do, not as a broken resolver. */
	CHECK(strstr(sh(&A, "getent hosts no-such.test; echo rc=$?"), "rc=2"));
}

static void check_download(void)
{
	const char *out = sh(&A, "curl -s -m 300 http://web.test/big | sha256sum | cut -d' ' -f1; "
			     "curl -s -m 10 http://web.test/big.sha256");
	char got[80] = "", want[80] = "";

	CHECK(sscanf(out, "%79s %79s", got, want) == 2 && strlen(got) == 64 &&
	      strcmp(got, want) == 0);
}

/* Firefox starts first (it takes a minute under TCG) and is looked at last. */
static void start_firefox(void)
{
	int rc;

	sh_as(&A, NULL, "setsid firefox-esr --new-instance --profile $(mktemp -d) "
	      "http://web.test/page </dev/null >/dev/null 2>&1 &", &rc);
}

/* Firefox opened a page of the test host: its colour fills the screen. */
static void check_firefox(void)
{
	uint32_t w = 0, h = 0;
	size_t best = 0;
	int rc;

	for (int i = 0; i < 90 && (!w || best * 4 < (size_t)w * h); i++) {
		uint8_t *rgb = screenshot_rgb(A.ctl, &w, &h);
		size_t n = 0;

		for (size_t p = 0; rgb && p < (size_t)w * h; p++)
			n += abs(rgb[3 * p] - 0x13) < 4 && abs(rgb[3 * p + 1] - 0xc4) < 4 &&
			     abs(rgb[3 * p + 2] - 0xa3) < 4;
		free(rgb);
		if (n > best)
			best = n;
		if (best * 4 < (size_t)w * h)
			sleep(1);
	}
	fprintf(stderr, "firefox: %zu of %u pixels are the page's colour\n", best, w * h);
	CHECK(w && best * 4 >= (size_t)w * h);
	sh_as(&A, NULL, "pkill -x firefox-esr; true", &rc);
}

static void check_always_denied(void)
{
	static const char *const decoys[] = { "10.99.0.10", "172.16.99.10", "192.168.99.10",
					      "169.254.169.254", "198.18.0.10" };
	char url[128], port[16];
	struct tc_resp r;
	const char *colon = strrchr(service.url, ':');

	snprintf(port, sizeof(port), "%s", colon ? colon + 1 : "0");
	for (size_t i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
		/* The lab's host reaches each decoy: a refusal is the filter's. */
		snprintf(url, sizeof(url), "http://%s/hello", decoys[i]);
		tc_init(url, "");
		CHECK(tc_http_key("GET", "", NULL, NULL, 0, &r) && strstr(r.body, decoys[i]));
		free(r.body);
		CHECK(refused(&A, url));
	}
	tc_init(service.url, service.key);
	/* The operator opened 100.64.99.0/24. */
	CHECK(fetches(&A, "http://100.64.99.10/hello", "hello from 100.64.99.10"));
	/* The host: its uplink, its end of the sandbox's link, the gateway; cubicled and VNC. */
	snprintf(url, sizeof(url), "http://198.51.100.1:%s/health", port);
	CHECK(refused(&A, url));
	snprintf(url, sizeof(url), "http://10.231.0.1:%s/health", port);
	CHECK(refused(&A, url));
	snprintf(url, sizeof(url), "http://10.0.2.2:%s/health", port);
	CHECK(refused(&A, url));
	snprintf(url, sizeof(url), "http://198.51.100.1:%d/", control_vnc_port(A.ctl));
	CHECK(refused(&A, url));
}

static void check_policies(void)
{
	/* internet false: nothing, not even DNS. */
	CHECK(set_network(&A, "{\"internet\":false}") == 200);
	CHECK(refused(&A, "http://" WEB "/hello"));
	CHECK(strstr(sh(&A, "getent hosts web.test; echo rc=$?"), "rc=2"));
	/* dns false: names are no way out, addresses still are. */
	CHECK(set_network(&A, "{\"dns\":false}") == 200);
	CHECK(strstr(sh(&A, "getent hosts web.test; echo rc=$?"), "rc=2"));
	CHECK(fetches(&A, "http://" WEB "/hello", "hello from " WEB));
	/* deny_out. */
	CHECK(set_network(&A, "{\"deny_out\":[\"" WEB "\"]}") == 200);
	CHECK(refused(&A, "http://" WEB "/hello"));
	CHECK(fetches(&A, "http://" WEB2 "/hello", "hello from " WEB2));
	CHECK(strstr(sh(&A, "getent hosts web.test"), WEB));
	/* An allow list: deny all, allow one; allow wins over deny. */
	CHECK(set_network(&A, "{\"deny_out\":[\"0.0.0.0/0\"],\"allow_out\":[\"" WEB "\"]}") == 200);
	CHECK(fetches(&A, "http://" WEB "/hello", "hello from " WEB));
	CHECK(refused(&A, "http://" WEB2 "/hello"));
	/* No user rule opens an always-denied range. */
	CHECK(tc_refused("PUT", "/sandboxes/x/network", "{}", 404, "sandbox_not_found"));
	{
		char path[96];

		snprintf(path, sizeof(path), "/sandboxes/%s/network", A.id);
		CHECK(tc_refused("PUT", path, "{\"allow_out\":[\"10.99.0.10\"]}", 400,
				 "invalid_request"));
		CHECK(tc_refused("PUT", path, "{\"allow_out\":[\"1.2.3.4/8\"]}", 400,
				 "invalid_request"));
		CHECK(tc_refused("PUT", path, "{\"internet\":false,\"allow_out\":[\"" WEB "\"]}", 400,
				 "invalid_request"));
	}
	CHECK(set_network(&A, "{\"allow_out\":[\"0.0.0.0/0\"]}") == 200);
	CHECK(refused(&A, "http://10.99.0.10/hello"));
	CHECK(fetches(&A, "http://" WEB "/hello", "hello from " WEB));
	/* The same through the command line. */
	CHECK(run("%s --url %s --key %s network %s --deny " WEB2 " | grep -q '\"deny_out\"'",
		  cli_bin, service.url, service.key, A.id) == 0);
	CHECK(refused(&A, "http://" WEB2 "/hello"));
	CHECK(run("%s --url %s --key %s network %s --allow 10.1.2.3 2>&1 | grep -q 'always denied'",
		  cli_bin, service.url, service.key, A.id) == 0);
	CHECK(set_network(&A, "{}") == 200);
}

/* A rule change cuts a connection that is open and busy. */
static void check_cut(void)
{
	const char *out;
	int lines = 0, rc = -1;

	sh(&A, "rm -f /tmp/s.txt /tmp/s.rc; setsid sh -c 'curl -sN -m 60 http://" WEB "/stream "
	   ">/tmp/s.txt 2>/dev/null; echo $? >/tmp/s.rc' </dev/null >/dev/null 2>&1 & sleep 2");
	out = sh(&A, "wc -l </tmp/s.txt");
	CHECK(sscanf(out, "%d", &lines) == 1 && lines >= 3);
	CHECK(set_network(&A, "{\"deny_out\":[\"203.0.113.0/24\"]}") == 200);
	for (int i = 0; i < 20 && rc < 0; i++) {
		out = sh(&A, "cat /tmp/s.rc 2>/dev/null || sleep 0.5");
		if (sscanf(out, "%d", &rc) != 1)
			rc = -1;
	}
	fprintf(stderr, "cut: curl ended with %d after %d lines\n", rc, lines);
	CHECK(rc > 0 && rc != 28);      /* cut (56: reset), not its own 60 s timeout */
	CHECK(set_network(&A, "{}") == 200);
}

/* A cannot reach B by any of the host's addresses for it; a spoofed source goes nowhere. */
static void check_isolation(void)
{
	char cmd[256];
	int rc;

	sh(&B, "setsid python3 /tmp/guestweb.py 0.0.0.0 8001 </dev/null >/tmp/w1.log 2>&1 &");
	for (int i = 0; i < 30 && !fetches(&B, "http://127.0.0.1:8001/hello", "guest port 8001"); i++)
		sleep(1);
	CHECK(fetches(&B, "http://127.0.0.1:8001/hello", "guest port 8001"));
	for (int slot = 0; slot < 2; slot++) {
		snprintf(cmd, sizeof(cmd), "http://10.231.0.%d:8001/hello", 4 * slot + 2);
		CHECK(refused(&A, cmd));
		snprintf(cmd, sizeof(cmd), "http://10.231.0.%d:8001/hello", 4 * slot + 1);
		CHECK(refused(&A, cmd));
	}
	CHECK(refused(&A, "http://198.51.100.1:8001/hello"));
	/* The guest's own address works; another one on the same card does not. */
	CHECK(fetches(&A, "--interface 10.0.2.15 http://" WEB "/hello", "hello from " WEB));
	sh_as(&A, "root", "ip addr add 10.0.2.99/24 dev eth0", &rc);
	CHECK(rc == 0);
	CHECK(refused(&A, "--interface 10.0.2.99 http://" WEB "/hello"));
	sh_as(&A, "root", "ip addr del 10.0.2.99/24 dev eth0", &rc);
}

/* --- into the sandbox: its ports through cubicled ------------------------------- */

/* A request to cubicled with extra headers (NULL-terminated); false if it did not complete. */
static bool port_req(const char *method, const char *path, const char *const *headers,
		     const void *body, size_t len, struct tc_resp *a)
{
	return tc_http_with(method, path, headers, body, len, a);
}

static char host_hdr[160], token_hdr[160];

/* guestweb.py into B. */
static bool copy_guest_server(void)
{
	struct agent_error err;
	long long wrote = 0;
	int fd = open(guestweb, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && agent_file_write(B.vsock, "/tmp/guestweb.py", fd, 0755, &wrote,
					      &err) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool start_guest_server(void)
{
	struct tc_resp a;
	char path[96];
	struct json_object *o;

	/* Bound to the guest's loopback only. */
	sh(&B, "setsid python3 /tmp/guestweb.py 127.0.0.1 8000 </dev/null >/tmp/w0.log 2>&1 &");
	snprintf(path, sizeof(path), "/sandboxes/%s/ports/8000", B.id);
	o = tc_expect("GET", path, NULL, 200);
	snprintf(host_hdr, sizeof(host_hdr), "Host: %s", tc_str(o, "host"));
	snprintf(token_hdr, sizeof(token_hdr), "X-Cubicle-Token: %s", tc_str(o, "token"));
	CHECK(o && strcmp(tc_str(o, "token"), B.token) == 0 && strstr(tc_str(o, "url"), B.id));
	json_object_put(o);
	for (int i = 0; i < 30; i++) {
		const char *hs[] = { host_hdr, token_hdr, NULL };
		bool up = port_req("GET", "/hello", hs, NULL, 0, &a) && a.status == 200;

		free(a.body);
		if (up)
			return true;
		sleep(1);
	}
	return false;
}

static void check_port_http(void)
{
	const char *by_host[] = { host_hdr, token_hdr, NULL };
	char sbh[96], cookie[160], bearer[200];
	const char *by_header[] = { sbh, "X-Cubicle-Port: 8000", token_hdr, NULL };
	const char *with_cookie[] = { host_hdr, cookie, bearer, NULL };
	struct tc_resp a;

	snprintf(sbh, sizeof(sbh), "X-Cubicle-Sandbox: %s", B.id);
	CHECK(port_req("GET", "/hello", by_host, NULL, 0, &a) && a.status == 200 &&
	      strcmp(a.body, "hello from guest port 8000\n") == 0 &&
	      !strstr(a.headers, "Content-Security-Policy"));
	free(a.body);
	/* By headers, on cubicled's own address: the page cannot run on the API's origin. */
	CHECK(port_req("GET", "/hello", by_header, NULL, 0, &a) && a.status == 200 &&
	      strstr(a.body, "guest port 8000") &&
	      strstr(a.headers, "Content-Security-Policy: sandbox"));
	free(a.body);
	CHECK(port_req("GET", "/chunked", by_host, NULL, 0, &a) && a.status == 200 &&
	      strcmp(a.body, "one two three\n") == 0);
	free(a.body);
	/* What the guest gets: none of our tokens, the user's own cookie. */
	snprintf(cookie, sizeof(cookie), "Cookie: cubicle_token=%s; theirs=kept", B.token);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", service.key);
	CHECK(port_req("GET", "/headers", with_cookie, NULL, 0, &a) && a.status == 200 &&
	      strstr(a.body, "theirs=kept") && !strstr(a.body, B.token) &&
	      !strstr(a.body, service.key) && !strstr(a.body, "X-Cubicle"));
	free(a.body);
	/* The API key as X-API-Key opens the port too, and stays with cubicled. */
	snprintf(bearer, sizeof(bearer), "X-API-Key: %s", service.key);
	with_cookie[1] = bearer;
	with_cookie[2] = NULL;
	CHECK(port_req("GET", "/headers", with_cookie, NULL, 0, &a) && a.status == 200 &&
	      !strstr(a.body, service.key));
	free(a.body);
}

static void check_port_bodies(void)
{
	const char *by_host[] = { host_hdr, token_hdr, NULL };
	const char *chunked[] = { host_hdr, token_hdr, "Transfer-Encoding: chunked", NULL };
	size_t n = 3u << 20;
	char *body = malloc(n);
	struct tc_resp a;

	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 7 + i / 4096);
	CHECK(port_req("POST", "/echo", by_host, body, n, &a) && a.status == 200 && a.len == n &&
	      memcmp(a.body, body, n) == 0);
	free(a.body);
	CHECK(port_req("POST", "/echo", chunked, body, 100000, &a) && a.status == 200 &&
	      a.len == 100000 && memcmp(a.body, body, 100000) == 0);
	free(a.body);
	free(body);
}

/* A TCP connection to cubicled. */
static int dial_service(void)
{
	const char *colon = strrchr(service.url, ':');
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static ssize_t read_some(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? recv(fd, buf, cap, 0) : -1;
}

/*
 * A 1 MiB binary message, sent whole while its echo comes back: both
 * directions full at once, which a one-way-at-a-time relay would stall on.
 */
static void big_frame(int fd)
{
	size_t n = 1u << 20, got = 0, want = 10 + n;
	uint8_t *frame = malloc(14 + n), *echo = malloc(want);
	const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	size_t sent = 0;

	frame[0] = 0x82;
	frame[1] = 0x80 | 127;
	for (int i = 0; i < 8; i++)
		frame[2 + i] = (uint8_t)(n >> (56 - 8 * i));
	memcpy(frame + 10, mask, 4);
	for (size_t i = 0; i < n; i++)
		frame[14 + i] = (uint8_t)((i * 31 + i / 1000) ^ mask[i % 4]);
	for (int rounds = 0; rounds < 100000 && got < want; rounds++) {
		p.events = POLLIN | (sent < 14 + n ? POLLOUT : 0);
		if (poll(&p, 1, 10000) != 1)
			break;
		if ((p.revents & POLLOUT) && sent < 14 + n) {
			ssize_t w = send(fd, frame + sent, 14 + n - sent, MSG_DONTWAIT);

			sent += w > 0 ? (size_t)w : 0;
		}
		if (p.revents & POLLIN) {
			ssize_t r = recv(fd, echo + got, want - got, MSG_DONTWAIT);

			if (r == 0)
				break;
			got += r > 0 ? (size_t)r : 0;
		}
	}
	CHECK(got == want && echo[0] == 0x82 && echo[1] == 127);
	for (size_t i = 0; got == want && i < n; i++)
		if (echo[10 + i] != (uint8_t)(i * 31 + i / 1000)) {
			CHECK(!"the big message came back as sent");
			break;
		}
	free(frame);
	free(echo);
}

static void check_port_websocket(void)
{
	static const char msg[] = "ping through cubicled";
	const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	char req[512], buf[4096];
	uint8_t frame[64];
	size_t len = 0, n = strlen(msg);
	int fd = dial_service();

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\n%s\r\n%s\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", host_hdr, token_hdr);
	CHECK(send(fd, req, strlen(req), 0) == (ssize_t)strlen(req));
	while (len < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
		ssize_t got = read_some(fd, buf + len, sizeof(buf) - 1 - len, 10000);

		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
	}
	CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0 &&
	      strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));   /* RFC 6455's example key */
	frame[0] = 0x81;
	frame[1] = (uint8_t)(0x80 | n);
	memcpy(frame + 2, mask, 4);
	for (size_t i = 0; i < n; i++)
		frame[6 + i] = (uint8_t)(msg[i] ^ mask[i % 4]);
	CHECK(send(fd, frame, 6 + n, 0) == (ssize_t)(6 + n));
	len = 0;
	while (len < 2 + n) {
		ssize_t got = read_some(fd, buf + len, sizeof(buf) - len, 10000);

		if (got <= 0)
			break;
		len += (size_t)got;
	}
	CHECK(len == 2 + n && (uint8_t)buf[0] == 0x81 && (uint8_t)buf[1] == n &&
	      memcmp(buf + 2, msg, n) == 0);
	big_frame(fd);
	close(fd);
}

static void check_port_errors(void)
{
	char bad_host[160], other[160], tok_q[160];
	const char *no_token[] = { host_hdr, NULL };
	const char *bad_token[] = { host_hdr, "X-Cubicle-Token: 0123456789abcdef0123456789abcdef",
				    NULL };
	const char *unknown[] = { bad_host, token_hdr, NULL };
	const char *closed[] = { other, token_hdr, NULL };
	struct tc_resp a;

	CHECK(port_req("GET", "/hello", no_token, NULL, 0, &a) && a.status == 401);
	free(a.body);
	CHECK(port_req("GET", "/hello", bad_token, NULL, 0, &a) && a.status == 401);
	free(a.body);
	snprintf(bad_host, sizeof(bad_host), "Host: 8000-0000000000000000.localhost");
	CHECK(port_req("GET", "/hello", unknown, NULL, 0, &a) && a.status == 404 &&
	      strstr(a.body, "sandbox_not_found"));
	free(a.body);
	snprintf(other, sizeof(other), "Host: 8009-%s.localhost", B.id);
	CHECK(port_req("GET", "/hello", closed, NULL, 0, &a) && a.status == 502 &&
	      strstr(a.body, "port_unreachable") && strstr(a.body, "8009"));
	free(a.body);
	/* A browser's way in: the token once in the URL, a cookie from then on. */
	snprintf(tok_q, sizeof(tok_q), "/hello?a=1&cubicle_token=%s", B.token);
	CHECK(port_req("GET", tok_q, no_token, NULL, 0, &a) && a.status == 302 &&
	      strstr(a.headers, "Location: /hello?a=1") &&
	      strstr(a.headers, "Set-Cookie: cubicle_token=") && strstr(a.headers, "HttpOnly"));
	free(a.body);
}

/* --- the end ------------------------------------------------------------------ */

static bool has_link_prefix(const char *prefix)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip -o link show 2>/dev/null | grep -q ': %s'", prefix);
	return run("%s", cmd) == 0;
}

static bool netns_exists(const char *id)
{
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/cubicle-%s", id);
	return access(path, F_OK) == 0;
}

static void check_teardown(void)
{
	char path[96];
	struct json_object *o;

	CHECK(netns_exists(B.id) && has_link_prefix("cbl1"));
	snprintf(path, sizeof(path), "/sandboxes/%s", B.id);
	o = tc_expect("DELETE", path, NULL, 204);
	json_object_put(o);
	CHECK(!netns_exists(B.id));
	/* Its links go with the namespace, once QEMU's TAP is closed (bounded: 10 s). */
	for (int i = 0; i < 100 && has_link_prefix("cbl1"); i++)
		usleep(100 * 1000);
	CHECK(!has_link_prefix("cbl1") && has_link_prefix("cbl0"));
}

/* A cubicled killed outright leaves A's network; the next one removes it, and undoes itself. */
static void check_crash_cleanup(void)
{
	char fwd[8] = "";
	FILE *f;

	CHECK(netns_exists(A.id));
	kill(service.pid, SIGKILL);
	CHECK(cubicled_wait(&service, 30) == 128 + SIGKILL);
	CHECK(netns_exists(A.id));
	CHECK(start_service());
	CHECK(!netns_exists(A.id) && !has_link_prefix("cbl"));
	/* One cubicled manages a namespace's network: a second one is refused, and says why. */
	CHECK(run("%s --data-dir %s-2 --listen 127.0.0.1:0 --guest-dir %s 2>&1 | "
		  "grep -q 'another cubicled manages'", cubicled_bin, data_dir, guest_dir) == 0);
	run("rm -rf %s-2", data_dir);
	CHECK(run("nft list table inet cubicle >/dev/null 2>&1") == 0);
	CHECK(our_forward_rules() == 0);        /* grep found them */
	kill(service.pid, SIGTERM);
	CHECK(cubicled_wait(&service, 60) == 0);
	CHECK(run("nft list table inet cubicle >/dev/null 2>&1") != 0);
	CHECK(our_forward_rules() == 1);        /* gone; the chain stays, as Docker made it */
	f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	CHECK(f && fgets(fwd, sizeof(fwd), f) && fwd[0] == '0');
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	bool up;

	if (argc != 6) {
		fprintf(stderr, "usage: test_network CUBICLED GUEST_DIR NETLAB_SH GUESTWEB_PY "
			"CUBICLE_CLI\n");
		return 2;
	}
	cli_bin = argv[5];
	cubicled_bin = argv[1];
	guest_dir = argv[2];
	netlab = argv[3];
	guestweb = argv[4];
	snprintf(lab, sizeof(lab), "cbn%d", (int)getpid());
	snprintf(data_dir, sizeof(data_dir), "/tmp/cubicle-net-%d", (int)getpid());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	up = enter_lab() && docker_like_forward() && mkdir(data_dir, 0700) == 0 && start_service();
	CHECK(up);
	up = up && create(&A, "{\"template\":\"desktop\",\"timeout\":1800}") &&
	     create(&B, "{\"template\":\"minimal\",\"memory_mib\":1024,\"timeout\":1800}") &&
	     copy_guest_server();
	CHECK(up);
	if (up) {
		start_firefox();
		RUN(check_dns_http);
		RUN(check_download);
		RUN(check_always_denied);
		RUN(check_policies);
		RUN(check_cut);
		RUN(check_isolation);
		CHECK(start_guest_server());
		RUN(check_port_http);
		RUN(check_port_bodies);
		RUN(check_port_websocket);
		RUN(check_port_errors);
		RUN(check_firefox);
		RUN(check_teardown);
		RUN(check_crash_cleanup);
	} else if (service.pid > 0) {
		kill(service.pid, SIGTERM);
		cubicled_wait(&service, 60);
	}
	if (check_failed)
		run("tail -n 30 %s/cubicled.log >&2", lab_dir);
	run("%s down %s %s", netlab, lab, lab_dir);
	run("rm -rf %s %s", data_dir, lab_dir);
	return check_done();
}
