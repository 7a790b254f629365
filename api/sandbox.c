#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "errf.h"
#include "fdio.h"
#include "log.h"
#include "monitor.h"
#include "rules.h"
#include "vmctl.h"

#define STOP_GRACE_MS 5000      /* SIGTERM, then SIGKILL after this */
#define STATUS_WAIT_MS 2000     /* one status question to a booting agent */
#define POLL_GAP_MS 100         /* between readiness questions */

struct sandboxes {
	const struct api_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t changed;     /* a sandbox was spawned, reaped or removed */
	struct sandbox **list;
	size_t n, cap;
	int wake;                   /* eventfd: the supervisor has work */
	int sigchld;                /* signalfd: a child (or an orphan QEMU) exited */
	pthread_t supervisor;
	bool quit;
	char root[PATH_MAX];        /* DATA/sandboxes */
	char kernel[PATH_MAX];
	struct net_host *net;       /* NULL: sandboxes get no network */
	struct net_dns *dns;
};

const char *sandbox_state_name(enum sandbox_state s)
{
	static const char *const names[] = { "starting", "running", "stopping", "dead" };

	return (unsigned int)s < 4 ? names[s] : "unknown";
}

static void poke(struct sandboxes *t)
{
	uint64_t one = 1;

	if (write(t->wake, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the supervisor will wake. */
	}
}

/* --- the table ---------------------------------------------------------------- */

static void sandbox_free(struct sandbox *sb)
{
	pthread_mutex_destroy(&sb->policy_lock);
	browser_seen_destroy(&sb->browser);
	json_object_put(sb->spec.metadata);
	json_object_put(sb->spec.env);
	activity_destroy(&sb->activity);
	free(sb);
}

void sandbox_put(struct sandboxes *t, struct sandbox *sb)
{
	bool last;

	if (!sb)
		return;
	pthread_mutex_lock(&t->lock);
	last = --sb->refs == 0;
	pthread_mutex_unlock(&t->lock);
	if (last)
		sandbox_free(sb);
}

/* With the lock held. */
static struct sandbox *find(struct sandboxes *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->list[i]->id, id) == 0)
			return t->list[i];
	return NULL;
}

/* With the lock held: takes sb out of the table and drops the table's reference. */
static void unlist(struct sandboxes *t, struct sandbox *sb)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->list[i] != sb)
			continue;
		t->list[i] = t->list[--t->n];
		if (--sb->refs == 0)
			sandbox_free(sb);
		pthread_cond_broadcast(&t->changed);
		return;
	}
}

struct sandbox *sandbox_get(struct sandboxes *t, const char *id)
{
	struct sandbox *sb;

	pthread_mutex_lock(&t->lock);
	sb = find(t, id);
	if (sb)
		sb->refs++;
	pthread_mutex_unlock(&t->lock);
	return sb;
}

enum sandbox_state sandbox_state(struct sandboxes *t, struct sandbox *sb)
{
	enum sandbox_state s;

	pthread_mutex_lock(&t->lock);
	s = sb->state;
	pthread_mutex_unlock(&t->lock);
	return s;
}

/* sb's network goes: its DNS socket, its TAP if the monitor never took it, its namespace. */
static void release_network(struct sandboxes *t, struct sandbox *sb)
{
	if (!sb->networked)
		return;
	if (sb->dns > 0)
		net_dns_remove(t->dns, sb->dns);
	sb->dns = 0;
	if (sb->net.tap_fd >= 0)
		close(sb->net.tap_fd);
	if (sb->net.dns_fd >= 0)
		close(sb->net.dns_fd);
	sb->net.tap_fd = sb->net.dns_fd = -1;
	net_sandbox_down(t->net, &sb->net);
	sb->networked = false;
}

/* --- the supervisor ------------------------------------------------------------ */

/*
 * Starts sb's monitor, with the lock held, on the supervisor's thread (so
 * that PR_SET_PDEATHSIG ties it to cubicled's life, not to a request's).
 */
