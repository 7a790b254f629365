/*
 * The nftables rules of Cubicle's networking (docs/networking.md) as nft
 * scripts, and running them with libnftables in the calling thread's
 * network namespace. Two tables, both `inet cubicle`:
 *
 *   the host's   keeps sandboxes off every host address (input hook), off
 *                each other and off the always-denied ranges (forward), and
 *                masquerades the pool to the uplink;
 *   a sandbox's  (in its own namespace) lets only the guest's own address
 *                out, checks every packet the guest sends against the
 *                always-denied ranges and the user's policy (and what comes
 *                back, but for TCP, which is cut by refusing the guest's
 *                next packet with a reset), so a rule change cuts open
 *                connections; answers DNS and ping at the gateway; and SNATs
 *                to the namespace's pool address.
 */
#ifndef CUBICLE_NET_RULES_H
#define CUBICLE_NET_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Every sandbox sees the same network inside: QEMU's user-mode layout. */
#define NET_GUEST_ADDR "10.0.2.15"
#define NET_GUEST_PREFIX 24
#define NET_GATEWAY_ADDR "10.0.2.2"     /* tap0 in the namespace; the DNS relay too */
#define NET_TAP_NAME "tap0"
#define NET_NS_LINK "eth0"              /* the namespace's end of its veth pair */
#define NET_HOST_LINK_PREFIX "cbl"      /* the host's end: cbl<slot> */

/*
 * The host's table over any earlier one: pool is the sandboxes' address
 * pool, open the operator's opened ranges (may be NULL). malloc'd script, or NULL.
 */
char *net_rules_host(const struct net_cidr *pool, const struct net_open *opened);

/*
 * A sandbox's table, its namespace address ns_addr (host order) the SNAT
 * source, with policy p applied. malloc'd script, or NULL.
 */
char *net_rules_sandbox(const struct net_cidr *pool, const struct net_open *opened, uint32_t ns_addr,
			const struct net_policy *p);

/* Replaces a sandbox table's policy with p in one transaction. malloc'd script, or NULL. */
char *net_rules_policy(const struct net_policy *p);

/*
 * Runs script in one transaction in the calling thread's namespace. 0, or
 * -EIO with nft's first error line in err.
 */
int net_nft_run(const char *script, char *err, size_t errlen);

/*
 * Whether nft can list `family table chain` here (quietly): used to find
 * Docker's chains.
 */
bool net_nft_has_chain(const char *family, const char *table, const char *chain);

/*
 * Deletes, from `family table chain`, the rules whose comment is comment
 * (those cubicled put in other programs' chains). How many went, or -errno.
 */
int net_nft_delete_commented(const char *family, const char *table, const char *chain,
			     const char *comment);

#endif
