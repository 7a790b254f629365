#include "monitor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "rules.h"

/* nftw's step for monitor_rm_dir: a file or an emptied folder goes. */
static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)f;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

void monitor_rm_dir(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		api_log("warn", "msg=\"could not remove a sandbox's files\" dir=%s errno=%d", dir,
			errno);
}

/* The last non-empty line of path (at most len - 1 bytes of it) into buf. */
static void last_line(const char *path, char *buf, size_t len)
{
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	ssize_t n;
	char *end, *start;

	buf[0] = '\0';
	if (size <= 0)
		goto out;
	n = pread(fd, chunk, sizeof(chunk) - 1, size > (off_t)sizeof(chunk) - 1 ?
		  size - (off_t)sizeof(chunk) + 1 : 0);
	if (n <= 0)
		goto out;
	chunk[n] = '\0';
	end = chunk + n;
	while (end > chunk && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	start = strrchr(chunk, '\n');
	snprintf(buf, len, "%.*s", (int)len - 1, start ? start + 1 : chunk);
out:
	if (fd >= 0)
		close(fd);
}

/* The start time of pid (field 22 of /proc/PID/stat), or 0. */
static unsigned long long start_time(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu", &t) != 1)
		t = 0;
	fclose(f);
	return t;
}

void monitor_clean_leftovers(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char dir[PATH_MAX + 300], path[PATH_MAX + 320], line[64];
		unsigned long long st;
		int pid;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		snprintf(path, sizeof(path), "%s/pid", dir);
		if (fdio_read_line(path, line, sizeof(line)) > 0 &&
		    sscanf(line, "%d %llu", &pid, &st) == 2 && pid > 1 && start_time(pid) == st) {
			kill(pid, SIGKILL);
			api_log("info", "msg=\"ended a sandbox a previous cubicled left running\" "
				"sandbox=%.32s pid=%d", e->d_name, pid);
		} else {
			api_log("info", "msg=\"removed a sandbox a previous cubicled left\" "
				"sandbox=%.32s", e->d_name);
		}
		monitor_rm_dir(dir);
	}
	if (d)
		closedir(d);
}

/* A monitor's command line, and the strings it points into. */
struct command_line {
	char disk[PATH_MAX], overlay[PATH_MAX + 16], serial[PATH_MAX + 16], log[PATH_MAX + 16];
	char pwfile[PATH_MAX + 16], viewfile[PATH_MAX + 24], mem[16], cpus[16];
	char display[32], vnc[API_NAME_MAX + 8], append[256];
	const char *argv[40];
	int tap_fd;                     /* -1, or the TAP the monitor gets as fd 3 */
};

/* sb's monitor's command line into *l; -errno with the reason in sb->reason. */
static int command_line(const struct api_config *c, const char *kernel, struct sandbox *sb,
			struct command_line *l)
{
	char path[PATH_MAX + API_NAME_MAX + 16];
	const char **a = l->argv;

	snprintf(path, sizeof(path), "%s/%s.path", c->guest_dir, sb->spec.template_name);
	if (fdio_read_line(path, l->disk, sizeof(l->disk)) <= 0) {
		snprintf(sb->reason, sizeof(sb->reason), "template '%s' has no image (%.150s)",
			 sb->spec.template_name, path);
		return -ENOENT;
	}
	snprintf(l->overlay, sizeof(l->overlay), "%s/disk.qcow2", sb->dir);
	snprintf(l->serial, sizeof(l->serial), "%s/console.log", sb->dir);
	snprintf(l->log, sizeof(l->log), "%s/vmm.log", sb->dir);
	snprintf(l->pwfile, sizeof(l->pwfile), "%s/vnc-password", sb->dir);
	snprintf(l->viewfile, sizeof(l->viewfile), "%s/vnc-view-password", sb->dir);
	snprintf(l->mem, sizeof(l->mem), "%u", sb->spec.memory_mib);
	snprintf(l->cpus, sizeof(l->cpus), "%u", sb->spec.vcpus);
	snprintf(l->display, sizeof(l->display), "%ux%u", sb->spec.width, sb->spec.height);
	snprintf(l->vnc, sizeof(l->vnc), "%s:0", c->vnc_host);
	*a++ = c->vmm;
	*a++ = "--kernel", *a++ = kernel;
	*a++ = "--disk", *a++ = l->disk;
	*a++ = "--overlay", *a++ = l->overlay;
	*a++ = "--memory", *a++ = l->mem;
	*a++ = "--vcpus", *a++ = l->cpus;
	*a++ = "--serial", *a++ = l->serial;
	*a++ = "--display", *a++ = l->display;
	*a++ = "--control", *a++ = sb->control;
	*a++ = "--vsock", *a++ = sb->vsock;
	*a++ = "--vnc", *a++ = l->vnc;
	*a++ = "--vnc-password-file", *a++ = l->pwfile;
	*a++ = "--vnc-view-password-file", *a++ = l->viewfile;
	*a++ = "--keyboard-layout", *a++ = sb->spec.keyboard_layout;
	if (sb->spec.keyboard_variant[0])
		*a++ = "--keyboard-variant", *a++ = sb->spec.keyboard_variant;
	if (c->qemu[0])
		*a++ = "--qemu", *a++ = c->qemu;
	/* The guest's network, as the namespace net_sandbox_up made has it (docs/networking.md). */
	l->tap_fd = sb->networked ? sb->net.tap_fd : -1;
	if (l->tap_fd >= 0) {
		*a++ = "--net", *a++ = "tap:3";
		snprintf(l->append, sizeof(l->append), "cubicle.noshell cubicle.hostname=%s "
			 "cubicle.ip=%s/%d cubicle.gw=%s cubicle.dns=%s", sb->id, NET_GUEST_ADDR,
			 NET_GUEST_PREFIX, NET_GATEWAY_ADDR, NET_GATEWAY_ADDR);
	} else
		snprintf(l->append, sizeof(l->append), "cubicle.noshell cubicle.hostname=%s", sb->id);
	*a++ = "--append", *a++ = l->append;
	*a = NULL;
	return 0;
}

