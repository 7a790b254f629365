#include "config.h"

#include <arpa/inet.h>
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"

void api_config_defaults(struct api_config *c, const char *self_exe)
{
	char dir[PATH_MAX];

	memset(c, 0, sizeof(*c));
	strcpy(c->listen_host, "127.0.0.1");
	c->listen_port = 8080;
	strcpy(c->vnc_host, "127.0.0.1");
	snprintf(dir, sizeof(dir), "%s", self_exe ? self_exe : ".");
	/* Built side by side: build/api/cubicled, build/vmm/cubicle-vmm, build/guest. */
	snprintf(c->vmm, sizeof(c->vmm), "%s/../vmm/cubicle-vmm", dirname(dir));
	snprintf(c->guest_dir, sizeof(c->guest_dir), "%.*s/../guest", PATH_MAX - 16, dir);
	snprintf(c->web_dir, sizeof(c->web_dir), "%.*s/../web", PATH_MAX - 16, dir);
	strcpy(c->template_name, "desktop");
	c->width = 1280;
	c->height = 800;
	c->vcpus = 2;
	c->memory_mib = 2048;
	c->timeout_s = 300;
	strcpy(c->keyboard_layout, "us");
	c->max_sandboxes = 8;
	c->max_vcpus = 8;
	c->max_memory_mib = 16384;
	c->max_timeout_s = 86400;
	c->boot_timeout_s = 300;
	c->max_body = 1u << 20;
	c->max_upload = 8ull << 30;
	c->network = true;
	strcpy(c->ports_domain, "localhost");
	/* What Google's reference loop for Gemini opens on "search". */
	strcpy(c->search_url, "https://www.google.com/");
	c->net_pool = (struct net_cidr){ 10u << 24 | 231u << 16, 16 };
}

int api_config_listen(struct api_config *c, const char *text)
{
	const char *colon = strrchr(text, ':');
	const char *port = colon ? colon + 1 : text;
	char host[API_NAME_MAX] = "127.0.0.1", *end;
	struct in_addr a;
	unsigned long p;

	if (colon && colon != text) {
		if ((size_t)(colon - text) >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	strcpy(c->listen_host, host);
	c->listen_port = (uint16_t)p;
	return 0;
}

bool api_parse_resolution(const char *text, uint32_t *w, uint32_t *h)
{
	unsigned int x, y;
	int n = 0;

	if (sscanf(text, "%5ux%5u%n", &x, &y, &n) != 2 || text[n] || x < 64 || y < 64 ||
	    x > 8192 || y > 8192)
		return false;
	*w = x;
	*h = y;
	return true;
}

static int get_uint(struct json_object *v, const char *key, uint64_t max, uint64_t *out,
		    char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int) || (n = json_object_get_int64(v)) < 0 ||
	    (uint64_t)n > max)
		return errf(err, errlen, "\"%s\": want a whole number 0..%llu", key,
			    (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int get_str(struct json_object *v, const char *key, char *out, size_t cap, char *err,
		   size_t errlen)
{
	const char *s = json_object_get_string(v);

	if (!json_object_is_type(v, json_type_string) || !*s || strlen(s) >= cap)
		return errf(err, errlen, "\"%s\": want a string of 1..%zu characters", key, cap - 1);
	strcpy(out, s);
	return 0;
}

/* The resolvers sandboxes' DNS goes to: an array of IPv4 addresses. */
static int load_dns(struct api_config *c, struct json_object *v, char *err, size_t errlen)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

	if (!json_object_is_type(v, json_type_array) || n < 1 || n > NET_DNS_MAX_UPSTREAMS)
		return errf(err, errlen, "\"network.dns\": want an array of 1 to %d IPv4 addresses",
			    NET_DNS_MAX_UPSTREAMS);
	for (size_t i = 0; i < n; i++) {
		const char *ip = json_object_get_string(json_object_array_get_idx(v, i));
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };

		if (!ip || inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
			return errf(err, errlen, "\"network.dns\"[%zu]: want an IPv4 address", i);
		c->dns[i] = sin;
	}
	c->ndns = (unsigned int)n;
	return 0;
}

/* The "network" object: enabled, pool, open, dns. */
static int load_network(struct api_config *c, struct json_object *v, char *err, size_t errlen)
{
	char why[200];

	if (!json_object_is_type(v, json_type_object))
		return errf(err, errlen, "\"network\": want an object of enabled, pool, open, dns");
	json_object_object_foreach(v, key, val) {
		if (!strcmp(key, "enabled")) {
			if (!json_object_is_type(val, json_type_boolean))
				return errf(err, errlen, "\"network.enabled\": want true or false");
			c->network = json_object_get_boolean(val);
		} else if (!strcmp(key, "pool")) {
			if (!json_object_is_type(val, json_type_string) ||
			    !net_cidr_parse(json_object_get_string(val), &c->net_pool, why, sizeof(why)))
				return errf(err, errlen, "\"network.pool\": %s",
					    json_object_is_type(val, json_type_string) ? why :
					    "want a network such as \"10.231.0.0/16\"");
			if (c->net_pool.prefix < 8 || c->net_pool.prefix > 28)
				return errf(err, errlen, "\"network.pool\": want a network from /8 to /28");
		} else if (!strcmp(key, "open")) {
			if (net_open_from_json(val, &c->net_open, why, sizeof(why)))
				return errf(err, errlen, "\"%s\"", why);
		} else if (!strcmp(key, "dns")) {
			if (load_dns(c, val, err, errlen))
				return -EINVAL;
		} else
			return errf(err, errlen, "\"network\": unknown key \"%.64s\" (want enabled, "
				    "pool, open, dns)", key);
	}
	return 0;
}

/* One key of the config file into c. */
static int load_key(struct api_config *c, const char *key, struct json_object *v, char *err,
		    size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
		uint64_t max;
		int size;       /* of the field: 4 unsigned int, 8 size_t/uint64_t */
	} nums[] = {
		{ "vcpus", offsetof(struct api_config, vcpus), 64, 4 },
		{ "memory_mib", offsetof(struct api_config, memory_mib), 262144, 4 },
		{ "timeout_s", offsetof(struct api_config, timeout_s), 31536000, 4 },
		{ "max_sandboxes", offsetof(struct api_config, max_sandboxes), 4096, 4 },
		{ "max_vcpus", offsetof(struct api_config, max_vcpus), 64, 4 },
		{ "max_memory_mib", offsetof(struct api_config, max_memory_mib), 262144, 4 },
		{ "max_timeout_s", offsetof(struct api_config, max_timeout_s), 31536000, 4 },
		{ "boot_timeout_s", offsetof(struct api_config, boot_timeout_s), 3600, 4 },
		{ "max_body", offsetof(struct api_config, max_body), 64u << 20, 8 },
		{ "max_upload", offsetof(struct api_config, max_upload), 1ull << 40, 8 },
	};
	static const struct {
		const char *name;
		size_t off, cap;
	} strs[] = {
		{ "vnc_host", offsetof(struct api_config, vnc_host), API_NAME_MAX },
		{ "template", offsetof(struct api_config, template_name), API_NAME_MAX },
		{ "keyboard_layout", offsetof(struct api_config, keyboard_layout), API_NAME_MAX },
		{ "vmm", offsetof(struct api_config, vmm), PATH_MAX },
		{ "guest_dir", offsetof(struct api_config, guest_dir), PATH_MAX },
		{ "qemu", offsetof(struct api_config, qemu), PATH_MAX },
		{ "web_dir", offsetof(struct api_config, web_dir), PATH_MAX },
		{ "ports_domain", offsetof(struct api_config, ports_domain), API_NAME_MAX },
		{ "search_url", offsetof(struct api_config, search_url), API_URL_MAX },
	};
	char buf[API_NAME_MAX];
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].name))
			continue;
		if (get_uint(v, key, nums[i].max, &n, err, errlen))
			return -EINVAL;
		if (nums[i].size == 4)
			*(unsigned int *)((char *)c + nums[i].off) = (unsigned int)n;
		else
			*(uint64_t *)((char *)c + nums[i].off) = n;
		return 0;
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!strcmp(key, strs[i].name))
			return get_str(v, key, (char *)c + strs[i].off, strs[i].cap, err, errlen);
	if (!strcmp(key, "listen")) {
		if (get_str(v, key, buf, sizeof(buf), err, errlen))
			return -EINVAL;
		if (api_config_listen(c, buf) == 0)
			return 0;
		return errf(err, errlen, "\"listen\": want ADDR:PORT with an IPv4 address");
	}
	if (!strcmp(key, "resolution")) {
		if (get_str(v, key, buf, sizeof(buf), err, errlen))
			return -EINVAL;
		if (api_parse_resolution(buf, &c->width, &c->height))
			return 0;
		return errf(err, errlen, "\"resolution\": want WxH within 64x64..8192x8192");
	}
	if (!strcmp(key, "network"))
		return load_network(c, v, err, errlen);
	return errf(err, errlen, "unknown key \"%.64s\"", key);
}

