/*
 * The host's side of Cubicle's networking (docs/networking.md): set up once
 * by cubicled (forwarding, the host's nftables table, room in Docker's
 * FORWARD policy) and undone when it stops; and one network namespace per
 * sandbox, holding the TAP device its QEMU uses, the namespace's end of a
 * veth pair to the host, the sandbox's rules and its DNS socket.
 *
 * One cubicled manages the network of the namespace it runs in (a lock
 * says so). Namespaces are named cubicle-<sandbox id> under /run/netns,
 * so `ip netns exec` reaches them; host links are cbl<slot>, a /30 of the
 * pool each.
 */
#ifndef CUBICLE_NET_NETNS_H
#define CUBICLE_NET_NETNS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define NET_NETNS_DIR "/run/netns"
#define NET_NETNS_PREFIX "cubicle-"

struct net_host;

struct net_sandbox {
	char ns_path[PATH_MAX];         /* "" until made */
	char host_link[IF_NAMESIZE];    /* "" until made */
	int slot;                       /* -1 until taken */
	uint32_t ns_addr, host_addr;    /* host order */
	int tap_fd;                     /* the TAP device, for the monitor (caller's to close) */
	int dns_fd;                     /* UDP at the gateway's port 53 (caller's to close) */
};

/*
 * Sets up the host: takes the lock for this namespace, removes what a
 * crashed cubicled left (every cbl* link, the namespaces of the sandbox ids
 * in leftovers, NULL-terminated; our rules in Docker's chains), turns IPv4
 * forwarding on (the value before is kept in state_path until free puts it
 * back), and loads the host's table. NULL with a one-line reason in err.
 */
struct net_host *net_host_new(const struct net_cidr *pool, const struct net_open *opened,
			      const char *state_path, const char *const *leftovers,
			      char *err, size_t errlen);

/* Undoes net_host_new (table, Docker rules, forwarding); accepts NULL. */
void net_host_free(struct net_host *h);

/*
 * Makes sandbox id's namespace and links with policy p; *sb is filled as
 * far as it got, and on failure undone (net_sandbox_down) before the
 * reason is put in err. 0, -EAGAIN (the pool is full) or -errno.
 */
int net_sandbox_up(struct net_host *h, const char *id, const struct net_policy *p,
		   struct net_sandbox *sb, char *err, size_t errlen);

/* Replaces the running sandbox's policy in one transaction; 0 or -errno with err. */
int net_sandbox_set_policy(struct net_host *h, struct net_sandbox *sb, const struct net_policy *p,
			   char *err, size_t errlen);

/*
 * Removes sb's namespace's name and gives back its slot; the namespace and
 * its links go once the last fd in it is closed (its fds are the caller's;
 * QEMU's TAP goes with QEMU). Accepts a zeroed or half-made sb, with slot
 * -1 and fds -1.
 */
void net_sandbox_down(struct net_host *h, struct net_sandbox *sb);

/* A zeroed sandbox network: slot and fds -1. */
void net_sandbox_init(struct net_sandbox *sb);

#endif
