/*
 * cubicle-agent: the guest's PID 1. Sets up the system, serves commands and
 * files to the host on vsock port AGENT_PORT (server.c,
 * docs/agent-protocol.md), reaps every child, runs a shell on the console
 * for people, and powers the machine off on request or when that shell ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_log.h"
#include "exec.h"
#include "fdio.h"
#include "net.h"
#include "power.h"
#include "server.h"
#include "services.h"

#define PATH_DEFAULT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static pid_t console_shell = -1;

static void mount_one(const char *src, const char *dst, const char *type,
		      unsigned long flags, const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		ag_say("mkdir %s: %s", dst, strerror(errno));
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		ag_say("mount %s on %s: %s", type, dst, strerror(errno));
}

/* The mounts, name and PATH every command expects; what fails is said and skipped. */
static void setup_system(void)
{
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	mount_one("proc", "/proc", "proc", nosuid, NULL);
	mount_one("sysfs", "/sys", "sysfs", nosuid, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "gid=5,mode=0620,ptmxmode=0666");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	if (mount(NULL, "/", NULL, MS_REMOUNT, NULL) < 0)
		ag_say("remount / read-write: %s", strerror(errno));
	if (setenv("PATH", PATH_DEFAULT, 1) < 0)
		ag_say("PATH: %s", strerror(errno));
}

/* Whether the kernel command line has word on its own. */
static bool cmdline_has(const char *word)
{
	char buf[4096];

	if (fdio_read_file("/proc/cmdline", buf, sizeof(buf)) <= 0)
		return false;
	for (char *save, *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, word) == 0)
			return true;
	return false;
}

static void report_hwrng(void)
{
	char name[64] = "none";
	FILE *f = fopen("/sys/class/misc/hw_random/rng_current", "re");

	if (f) {
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
	}
	ag_say("hwrng %s", name);
}

/*
 * In the console shell's child, before exec: a step that fails is said with
 * write(2) alone (another thread may hold stdio's lock) and skipped, since
 * a shell that ends powers the machine off.
 */
static void child_step(int ret, const char *what)
{
	static const char pre[] = "cubicle-agent: console shell: ";

	if (ret >= 0)
		return;
	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, " failed\n", 8);
}

/* A login shell on the console, as root; its pid, or -errno. */
static pid_t start_console_shell(void)
{
	char *const argv[] = { "bash", "-l", NULL };
	char *const envp[] = { "HOME=/root", "TERM=vt100", "USER=root", "PATH=" PATH_DEFAULT, NULL };
	sigset_t none;
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid < 0 ? -errno : pid;
	sigemptyset(&none);
	child_step(sigprocmask(SIG_SETMASK, &none, NULL), "sigprocmask");
	child_step(setsid(), "setsid");
	fd = open("/dev/console", O_RDWR);
	child_step(fd, "open /dev/console");
	if (fd >= 0) {
		child_step(ioctl(fd, TIOCSCTTY, 1), "TIOCSCTTY");
		child_step(dup2(fd, 0), "dup2 stdin");
		child_step(dup2(fd, 1), "dup2 stdout");
		child_step(dup2(fd, 2), "dup2 stderr");
		if (fd > 2)
			close(fd);
	}
	if (chdir("/root") < 0)
		child_step(chdir("/"), "chdir");
	execve("/bin/bash", argv, envp);
	child_step(-1, "exec /bin/bash");
	_exit(127);
}

/* PID 1 reaps everything; commands the agent started are told their status. */
static void *reaper(void *arg)
{
	sigset_t set;
	int sig, status, ret;
	pid_t pid;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == console_shell)
				ag_power_off();
			if (!ag_services_reaped(pid, status))
				ag_exec_reaped(pid, status);
		}
		ret = sigwait(&set, &sig);
		if (ret)
			ag_say("reaper: sigwait: %s", strerror(ret));
	}
	return NULL;
}

/* Children are reaped by one thread; every other thread keeps SIGCHLD blocked. */
static void start_reaper(void)
{
	pthread_t tid;
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ret = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (ret == 0)
		ret = pthread_create(&tid, NULL, reaper, NULL);
	if (ret)
		ag_say("no reaper, children stay zombies: %s", strerror(ret));
}

int main(void)
{
	int lfd;

	if (getpid() != 1) {
		fprintf(stderr, "cubicle-agent: must run as PID 1\n");
		return 1;
	}
	setup_system();
	ag_net_setup();
	ag_services_init();
	start_reaper();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		ag_say("SIGPIPE: %s", strerror(errno));

	report_hwrng();
	lfd = ag_server_listen();
	if (lfd < 0)
		ag_say("no vsock: %s; serving nothing", strerror(-lfd));
	ag_say("ready");
	if (cmdline_has("cubicle.once"))
		ag_power_off();
	ag_services_start();
	ag_services_watch_display();
	if (!cmdline_has("cubicle.noshell")) {
		console_shell = start_console_shell();
		if (console_shell < 0)
			ag_say("no console shell: %s", strerror(-console_shell));
	}
	ag_server_run(lfd);
}
