/*
 * A sandbox's egress policy (docs/networking.md, "Egress policy"): whether
 * anything may leave, and the user's allow and deny lists of IPv4 networks,
 * checked against the ranges no user rule can open. Pure data: parsing,
 * checking and the JSON the API shows; net_rules.c turns it into nftables
 * rules.
 */
#ifndef CUBICLE_NET_POLICY_H
#define CUBICLE_NET_POLICY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_RULES_MAX 256       /* entries in one allow or deny list */
#define NET_OPEN_MAX 64         /* operator-opened ranges */

/* An IPv4 network, host byte order, with no bits set past its prefix. */
struct net_cidr {
	uint32_t addr;
	uint8_t prefix;
};

struct net_policy {
	bool internet;                          /* false: nothing leaves */
	bool dns;                               /* false: the gateway's DNS answers REFUSED */
	unsigned int n_allow, n_deny;
	struct net_cidr allow[NET_RULES_MAX];   /* wins over deny */
	struct net_cidr deny[NET_RULES_MAX];
};

/* What the operator opened of the always-denied ranges (cubicled.json network.open). */
struct net_open {
	unsigned int n;
	struct net_cidr cidr[NET_OPEN_MAX];
};

/* A named always-denied range. */
struct net_denied {
	struct net_cidr cidr;
	const char *why;
};

/* The ranges no user rule can open, and how many. */
extern const struct net_denied net_always_denied[];
extern const unsigned int net_n_always_denied;

/*
 * "A.B.C.D" (a /32) or "A.B.C.D/N" into *out; false if it is not one, or has
 * bits set past its prefix (why in err: the network it meant).
 */
bool net_cidr_parse(const char *text, struct net_cidr *out, char *err, size_t errlen);

/* "A.B.C.D/N" (or "A.B.C.D" for a /32) into buf (at least 19 bytes). */
void net_cidr_format(const struct net_cidr *c, char *buf, size_t len);

/* Whether a lies wholly inside b. */
bool net_cidr_within(const struct net_cidr *a, const struct net_cidr *b);

/* The default: internet and DNS on, no lists. */
void net_policy_default(struct net_policy *p);

/*
 * A policy from the API's object {"internet": bool, "dns": bool,
 * "allow_out": [CIDR...], "deny_out": [CIDR...]} over the default; every key optional, any other
 * key an error. An allow_out entry wholly inside an always-denied range the
 * operator did not open (open may be NULL) is refused, as is allow_out
 * with internet false. 0, or -EINVAL with a one-line reason in err.
 */
int net_policy_from_json(struct json_object *o, const struct net_open *open,
			 struct net_policy *p, char *err, size_t errlen);

/* The policy as the API shows it (new object). */
struct json_object *net_policy_json(const struct net_policy *p);

/* The operator's open ranges from a JSON array of CIDRs; same contract. */
int net_open_from_json(struct json_object *a, struct net_open *open, char *err, size_t errlen);

#endif