/*
 * The child's side of fork: argv with stdin /dev/null and stdout and
 * stderr on logfd, nothing else open. Async-signal-safe calls only.
 */
static void exec_monitor(const char *const *argv, int logfd, int tap_fd, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int null = open("/dev/null", O_RDONLY);
	sigset_t none;

	/* cubicled's blocked signals and ignored SIGPIPE are not the monitor's. */
	sigemptyset(&none);
	sigaction(SIGPIPE, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Dies with cubicled; a parent already gone means we must not run. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		_exit(127);
	if (tap_fd >= 0) {
		if (tap_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(tap_fd, 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4u, ~0u, 0u);
	} else
		syscall(SYS_close_range, 3u, ~0u, 0u);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* Writes sb's `pid` file: its monitor's pid and start time, for the next cubicled. */
static void record_pid(const struct sandbox *sb)
{
	char path[PATH_MAX + 16], line[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/pid", sb->dir);
	n = snprintf(line, sizeof(line), "%d %llu\n", sb->pid, start_time(sb->pid));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fdio_write_all(fd, line, (size_t)n) < 0)
		api_log("warn", "msg=\"could not record a monitor's pid\" sandbox=%s", sb->id);
	if (fd >= 0)
		close(fd);
}

int monitor_spawn(const struct api_config *cfg, const char *kernel, struct sandbox *sb)
{
	struct command_line *l = malloc(sizeof(*l));
	pid_t parent = getpid(), pid;
	int logfd, pidfd, ret;

	if (!l) {
		snprintf(sb->reason, sizeof(sb->reason), "out of memory");
		return -ENOMEM;
	}
	ret = command_line(cfg, kernel, sb, l);
	if (ret)
		goto out;
	logfd = open(l->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		ret = -errno;
		snprintf(sb->reason, sizeof(sb->reason), "%.180s: %s", l->log, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0)
		exec_monitor(l->argv, logfd, l->tap_fd, parent);
	ret = pid < 0 ? -errno : 0;
	close(logfd);
	if (ret) {
		snprintf(sb->reason, sizeof(sb->reason), "fork: %s", strerror(-ret));
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		snprintf(sb->reason, sizeof(sb->reason), "pidfd_open: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	sb->pid = pid;
	sb->pidfd = pidfd;
	record_pid(sb);
	api_log("info", "msg=\"monitor started\" sandbox=%s pid=%d template=%s", sb->id, pid,
		sb->spec.template_name);
out:
	free(l);
	return ret;
}

void monitor_exit_reason(struct sandbox *sb, int status)
{
	char log[PATH_MAX + 16], line[200];

	snprintf(log, sizeof(log), "%s/vmm.log", sb->dir);
	last_line(log, line, sizeof(line));
	if (WIFSIGNALED(status))
		snprintf(sb->reason, sizeof(sb->reason), "its monitor was killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(sb->reason, sizeof(sb->reason), "its monitor exited with status %d%s%s",
			 WEXITSTATUS(status), line[0] ? ": " : "", line);
}
