/*
 * What a template runs besides the agent: its start.d services, the desktop
 * readiness they signal, and its display.d hooks on monitor hotplug.
 *
 * start.d: every executable in START_DIR, in name order, as root, in the
 * background, output on the console. A service forks what must keep running
 * and exits 0 once it is usable (the desktop session script exits when the
 * window manager and panel are up). When every one has exited 0 the agent
 * says "desktop ready" (templates with DESKTOP_FILE) or "services ready".
 *
 * display.d: the template's hooks that make the X screen follow the host's.
 * The host asks through the agent (op "display", with the size in
 * CUBICLE_DISPLAY_WIDTH/HEIGHT), or the kernel announces a new mode (a
 * virtio-gpu display event, then a DRM hotplug uevent; nothing else in the
 * guest listens, there is no udevd) and the hooks take the preferred mode.
 * One change at a time; hooks still running after the timeout are killed.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_log.h"
#include "clock.h"
#include "services.h"

#define START_DIR "/etc/cubicle/start.d"
#define DISPLAY_DIR "/etc/cubicle/display.d"
#define DESKTOP_FILE "/etc/cubicle/desktop"
#define MAX_SERVICES 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_done;        /* on CLOCK_MONOTONIC, ag_services_init() */
static pid_t pids[MAX_SERVICES];
static int npids, nrunning;
static bool launching = true;           /* start.d not all started yet */
/* display.d hooks a request waits for: pid, then status once reaped. */
static pid_t hook_pids[MAX_SERVICES];
static int hook_status[MAX_SERVICES];
static int nhooks;
static bool failed;
static char display[32];

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

extern char **environ;

/* The agent's environment plus extra (built before fork: the child only execs). */
static char **env_with(char *const *extra)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	for (size_t i = 0; extra && extra[i]; i++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; environ[i]; i++)
		env[k++] = environ[i];
	for (size_t i = 0; extra && extra[i]; i++)
		env[k++] = extra[i];
	return env;
}

/*
 * Starts path as root in a session of its own, output on the console. The
 * pid, or -errno. The child only makes system calls until exec: the agent
 * has threads, one of which may hold a lock the child would need.
 */
static pid_t spawn(const char *path, char *const *env)
{
	char *const argv[] = { (char *)path, NULL };
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		if (sigprocmask(SIG_SETMASK, &none, NULL) == 0 && signal(SIGPIPE, SIG_DFL) != SIG_ERR &&
		    setsid() >= 0)
			execve(path, argv, env);
		_exit(127);
	}
	return pid;
}

enum track { TRACK_SERVICE, TRACK_HOOK };

/*
 * Runs every executable of dir with env added; records the pids as told. A
 * hook that cannot start counts as a failed one (status 127).
 */
static void run_dir(const char *dir, enum track track, char *const *env)
{
	struct dirent **names;
	int n = scandir(dir, &names, not_hidden, alphasort);
	char **envp;

	if (n < 0 && errno != ENOENT)
		ag_say("%s: %s", dir, strerror(errno));
	envp = env_with(env);
	for (int i = 0; i < n; i++) {
		char path[512];
		pid_t pid;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (access(path, X_OK) != 0)
			continue;
		pthread_mutex_lock(&lock);
		pid = envp ? spawn(path, envp) : -ENOMEM;
		if (pid < 0 && track == TRACK_SERVICE)
			failed = true;
		else if (pid > 0 && track == TRACK_SERVICE && npids < MAX_SERVICES) {
			pids[npids++] = pid;
			nrunning++;
		} else if (track == TRACK_HOOK && nhooks < MAX_SERVICES) {
			hook_pids[nhooks] = pid;
			hook_status[nhooks++] = pid < 0 ? 127 << 8 : -1;
		}
		pthread_mutex_unlock(&lock);
		if (pid < 0)
			ag_say("started %s (fork failed: %s)", path, strerror(-(int)pid));
		else
			ag_say("started %s", path);
	}
	if (n > 0)
		free(names);
	free(envp);
}

/* Says how start.d ended, once every service has; under lock. */
static void say_ready(void)
{
	if (failed)
		ag_say("services failed");
	else
		ag_say(display[0] ? "desktop ready" : "services ready");
}

void ag_services_init(void)
{
	FILE *f = fopen(DESKTOP_FILE, "re");
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&hook_done, &attr);
	pthread_condattr_destroy(&attr);

	if (f) {
		if (fgets(display, sizeof(display), f))
			display[strcspn(display, " \t\n")] = '\0';
		fclose(f);
		if (!display[0])
			snprintf(display, sizeof(display), ":0");
	}
}

void ag_services_start(void)
{
	run_dir(START_DIR, TRACK_SERVICE, NULL);
	pthread_mutex_lock(&lock);
	launching = false;
	if (nrunning == 0)
		say_ready();
	pthread_mutex_unlock(&lock);
}

