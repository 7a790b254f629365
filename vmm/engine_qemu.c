#include "engine_qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errf.h"
#include "fdio.h"

static int qemu_run_version(const char *qemu, char *err, size_t errlen);

struct strv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void add(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;

	if (s->oom)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0) {
		s->oom = true;
		str = NULL;
	}
	va_end(ap);
	if (!str)
		return;
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void qemu_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

char **qemu_argv(const struct qemu_launch *l)
{
	const struct vmm_config *cfg = l->cfg;
	bool kvm = l->engine == ENGINE_QEMU_KVM;
	struct strv s = { 0 };

	add(&s, "%s", cfg->qemu);
	add(&s, "-nodefaults");
	add(&s, "-no-user-config");
	add(&s, "-no-reboot");        /* a guest reset ends QEMU: we report a crash */
	add(&s, "-display");
	add(&s, "none");
	add(&s, "-machine");
	add(&s, "microvm,acpi=off,pcie=off,rtc=on,memory-backend=mem");
	add(&s, "-accel");
	add(&s, kvm ? "kvm" : "tcg,thread=multi");
	add(&s, "-cpu");
	/*
	 * Under TCG, `rep movsb` runs an iteration per byte; without ERMS/FSRM the
	 * guest's kernel and libc copy with wide moves instead: file transfers
	 * through the agent go from 78 to 118 MiB/s in and 130 to 285 MiB/s out.
	 */
	add(&s, kvm ? "host" : "max,-erms,-fsrm");
	add(&s, "-smp");
	add(&s, "%u", cfg->vcpus);
	add(&s, "-m");
	add(&s, "%uM", cfg->memory_mib);
	/* vhost-user needs guest memory it can map: a shared memfd. */
	add(&s, "-object");
	add(&s, "memory-backend-memfd,id=mem,size=%uM,share=on", cfg->memory_mib);
	/* virtio-gpu and -input need virtio 1.0; QEMU's microvm default is legacy. */
	add(&s, "-global");
	add(&s, "virtio-mmio.force-legacy=false");
	add(&s, "-kernel");
	add(&s, "%s", cfg->kernel);
	add(&s, "-append");
	/*
	 * The guest's X takes the keyboard layout the host types with. User-mode
	 * networking has no DHCP server we rely on: its fixed layout is given
	 * (the agent sets it; cubicled gives its own for a TAP).
	 */
	add(&s, "console=ttyS0 root=/dev/vda rw rootfstype=ext4 init=/sbin/cubicle-agent "
		"panic=-1 reboot=t quiet cubicle.keyboard=%s%s%s%s%s%s", cfg->kbd_layout,
	    cfg->kbd_variant ? " cubicle.keyboard_variant=" : "",
	    cfg->kbd_variant ? cfg->kbd_variant : "",
	    cfg->net == VMM_NET_USER ? " cubicle.ip=10.0.2.15/24 cubicle.gw=10.0.2.2 "
				       "cubicle.dns=10.0.2.3" : "",
	    cfg->append ? " " : "", cfg->append ? cfg->append : "");
	add(&s, "-chardev");
	add(&s, "socket,id=console,fd=%d", l->console_fd);
	add(&s, "-serial");
	add(&s, "chardev:console");
	add(&s, "-device");
	add(&s, "isa-debug-exit,iobase=0x%x,iosize=1", GUEST_EXIT_PORT);
	add(&s, "-drive");
	if (cfg->overlay)   /* QEMU opens the backing base read-only */
		add(&s, "id=root,file=%s,format=qcow2,if=none", cfg->overlay);
	else
		add(&s, "id=root,file=%s,format=raw,if=none,snapshot=on,cache=unsafe", cfg->disk);
	add(&s, "-device");
	add(&s, "virtio-blk-device,drive=root");
	if (cfg->net == VMM_NET_TAP) {
		add(&s, "-netdev");
		add(&s, "tap,id=net0,fd=%d", cfg->net_tap_fd);
	} else if (cfg->net == VMM_NET_USER) {
		add(&s, "-netdev");
		add(&s, "user,id=net0");
	}
	if (cfg->net != VMM_NET_NONE) {
		/* Every guest has the same card: its network is the namespace's, not the MAC's. */
		add(&s, "-device");
		add(&s, "virtio-net-device,netdev=net0,mac=52:54:00:c0:be:01");
	}
	for (unsigned int i = 0; i < l->nvu; i++) {
		add(&s, "-chardev");
		add(&s, "socket,id=vu%u,fd=%d", i, l->vu[i].fd);
		add(&s, "-device");
		add(&s, "%s,chardev=vu%u", l->vu[i].device, i);
	}
	if (s.oom) {
		qemu_argv_free(s.v);
		return NULL;
	}
	return s.v;
}

