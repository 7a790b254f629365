/* A sandbox's network: its rules (network) and the way to its guest's ports (port). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "http.h"
#include "json.h"
#include "options.h"

static const char network_usage[] =
	"usage: cubicle network ID [--internet on|off] [--dns on|off] [--allow CIDRS] [--deny CIDRS]\n"
	"\n"
	"Prints sandbox ID's network as JSON: its address, host name and egress\n"
	"rules. With an option, replaces the rules first (the whole policy: what\n"
	"is not given goes back to its default); connections the new rules forbid\n"
	"are cut. CIDRS is a comma-separated list of IPv4 addresses and networks;\n"
	"--allow wins over --deny. The host, other sandboxes, private, link-local,\n"
	"shared, multicast and reserved ranges stay denied whatever is given\n"
	"(docs/networking.md).\n"
	"\n"
	"  --internet on|off  off lets nothing out, DNS included\n"
	"  --dns on|off       off: the gateway answers no DNS (addresses still go)\n"
	"  --allow CIDRS      may be reached (with --deny 0.0.0.0/0: an allow list)\n"
	"  --deny CIDRS       may not be reached\n"
	"\n"
	"example: cubicle network 3f0c9a7be21d4c55 --deny 0.0.0.0/0 --allow 203.0.113.0/24\n";

struct network_args {
	const char *internet, *dns, *allow, *deny;
};

static const struct opt network_opts[] = {
	{ "--internet", NULL, OPT_VALUE, offsetof(struct network_args, internet) },
	{ "--dns", NULL, OPT_VALUE, offsetof(struct network_args, dns) },
	{ "--allow", NULL, OPT_VALUE, offsetof(struct network_args, allow) },
	{ "--deny", NULL, OPT_VALUE, offsetof(struct network_args, deny) },
	{ NULL },
};

/* "a,b,c" as a JSON array of its non-empty pieces. */
static struct json_object *list_of(const char *csv)
{
	struct json_object *a = json_object_new_array();

	for (const char *p = csv; *p;) {
		size_t n = strcspn(p, ",");

		if (n)
			json_object_array_add(a, json_object_new_string_len(p, (int)n));
		p += n + (p[n] == ',');
	}
	return a;
}

static int cmd_network(struct cli *c, void *opts, int n, char **argv)
{
	static const char *const on_off[] = { "on", "off", NULL };
	const struct network_args *a = opts;
	struct http h = { .method = "GET" };
	struct json_object *o;

	(void)n;
	if (a->internet && !opt_one_of(a->internet, on_off))
		return cli_usage_err(c, "--internet '%s': want on or off", a->internet), CLI_EXIT_USAGE;
	if (a->dns && !opt_one_of(a->dns, on_off))
		return cli_usage_err(c, "--dns '%s': want on or off", a->dns), CLI_EXIT_USAGE;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/network", argv[0]);
	if (a->internet || a->dns || a->allow || a->deny) {
		h.method = "PUT";
		h.json = json_object_new_object();
		if (a->internet)
			json_object_object_add(h.json, "internet",
					       json_object_new_boolean(!strcmp(a->internet, "on")));
		if (a->dns)
			json_object_object_add(h.json, "dns",
					       json_object_new_boolean(!strcmp(a->dns, "on")));
		if (a->allow)
			json_object_object_add(h.json, "allow_out", list_of(a->allow));
		if (a->deny)
			json_object_object_add(h.json, "deny_out", list_of(a->deny));
	}
	if ((o = http_json(c, &h)))
		cj_print(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : CLI_EXIT_FAILED;
}

const struct cli_command cli_network = { network_usage, network_opts, sizeof(struct network_args),
					 cmd_network };

static const char port_usage[] =
	"usage: cubicle port ID PORT\n"
	"\n"
	"Prints how a server on PORT inside sandbox ID is reached through\n"
	"cubicled, as JSON: its URL (PORT-ID.localhost, which browsers resolve to\n"
	"this machine), the token to send with it, and the headers that do the\n"
	"same on cubicled's own address. Open the URL with ?cubicle_token=TOKEN\n"
	"once in a browser.\n"
	"\n"
	"example: cubicle port 3f0c9a7be21d4c55 3000\n";

static int cmd_port(struct cli *c, void *opts, int n, char **argv)
{
	struct http h = { .method = "GET" };
	struct json_object *o;
	char text[8];
	long port;

	(void)opts, (void)n;
	if (!opt_long(argv[1], 1, 65535, &port))
		return cli_usage_err(c, "PORT '%s': want 1 to 65535", argv[1]), CLI_EXIT_USAGE;
	snprintf(text, sizeof(text), "%ld", port);
	http_path_add(c->curl, &h.path, "/sandboxes/%s/ports/%s", argv[0], text);
	if ((o = http_json(c, &h)))
		cj_print(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : CLI_EXIT_FAILED;
}

const struct cli_command cli_port = { port_usage, NULL, 0, cmd_port };