static void spawn(struct sandboxes *t, struct sandbox *sb)
{
	if (monitor_spawn(t->cfg, t->kernel, sb) < 0)
		sb->spawn_failed = true;
	if (sb->net.tap_fd >= 0) {      /* the monitor has its own now */
		close(sb->net.tap_fd);
		sb->net.tap_fd = -1;
	}
	pthread_cond_broadcast(&t->changed);
}

/*
 * With the lock held: ends sb. Its monitor gets SIGTERM now (it stops QEMU
 * and exits) and SIGKILL STOP_GRACE_MS later (the supervisor's); once
 * reaped, its files and its entry go. One never spawned goes at once.
 */
static void stop(struct sandboxes *t, struct sandbox *sb)
{
	if (sb->state == SANDBOX_DEAD || sb->pid == 0) {
		sb->spawn_failed = true;
		if (!sb->reason[0])
			snprintf(sb->reason, sizeof(sb->reason), "it was ended while starting");
		monitor_rm_dir(sb->dir);
		release_network(t, sb);
		unlist(t, sb);
		return;
	}
	if (sb->state == SANDBOX_STOPPING)
		return;
	sb->state = SANDBOX_STOPPING;
	sb->deadline_ms = clk_mono_ms() + STOP_GRACE_MS;
	kill(sb->pid, SIGTERM);
	poke(t);
}

/* With the lock held: sb's monitor has exited (status from waitpid). */
static void reaped(struct sandboxes *t, struct sandbox *sb, int status)
{
	char q[256];

	close(sb->pidfd);
	sb->pidfd = -1;
	sb->pid = 0;
	if (sb->state == SANDBOX_STOPPING) {
		monitor_rm_dir(sb->dir);
		release_network(t, sb);
		api_log("info", "msg=\"sandbox ended\" sandbox=%s", sb->id);
		unlist(t, sb);
		return;
	}
	monitor_exit_reason(sb, status);
	sb->state = SANDBOX_DEAD;
	monitor_rm_dir(sb->dir);
	release_network(t, sb);
	api_log("warn", "msg=\"sandbox died\" sandbox=%s reason=%s", sb->id,
		api_log_str(q, sizeof(q), sb->reason));
	pthread_cond_broadcast(&t->changed);
}

static void *supervise(void *arg)
{
	struct sandboxes *t = arg;
	struct pollfd *pfd = NULL;
	struct sandbox **who = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		int64_t now = clk_mono_ms(), next = -1;
		size_t n;
		int r, pid, status;

		if (t->quit && t->n == 0)
			break;
		if (cap < t->n + 2) {
			size_t ncap = t->n + 16;
			struct pollfd *p = realloc(pfd, ncap * sizeof(*p));
			struct sandbox **w = p ? realloc(who, ncap * sizeof(*w)) : NULL;

			pfd = p ? p : pfd;
			who = w ? w : who;
			if (!p || !w) {
				/* Out of memory: nothing to wait on but time; a pause, then again. */
				pthread_mutex_unlock(&t->lock);
				clk_pause_ms(100);
				pthread_mutex_lock(&t->lock);
				continue;
			}
			cap = ncap;
		}
		pfd[0] = (struct pollfd){ .fd = t->wake, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = t->sigchld, .events = POLLIN };
		n = 2;
		for (size_t i = 0; i < t->n; i++) {
			struct sandbox *sb = t->list[i];
			int64_t due = -1;

			if (sb->state == SANDBOX_STARTING && sb->pid == 0 && !sb->spawn_failed)
				spawn(t, sb);
			if (sb->state == SANDBOX_RUNNING && now >= sb->deadline_ms) {
				api_log("info", "msg=\"sandbox timed out\" sandbox=%s", sb->id);
				stop(t, sb);
			}
			if (sb->state == SANDBOX_RUNNING)
				due = sb->deadline_ms;
			if (sb->state == SANDBOX_STOPPING && sb->pid > 0) {
				if (now >= sb->deadline_ms) {
					kill(sb->pid, SIGKILL);
					sb->deadline_ms = now + STOP_GRACE_MS;
				}
				due = sb->deadline_ms;
			}
			if (due >= 0 && (next < 0 || due < next))
				next = due;
			if (sb->pidfd >= 0) {
				pfd[n] = (struct pollfd){ .fd = sb->pidfd, .events = POLLIN };
				who[n++] = sb;
				sb->refs++;
			}
		}
		pthread_mutex_unlock(&t->lock);
		r = poll(pfd, n, next < 0 ? -1 : (int)(next > now ? next - now : 0));
		pthread_mutex_lock(&t->lock);
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t v;

			if (read(t->wake, &v, sizeof(v)) < 0) {
				/* Nothing to read: another wake took it. */
			}
		}
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			while (read(t->sigchld, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
		}
		/*
		 * Every child is reaped here: monitors, and as the subreaper,
		 * QEMUs whose monitor was killed before it could reap them.
		 */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (size_t i = 0; i < t->n; i++) {
				if (t->list[i]->pid == pid) {
					reaped(t, t->list[i], status);
					break;
				}
			}
		}
		for (size_t i = 2; i < n; i++)
			if (--who[i]->refs == 0)
				sandbox_free(who[i]);
	}
	pthread_mutex_unlock(&t->lock);
	free(pfd);
	free(who);
	return NULL;
}