bool qemu_host_has_kvm(void)
{
	char line[4096];
	bool hw = false;
	FILE *f = fopen("/proc/cpuinfo", "re");
	int fd;

	if (!f)
		return false;
	while (!hw && fgets(line, sizeof(line), f))
		if (strncmp(line, "flags", 5) == 0)
			hw = strstr(line, " vmx") || strstr(line, " svm");
	fclose(f);
	if (!hw)
		return false;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool qemu_parse_version(const char *text, int *major, int *minor)
{
	const char *p = strstr(text, "QEMU emulator version ");

	return p && sscanf(p, "QEMU emulator version %d.%d", major, minor) == 2;
}

/* The file execvp() would run for name, into out; false if there is none. */
static bool find_in_path(const char *name, char out[PATH_MAX])
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;
	bool found = false;

	if (strchr(name, '/'))
		return realpath(name, out) != NULL && access(out, X_OK) == 0;
	dirs = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX];

		snprintf(cand, sizeof(cand), "%s/%s", *d ? d : ".", name);
		found = access(cand, X_OK) == 0 && realpath(cand, out) != NULL;
	}
	free(dirs);
	return found;
}

/*
 * Running `qemu --version` costs about 40 ms, 4% of a boot under TCG. The
 * answer is cached per binary (path, inode, size, mtime) in the user's cache
 * directory; a changed binary is checked again.
 */
static bool version_cache_path(char *out, size_t len)
{
	const char *base = getenv("CUBICLE_CACHE");

	if (base && *base)
		return snprintf(out, len, "%s/qemu-version", base) < (int)len;
	base = getenv("XDG_CACHE_HOME");
	if (base && *base)
		return snprintf(out, len, "%s/cubicle/qemu-version", base) < (int)len;
	base = getenv("HOME");
	return base && *base && snprintf(out, len, "%s/.cache/cubicle/qemu-version", base) < (int)len;
}

static bool version_key(const char *qemu, char *key, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (!find_in_path(qemu, path) || stat(path, &st) < 0)
		return false;
	snprintf(key, len, "%s %llu %lld %lld.%09ld ok\n", path, (unsigned long long)st.st_ino,
		 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return true;
}

static bool version_cached(const char *key)
{
	char file[PATH_MAX], buf[PATH_MAX + 128];

	return version_cache_path(file, sizeof(file)) &&
	       fdio_read_file(file, buf, sizeof(buf)) > 0 && strcmp(buf, key) == 0;
}

static void version_remember(const char *key)
{
	char file[PATH_MAX], tmp[PATH_MAX + 16], *slash;
	int fd;

	if (!version_cache_path(file, sizeof(file)))
		return;
	slash = strrchr(file, '/');
	*slash = '\0';
	mkdir(file, 0755);      /* the cache dir's parent normally exists */
	*slash = '/';
	snprintf(tmp, sizeof(tmp), "%s.%d", file, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, key, strlen(key)) == (ssize_t)strlen(key) && close(fd) == 0)
		rename(tmp, file);
	else
		unlink(tmp);
}

int qemu_check(const char *qemu, char *err, size_t errlen)
{
	char key[PATH_MAX + 128];
	bool have_key = version_key(qemu, key, sizeof(key));
	int ret;

	if (have_key && version_cached(key))
		return 0;
	ret = qemu_run_version(qemu, err, errlen);
	if (ret == 0 && have_key)
		version_remember(key);
	return ret;
}

