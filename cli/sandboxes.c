/* The sandboxes: create, list, get, kill, timeout. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "commands.h"
#include "http.h"
#include "json.h"
#include "options.h"

/* --- create ---------------------------------------------------------------------- */

static const char create_usage[] =
	"usage: cubicle create [options]\n"
	"\n"
	"Starts a sandbox and prints its id once its desktop is ready (10 to 20 s\n"
	"for `minimal` under emulation). While it waits, it shows how long on a\n"
	"terminal's stderr. Unset options take cubicled's defaults.\n"
	"\n"
	"  --template T       the guest image (desktop, minimal, ...)\n"
	"  --resolution WxH   the screen, as 1280x800\n"
	"  --vcpus N          virtual CPUs\n"
	"  --memory MIB       memory in MiB\n"
	"  --timeout S        seconds until it ends on its own\n"
	"  --layout L         the keyboard layout (us, de, fr, ...)\n"
	"  --variant V        the layout's variant (nodeadkeys, ...)\n"
	"  --meta K=V         metadata, to find it by later (repeatable)\n"
	"  --env K=V          environment for every command run in it (repeatable)\n"
	"  --json             print the whole sandbox as JSON, not just its id\n"
	"\n"
	"example: id=$(cubicle create --template minimal --meta user=ada)\n";

struct create_args {
	const char *template, *resolution, *vcpus, *memory, *timeout, *layout, *variant;
	struct json_object *meta, *env;
	bool json;
};

static const struct opt create_opts[] = {
	{ "--template", NULL, OPT_VALUE, offsetof(struct create_args, template) },
	{ "--resolution", NULL, OPT_VALUE, offsetof(struct create_args, resolution) },
	{ "--vcpus", NULL, OPT_VALUE, offsetof(struct create_args, vcpus) },
	{ "--memory", NULL, OPT_VALUE, offsetof(struct create_args, memory) },
	{ "--timeout", NULL, OPT_VALUE, offsetof(struct create_args, timeout) },
	{ "--layout", NULL, OPT_VALUE, offsetof(struct create_args, layout) },
	{ "--variant", NULL, OPT_VALUE, offsetof(struct create_args, variant) },
	{ "--meta", NULL, OPT_PAIR, offsetof(struct create_args, meta) },
	{ "--env", NULL, OPT_PAIR, offsetof(struct create_args, env) },
	{ "--json", NULL, OPT_FLAG, offsetof(struct create_args, json) },
	{ NULL },
};

/* Whether s is digits, x, digits. */
static bool is_wxh(const char *s)
{
	size_t w = strspn(s, "0123456789"), h = w && s[w] == 'x' ? strspn(s + w + 1, "0123456789") : 0;

	return h && !s[w + 1 + h];
}

/* Fills the body of POST /sandboxes from a's options; 0, or -EINVAL after a usage error. */
static int create_body(const struct cli *c, struct json_object *b, const struct create_args *a)
{
	if (a->resolution && !is_wxh(a->resolution))
		return cli_usage_err(c, "--resolution '%s': want WxH, as 1280x800", a->resolution);
	cj_add_str(b, "template", a->template);
	cj_add_str(b, "resolution", a->resolution);
	cj_add_str(b, "keyboard_layout", a->layout);
	cj_add_str(b, "keyboard_variant", a->variant);
	if (opt_add_num(c, b, "vcpus", "--vcpus", a->vcpus, 1, 1024) < 0 ||
	    opt_add_num(c, b, "memory_mib", "--memory", a->memory, 1, 1L << 30) < 0 ||
	    opt_add_num(c, b, "timeout", "--timeout", a->timeout, 1, INT_MAX) < 0)
		return -EINVAL;
	if (a->meta)
		json_object_object_add(b, "metadata", json_object_get(a->meta));
	if (a->env)
		json_object_object_add(b, "env", json_object_get(a->env));
	return 0;
}