bool ag_services_reaped(pid_t pid, int status)
{
	bool ours = false;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < nhooks; i++) {
		if (hook_pids[i] == pid && hook_status[i] < 0) {
			hook_status[i] = status;
			ours = true;
			pthread_cond_broadcast(&hook_done);
		}
	}
	for (int i = 0; i < npids; i++) {
		if (pids[i] != pid)
			continue;
		pids[i] = 0;
		ours = true;
		nrunning--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed = true;
			ag_say("service %d ended with %s %d", (int)pid,
			       WIFEXITED(status) ? "status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		if (nrunning == 0 && !launching)
			say_ready();
	}
	pthread_mutex_unlock(&lock);
	return ours;
}

/* Whether every hook has ended; under lock. */
static bool hooks_done(void)
{
	for (int i = 0; i < nhooks; i++)
		if (hook_status[i] < 0)
			return false;
	return true;
}

/* Only one display change at a time: hooks of two would fight over X. */
static pthread_mutex_t display_lock = PTHREAD_MUTEX_INITIALIZER;

int ag_services_set_display(unsigned int width, unsigned int height, int timeout_ms, char *why,
			    size_t whylen)
{
	char w[48], h[48];
	char *env[] = { w, h, NULL };
	struct timespec deadline;
	int ret = 0, n;

	if (!display[0]) {
		snprintf(why, whylen, "this template has no desktop");
		return -ENODEV;
	}
	snprintf(w, sizeof(w), "CUBICLE_DISPLAY_WIDTH=%u", width);
	snprintf(h, sizeof(h), "CUBICLE_DISPLAY_HEIGHT=%u", height);
	pthread_mutex_lock(&display_lock);
	pthread_mutex_lock(&lock);
	nhooks = 0;
	pthread_mutex_unlock(&lock);
	run_dir(DISPLAY_DIR, TRACK_HOOK, width ? env : NULL);
	deadline = clk_mono_after(timeout_ms);
	pthread_mutex_lock(&lock);
	while (!hooks_done() && ret == 0)
		ret = -pthread_cond_timedwait(&hook_done, &lock, &deadline);
	n = nhooks;
	if (ret == -ETIMEDOUT) {
		/* Stopped, so they cannot fight the next change's hooks. */
		for (int i = 0; i < n; i++)
			if (hook_status[i] < 0 && hook_pids[i] > 0 && kill(-hook_pids[i], SIGKILL) < 0 &&
			    errno != ESRCH)
				ag_say("stopping display.d hook %d: %s", (int)hook_pids[i], strerror(errno));
		snprintf(why, whylen, "the display.d hooks took over %d s", timeout_ms / 1000);
	}
	else if (n == 0) {
		snprintf(why, whylen, "no display.d hooks in this template");
		ret = -ENOENT;
	}
	for (int i = 0; i < n && ret == 0; i++) {
		if (!WIFEXITED(hook_status[i]) || WEXITSTATUS(hook_status[i]) != 0) {
			snprintf(why, whylen, "a display.d hook failed (status %d; see the console)",
				 WIFEXITED(hook_status[i]) ? WEXITSTATUS(hook_status[i]) : 128 + WTERMSIG(hook_status[i]));
			ret = -EIO;
		}
	}
	nhooks = 0;
	pthread_mutex_unlock(&lock);
	pthread_mutex_unlock(&display_lock);
	return ret;
}

const char *ag_services_state(void)
{
	const char *s;

	pthread_mutex_lock(&lock);
	s = nrunning > 0 || launching ? "starting" : failed ? "failed" : "ready";
	pthread_mutex_unlock(&lock);
	return s;
}

const char *ag_services_display(void)
{
	return display[0] ? display : NULL;
}

/* True for "change" uevents of a DRM device that carry HOTPLUG=1. */
static bool is_drm_hotplug(const char *buf, size_t len)
{
	bool change = false, drm = false, hotplug = false;

	for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
		const char *kv = buf + off;

		change |= strcmp(kv, "ACTION=change") == 0;
		drm |= strcmp(kv, "SUBSYSTEM=drm") == 0;
		hotplug |= strcmp(kv, "HOTPLUG=1") == 0;
	}
	return change && drm && hotplug;
}

/* The watcher's thread (arg: its netlink socket): the display.d hooks on every DRM hotplug. */
static void *watch_uevents(void *arg)
{
	int fd = (int)(long)arg;
	char buf[8192];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			ag_say("uevents: %s", strerror(errno));
			return NULL;
		}
		buf[n] = '\0';
		if (is_drm_hotplug(buf, (size_t)n)) {
			char why[256];

			if (ag_services_set_display(0, 0, 20000, why, sizeof(why)) < 0)
				ag_say("display hotplug: %s", why);
		}
	}
}

void ag_services_watch_display(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	pthread_t tid;
	int fd, ret;

	if (access(DISPLAY_DIR, F_OK) != 0)
		return;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	ret = fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno :
	      pthread_create(&tid, NULL, watch_uevents, (void *)(long)fd);
	if (ret) {
		ag_say("display hotplug hooks off: %s", strerror(ret));
		if (fd >= 0)
			close(fd);
		return;
	}
	pthread_detach(tid);
}
