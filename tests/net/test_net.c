/*
 * net/: the policy's parsing and checks, its nftables scripts loaded for
 * real into a throwaway network namespace, and the DNS relay between real
 * UDP sockets on loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "dns.h"
#include "policy.h"
#include "rules.h"

static bool parses(const char *text, uint32_t addr, uint8_t prefix)
{
	struct net_cidr c;
	char err[160];

	return net_cidr_parse(text, &c, err, sizeof(err)) && c.addr == addr && c.prefix == prefix;
}

static bool refused(const char *text, const char *why)
{
	struct net_cidr c;
	char err[160] = "";

	return !net_cidr_parse(text, &c, err, sizeof(err)) && strstr(err, why);
}

static void test_cidr(void)
{
	struct net_cidr a = { 0xcb007100, 24 }, b = { 0xcb00710a, 32 }, all = { 0, 0 };
	char buf[24];

	CHECK(parses("203.0.113.10", 0xcb00710a, 32));
	CHECK(parses("203.0.113.0/24", 0xcb007100, 24));
	CHECK(parses("0.0.0.0/0", 0, 0));
	CHECK(refused("203.0.113.7/24", "the network is 203.0.113.0/24"));
	CHECK(refused("203.0.113.0/33", "not an IPv4"));
	CHECK(refused("203.0.113.0/", "not an IPv4"));
	CHECK(refused("203.0.113.0/-1", "not an IPv4"));
	CHECK(refused("example.com", "not an IPv4"));
	CHECK(refused("::1", "not an IPv4"));
	CHECK(refused("", "not an IPv4"));
	net_cidr_format(&a, buf, sizeof(buf));
	CHECK(strcmp(buf, "203.0.113.0/24") == 0);
	net_cidr_format(&b, buf, sizeof(buf));
	CHECK(strcmp(buf, "203.0.113.10") == 0);
	CHECK(net_cidr_within(&b, &a) && !net_cidr_within(&a, &b) && net_cidr_within(&a, &all));
}

/* The policy from JSON text; its error in err. */
static int policy(const char *json, const struct net_open *open, struct net_policy *p, char *err,
		  size_t errlen)
{
	struct json_object *o = json_tokener_parse(json);
	int ret = net_policy_from_json(o, open, p, err, errlen);

	json_object_put(o);
	return ret;
}

static void test_policy(void)
{
	struct net_open open = { 1, { { 0x64406300, 24 } } };     /* 100.64.99.0/24 */
	struct net_policy *p = malloc(sizeof(*p));
	struct json_object *o;
	char err[300];

	CHECK(policy("{}", NULL, p, err, sizeof(err)) == 0 && p->internet && !p->n_allow);
	CHECK(policy("{\"internet\":false}", NULL, p, err, sizeof(err)) == 0 && !p->internet);
	CHECK(policy("{\"allow_out\":[\"203.0.113.0/24\",\"203.0.113.0/24\"],\"deny_out\":"
		     "[\"0.0.0.0/0\"]}", NULL, p, err, sizeof(err)) == 0 &&
	      p->n_allow == 1 && p->n_deny == 1);
	o = net_policy_json(p);
	CHECK(strcmp(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		     "{\"internet\":true,\"dns\":true,\"allow_out\":[\"203.0.113.0\\/24\"],\"deny_out\":"
		     "[\"0.0.0.0\\/0\"]}") == 0);
	json_object_put(o);
	CHECK(policy("{\"allow_out\":[\"10.1.2.3\"]}", NULL, p, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "always denied (10.0.0.0/8, private)"));
	CHECK(policy("{\"allow_out\":[\"169.254.169.254\"]}", NULL, p, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "metadata"));
	/* An operator-opened range may be allowed; one next to it may not. */
	CHECK(policy("{\"allow_out\":[\"100.64.99.10\"]}", &open, p, err, sizeof(err)) == 0);
	CHECK(policy("{\"allow_out\":[\"100.64.98.10\"]}", &open, p, err, sizeof(err)) == -EINVAL);
	/* Wider than an always-denied range: allowed, the range within stays denied. */
	CHECK(policy("{\"allow_out\":[\"0.0.0.0/0\"]}", NULL, p, err, sizeof(err)) == 0);
	CHECK(policy("{\"internet\":false,\"allow_out\":[\"203.0.113.1\"]}", NULL, p, err,
		     sizeof(err)) == -EINVAL && strstr(err, "lets nothing out"));
	CHECK(policy("{\"allow\":[]}", NULL, p, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "unknown field 'allow'"));
	CHECK(policy("{\"internet\":\"no\"}", NULL, p, err, sizeof(err)) == -EINVAL);
	CHECK(policy("{\"dns\":false}", NULL, p, err, sizeof(err)) == 0 && !p->dns && p->internet);
	CHECK(policy("{\"dns\":0}", NULL, p, err, sizeof(err)) == -EINVAL);
	CHECK(policy("{\"allow_out\":[\"168.63.129.16\"]}", NULL, p, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "Azure"));
	CHECK(policy("{\"deny_out\":\"1.2.3.4\"}", NULL, p, err, sizeof(err)) == -EINVAL);
	CHECK(policy("{\"deny_out\":[4]}", NULL, p, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "deny_out[0]"));
	CHECK(policy("{\"deny_out\":[\"1.2.3.4\",\"1.2.3.7/30\"]}", NULL, p, err, sizeof(err)) ==
	      -EINVAL && strstr(err, "deny_out[1]") && strstr(err, "1.2.3.4/30"));
	CHECK(policy("[]", NULL, p, err, sizeof(err)) == -EINVAL);
	free(p);
}

