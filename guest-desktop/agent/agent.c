/*
 * cubicle-agent: the guest's PID 1. Sets up the system, serves commands and
 * files to the host on vsock port AGENT_PORT (docs/agent-protocol.md), reaps
 * every child, runs a shell on the console for people, and powers the
 * machine off on request or when that shell ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent.h"

/* QEMU's isa-debug-exit (docs/boot.md): v written here makes QEMU exit (v<<1)|1. */
#define EXIT_PORT 0xf4
#define EXIT_POWEROFF 0x10

static pid_t console_shell = -1;

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	fputs("cubicle-agent: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
	va_end(ap);
}

/* --- replies ------------------------------------------------------------------ */

int send_json(struct conn *c, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	return frame_send(c->fd, FRAME_JSON, s, (uint32_t)len);
}

int reply_ok(struct conn *c, struct json_object *extra)
{
	struct json_object *o = extra ? extra : json_object_new_object();
	int ret;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	ret = send_json(c, o);
	json_object_put(o);
	return ret;
}

int reply_err(struct conn *c, int err, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char what[1024], msg[1200];
	const char *name = strerrorname_np(err);
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(name ? name : "EIO"));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "message", json_object_new_string(msg));
	ret = send_json(c, o);
	json_object_put(o);
	return ret;
}

const char *jstr(struct json_object *obj, const char *key, const char *def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

long long jint(struct json_object *obj, const char *key, long long def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

bool jbool(struct json_object *obj, const char *key, bool def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

/*
 * Users come from /etc/passwd itself, not NSS: the agent is static and the
 * sandbox has no other user database.
 */
int who_from_request(struct json_object *req, struct who *w)
{
	const char *name = jstr(req, "user", "user");
	struct passwd pw, *res = NULL;
	char buf[4096];
	FILE *f = fopen("/etc/passwd", "re");

	if (!f)
		return -errno;
	while (fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0 && res)
		if (strcmp(pw.pw_name, name) == 0)
			break;
	fclose(f);
	if (!res)
		return -ESRCH;
	w->uid = pw.pw_uid;
	w->gid = pw.pw_gid;
	snprintf(w->name, sizeof(w->name), "%s", pw.pw_name);
	snprintf(w->home, sizeof(w->home), "%s", pw.pw_dir);
	snprintf(w->shell, sizeof(w->shell), "%s", pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
	return 0;
}

/* --- system ------------------------------------------------------------------- */

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
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
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
	say("hwrng %s", name);
}

static void power_off(void)
{
	sync();
	say("powering off");
	if (ioperm(EXIT_PORT, 1, 1) == 0)
		outb(EXIT_POWEROFF, EXIT_PORT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static pid_t start_console_shell(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
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
	if (chdir("/root") < 0)
		(void)!chdir("/");
	execve("/bin/bash", argv, envp);
	_exit(127);
}

/* PID 1 reaps everything; commands the agent started are told their status. */
static void *reaper(void *arg)
{
	sigset_t set;
	int sig, status;
	pid_t pid;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == console_shell)
				power_off();
			if (!services_reaped(pid, status))
				exec_reaped(pid, status);
		}
		sigwait(&set, &sig);
	}
	return NULL;
}

/* --- server ------------------------------------------------------------------- */

static void op_hello(struct conn *c)
{
	struct json_object *o = json_object_new_object();
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	json_object_object_add(o, "protocol", json_object_new_int(AGENT_PROTOCOL));
	json_object_object_add(o, "agent", json_object_new_string("cubicle-agent"));
	json_object_object_add(o, "hostname", json_object_new_string(host));
	reply_ok(c, o);
}

/* What the template's services are doing, and the desktop's display if any. */
static void op_status(struct conn *c)
{
	struct json_object *o = json_object_new_object();
	const char *display = services_display();

	json_object_object_add(o, "services", json_object_new_string(services_state()));
	json_object_object_add(o, "display", display ? json_object_new_string(display) : NULL);
	reply_ok(c, o);
}

/* The host's screen changed size: the template's display.d hooks apply it. */
static void op_display(struct conn *c, struct json_object *req)
{
	long long w = jint(req, "width", 0), h = jint(req, "height", 0);
	char why[256];
	int ret;

	if (w < 64 || h < 64 || w > 8192 || h > 8192) {
		reply_err(c, EINVAL, "display: want width and height from 64 to 8192");
		return;
	}
	ret = services_set_display((unsigned int)w, (unsigned int)h, 20000, why, sizeof(why));
	if (ret < 0)
		reply_err(c, -ret, "display %lldx%lld: %s", w, h, why);
	else
		reply_ok(c, NULL);
}

static void *serve(void *arg)
{
	struct conn *c = arg;
	struct json_object *req = NULL;
	uint8_t type;
	uint32_t len;
	const char *op;
	int ret = frame_recv(c->fd, &type, &c->buf, &c->cap, &len);

	if (ret < 0)
		goto out;
	if (type != FRAME_JSON || !(req = json_tokener_parse((char *)c->buf)) ||
	    !json_object_is_type(req, json_type_object)) {
		reply_err(c, EPROTO, "the first frame must be a JSON request");
		goto out;
	}
	op = jstr(req, "op", "");
	if (strcmp(op, "hello") == 0)
		op_hello(c);
	else if (strcmp(op, "status") == 0)
		op_status(c);
	else if (strcmp(op, "display") == 0)
		op_display(c, req);
	else if (strcmp(op, "exec") == 0)
		op_exec(c, req);
	else if (strcmp(op, "ps") == 0)
		op_ps(c, req);
	else if (strcmp(op, "attach") == 0)
		op_attach(c, req);
	else if (strcmp(op, "kill") == 0)
		op_kill(c, req);
	else if (strcmp(op, "poweroff") == 0) {
		reply_ok(c, NULL);
		power_off();
	} else if (!strcmp(op, "read") || !strcmp(op, "write") || !strcmp(op, "stat") ||
		   !strcmp(op, "list") || !strcmp(op, "mkdir") || !strcmp(op, "remove") ||
		   !strcmp(op, "rename") || !strcmp(op, "exists"))
		op_file(c, op, req);
	else
		reply_err(c, EOPNOTSUPP, "unknown op '%s'", op);
out:
	json_object_put(req);
	close(c->fd);
	free(c->buf);
	free(c);
	return NULL;
}

/*
 * A bigger receive window than vsock's 256 KiB default, so a host streaming a
 * file does not stall on credit updates between packets.
 */
static void set_window(int fd)
{
	unsigned long long size = 4ull << 20;

	setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &size, sizeof(size));
	setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &size, sizeof(size));
}

static int listen_vsock(void)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = AGENT_PORT };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		return -1;
	return fd;
}

int main(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t set;
	int lfd;

	if (getpid() != 1) {
		fprintf(stderr, "cubicle-agent: must run as PID 1\n");
		return 1;
	}
	setup_system();
	services_init();
	/* Children are reaped by one thread; every other thread keeps SIGCHLD blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&tid, NULL, reaper, NULL);

	report_hwrng();
	lfd = listen_vsock();
	if (lfd < 0)
		say("no vsock: %s; serving nothing", strerror(errno));
	say("ready");
	if (cmdline_has("cubicle.once"))
		power_off();
	services_start();
	services_watch_display();
	if (!cmdline_has("cubicle.noshell"))
		console_shell = start_console_shell();

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int cfd = lfd >= 0 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
		struct conn *c;

		if (cfd < 0) {
			if (lfd < 0)
				pause();
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		set_window(cfd);
		if (pthread_create(&tid, &attr, serve, c) != 0) {
			close(cfd);
			free(c);
		}
	}
}
