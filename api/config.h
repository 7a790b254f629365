/*
 * cubicled's settings: the command line over an optional JSON config file
 * (docs/api.md, "Configuration"), with defaults for new sandboxes and the
 * limits requests are held to.
 */
#ifndef CUBICLE_API_CONFIG_H
#define CUBICLE_API_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "dns.h"
#include "policy.h"

#define API_NAME_MAX 64
#define API_URL_MAX 512

struct api_config {
	char listen_host[API_NAME_MAX];  /* numeric IPv4 address */
	uint16_t listen_port;
	char data_dir[PATH_MAX];
	char config_path[PATH_MAX];      /* "" when there is none */
	char vmm[PATH_MAX];              /* cubicle-vmm */
	char guest_dir[PATH_MAX];        /* kernel.path and <template>.path */
	char qemu[PATH_MAX];             /* "" for cubicle-vmm's default */
	char vnc_host[API_NAME_MAX];     /* where sandboxes' VNC servers listen */
	char web_dir[PATH_MAX];          /* the web console: console/ and novnc/ */
	char ports_domain[API_NAME_MAX]; /* guest ports at PORT-ID.<this>: "localhost" */
	char search_url[API_URL_MAX];    /* Gemini's search: the page the browser opens */

	/* Defaults for a new sandbox. */
	char template_name[API_NAME_MAX];
	uint32_t width, height;
	unsigned int vcpus, memory_mib;
	unsigned int timeout_s;
	char keyboard_layout[API_NAME_MAX];

	/* Networking (docs/networking.md): on unless --no-network or network.enabled false. */
	bool network;
	struct net_cidr net_pool;        /* the sandboxes' /30s on the host: 10.231.0.0/16 */
	struct net_open net_open;        /* always-denied ranges the operator opened */
	struct sockaddr_in dns[NET_DNS_MAX_UPSTREAMS];
	unsigned int ndns;               /* 0: the host's /etc/resolv.conf at start */

	/* Limits. */
	unsigned int max_sandboxes;
	unsigned int max_vcpus, max_memory_mib;
	unsigned int max_timeout_s;
	unsigned int boot_timeout_s;     /* for a create to reach a ready desktop */
	size_t max_body;                 /* a JSON request body */
	uint64_t max_upload;             /* a file upload */
};

/* The built-in defaults; vmm and guest_dir from the directory of self_exe. */
void api_config_defaults(struct api_config *c, const char *self_exe);

/*
 * Reads a JSON config file over c: an object whose keys are the field
 * names above (listen, vnc_host, template, resolution "WxH", vcpus,
 * memory_mib, timeout_s, keyboard_layout, max_sandboxes, max_vcpus,
 * max_memory_mib, max_timeout_s, boot_timeout_s, max_body, max_upload, vmm,
 * guest_dir, qemu, web_dir, ports_domain, search_url, and network: an object of enabled,
 * pool, open
 * and dns). 0, or -errno with a one-line reason in err naming the
 * key (an unknown key is an error).
 */
int api_config_load(struct api_config *c, const char *path, char *err, size_t errlen);

/* "127.0.0.1:8080" (or ":8080", or "8080") into c; 0 or -EINVAL. */
int api_config_listen(struct api_config *c, const char *text);

/* "1280x800" to *w, *h within 64..8192; false if not one. */
bool api_parse_resolution(const char *text, uint32_t *w, uint32_t *h);

/* Whether the limits hold together (defaults within limits); err says why not. */
bool api_config_check(const struct api_config *c, char *err, size_t errlen);

#endif