/* Starts a sandbox; prints its id, or with --json all of it. */
static int cmd_create(struct cli *c, void *opts, int n, char **argv)
{
	const struct create_args *a = opts;
	struct http h = { .method = "POST", .progress = "starting the sandbox" };
	struct json_object *sb = NULL;
	int st;

	(void)n, (void)argv;
	h.json = json_object_new_object();
	http_path_add(c->curl, &h.path, "/sandboxes");
	if (create_body(c, h.json, a) < 0) {
		st = CLI_EXIT_USAGE;
	} else if (!(sb = http_json(c, &h))) {
		st = CLI_EXIT_FAILED;
	} else if (!a->json && !cj_str(sb, "id")) {
		cli_fail("%s answered a sandbox without an id", c->url);
		st = CLI_EXIT_FAILED;
	} else {
		if (a->json)
			cj_print(sb);
		else
			puts(cj_str(sb, "id"));
		st = 0;
	}
	json_object_put(sb);
	http_free(&h);
	return st;
}

const struct cli_command cli_create = {
	create_usage, create_opts, sizeof(struct create_args), cmd_create,
};

/* --- list ------------------------------------------------------------------------ */

static const char list_usage[] =
	"usage: cubicle list [--state S] [--meta K=V]... [--json]\n"
	"\n"
	"Lists the sandboxes as a table: ID STATE TEMPLATE RESOLUTION AGE LEFT (the\n"
	"time until its timeout ends it).\n"
	"\n"
	"  --state S    only those in state S: starting, running, stopping, dead\n"
	"  --meta K=V   only those with metadata K equal to V (repeatable)\n"
	"  --json       print the answer as JSON\n"
	"\n"
	"example: cubicle list --meta user=ada\n";

struct list_args {
	const char *state;
	struct json_object *meta;
	bool json;
};

static const struct opt list_opts[] = {
	{ "--state", NULL, OPT_VALUE, offsetof(struct list_args, state) },
	{ "--meta", NULL, OPT_PAIR, offsetof(struct list_args, meta) },
	{ "--json", NULL, OPT_FLAG, offsetof(struct list_args, json) },
	{ NULL },
};

/* 42 -> "42s", 200 -> "3m", 7300 -> "2h", 90000 -> "1d". */
static void human_secs(char *out, size_t cap, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, cap, "%llds", s);
	else if (s < 3600)
		snprintf(out, cap, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%lldh", s / 3600);
	else
		snprintf(out, cap, "%lldd", s / 86400);
}

/* Prints one sandbox's row of the table; now is the wall clock in seconds. */
static void print_row(struct json_object *sb, long long now)
{
	const char *created = cj_str(sb, "created_at");
	char age[32] = "-", left[32] = "-";
	struct json_object *v;
	struct tm tm = { 0 };
	const char *end;

	if (created && (end = strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm)) && !*end)
		human_secs(age, sizeof(age), now - (long long)timegm(&tm));
	if (json_object_object_get_ex(sb, "timeout_left_s", &v) &&
	    json_object_is_type(v, json_type_int))
		human_secs(left, sizeof(left), (long long)json_object_get_int64(v));
	printf("%-16s  %-8s  %-10s  %-10s  %4s  %4s\n", cj_str(sb, "id") ?: "-",
	       cj_str(sb, "state") ?: "-", cj_str(sb, "template") ?: "-",
	       cj_str(sb, "resolution") ?: "-", age, left);
}