/* --- the API ----------------------------------------------------------------- */

/* The ids of the sandboxes a previous cubicled left in root (NULL-terminated, malloc'd). */
static char **leftover_ids(const char *root)
{
	DIR *d = opendir(root);
	char **ids = calloc(1, sizeof(*ids));
	size_t n = 0;

	for (struct dirent *e; d && ids && (e = readdir(d));) {
		char **grown;

		if (e->d_name[0] == '.' || strlen(e->d_name) != SANDBOX_ID_LEN)
			continue;
		grown = realloc(ids, (n + 2) * sizeof(*ids));
		if (!grown)
			break;
		ids = grown;
		ids[n] = strdup(e->d_name);
		ids[n + (ids[n] != NULL)] = NULL;
		n += ids[n] != NULL;
	}
	if (d)
		closedir(d);
	return ids;
}

/*
 * The host's side of the network and the DNS relay, after removing what a
 * crashed cubicled left of its sandboxes' networks.
 */
static int start_network(struct sandboxes *t, char *err, size_t errlen)
{
	const struct api_config *c = t->cfg;
	struct sockaddr_in dns[NET_DNS_MAX_UPSTREAMS];
	unsigned int ndns = c->ndns;
	char **ids = leftover_ids(t->root), state[PATH_MAX + 32];

	memcpy(dns, c->dns, sizeof(dns));
	if (!ndns)
		ndns = net_dns_resolvers("/etc/resolv.conf", dns, NET_DNS_MAX_UPSTREAMS);
	if (!ndns)
		api_log("warn", "msg=\"no IPv4 resolver in /etc/resolv.conf: sandboxes' DNS will "
			"fail (set network.dns)\"");
	snprintf(state, sizeof(state), "%s/network.state", c->data_dir);
	t->net = net_host_new(&c->net_pool, &c->net_open, state, (const char *const *)ids, err, errlen);
	for (size_t i = 0; ids && ids[i]; i++)
		free(ids[i]);
	free(ids);
	if (!t->net) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (--no-network runs sandboxes without one)");
		return -EIO;
	}
	t->dns = net_dns_new(dns, ndns, err, errlen);
	return t->dns ? 0 : -EIO;
}

struct sandboxes *sandboxes_new(const struct api_config *cfg, char *err, size_t errlen)
{
	struct sandboxes *t = calloc(1, sizeof(*t));
	char path[PATH_MAX + 16];
	pthread_condattr_t mono;
	sigset_t chld;

