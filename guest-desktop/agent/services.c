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
 * display.d: the kernel announces a new display mode (virtio-gpu display
 * event, then a DRM hotplug uevent); nothing else in the guest listens to
 * uevents (there is no udevd), so the agent runs the template's hooks, which
 * apply the new preferred mode to the X screen.
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
#include <unistd.h>

#include "agent.h"

#define START_DIR "/etc/cubicle/start.d"
#define DISPLAY_DIR "/etc/cubicle/display.d"
#define DESKTOP_FILE "/etc/cubicle/desktop"
#define MAX_SERVICES 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t pids[MAX_SERVICES];
static int npids, nrunning;
static bool failed;
static char display[32];

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static pid_t spawn(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Runs every executable of dir; records the pids when track is set. */
static void run_dir(const char *dir, bool track)
{
	struct dirent **names;
	int n = scandir(dir, &names, not_hidden, alphasort);

	for (int i = 0; i < n; i++) {
		char path[512];
		pid_t pid;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (access(path, X_OK) != 0)
			continue;
		pthread_mutex_lock(&lock);
		pid = spawn(path);
		if (pid < 0)
			failed = true;
		else if (track && npids < MAX_SERVICES) {
			pids[npids++] = pid;
			nrunning++;
		}
		pthread_mutex_unlock(&lock);
		say("started %s%s", path, pid < 0 ? " (fork failed)" : "");
	}
	if (n > 0)
		free(names);
}

static void say_ready(void)
{
	if (failed)
		say("services failed");
	else
		say(display[0] ? "desktop ready" : "services ready");
}

void services_init(void)
{
	FILE *f = fopen(DESKTOP_FILE, "re");

	if (f) {
		if (fgets(display, sizeof(display), f))
			display[strcspn(display, " \t\n")] = '\0';
		fclose(f);
		if (!display[0])
			snprintf(display, sizeof(display), ":0");
	}
}

void services_start(void)
{
	run_dir(START_DIR, true);
	pthread_mutex_lock(&lock);
	if (nrunning == 0)
		say_ready();
	pthread_mutex_unlock(&lock);
}

bool services_reaped(pid_t pid, int status)
{
	bool ours = false;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < npids; i++) {
		if (pids[i] != pid)
			continue;
		pids[i] = 0;
		ours = true;
		nrunning--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed = true;
			say("service %d ended with %s %d", (int)pid,
			    WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		if (nrunning == 0)
			say_ready();
	}
	pthread_mutex_unlock(&lock);
	return ours;
}

const char *services_state(void)
{
	const char *s;

	pthread_mutex_lock(&lock);
	s = nrunning > 0 ? "starting" : failed ? "failed" : "ready";
	pthread_mutex_unlock(&lock);
	return s;
}

const char *services_display(void)
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

static void *watch_uevents(void *arg)
{
	int fd = (int)(long)arg;
	char buf[8192];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			say("uevents: %s", strerror(errno));
			return NULL;
		}
		buf[n] = '\0';
		if (is_drm_hotplug(buf, (size_t)n))
			run_dir(DISPLAY_DIR, false);
	}
}

void services_watch_display(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	pthread_t tid;
	int fd;

	if (access(DISPLAY_DIR, F_OK) != 0)
		return;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    pthread_create(&tid, NULL, watch_uevents, (void *)(long)fd) != 0) {
		say("display hotplug hooks off: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	pthread_detach(tid);
}