/* Prints the answer of GET /sandboxes as a table, under its header. */
static void print_table(struct json_object *o)
{
	struct json_object *list;
	long long now = clk_wall_ms() / 1000;

	printf("%-16s  %-8s  %-10s  %-10s  %4s  %4s\n", "ID", "STATE", "TEMPLATE", "RESOLUTION",
	       "AGE", "LEFT");
	if (!json_object_object_get_ex(o, "sandboxes", &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_row(json_object_array_get_idx(list, i), now);
}

/* Adds ?metadata.K=V for each of meta's pairs to h's path (a failure marks the path failed). */
static void add_meta_query(struct cli *c, struct http *h, struct json_object *meta)
{
	struct buf name = { 0 };

	if (!meta)
		return;
	json_object_object_foreach(meta, k, v) {
		name.len = 0;
		http_path_add(c->curl, &name, "metadata.%s", k);
		if (name.failed)
			h->path.failed = true;
		else
			http_query_add(c->curl, &h->path, name.data, json_object_get_string(v));
	}
	buf_free(&name);
}

/* Lists the sandboxes, as a table or with --json as cubicled answers. */
static int cmd_list(struct cli *c, void *opts, int n, char **argv)
{
	static const char *const states[] = { "starting", "running", "stopping", "dead", NULL };
	const struct list_args *a = opts;
	struct http h = { .method = "GET" };
	struct json_object *o = NULL;
	int st;

	(void)n, (void)argv;
	http_path_add(c->curl, &h.path, "/sandboxes");
	if (a->state)
		http_query_add(c->curl, &h.path, "state", a->state);
	add_meta_query(c, &h, a->meta);
	if (a->state && !opt_one_of(a->state, states)) {
		cli_usage_err(c, "--state '%s': want starting, running, stopping or dead", a->state);
		st = CLI_EXIT_USAGE;
	} else if (!(o = http_json(c, &h))) {
		st = CLI_EXIT_FAILED;
	} else {
		if (a->json)
			cj_print(o);
		else
			print_table(o);
		st = 0;
	}
	json_object_put(o);
	http_free(&h);
	return st;
}

const struct cli_command cli_list = {
	list_usage, list_opts, sizeof(struct list_args), cmd_list,
};

/* --- get, kill, timeout ---------------------------------------------------------- */

static const char get_usage[] =
	"usage: cubicle get ID\n"
	"\n"
	"Prints sandbox ID as JSON (its state, template, screen, timeout, VNC port...).\n"
	"\n"
	"example: cubicle get 3f0c9a7be21d4c55\n";

/* Prints sandbox argv[0] as JSON. */
static int cmd_get(struct cli *c, void *opts, int n, char **argv)
{
	struct http h = { .method = "GET" };
	struct json_object *o;

	(void)opts, (void)n;
	http_path_add(c->curl, &h.path, "/sandboxes/%s", argv[0]);
	if ((o = http_json(c, &h)))
		cj_print(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : CLI_EXIT_FAILED;
}

const struct cli_command cli_get = { get_usage, NULL, 0, cmd_get };

static const char kill_usage[] =
	"usage: cubicle kill ID...\n"
	"\n"
	"Ends each sandbox and removes it (DELETE). Goes on past a failure; the\n"
	"status is 1 if any failed.\n"
	"\n"
	"example: cubicle kill 3f0c9a7be21d4c55\n";

/* Ends each sandbox of argv[0..n), past failures: 1 if any failed. */
static int cmd_kill(struct cli *c, void *opts, int n, char **argv)
{
	int st = 0;

	(void)opts;
	for (int i = 0; i < n; i++) {
		struct http h = { .method = "DELETE" };

		http_path_add(c->curl, &h.path, "/sandboxes/%s", argv[i]);
		if (http_run(c, &h) < 0)
			st = CLI_EXIT_FAILED;
		http_free(&h);
	}
	return st;
}

const struct cli_command cli_kill = { kill_usage, NULL, 0, cmd_kill };

static const char timeout_usage[] =
	"usage: cubicle timeout ID SECONDS\n"
	"\n"
	"Ends sandbox ID that many seconds from now (instead of at its old\n"
	"timeout), and prints when: its new expires_at.\n"
	"\n"
	"example: cubicle timeout 3f0c9a7be21d4c55 600\n";

/* Sets sandbox argv[0] to end argv[1] seconds from now; prints its new expires_at. */
static int cmd_timeout(struct cli *c, void *opts, int n, char **argv)
{
	struct http h = { .method = "POST" };
	struct json_object *o = NULL;
	int st;

	(void)opts, (void)n;
	h.json = json_object_new_object();
	http_path_add(c->curl, &h.path, "/sandboxes/%s/timeout", argv[0]);
	if (opt_add_num(c, h.json, "timeout", "SECONDS", argv[1], 1, INT_MAX) < 0) {
		st = CLI_EXIT_USAGE;
	} else if (!(o = http_json(c, &h))) {
		st = CLI_EXIT_FAILED;
	} else {
		puts(cj_str(o, "expires_at") ?: "");
		st = 0;
	}
	json_object_put(o);
	http_free(&h);
	return st;
}

const struct cli_command cli_timeout = { timeout_usage, NULL, 0, cmd_timeout };