struct in_ns {
	const char *script;
	bool twice;             /* loaded again over itself (the host's table) */
	char listing[8192];
	int ret;
	char err[300];
};

/* In a new namespace of its own: the script loaded, then what nft lists of our table. */
static void *load_in_ns(void *arg)
{
	struct in_ns *j = arg;
	FILE *f;

	j->ret = -1;
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(j->err, sizeof(j->err), "unshare: %s", strerror(errno));
		return NULL;
	}
	j->ret = net_nft_run(j->script, j->err, sizeof(j->err));
	if (j->ret)
		return NULL;
	/* The host's script again replaces its table (no "exists" error). */
	if (j->twice)
		j->ret = net_nft_run(j->script, j->err, sizeof(j->err));
	f = popen("nft list table inet cubicle 2>&1", "r");
	if (f) {
		size_t n = fread(j->listing, 1, sizeof(j->listing) - 1, f);

		j->listing[n] = '\0';
		pclose(f);
	}
	return NULL;
}

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static int load(const char *script, bool twice, struct in_ns *j)
{
	pthread_t t;

	memset(j, 0, sizeof(*j));
	j->script = script;
	j->twice = twice;
	if (pthread_create(&t, NULL, load_in_ns, j))
		return -1;
	pthread_join(t, NULL);
	if (j->ret)
		fprintf(stderr, "nft: %s\n", j->err);
	return j->ret;
}

static void test_rules(void)
{
	struct net_cidr pool = { 0x0ae70000, 16 };
	struct net_open open = { 1, { { 0x64406300, 24 } } };
	struct net_policy *p = malloc(sizeof(*p));
	struct in_ns *j = malloc(sizeof(*j));
	char *s, err[300];

	s = net_rules_host(&pool, &open);
	CHECK(s && load(s, true, j) == 0);
	CHECK(strstr(j->listing, "iifname \"cbl*\" meta l4proto tcp reject with tcp reset"));
	CHECK(strstr(j->listing, "ip saddr 10.231.0.0/16 oifname != \"cbl*\" masquerade"));
	CHECK(strstr(j->listing, "100.64.99.0/24"));
	free(s);

	policy("{\"allow_out\":[\"203.0.113.53\"],\"deny_out\":[\"0.0.0.0/0\"]}", NULL, p, err,
	       sizeof(err));
	s = net_rules_sandbox(&pool, &open, 0x0ae70002, p);
	CHECK(s && load(s, false, j) == 0);
	/* Each rule once. */
	CHECK(count_of(j->listing, "goto out\n") == 1);
	CHECK(strstr(j->listing, "iifname \"tap0\" oifname \"eth0\" ip saddr 10.0.2.15 goto out"));
	CHECK(strstr(j->listing, "snat ip to 10.231.0.2"));
	CHECK(strstr(j->listing, "elements = { 203.0.113.53 }"));
	CHECK(strstr(j->listing, "ip daddr @allow accept"));
	CHECK(strstr(j->listing, "169.254.0.0/16") && strstr(j->listing, "10.0.0.0/8"));
	free(s);

	/* internet false: both user chains refuse everything. */
	policy("{\"internet\":false}", NULL, p, err, sizeof(err));
	s = net_rules_policy(p);
	CHECK(s && strstr(s, "add rule inet cubicle user_out goto refuse") &&
	      strstr(s, "add rule inet cubicle user_in drop") && !strstr(s, "@allow accept"));
	free(s);
	free(p);
	free(j);
}