	if (!t) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	t->cfg = cfg;
	t->wake = t->sigchld = -1;
	snprintf(t->root, sizeof(t->root), "%.*s/sandboxes", PATH_MAX - 16, cfg->data_dir);
	/* DATA/sandboxes/ID/vsock_PORT must fit a unix socket's path. */
	if (strlen(t->root) + 1 + SANDBOX_ID_LEN + 16 >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errf(err, errlen, "data dir %s: too long a path for the sandboxes' sockets "
			"(at most %zu characters)", cfg->data_dir,
			sizeof(((struct sockaddr_un *)0)->sun_path) - SANDBOX_ID_LEN - 28);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/kernel.path", cfg->guest_dir);
	if (fdio_read_line(path, t->kernel, sizeof(t->kernel)) <= 0 || access(t->kernel, R_OK)) {
		errf(err, errlen, "no guest kernel: %s names none that can be read (make guest "
			"builds it)", path);
		goto fail;
	}
	if (access(cfg->vmm, X_OK)) {
		errf(err, errlen, "cubicle-vmm %s: %s", cfg->vmm, strerror(errno));
		goto fail;
	}
	if (mkdir(t->root, 0700) < 0 && errno != EEXIST) {
		errf(err, errlen, "%s: %s", t->root, strerror(errno));
		goto fail;
	}
	if (cfg->network && start_network(t, err, errlen) < 0)
		goto fail;
	monitor_clean_leftovers(t->root);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->sigchld = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (t->wake < 0 || t->sigchld < 0) {
		errf(err, errlen, "eventfd/signalfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&t->lock, NULL);
	/* Monotonic: wait_ready's pause between questions is a timed wait on it. */
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&t->changed, &mono);
	pthread_condattr_destroy(&mono);
	if (pthread_create(&t->supervisor, NULL, supervise, t)) {
		errf(err, errlen, "no thread for the supervisor");
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->changed);
		goto fail;
	}
	return t;
fail:
	if (t->wake >= 0)
		close(t->wake);
	if (t->sigchld >= 0)
		close(t->sigchld);
	net_dns_free(t->dns);
	net_host_free(t->net);
	free(t);
	return NULL;
}

void sandboxes_shutdown(struct sandboxes *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->quit) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	t->quit = true;
	for (size_t i = t->n; i-- > 0;)
		stop(t, t->list[i]);
	pthread_mutex_unlock(&t->lock);
	poke(t);
	pthread_join(t->supervisor, NULL);
}

void sandboxes_free(struct sandboxes *t)
{
	if (!t)
		return;
	sandboxes_shutdown(t);
	free(t->list);
	net_dns_free(t->dns);
	net_host_free(t->net);
	close(t->wake);
	close(t->sigchld);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->changed);
	free(t);
}

static bool plain_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && s[n] == '\0';
}

/* Checks spec against cfg's limits and the templates there are. */
static int check_spec(const struct api_config *c, const struct sandbox_spec *s, char *err,
		      size_t errlen)
{
	char path[PATH_MAX + API_NAME_MAX + 16], image[PATH_MAX];

	if (!plain_name(s->template_name))
		return errf(err, errlen, "template: want a template name");
	snprintf(path, sizeof(path), "%s/%s.path", c->guest_dir, s->template_name);
	if (fdio_read_line(path, image, sizeof(image)) <= 0 || access(image, R_OK))
		return errf(err, errlen, "template '%s': no such template (or its image is not built)",
			s->template_name);
	if (s->vcpus < 1 || s->vcpus > c->max_vcpus)
		return errf(err, errlen, "vcpus: want 1..%u", c->max_vcpus);
	if (s->memory_mib < 256 || s->memory_mib > c->max_memory_mib)
		return errf(err, errlen, "memory_mib: want 256..%u", c->max_memory_mib);
	if (s->timeout_s < 1 || s->timeout_s > c->max_timeout_s)
		return errf(err, errlen, "timeout: want 1..%u seconds", c->max_timeout_s);
	if (!plain_name(s->keyboard_layout) ||
	    (s->keyboard_variant[0] && !plain_name(s->keyboard_variant)))
		return errf(err, errlen, "keyboard_layout: want an XKB layout name (us, de, fr, ...)");
	return 0;
}

/*
 * A random token of hex digits filling out (len - 1 of them); "" if the
 * kernel gives no randomness (then only the API key opens the ports).
 */
static void new_token(char *out, size_t len)
{
	uint8_t b[32];
	size_t n = (len - 1) / 2;

	out[0] = '\0';
	if (n > sizeof(b))
		n = sizeof(b);
	if (getrandom(b, n, 0) != (ssize_t)n)
		return;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void new_id(char *id)
{
	uint8_t b[SANDBOX_ID_LEN / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t x = (uint64_t)clk_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)clk_mono_ms();

		memcpy(b, &x, sizeof(b) < sizeof(x) ? sizeof(b) : sizeof(x));
	}
	for (size_t i = 0; i < sizeof(b); i++)
		sprintf(id + 2 * i, "%02x", b[i]);
}

