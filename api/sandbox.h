/*
 * The sandbox table: every sandbox is a cubicle-vmm child that cubicled
 * starts, watches and ends. One supervisor thread forks the monitors (so
 * that PR_SET_PDEATHSIG ties them to cubicled's life, not to a request's
 * thread), reaps them through pidfds the moment they exit, and ends
 * sandboxes at their deadline. A sandbox's files (sockets, its disk
 * overlay, logs) live in DATA/sandboxes/ID and go with it.
 */
#ifndef CUBICLE_API_SANDBOX_H
#define CUBICLE_API_SANDBOX_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "browser.h"
#include "activity.h"
#include "config.h"
#include "netns.h"
#include "policy.h"

#define SANDBOX_ID_LEN 16

enum sandbox_state {
	SANDBOX_STARTING,       /* booting, not yet in the list's answers as ready */
	SANDBOX_RUNNING,
	SANDBOX_STOPPING,       /* being ended; gone from the table once reaped */
	SANDBOX_DEAD,           /* its monitor exited on its own; resources freed */
};

/* What a create asks for; checked against the limits by sandbox_create. */
struct sandbox_spec {
	char template_name[API_NAME_MAX];
	uint32_t width, height;
	unsigned int vcpus, memory_mib, timeout_s;
	char keyboard_layout[API_NAME_MAX], keyboard_variant[API_NAME_MAX];
	struct json_object *metadata;   /* object of strings, or NULL; taken */
	struct json_object *env;        /* object of strings, or NULL; taken */
	struct net_policy policy;       /* its egress rules (docs/networking.md) */
};

struct sandbox {
	char id[SANDBOX_ID_LEN + 1];
	struct sandbox_spec spec;
	char dir[PATH_MAX];
	char control[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char vsock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char vnc_password[16];
	char vnc_view_password[16];     /* for viewers that only watch */
	char port_token[33];            /* lets a request reach its guest's ports */
	int vnc_port;
	int64_t created_ms;             /* wall clock, ms since the epoch */
	struct activity activity;       /* what was done to it (its own lock) */
	bool networked;                 /* it has a network of its own (net, dns) */
	struct net_sandbox net;         /* its namespace; tap_fd is the monitor's until spawned */
	int64_t dns;                    /* its DNS relay handle, 0: none */
	pthread_mutex_t policy_lock;    /* one policy change at a time (not the table's lock) */
	struct browser_seen browser;    /* where its browser's session store is (its own lock) */
	/* Below: under the table's lock. */
	enum sandbox_state state;
	int64_t deadline_ms;            /* monotonic */
	int pid, pidfd;
	char reason[256];               /* why it is dead */
	int refs;
	bool spawn_failed;
};

struct sandboxes;

/*
 * Makes the table for cfg (kept, not copied), after ending what a previous
 * cubicled left in DATA/sandboxes (monitors still running are killed),
 * and starts the supervisor. NULL with the reason in err.
 */
struct sandboxes *sandboxes_new(const struct api_config *cfg, char *err, size_t errlen);

/*
 * Ends every sandbox, waits until all are gone, and stops the supervisor;
 * creates fail from then on. Requests that still hold a sandbox may finish.
 */
void sandboxes_shutdown(struct sandboxes *t);

/* Shuts down (if not yet) and frees the table, once no request uses it; accepts NULL. */
void sandboxes_free(struct sandboxes *t);

/*
 * Starts a sandbox and waits until its desktop (or its services) is ready;
 * *out is a reference (sandbox_put). On failure nothing is left behind and
 * err has the reason: -EINVAL (a bad spec), -EAGAIN (at max_sandboxes),
 * -ETIMEDOUT (not ready within boot_timeout_s), -EIO (it failed to start).
 * spec's objects are taken either way.
 */
int sandbox_create(struct sandboxes *t, struct sandbox_spec *spec, struct sandbox **out,
		   char *err, size_t errlen);

/* A reference to sandbox id, or NULL. */
struct sandbox *sandbox_get(struct sandboxes *t, const char *id);
void sandbox_put(struct sandboxes *t, struct sandbox *sb);   /* accepts NULL */

/* The sandbox's state (it may change at any time). */
enum sandbox_state sandbox_state(struct sandboxes *t, struct sandbox *sb);

/*
 * Ends sandbox id and waits until its monitor is gone and its files with
 * it. 0, or -ENOENT.
 */
int sandbox_destroy(struct sandboxes *t, const char *id);

/* Ends it timeout_s from now (1..max_timeout_s); 0, -EINVAL or -ESRCH (not running). */
int sandbox_set_timeout(struct sandboxes *t, struct sandbox *sb, unsigned int timeout_s);

/*
 * Replaces a running sandbox's egress policy; connections the new one
 * forbids are cut. 0; -ENODEV (it has no network); -ESRCH (not running);
 * or -EIO with err.
 */
int sandbox_set_network(struct sandboxes *t, struct sandbox *sb, const struct net_policy *p,
			char *err, size_t errlen);

/* Its network as the API shows it (new object). */
struct json_object *sandbox_network_json(struct sandboxes *t, struct sandbox *sb);

/*
 * The host name (and cubicled's port) that reaches the guest's port of sb
 * through cubicled: PORT-ID.<ports_domain>:LISTEN, port a number or a
 * placeholder such as "{port}".
 */
void sandbox_port_host(const struct api_config *cfg, const struct sandbox *sb, const char *port,
		       char *buf, size_t len);

/* The operator's opened ranges, which a policy is checked against. */
const struct net_open *sandboxes_net_open(struct sandboxes *t);

/* Records its screen's new size (after a resize), for its description. */
void sandbox_set_resolution(struct sandboxes *t, struct sandbox *sb, uint32_t w, uint32_t h);

/* Its description as the API shows it (new object). */
struct json_object *sandbox_json(struct sandboxes *t, struct sandbox *sb);

/*
 * Descriptions of all sandboxes, those in state (NULL: any) whose
 * metadata holds every key and value of match (NULL: all).
 */
struct json_object *sandboxes_json(struct sandboxes *t, const char *state,
				   struct json_object *match);

const char *sandbox_state_name(enum sandbox_state s);

#endif
