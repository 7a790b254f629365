/*
 * The guest's network, set up once at boot from the kernel command line
 * (net.c), and the host's way to the guest's TCP ports (forward.c).
 */
#ifndef CUBICLE_AG_NET_H
#define CUBICLE_AG_NET_H

#include <json-c/json.h>
#include <netinet/in.h>
#include <stdbool.h>

struct ag_conn;

/* Loopback, eth0, route, resolver and host name; what fails is said and skipped. */
void ag_net_setup(void);

/* eth0's address into *out; false when the guest has no network. */
bool ag_net_guest_addr(struct in_addr *out);

/*
 * The `connect` op: a TCP connection to the guest's port (127.0.0.1 first,
 * then eth0's address), answered, then carried byte for byte both ways on
 * the agent connection until both sides have ended.
 */
void ag_op_connect(struct ag_conn *c, struct json_object *req);

#endif