/* A UDP socket bound to 127.0.0.1:0 (its port in *port), or -1. */
static int udp_bound(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static ssize_t recv_timed(int fd, void *buf, size_t len, struct sockaddr_in *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t flen = sizeof(*from);

	if (poll(&p, 1, 3000) != 1)
		return -1;
	return recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &flen);
}

/* A query for "web.test" A with id. */
static size_t query(uint8_t *m, uint16_t id)
{
	static const uint8_t q[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     3, 'w', 'e', 'b', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };

	memcpy(m, q, sizeof(q));
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	return sizeof(q);
}

static void test_dns(void)
{
	uint16_t up_port, gw_port;
	int up = udp_bound(&up_port), gw = udp_bound(&gw_port), guest = udp_bound(&(uint16_t){ 0 });
	struct sockaddr_in upstream = { .sin_family = AF_INET, .sin_port = htons(up_port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in gw_addr = upstream, from;
	struct net_dns *d;
	uint8_t m[512], r[512];
	size_t n;
	ssize_t got;
	char err[200];
	int64_t h;

	gw_addr.sin_port = htons(gw_port);
	CHECK(up >= 0 && gw >= 0 && guest >= 0);
	d = net_dns_new(&upstream, 1, err, sizeof(err));
	CHECK(d != NULL);
	if (!d)
		return;
	h = net_dns_add(d, gw, true);
	CHECK(h > 0);

	/* A query goes up from another port; the answer comes back to the guest. */
	n = query(m, 0x1234);
	CHECK(sendto(guest, m, n, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr)) == (ssize_t)n);
	got = recv_timed(up, r, sizeof(r), &from);
	CHECK(got == (ssize_t)n && memcmp(r, m, n) == 0 && from.sin_port != htons(gw_port));
	r[2] |= 0x80;
	CHECK(sendto(up, r, (size_t)got, 0, (struct sockaddr *)&from, sizeof(from)) == got);
	got = recv_timed(guest, r, sizeof(r), &from);
	CHECK(got == (ssize_t)n && r[0] == 0x12 && r[1] == 0x34 && (r[2] & 0x80) &&
	      from.sin_port == htons(gw_port));

	/* An answer with another id is not passed on. */
	n = query(m, 0x0042);
	sendto(guest, m, n, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr));
	got = recv_timed(up, r, sizeof(r), &from);
	CHECK(got == (ssize_t)n);
	r[0] ^= 0xff;
	sendto(up, r, (size_t)got, 0, (struct sockaddr *)&from, sizeof(from));
	CHECK(recv_timed(guest, r, sizeof(r), &from) < 0);

	/* Nothing may leave: REFUSED at once, its question kept, nothing upstream. */
	net_dns_set_allowed(d, h, false);
	n = query(m, 0x5678);
	sendto(guest, m, n, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr));
	got = recv_timed(guest, r, sizeof(r), &from);
	CHECK(got == (ssize_t)n && r[0] == 0x56 && (r[3] & 0x0f) == 5 && r[5] == 1 &&
	      memcmp(r + 12, m + 12, n - 12) == 0);

	/* Garbage (shorter than a header, or a pointer in the question) breaks nothing. */
	sendto(guest, "x", 1, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr));
	m[12] = 0xc0;
	sendto(guest, m, n, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr));
	got = recv_timed(guest, r, sizeof(r), &from);
	CHECK(got == 12 && (r[3] & 0x0f) == 5 && r[5] == 0);

	net_dns_remove(d, h);
	net_dns_free(d);
	close(up);
	close(guest);
}

int main(void)
{
	RUN(test_cidr);
	RUN(test_policy);
	RUN(test_rules);
	RUN(test_dns);
	return check_done();
}
