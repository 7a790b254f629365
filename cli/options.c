/* The option parser of options.h. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The field of store that o fills. */
static void *field(const struct opt *o, void *store)
{
	return (char *)store + o->at;
}

static const struct opt *find_opt(const struct opt *opts, const char *arg, size_t len)
{
	for (; opts && opts->name; opts++)
		if ((strlen(opts->name) == len && !strncmp(opts->name, arg, len)) ||
		    (opts->alias && strlen(opts->alias) == len && !strncmp(opts->alias, arg, len)))
			return opts;
	return NULL;
}

/* Adds "K=V" to o's object in store (made on first use): 0, -EINVAL or -ENOMEM after saying. */
static int add_pair(const struct cli *c, const struct opt *o, void *store, const char *kv)
{
	struct json_object **map = field(o, store);
	const char *eq = strchr(kv, '=');
	char *name;

	if (!eq || eq == kv)
		return cli_usage_err(c, "%s '%s': want KEY=VALUE", o->name, kv);
	if (!*map)
		*map = json_object_new_object();
	name = strndup(kv, (size_t)(eq - kv));
	if (!*map || !name) {
		free(name);
		cli_fail("out of memory");
		return -ENOMEM;
	}
	json_object_object_add(*map, name, json_object_new_string(eq + 1));
	free(name);
	return 0;
}

/*
 * Takes the option argv[*i] (and its value: after '=', or the next
 * argument, which *i then moves to) into store; 0, or as opt_parse.
 */
static int take_opt(const struct cli *c, const struct opt *opts, void *store, int argc,
		    char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strncmp(arg, "--", 2) ? NULL : strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_opt(opts, arg, len);
	const char *val = eq ? eq + 1 : NULL;

	if (!o)
		return cli_usage_err(c, "unknown option '%.*s'", (int)len, arg);
	if (o->kind == OPT_FLAG) {
		if (val)
			return cli_usage_err(c, "%.*s takes no value", (int)len, arg);
		*(bool *)field(o, store) = true;
		return 0;
	}
	if (!val && *i + 1 >= argc)
		return cli_usage_err(c, "%.*s needs a value", (int)len, arg);
	if (!val)
		val = argv[++*i];
	if (o->kind == OPT_PAIR)
		return add_pair(c, o, store, val);
	*(const char **)field(o, store) = val;
	return 0;
}

int opt_parse(const struct cli *c, const struct opt *opts, void *store, int argc, char **argv,
	      int stop, struct opt_args *out)
{
	bool rest = false;
	int ret;

	out->n = 0;
	out->help = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		rest = rest || (stop && out->n >= stop);
		/* "-", and "-5" (a number: refused by its range check, not as an option) */
		if (rest || a[0] != '-' || !a[1] || isdigit((unsigned char)a[1])) {
			argv[out->n++] = argv[i];
		} else if (!strcmp(a, "--")) {
			rest = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			out->help = true;
			return 0;
		} else if ((ret = take_opt(c, opts, store, argc, argv, &i)) < 0) {
			return ret;
		}
	}
	return 0;
}

void opt_free(const struct opt *opts, void *store)
{
	for (; store && opts && opts->name; opts++)
		if (opts->kind == OPT_PAIR)
			json_object_put(*(struct json_object **)field(opts, store));
}

bool opt_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool opt_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

int opt_add_num(const struct cli *c, struct json_object *o, const char *key, const char *what,
		const char *s, long lo, long hi)
{
	long v;

	if (!s)
		return 0;
	if (!opt_long(s, lo, hi, &v))
		return cli_usage_err(c, "%s '%s': want a whole number %ld..%ld", what, s, lo, hi);
	json_object_object_add(o, key, json_object_new_int64(v));
	return 0;
}