static int qemu_run_version(const char *qemu, char *err, size_t errlen)
{
	char buf[512] = "";
	size_t len = 0;
	int pipefd[2], status, major, minor;
	pid_t pid;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pipefd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execlp(qemu, qemu, "--version", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < sizeof(buf) - 1 && (n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && len == 0) {
		snprintf(err, errlen, "QEMU '%s' not found (run scripts/install-deps.sh)", qemu);
		return -ENOENT;
	}
	if (!qemu_parse_version(buf, &major, &minor)) {
		snprintf(err, errlen, "'%s --version' did not print a QEMU version", qemu);
		return -EINVAL;
	}
	if (major < QEMU_MIN_MAJOR) {
		snprintf(err, errlen, "QEMU '%s' is %d.%d; Cubicle needs %d or newer "
			 "(bookworm-backports; run scripts/install-deps.sh)",
			 qemu, major, minor, QEMU_MIN_MAJOR);
		return -EINVAL;
	}
	return 0;
}

static void keep_open(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
}

pid_t qemu_spawn(const struct qemu_launch *l, char **argv, char *err, size_t errlen)
{
	int report[2], child_errno = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(report[0]);
		close(report[1]);
		return -e;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		keep_open(l->console_fd);
		for (unsigned int i = 0; i < l->nvu; i++)
			keep_open(l->vu[i].fd);
		if (l->cfg->net == VMM_NET_TAP)
			keep_open(l->cfg->net_tap_fd);
		execvp(argv[0], argv);
		child_errno = errno;
		(void)!write(report[1], &child_errno, sizeof(child_errno));
		_exit(127);
	}
	close(report[1]);
	do
		n = read(report[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(child_errno));
		return -child_errno;
	}
	return pid;
}

/* Big-endian fields of a qcow2 header (QEMU's docs/interop/qcow2.txt). */
static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The backing file a qcow2 image names, into out; -errno if it is not one. */
static int qcow2_backing(const char *path, char *out, size_t len)
{
	uint8_t hdr[20];
	uint64_t off;
	uint32_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -EINVAL;

	if (fd < 0)
		return -errno;
	if (pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr) || memcmp(hdr, "QFI\xfb", 4) != 0)
		goto out_close;
	off = be64(hdr + 8);
	size = be32(hdr + 16);
	if (off == 0 || size == 0 || size >= len)
		goto out_close;
	if (pread(fd, out, size, (off_t)off) != (ssize_t)size || strlen(out) > size)
		goto out_close;
	out[size] = '\0';
	ret = 0;
out_close:
	close(fd);
	return ret;
}

int qemu_prepare_overlay(const char *base, const char *overlay, char *err, size_t errlen)
{
	char base_abs[PATH_MAX], backing[PATH_MAX], backing_abs[PATH_MAX];
	int status, ret;
	pid_t pid;

	if (!realpath(base, base_abs)) {
		snprintf(err, errlen, "disk '%s': %s", base, strerror(errno));
		return -errno;
	}
	if (access(overlay, F_OK) == 0) {
		ret = qcow2_backing(overlay, backing, sizeof(backing));
		if (ret < 0) {
			snprintf(err, errlen, "overlay '%s': not a qcow2 image over a base", overlay);
			return ret;
		}
		if (!realpath(backing, backing_abs) || strcmp(backing_abs, base_abs) != 0) {
			snprintf(err, errlen, "overlay '%s' lies over '%s', not over '%s'", overlay,
				 backing, base_abs);
			return -EINVAL;
		}
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("qemu-img", "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
		       base_abs, overlay, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "overlay '%s': qemu-img create failed%s", overlay,
			 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (qemu-img not found)" : "");
		unlink(overlay);
		return -EIO;
	}
	return 0;
}

/* --- the engine --------------------------------------------------------------- */

struct qemu_engine {
	struct engine_env env;
	struct qemu_launch launch;
	pid_t pid;
	int pidfd;
	char desc[32];
};

/* --engine auto, qemu-tcg and qemu-kvm are ours; another engine's name is not. */
static bool qemu_serves(const struct vmm_config *cfg, char *err, size_t errlen)
{
	switch (cfg->engine) {
	case ENGINE_AUTO:
	case ENGINE_QEMU_TCG:
	case ENGINE_QEMU_KVM:
		return true;
	}
	errf(err, errlen, "--engine %s: not a qemu engine", vmm_engine_name(cfg->engine));
	return false;
}

static void *qemu_prepare(const struct engine_env *env, int *status, char *err, size_t errlen)
{
	const struct vmm_config *cfg = env->cfg;
	struct qemu_engine *q;

	*status = VMM_EXIT_USAGE;
	if (cfg->overlay && qemu_prepare_overlay(cfg->disk, cfg->overlay, err, errlen) < 0)
		return NULL;
	*status = VMM_EXIT_ERROR;
	if (qemu_check(cfg->qemu, err, errlen) < 0)
		return NULL;
	if (cfg->engine == ENGINE_QEMU_KVM && !qemu_host_has_kvm()) {
		errf(err, errlen, "--engine qemu-kvm: this host has no hardware virtualization (no "
		     "vmx/svm flag, or /dev/kvm does not open)");
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	q->env = *env;
	q->pidfd = -1;
	q->launch.cfg = cfg;
	q->launch.console_fd = env->console_fd;
	q->launch.engine = cfg->engine == ENGINE_AUTO ?
			   (qemu_host_has_kvm() ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG) : cfg->engine;
	snprintf(q->desc, sizeof(q->desc), "%s", vmm_engine_name(q->launch.engine));
	return q;
}

static int qemu_attach(void *priv, const char *vhost_user_type, int fd)
{
	struct qemu_launch *l = &((struct qemu_engine *)priv)->launch;

	if (l->nvu == QEMU_MAX_VHOST_USER) {
		close(fd);
		return -ENOSPC;
	}
	l->vu[l->nvu].device = vhost_user_type;
	l->vu[l->nvu++].fd = fd;
	return 0;
}

/* What QEMU's wait status says of the guest: a VMM_EXIT_* and a line for the log. */
static int qemu_ended_status(int wstatus, char *why, size_t len)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == GUEST_EXIT_QEMU_STATUS) {
		snprintf(why, len, "guest powered off");
		return VMM_EXIT_POWEROFF;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		/* -no-reboot: a guest reset or triple fault ends QEMU with 0. */
		snprintf(why, len, "guest crashed or reset");
		return VMM_EXIT_CRASH;
	}
	if (WIFEXITED(wstatus))
		snprintf(why, len, "qemu failed with status %d", WEXITSTATUS(wstatus));
	else
		snprintf(why, len, "qemu killed by signal %d", WTERMSIG(wstatus));
	return VMM_EXIT_ERROR;
}