/* What sb's agent says of its template's services: 1 ready, -1 failed, 0 not yet (or no answer). */
static int services(const struct sandbox *sb)
{
	struct json_object *reply = NULL, *v;
	struct agent_error ae = { "", "" };
	int ret = 0;

	if (agent_status(sb->vsock, &reply, &ae, STATUS_WAIT_MS) == 0 &&
	    json_object_object_get_ex(reply, "services", &v))
		ret = !strcmp(json_object_get_string(v), "ready") ? 1 :
		      !strcmp(json_object_get_string(v), "failed") ? -1 : 0;
	json_object_put(reply);
	return ret;
}

/*
 * Waits up to POLL_GAP_MS while sb is starting, and whether it still is
 * (else the reason is in err). The agent has no event for its services'
 * start, so they are asked at this pace; a sandbox that dies meanwhile
 * ends the wait at once.
 */
static bool still_starting(struct sandboxes *t, struct sandbox *sb, int64_t wait_ms, char *err,
			   size_t errlen)
{
	struct timespec until = clk_mono_after(wait_ms);
	bool starting;

	pthread_mutex_lock(&t->lock);
	while (sb->state == SANDBOX_STARTING &&
	       pthread_cond_timedwait(&t->changed, &t->lock, &until) != ETIMEDOUT)
		;
	starting = sb->state == SANDBOX_STARTING;
	if (!starting)
		errf(err, errlen, "the sandbox did not start: %s",
		     sb->state == SANDBOX_DEAD ? sb->reason : "it was ended while starting");
	pthread_mutex_unlock(&t->lock);
	return starting;
}

/* sb's VNC port (from its monitor) and passwords (its files); 0, or -EIO with the reason in err. */
static int read_vnc(struct sandbox *sb, char *err, size_t errlen)
{
	char path[PATH_MAX + 16], view[PATH_MAX + 24];
	struct vmctl_display d;

	if (vmctl_display(sb->control, &d, NULL, 5000) == 0)
		sb->vnc_port = d.vnc_port;
	snprintf(path, sizeof(path), "%s/vnc-password", sb->dir);
	snprintf(view, sizeof(view), "%s/vnc-view-password", sb->dir);
	if (!sb->vnc_port || fdio_read_line(path, sb->vnc_password, sizeof(sb->vnc_password)) <= 0 ||
	    fdio_read_line(view, sb->vnc_view_password, sizeof(sb->vnc_view_password)) <= 0) {
		errf(err, errlen, "the sandbox's VNC server did not answer");
		return -EIO;
	}
	return 0;
}

/*
 * Waits for sb's agent to say its services are ready, and reads the
 * sandbox's VNC port and password. 0, or -errno with the reason in err.
 */
static int wait_ready(struct sandboxes *t, struct sandbox *sb, char *err, size_t errlen)
{
	int64_t deadline = clk_mono_ms() + (int64_t)t->cfg->boot_timeout_s * 1000;
	int svc;

	for (int64_t gap = 0; still_starting(t, sb, gap, err, errlen); gap = POLL_GAP_MS) {
		svc = services(sb);
		if (svc > 0)
			return read_vnc(sb, err, errlen);
		if (svc < 0) {
			errf(err, errlen, "the template's services failed to start (see the "
			     "sandbox's console)");
			return -EIO;
		}
		if (clk_mono_ms() >= deadline) {
			errf(err, errlen, "the desktop was not ready within %u s",
			     t->cfg->boot_timeout_s);
			return -ETIMEDOUT;
		}
	}
	return -EIO;
}

/* With the lock held: how many sandboxes count against max_sandboxes. */
static size_t live(struct sandboxes *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->list[i]->state == SANDBOX_STARTING || t->list[i]->state == SANDBOX_RUNNING;
	return n;
}

