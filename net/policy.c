#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"

#define CIDR(a, b, c, d, n) { ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d)), (n) }

/*
 * Never reachable from a guest, whatever the user's rules say: the host's
 * own (every host address is refused at the host's input hook as well),
 * other sandboxes (the pool is private), link-local and cloud metadata,
 * private and shared ranges, multicast and reserved. The documentation
 * ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are not here:
 * nothing routes them on the internet, and tests use them as the internet.
 */
const struct net_denied net_always_denied[] = {
	{ CIDR(0, 0, 0, 0, 8), "this network" },
	{ CIDR(10, 0, 0, 0, 8), "private" },
	{ CIDR(100, 64, 0, 0, 10), "shared address space (CGNAT)" },
	{ CIDR(127, 0, 0, 0, 8), "loopback" },
	{ CIDR(169, 254, 0, 0, 16), "link-local and cloud metadata" },
	{ CIDR(168, 63, 129, 16, 32), "Azure's platform endpoint (WireServer)" },
	{ CIDR(172, 16, 0, 0, 12), "private" },
	{ CIDR(192, 0, 0, 0, 24), "IETF protocol assignments" },
	{ CIDR(192, 168, 0, 0, 16), "private" },
	{ CIDR(198, 18, 0, 0, 15), "benchmarking" },
	{ CIDR(224, 0, 0, 0, 4), "multicast" },
	{ CIDR(240, 0, 0, 0, 4), "reserved and broadcast" },
};
const unsigned int net_n_always_denied = sizeof(net_always_denied) / sizeof(net_always_denied[0]);

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

bool net_cidr_parse(const char *text, struct net_cidr *out, char *err, size_t errlen)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long prefix = 32;

	if (strlen(text) >= sizeof(buf)) {
		errf(err, errlen, "'%.40s' is not an IPv4 address or network", text);
		return false;
	}
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || prefix > 32 || slash[1] == '+' || slash[1] == '-') {
			errf(err, errlen, "'%s' is not an IPv4 address or network", text);
			return false;
		}
	}
	if (inet_pton(AF_INET, buf, &a) != 1) {
		errf(err, errlen, "'%s' is not an IPv4 address or network", text);
		return false;
	}
	out->addr = ntohl(a.s_addr);
	out->prefix = (uint8_t)prefix;
	if (out->addr & ~mask_of(out->prefix)) {
		struct net_cidr net = { out->addr & mask_of(out->prefix), out->prefix };
		char meant[24];

		net_cidr_format(&net, meant, sizeof(meant));
		errf(err, errlen, "'%s' has bits set past its prefix; the network is %s", text, meant);
		return false;
	}
	return true;
}

void net_cidr_format(const struct net_cidr *c, char *buf, size_t len)
{
	struct in_addr a = { htonl(c->addr) };
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	if (c->prefix == 32)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, "%s/%u", ip, c->prefix);
}

bool net_cidr_within(const struct net_cidr *a, const struct net_cidr *b)
{
	return a->prefix >= b->prefix && (a->addr & mask_of(b->prefix)) == b->addr;
}

void net_policy_default(struct net_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->internet = true;
	p->dns = true;
}

/* The always-denied range c lies in that open does not open; NULL if none. */
static const struct net_denied *denied_for(const struct net_cidr *c, const struct net_open *open)
{
	for (unsigned int i = 0; open && i < open->n; i++)
		if (net_cidr_within(c, &open->cidr[i]))
			return NULL;
	for (unsigned int i = 0; i < net_n_always_denied; i++)
		if (net_cidr_within(c, &net_always_denied[i].cidr))
			return &net_always_denied[i];
	return NULL;
}