int api_config_load(struct api_config *c, const char *path, char *err, size_t errlen)
{
	struct json_object *root = json_object_from_file(path);
	char why[256];
	int ret = 0;

	if (!root) {
		errf(err, errlen, "config %s: %s", path, json_util_get_last_err() ?: "unreadable");
		err[strcspn(err, "\n")] = '\0';
		return -EINVAL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		errf(err, errlen, "config %s: want a JSON object", path);
		json_object_put(root);
		return -EINVAL;
	}
	json_object_object_foreach(root, key, v) {
		if (load_key(c, key, v, why, sizeof(why))) {
			errf(err, errlen, "config %s: %s", path, why);
			ret = -EINVAL;
			break;
		}
	}
	json_object_put(root);
	if (!ret)
		snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	return ret;
}

bool api_config_check(const struct api_config *c, char *err, size_t errlen)
{
	if (c->vcpus < 1 || c->vcpus > c->max_vcpus)
		errf(err, errlen, "vcpus %u: want 1..max_vcpus (%u)", c->vcpus, c->max_vcpus);
	else if (c->memory_mib < 64 || c->memory_mib > c->max_memory_mib)
		errf(err, errlen, "memory_mib %u: want 64..max_memory_mib (%u)", c->memory_mib,
			c->max_memory_mib);
	else if (c->timeout_s < 1 || c->timeout_s > c->max_timeout_s)
		errf(err, errlen, "timeout_s %u: want 1..max_timeout_s (%u)", c->timeout_s,
			c->max_timeout_s);
	else if (c->max_sandboxes < 1)
		errf(err, errlen, "max_sandboxes: want at least 1");
	else if (c->boot_timeout_s < 1)
		errf(err, errlen, "boot_timeout_s: want at least 1");
	else if (c->max_body < 4096)
		errf(err, errlen, "max_body: want at least 4096");
	else
		return true;
	return false;
}
