#include "rules.h"

#include <errno.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"

#define SET_FLAGS "type ipv4_addr; flags interval; auto-merge;"

/* "{ a, b, c }" of list, or nothing when empty (nft refuses empty element lists). */
static void elements(FILE *f, const char *what, const struct net_cidr *list, unsigned int n)
{
	char buf[24];

	if (!n)
		return;
	fprintf(f, "%s { ", what);
	for (unsigned int i = 0; i < n; i++) {
		net_cidr_format(&list[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : "", buf);
	}
	fprintf(f, " }");
}

/* The sets every table has: always_deny (with the pool) and open. */
static void common_sets(FILE *f, const struct net_cidr *pool, const struct net_open *opened)
{
	char buf[24];

	fprintf(f, "\tset always_deny { " SET_FLAGS " elements = { ");
	for (unsigned int i = 0; i < net_n_always_denied; i++) {
		net_cidr_format(&net_always_denied[i].cidr, buf, sizeof(buf));
		fprintf(f, "%s, ", buf);
	}
	net_cidr_format(pool, buf, sizeof(buf));
	fprintf(f, "%s }; }\n", buf);
	fprintf(f, "\tset open { " SET_FLAGS " ");
	if (opened && opened->n) {
		elements(f, "elements =", opened->cidr, opened->n);
		fprintf(f, ";");
	}
	fprintf(f, " }\n");
}

/* A script built on a memory stream: NULL if it could not be. */
static char *finish(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *net_rules_host(const struct net_cidr *pool, const struct net_open *opened)
{
	char *buf = NULL, p[24];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	net_cidr_format(pool, p, sizeof(p));
	/* "add" then "delete" removes an earlier table whether or not there is one. */
	fprintf(f, "add table inet cubicle\ndelete table inet cubicle\n");
	fprintf(f, "table inet cubicle {\n");
	common_sets(f, pool, opened);
	fprintf(f,
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter - 10; policy accept;\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" meta l4proto tcp reject with tcp reset\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" reject with icmpx admin-prohibited\n"
		"\t}\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter - 10; policy accept;\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" oifname \"" NET_HOST_LINK_PREFIX "*\" drop\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" meta nfproto ipv6 drop\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" ip saddr != %s drop\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" ip daddr @open accept\n"
		"\t\tiifname \"" NET_HOST_LINK_PREFIX "*\" ip daddr @always_deny drop\n"
		"\t\toifname \"" NET_HOST_LINK_PREFIX "*\" ct state != { established, related } drop\n"
		"\t}\n"
		"\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tip saddr %s oifname != \"" NET_HOST_LINK_PREFIX "*\" masquerade\n"
		"\t}\n"
		"}\n", p, p);
	return finish(f, &buf);
}

/* The policy's two chains and sets, as statements that fill them afresh. */
static void policy_body(FILE *f, const struct net_policy *p)
{
	fprintf(f, "flush set inet cubicle allow\nflush set inet cubicle deny\n");
	if (p->n_allow) {
		elements(f, "add element inet cubicle allow", p->allow, p->n_allow);
		fprintf(f, "\n");
	}
	if (p->n_deny) {
		elements(f, "add element inet cubicle deny", p->deny, p->n_deny);
		fprintf(f, "\n");
	}
	fprintf(f, "flush chain inet cubicle user_out\nflush chain inet cubicle user_in\n");
	if (!p->internet) {
		fprintf(f, "add rule inet cubicle user_out goto refuse\n"
			"add rule inet cubicle user_in drop\n");
		return;
	}
	fprintf(f, "add rule inet cubicle user_out ip daddr @allow accept\n"
		"add rule inet cubicle user_out ip daddr @deny goto refuse\n"
		"add rule inet cubicle user_out accept\n"
		"add rule inet cubicle user_in ip saddr @allow accept\n"
		"add rule inet cubicle user_in ip saddr @deny drop\n"
		"add rule inet cubicle user_in accept\n");
}

char *net_rules_sandbox(const struct net_cidr *pool, const struct net_open *opened, uint32_t ns_addr,
			const struct net_policy *p)
{
	struct net_cidr self = { ns_addr, 32 };
	char *buf = NULL, snat[24];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	net_cidr_format(&self, snat, sizeof(snat));
	/* A new namespace has no table yet: nothing to delete (which would cost a grace period). */
	fprintf(f, "table inet cubicle {\n");
	common_sets(f, pool, opened);
	fprintf(f,
		"\tset allow { " SET_FLAGS " }\n"
		"\tset deny { " SET_FLAGS " }\n"
		"\tchain refuse {\n"
		"\t\tmeta l4proto tcp reject with tcp reset\n"
		"\t\treject with icmpx admin-prohibited\n"
		"\t}\n"
		"\tchain user_out {\n\t}\n"
		"\tchain user_in {\n\t}\n"
		/* Every packet, not only new ones: a rule change cuts what it forbids. */
		"\tchain out {\n"
		"\t\tip daddr @open goto user_out\n"
		"\t\tip daddr @always_deny goto refuse\n"
		"\t\tgoto user_out\n"
		"\t}\n"
		/*
		 * TCP from a peer the policy now forbids still reaches the guest: its
		 * answer is refused with a reset (out), which cuts the connection at
		 * once; dropped here, the guest would wait on a silent peer.
		 */
		"\tchain in {\n"
		"\t\tmeta l4proto tcp accept\n"
		"\t\tip saddr @open goto user_in\n"
		"\t\tip saddr @always_deny drop\n"
		"\t\tgoto user_in\n"
		"\t}\n"
		/* Only the guest's own address leaves: a spoofed source is dropped. */
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy drop;\n"
		"\t\tiifname \"" NET_TAP_NAME "\" oifname \"" NET_NS_LINK "\" ip saddr " NET_GUEST_ADDR
		" goto out\n"
		"\t\tiifname \"" NET_NS_LINK "\" oifname \"" NET_TAP_NAME "\" ct state "
		"{ established, related } goto in\n"
		"\t}\n"
		/* At the gateway itself: DNS (the relay) and ping, nothing else. */
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy drop;\n"
		"\t\tiifname \"lo\" accept\n"
		"\t\tiifname \"" NET_TAP_NAME "\" ip saddr " NET_GUEST_ADDR " ip daddr " NET_GATEWAY_ADDR
		" udp dport 53 accept\n"
		"\t\tiifname \"" NET_TAP_NAME "\" ip saddr " NET_GUEST_ADDR " ip daddr " NET_GATEWAY_ADDR
		" icmp type echo-request accept\n"
		"\t\tiifname \"" NET_TAP_NAME "\" ip saddr " NET_GUEST_ADDR " goto refuse\n"
		"\t}\n"
		"\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\toifname \"" NET_NS_LINK "\" snat ip to %s\n"
		"\t}\n"
		"}\n", snat);
	policy_body(f, p);
	return finish(f, &buf);
}

char *net_rules_policy(const struct net_policy *p)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	policy_body(f, p);
	return finish(f, &buf);
}

/* A context whose output and errors go to buffers, not to our stdout. */
static struct nft_ctx *quiet_ctx(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int net_nft_run(const char *script, char *err, size_t errlen)
{
	struct nft_ctx *ctx = quiet_ctx();
	int ret = 0;

	if (!ctx) {
		errf(err, errlen, "nftables: no context (out of memory?)");
		return -ENOMEM;
	}
	if (nft_run_cmd_from_buffer(ctx, script) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		size_t n = e ? strcspn(e, "\n") : 0;

		errf(err, errlen, "nftables: %.*s", (int)(n > 300 ? 300 : n), n ? e : "failed");
		ret = -EIO;
	}
	nft_ctx_free(ctx);
	return ret;
}

bool net_nft_has_chain(const char *family, const char *table, const char *chain)
{
	struct nft_ctx *ctx = quiet_ctx();
	char cmd[256];
	bool has;

	if (!ctx)
		return false;
	snprintf(cmd, sizeof(cmd), "list chain %s %s %s", family, table, chain);
	has = nft_run_cmd_from_buffer(ctx, cmd) == 0;
	nft_ctx_free(ctx);
	return has;
}

/* The handles of chain's rules commented comment, from `nft -j -a list chain`'s output. */
static unsigned int commented_handles(const char *json, const char *comment, long long *out,
				      unsigned int max)
{
	struct json_object *root = json_tokener_parse(json), *list, *rule, *c, *h;
	unsigned int n = 0;

	if (!root || !json_object_object_get_ex(root, "nftables", &list) ||
	    !json_object_is_type(list, json_type_array))
		goto out;
	for (size_t i = 0; i < json_object_array_length(list) && n < max; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "rule", &rule) &&
		    json_object_object_get_ex(rule, "comment", &c) &&
		    strcmp(json_object_get_string(c), comment) == 0 &&
		    json_object_object_get_ex(rule, "handle", &h))
			out[n++] = json_object_get_int64(h);
out:
	json_object_put(root);
	return n;
}

int net_nft_delete_commented(const char *family, const char *table, const char *chain,
			     const char *comment)
{
	struct nft_ctx *ctx = quiet_ctx();
	long long handles[32];
	unsigned int n = 0;
	char cmd[256];

	if (!ctx)
		return -ENOMEM;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	snprintf(cmd, sizeof(cmd), "list chain %s %s %s", family, table, chain);
	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		n = commented_handles(nft_ctx_get_output_buffer(ctx), comment, handles, 32);
	nft_ctx_output_set_flags(ctx, 0);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "delete rule %s %s %s handle %lld", family, table, chain,
			 handles[i]);
		nft_run_cmd_from_buffer(ctx, cmd);
	}
	nft_ctx_free(ctx);
	return (int)n;
}