/* A JSON array of CIDR strings into list (at most max, duplicates dropped); 0 or -EINVAL. */
static int cidr_list(struct json_object *a, const char *key, struct net_cidr *list, unsigned int max,
		     unsigned int *n, char *err, size_t errlen)
{
	size_t len;
	char why[160];

	*n = 0;
	if (!json_object_is_type(a, json_type_array))
		return errf(err, errlen, "%s: want an array of IPv4 addresses and networks", key);
	len = json_object_array_length(a);
	if (len > max)
		return errf(err, errlen, "%s: at most %u entries", key, max);
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		struct net_cidr c;
		bool dup = false;

		if (!json_object_is_type(e, json_type_string))
			return errf(err, errlen, "%s[%zu]: want a string such as \"203.0.113.0/24\"",
				    key, i);
		if (!net_cidr_parse(json_object_get_string(e), &c, why, sizeof(why)))
			return errf(err, errlen, "%s[%zu]: %s", key, i, why);
		for (unsigned int j = 0; j < *n; j++)
			dup |= list[j].addr == c.addr && list[j].prefix == c.prefix;
		if (!dup)
			list[(*n)++] = c;
	}
	return 0;
}

int net_policy_from_json(struct json_object *o, const struct net_open *open,
			 struct net_policy *p, char *err, size_t errlen)
{
	net_policy_default(p);
	if (!json_object_is_type(o, json_type_object))
		return errf(err, errlen, "network: want an object with internet, dns, allow_out, "
			    "deny_out");
	json_object_object_foreach(o, key, val) {
		int ret = 0;

		if (strcmp(key, "internet") == 0) {
			if (!json_object_is_type(val, json_type_boolean))
				return errf(err, errlen, "network.internet: want true or false");
			p->internet = json_object_get_boolean(val);
		} else if (strcmp(key, "dns") == 0) {
			if (!json_object_is_type(val, json_type_boolean))
				return errf(err, errlen, "network.dns: want true or false");
			p->dns = json_object_get_boolean(val);
		} else if (strcmp(key, "allow_out") == 0)
			ret = cidr_list(val, "network.allow_out", p->allow, NET_RULES_MAX, &p->n_allow,
					err, errlen);
		else if (strcmp(key, "deny_out") == 0)
			ret = cidr_list(val, "network.deny_out", p->deny, NET_RULES_MAX, &p->n_deny,
					err, errlen);
		else
			return errf(err, errlen, "network: unknown field '%s' (want internet, dns, "
				    "allow_out, deny_out)", key);
		if (ret)
			return ret;
	}
	if (!p->internet && p->n_allow)
		return errf(err, errlen, "network: allow_out with internet false lets nothing out; "
			    "for an allow list give deny_out [\"0.0.0.0/0\"] with allow_out");
	for (unsigned int i = 0; i < p->n_allow; i++) {
		const struct net_denied *d = denied_for(&p->allow[i], open);
		char c[24], r[24];

		if (!d)
			continue;
		net_cidr_format(&p->allow[i], c, sizeof(c));
		net_cidr_format(&d->cidr, r, sizeof(r));
		return errf(err, errlen, "network.allow_out[%u]: %s is always denied (%s, %s); "
			    "no sandbox rule opens it", i, c, r, d->why);
	}
	return 0;
}

static struct json_object *cidr_array(const struct net_cidr *list, unsigned int n)
{
	struct json_object *a = json_object_new_array();
	char buf[24];

	for (unsigned int i = 0; i < n; i++) {
		net_cidr_format(&list[i], buf, sizeof(buf));
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

struct json_object *net_policy_json(const struct net_policy *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "internet", json_object_new_boolean(p->internet));
	json_object_object_add(o, "dns", json_object_new_boolean(p->dns && p->internet));
	json_object_object_add(o, "allow_out", cidr_array(p->allow, p->n_allow));
	json_object_object_add(o, "deny_out", cidr_array(p->deny, p->n_deny));
	return o;
}

int net_open_from_json(struct json_object *a, struct net_open *open, char *err, size_t errlen)
{
	return cidr_list(a, "network.open", open->cidr, NET_OPEN_MAX, &open->n, err, errlen);
}