int sandbox_create(struct sandboxes *t, struct sandbox_spec *spec, struct sandbox **out,
		   char *err, size_t errlen)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));
	struct sandbox **grown;
	int ret;

	*out = NULL;
	if (!sb) {
		json_object_put(spec->metadata);
		json_object_put(spec->env);
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	activity_init(&sb->activity);
	pthread_mutex_init(&sb->policy_lock, NULL);
	browser_seen_init(&sb->browser);
	sb->spec = *spec;
	spec->metadata = spec->env = NULL;
	ret = check_spec(t->cfg, &sb->spec, err, errlen);
	if (ret) {
		sandbox_free(sb);
		return ret;
	}
	new_id(sb->id);
	new_token(sb->port_token, sizeof(sb->port_token));
	/* sandboxes_new made sure these fit. */
	snprintf(sb->dir, sizeof(sb->dir), "%.*s/%s", PATH_MAX - 32, t->root, sb->id);
	snprintf(sb->control, sizeof(sb->control), "%.*s/control", (int)sizeof(sb->control) - 9,
		 sb->dir);
	snprintf(sb->vsock, sizeof(sb->vsock), "%.*s/vsock", (int)sizeof(sb->vsock) - 7, sb->dir);
	sb->pidfd = -1;
	net_sandbox_init(&sb->net);
	if (t->net) {
		ret = net_sandbox_up(t->net, sb->id, &sb->spec.policy, &sb->net, err, errlen);
		if (ret) {
			sandbox_free(sb);
			return ret == -EAGAIN ? -EAGAIN : -EIO;
		}
		sb->networked = true;
		sb->dns = net_dns_add(t->dns, sb->net.dns_fd,
				      sb->spec.policy.internet && sb->spec.policy.dns);
		sb->net.dns_fd = -1;    /* the relay's, even when it failed */
		if (sb->dns < 0) {
			errf(err, errlen, "network: DNS relay: %s", strerror((int)-sb->dns));
			sb->dns = 0;
			release_network(t, sb);
			sandbox_free(sb);
			return -EIO;
		}
	}
	sb->created_ms = clk_wall_ms();
	sb->state = SANDBOX_STARTING;
	sb->refs = 2;           /* the table's and the caller's */

	pthread_mutex_lock(&t->lock);
	if (t->quit || live(t) >= t->cfg->max_sandboxes) {
		pthread_mutex_unlock(&t->lock);
		errf(err, errlen, "%s", t->quit ? "cubicled is shutting down" :
			"too many sandboxes: at the limit (max_sandboxes)");
		release_network(t, sb);
		sandbox_free(sb);
		return -EAGAIN;
	}
	grown = t->n == t->cap ? realloc(t->list, (t->cap + 16) * sizeof(*grown)) : t->list;
	if (!grown || mkdir(sb->dir, 0700) < 0) {
		pthread_mutex_unlock(&t->lock);
		errf(err, errlen, "%s: %s", sb->dir, grown ? strerror(errno) : "out of memory");
		release_network(t, sb);
		sandbox_free(sb);
		return -EIO;
	}
	if (grown != t->list)
		t->cap += 16;
	t->list = grown;
	t->list[t->n++] = sb;
	poke(t);
	while (sb->pid == 0 && !sb->spawn_failed)
		pthread_cond_wait(&t->changed, &t->lock);
	pthread_mutex_unlock(&t->lock);

	if (sb->spawn_failed) {
		errf(err, errlen, "the sandbox did not start: %s", sb->reason);
		ret = -EIO;
	} else {
		ret = wait_ready(t, sb, err, errlen);
	}
	if (ret) {
		char q[300];

		api_log("warn", "msg=\"create failed\" sandbox=%s reason=%s", sb->id,
			api_log_str(q, sizeof(q), err));
		sandbox_destroy(t, sb->id);
		sandbox_put(t, sb);
		return ret;
	}
	pthread_mutex_lock(&t->lock);
	if (sb->state == SANDBOX_STARTING) {
		sb->state = SANDBOX_RUNNING;
		sb->deadline_ms = clk_mono_ms() + (int64_t)sb->spec.timeout_s * 1000;
	} else {
		ret = -EIO;
		errf(err, errlen, "the sandbox did not start: %s", sb->state == SANDBOX_DEAD ?
			sb->reason : "it was ended while starting");
	}
	pthread_mutex_unlock(&t->lock);
	if (ret) {
		sandbox_destroy(t, sb->id);
		sandbox_put(t, sb);
		return ret;
	}
	poke(t);
	api_log("info", "msg=\"sandbox ready\" sandbox=%s template=%s boot_ms=%lld", sb->id,
		sb->spec.template_name, (long long)(clk_wall_ms() - sb->created_ms));
	*out = sb;
	return 0;
}