/* QEMU exited: its pidfd turned readable. */
static void on_qemu_exit(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct qemu_engine *q = opaque;
	char why[128];
	int wstatus, status;

	pid_t got;

	(void)events;
	do
		got = waitpid(q->pid, &wstatus, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return;         /* readable before it is reapable: the next event */
	loop_del(loop, fd);
	close(q->pidfd);
	q->pidfd = -1;
	q->pid = 0;
	if (got < 0) {
		/* Reaped elsewhere (SIGCHLD ignored, say): ended, status unknown. */
		snprintf(why, sizeof(why), "qemu ended; its status is lost: %s", strerror(errno));
		status = VMM_EXIT_ERROR;
	} else {
		status = qemu_ended_status(wstatus, why, sizeof(why));
	}
	q->env.ended(q->env.opaque, status, why);
}

/* Closes our copies of the fds QEMU inherited; after a spawn, or at the end. */
static void close_handed(struct qemu_launch *l)
{
	for (unsigned int i = 0; i < l->nvu; i++) {
		if (l->vu[i].fd >= 0)
			close(l->vu[i].fd);
		l->vu[i].fd = -1;
	}
	if (l->console_fd >= 0)
		close(l->console_fd);
	l->console_fd = -1;
}

static int qemu_start(void *priv, char *err, size_t errlen)
{
	struct qemu_engine *q = priv;
	char **argv = qemu_argv(&q->launch);
	pid_t pid;
	int ret;

	if (!argv) {
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pid = qemu_spawn(&q->launch, argv, err, errlen);
	qemu_argv_free(argv);
	if (pid < 0)
		return (int)pid;
	q->pid = pid;
	close_handed(&q->launch);
	/* The loop hears of QEMU's end through a pidfd, not SIGCHLD. */
	q->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ret = q->pidfd < 0 ? -errno : loop_add(q->env.loop, q->pidfd, EPOLLIN, on_qemu_exit, q);
	if (ret < 0) {
		errf(err, errlen, "cannot watch qemu (pid %d): %s", (int)pid, strerror(-ret));
		return ret;
	}
	return 0;
}

static void qemu_stop(void *priv)
{
	struct qemu_engine *q = priv;

	if (q->pid > 0)
		kill(q->pid, SIGTERM);
}

static const char *qemu_describe(void *priv)
{
	return ((struct qemu_engine *)priv)->desc;
}

static void qemu_free(void *priv)
{
	struct qemu_engine *q = priv;

	if (!q)
		return;
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
	}
	if (q->pidfd >= 0) {
		loop_del(q->env.loop, q->pidfd);
		close(q->pidfd);
	}
	close_handed(&q->launch);
	free(q);
}

const struct engine_ops engine_qemu_ops = {
	.name = "qemu",
	.serves = qemu_serves,
	.prepare = qemu_prepare,
	.attach = qemu_attach,
	.start = qemu_start,
	.stop = qemu_stop,
	.describe = qemu_describe,
	.free = qemu_free,
};
