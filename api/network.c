/*
 * A sandbox's network (docs/networking.md): GET /sandboxes/{id}/network
 * shows its address, host name and egress policy; PUT replaces the policy
 * while it runs, cutting the connections the new one forbids; GET
 * .../ports/{port} says how a guest's port is reached (ports.c serves it).
 * The rows are
 * api_network_routes (routes.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "routes.h"

static void get_network(struct api_req *r)
{
	api_reply_json(r, 200, sandbox_network_json(r->sandboxes, r->sb));
}

/* PUT .../network: the whole policy; a field left out takes its default. */
static void put_network(struct api_req *r)
{
	struct json_object *body = api_body_object(r);
	struct net_policy *p = malloc(sizeof(*p));
	char err[512];
	int ret;

	if (!body || !p) {
		if (!p && body)
			api_reply_error(r, 500, "internal", "out of memory");
		goto out;
	}
	if (net_policy_from_json(body, sandboxes_net_open(r->sandboxes), p, err, sizeof(err))) {
		api_reply_error(r, 400, "invalid_request", "%s", err);
		goto out;
	}
	ret = sandbox_set_network(r->sandboxes, r->sb, p, err, sizeof(err));
	if (ret == -ENODEV)
		api_reply_error(r, 409, "no_network", "sandbox %s has no network (cubicled runs "
				"with networking off)", r->sb->id);
	else if (ret == -ESRCH)
		api_reply_error(r, 409, "sandbox_not_running", "sandbox %s is not running",
				r->sb->id);
	else if (ret)
		api_reply_error(r, 500, "network_failed", "%s", err);
	else {
		api_note(r, "network", "internet %s, %u allowed, %u denied",
			 p->internet ? "on" : "off", p->n_allow, p->n_deny);
		api_reply_json(r, 200, sandbox_network_json(r->sandboxes, r->sb));
	}
out:
	free(p);
	json_object_put(body);
}

/* GET .../ports/{port}: where the guest's port is reached, and with what. */
static void get_port(struct api_req *r)
{
	struct json_object *o, *h;
	char *end, host[API_NAME_MAX + 80], url[API_NAME_MAX + 96], port[8];
	unsigned long n = strtoul(r->seg[3], &end, 10);

	if (*end || n < 1 || n > 65535 || r->seg[3][0] == '0') {
		api_reply_error(r, 400, "invalid_request", "port: want 1..65535");
		return;
	}
	snprintf(port, sizeof(port), "%lu", n);
	sandbox_port_host(r->cfg, r->sb, port, host, sizeof(host));
	snprintf(url, sizeof(url), "http://%s/", host);
	o = json_object_new_object();
	json_object_object_add(o, "port", json_object_new_int((int)n));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "token", json_object_new_string(r->sb->port_token));
	/* For clients that call cubicled's own address instead. */
	h = json_object_new_object();
	json_object_object_add(h, "X-Cubicle-Sandbox", json_object_new_string(r->sb->id));
	json_object_object_add(h, "X-Cubicle-Port", json_object_new_string(port));
	json_object_object_add(h, "X-Cubicle-Token", json_object_new_string(r->sb->port_token));
	json_object_object_add(o, "headers", h);
	api_reply_json(r, 200, o);
}

static const struct api_route rows[] = {
	{ "GET", "sandboxes/{id}/ports/{port}", ROUTE_SANDBOX, get_port, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/network", ROUTE_SANDBOX, get_network, NULL, NULL, NULL },
	{ "PUT", "sandboxes/{id}/network", ROUTE_SANDBOX, put_network, NULL, NULL, NULL },
};

const struct api_routes api_network_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