int sandbox_destroy(struct sandboxes *t, const char *id)
{
	struct sandbox *sb;

	pthread_mutex_lock(&t->lock);
	sb = find(t, id);
	if (!sb) {
		pthread_mutex_unlock(&t->lock);
		return -ENOENT;
	}
	sb->refs++;
	stop(t, sb);
	while (find(t, id) == sb)
		pthread_cond_wait(&t->changed, &t->lock);
	pthread_mutex_unlock(&t->lock);
	sandbox_put(t, sb);
	return 0;
}

int sandbox_set_timeout(struct sandboxes *t, struct sandbox *sb, unsigned int timeout_s)
{
	int ret = 0;

	if (timeout_s < 1 || timeout_s > t->cfg->max_timeout_s)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (sb->state != SANDBOX_RUNNING) {
		ret = -ESRCH;
	} else {
		sb->deadline_ms = clk_mono_ms() + (int64_t)timeout_s * 1000;
	}
	pthread_mutex_unlock(&t->lock);
	poke(t);
	return ret;
}

static void add_time(struct json_object *o, const char *key, int64_t ms)
{
	char buf[40];
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, key, json_object_new_string(buf));
}

static struct json_object *describe_network(struct sandbox *sb);

void sandbox_port_host(const struct api_config *cfg, const struct sandbox *sb, const char *port,
		       char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s.%s:%u", port, sb->id, cfg->ports_domain, cfg->listen_port);
}

/* How its guest's ports are reached: the host name's pattern and the token. */
static struct json_object *describe_ports(struct sandboxes *t, struct sandbox *sb)
{
	struct json_object *o = json_object_new_object();
	char host[API_NAME_MAX + 80];

	sandbox_port_host(t->cfg, sb, "{port}", host, sizeof(host));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "token", json_object_new_string(sb->port_token));
	return o;
}

/* With the lock held. */
static struct json_object *describe(struct sandboxes *t, struct sandbox *sb)
{
	struct json_object *o = json_object_new_object(), *vnc;
	char res[32];

	json_object_object_add(o, "id", json_object_new_string(sb->id));
	json_object_object_add(o, "state", json_object_new_string(sandbox_state_name(sb->state)));
	json_object_object_add(o, "template", json_object_new_string(sb->spec.template_name));
	snprintf(res, sizeof(res), "%ux%u", sb->spec.width, sb->spec.height);
	json_object_object_add(o, "resolution", json_object_new_string(res));
	json_object_object_add(o, "vcpus", json_object_new_int((int)sb->spec.vcpus));
	json_object_object_add(o, "memory_mib", json_object_new_int((int)sb->spec.memory_mib));
	json_object_object_add(o, "keyboard_layout",
			       json_object_new_string(sb->spec.keyboard_layout));
	if (sb->spec.keyboard_variant[0])
		json_object_object_add(o, "keyboard_variant",
				       json_object_new_string(sb->spec.keyboard_variant));
	json_object_object_add(o, "metadata", sb->spec.metadata ?
			       json_object_get(sb->spec.metadata) : json_object_new_object());
	add_time(o, "created_at", sb->created_ms);
	json_object_object_add(o, "network", describe_network(sb));
	json_object_object_add(o, "ports", describe_ports(t, sb));
	if (sb->state == SANDBOX_RUNNING) {
		int64_t left = sb->deadline_ms - clk_mono_ms();

		add_time(o, "expires_at", clk_wall_ms() + left);
		json_object_object_add(o, "timeout_left_s", json_object_new_int64((left + 999) / 1000));
	}
	if (sb->state == SANDBOX_DEAD)
		json_object_object_add(o, "reason", json_object_new_string(sb->reason));
	if (sb->state == SANDBOX_RUNNING && sb->vnc_port) {
		vnc = json_object_new_object();
		json_object_object_add(vnc, "host", json_object_new_string(t->cfg->vnc_host));
		json_object_object_add(vnc, "port", json_object_new_int(sb->vnc_port));
		json_object_object_add(o, "vnc", vnc);
	}
	return o;
}

