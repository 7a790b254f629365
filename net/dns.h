/*
 * The DNS relay: every sandbox's gateway answers DNS at port 53 through one
 * thread of cubicled, which passes each query on to the host's resolvers
 * from the host's own namespace (so a resolver on the host's loopback,
 * such as systemd-resolved's, works) and the answer back. Queries are not
 * parsed beyond their header and question; a sandbox whose policy lets
 * nothing out gets REFUSED. Each query goes out on a socket of its own
 * (a fresh source port) and waits at most NET_DNS_TIMEOUT_MS.
 */
#ifndef CUBICLE_NET_DNS_H
#define CUBICLE_NET_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_DNS_MAX_UPSTREAMS 4
#define NET_DNS_TIMEOUT_MS 5000
#define NET_DNS_PENDING_MAX 64          /* queries in flight per sandbox */

struct net_dns;

/*
 * The upstream resolvers from resolv_conf's nameserver lines (IPv4 ones),
 * into addrs (port 53); how many, 0 if none.
 */
unsigned int net_dns_resolvers(const char *resolv_conf, struct sockaddr_in *addrs, unsigned int max);

/* Starts the relay's thread with n upstreams (copied). NULL with err. */
struct net_dns *net_dns_new(const struct sockaddr_in *upstreams, unsigned int n,
			    char *err, size_t errlen);

/* Stops the thread, closes every socket, frees; accepts NULL. */
void net_dns_free(struct net_dns *d);

/*
 * Serves the gateway socket fd (taken) of a sandbox; allowed false
 * answers REFUSED. A handle for the calls below, or -errno.
 */
int64_t net_dns_add(struct net_dns *d, int fd, bool allowed);
void net_dns_set_allowed(struct net_dns *d, int64_t handle, bool allowed);

/* Closes the sandbox's socket and drops its queries in flight. */
void net_dns_remove(struct net_dns *d, int64_t handle);

#endif
