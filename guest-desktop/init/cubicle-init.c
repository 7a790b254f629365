/*
 * cubicle-init: the guest's PID 1 for the `minimal` template until
 * cubicle-agent takes its place.
 *
 * It mounts the kernel filesystems, names the host, reports which hardware RNG
 * the kernel bound, prints the readiness line the host waits for, then runs a
 * shell on the console. When the shell ends (or at once with `cubicle.once` on
 * the kernel command line) it syncs and powers the machine off through the
 * exit port the host attached.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The host's exit port (docs/boot.md): QEMU's isa-debug-exit at this port
 * turns a written value v into its own exit status (v << 1) | 1.
 */
#define EXIT_PORT 0xf4
#define EXIT_POWEROFF 0x10

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("cubicle-init: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void mount_one(const char *src, const char *dst, const char *type,
		      unsigned long flags, const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		say("mount %s on %s: %s", type, dst, strerror(errno));
}

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
		say("remount / read-write: %s", strerror(errno));
	sethostname("cubicle", strlen("cubicle"));
}

static bool cmdline_has(const char *word)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
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
	say("hwrng %s", name);
}

static pid_t start_shell(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setsid();
	int fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 1);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	char *const argv[] = { "bash", "-l", NULL };
	char *const envp[] = { "HOME=/root", "TERM=vt100", "USER=root",
			       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       NULL };
	chdir("/root");
	execve("/bin/bash", argv, envp);
	_exit(127);
}

static void power_off(void)
{
	sync();
	say("powering off");
	if (ioperm(EXIT_PORT, 1, 1) == 0)
		outb(EXIT_POWEROFF, EXIT_PORT);
	/* No exit port: the kernel halts, which the host reports as a hang. */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

int main(void)
{
	pid_t shell, pid;
	int status;

	if (getpid() != 1) {
		fprintf(stderr, "cubicle-init: must run as PID 1\n");
		return 1;
	}
	setup_system();
	report_hwrng();
	say("ready");

	shell = cmdline_has("cubicle.once") ? -1 : start_shell();
	while (shell > 0) {
		pid = waitpid(-1, &status, 0);
		if (pid == shell)
			break;
		if (pid < 0 && errno == ECHILD)
			break;
	}
	power_off();
}