/* With the lock held. */
static struct json_object *describe_network(struct sandbox *sb)
{
	struct json_object *o;

	if (!sb->networked) {
		o = json_object_new_object();
		json_object_object_add(o, "enabled", json_object_new_boolean(false));
		return o;
	}
	o = net_policy_json(&sb->spec.policy);
	json_object_object_add(o, "enabled", json_object_new_boolean(true));
	json_object_object_add(o, "address", json_object_new_string(NET_GUEST_ADDR));
	json_object_object_add(o, "hostname", json_object_new_string(sb->id));
	return o;
}

struct json_object *sandbox_network_json(struct sandboxes *t, struct sandbox *sb)
{
	struct json_object *o;

	pthread_mutex_lock(&t->lock);
	o = describe_network(sb);
	pthread_mutex_unlock(&t->lock);
	return o;
}

const struct net_open *sandboxes_net_open(struct sandboxes *t)
{
	return &t->cfg->net_open;
}

int sandbox_set_network(struct sandboxes *t, struct sandbox *sb, const struct net_policy *p,
			char *err, size_t errlen)
{
	struct net_sandbox net;
	int ret = 0;

	/*
	 * Changes one at a time, the rules applied outside the table's lock (a
	 * thread, a namespace, a transaction): the policy shown is the one
	 * applied last.
	 */
	pthread_mutex_lock(&sb->policy_lock);
	pthread_mutex_lock(&t->lock);
	if (!sb->networked)
		ret = -ENODEV;
	else if (sb->state != SANDBOX_RUNNING && sb->state != SANDBOX_STARTING)
		ret = -ESRCH;
	net = sb->net;          /* its namespace's name, as it is now */
	pthread_mutex_unlock(&t->lock);
	if (ret == 0 && net_sandbox_set_policy(t->net, &net, p, err, errlen) < 0)
		ret = -EIO;
	pthread_mutex_lock(&t->lock);
	if (ret == 0 && sb->networked) {
		sb->spec.policy = *p;
		net_dns_set_allowed(t->dns, sb->dns, p->internet && p->dns);
	} else if (ret == -EIO && !sb->networked) {
		ret = -ESRCH;   /* it ended meanwhile */
	}
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&sb->policy_lock);
	return ret;
}

void sandbox_set_resolution(struct sandboxes *t, struct sandbox *sb, uint32_t w, uint32_t h)
{
	pthread_mutex_lock(&t->lock);
	sb->spec.width = w;
	sb->spec.height = h;
	pthread_mutex_unlock(&t->lock);
}

struct json_object *sandbox_json(struct sandboxes *t, struct sandbox *sb)
{
	struct json_object *o;

	pthread_mutex_lock(&t->lock);
	o = describe(t, sb);
	pthread_mutex_unlock(&t->lock);
	return o;
}

/* Whether sb's metadata holds every key of match with the same string. */
static bool matches(const struct sandbox *sb, struct json_object *match)
{
	if (!match)
		return true;
	json_object_object_foreach(match, key, want) {
		struct json_object *have;

		if (!sb->spec.metadata || !json_object_object_get_ex(sb->spec.metadata, key, &have) ||
		    strcmp(json_object_get_string(have), json_object_get_string(want)))
			return false;
	}
	return true;
}

struct json_object *sandboxes_json(struct sandboxes *t, const char *state,
				   struct json_object *match)
{
	struct json_object *list = json_object_new_array();

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++) {
		struct sandbox *sb = t->list[i];

		if ((state && strcmp(state, sandbox_state_name(sb->state))) || !matches(sb, match))
			continue;
		json_object_array_add(list, describe(t, sb));
	}
	pthread_mutex_unlock(&t->lock);
	return list;
}
