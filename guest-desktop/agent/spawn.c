/*
 * Starting a command: its argv and environment from the request, the user's
 * groups, its stdio (pipes or a PTY), and a child that takes the user's
 * credentials and execs, telling the agent why if it cannot.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ag_conn.h"
#include "ag_json.h"
#include "services.h"

#define MAX_ARGS 4096
#define PATH_DEFAULT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The stack a new child runs on until exec, one child at a time. */
static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t child_stack[64 * 1024] __attribute__((aligned(16)));

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/*
 * argv from "argv": [...] (strings, at most MAX_ARGS) or "cmd": "shell
 * string" into *out (the caller's). 0, -EINVAL or -ENOMEM.
 */
static int build_argv(struct json_object *req, char ***out)
{
	const char *cmd = ag_jstr(req, "cmd", NULL), *shell[] = { "/bin/bash", "-c", cmd };
	struct json_object *a = NULL;
	size_t n = 3;
	char **argv;

	if (!cmd) {
		if (!json_object_object_get_ex(req, "argv", &a) || !json_object_is_type(a, json_type_array))
			return -EINVAL;
		n = json_object_array_length(a);
		if (n == 0 || n > MAX_ARGS)
			return -EINVAL;
	}
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = a ? json_object_array_get_idx(a, i) : NULL;

		if (a && !json_object_is_type(e, json_type_string)) {
			strv_free(argv);
			return -EINVAL;
		}
		if (!(argv[i] = strdup(a ? json_object_get_string(e) : shell[i]))) {
			strv_free(argv);
			return -ENOMEM;
		}
	}
	*out = argv;
	return 0;
}

/* Appends a formatted "KEY=VALUE" to envp at *k. 0 or -ENOMEM. */
static int env_add(char **envp, size_t *k, const char *fmt, ...)
{
	va_list ap;
	char *e;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&e, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	envp[(*k)++] = e;
	return 0;
}

/* Drops the entry named key from envp (k entries), if there is one. */
static void env_drop(char **envp, size_t *k, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < *k; i++) {
		if (strncmp(envp[i], key, kl) == 0 && envp[i][kl] == '=') {
			free(envp[i]);
			envp[i] = envp[--*k];
			envp[*k] = NULL;
			return;
		}
	}
}

/*
 * The environment (docs/agent-protocol.md): the user's defaults, then the
 * request's "env", a later entry of a name replacing the default. 0 or -ENOMEM.
 */
static int build_env(struct json_object *req, const struct ag_user *u, bool pty, char ***out)
{
	const char *display = ag_services_display();
	struct json_object *env;
	size_t n = 8, k = 0;
	char **envp;
	int ret;

	if (json_object_object_get_ex(req, "env", &env) && json_object_is_type(env, json_type_object))
		n += (size_t)json_object_object_length(env);
	else
		env = NULL;
	envp = calloc(n + 1, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	*out = envp;
	if ((ret = env_add(envp, &k, "HOME=%s", u->home)) < 0 ||
	    (ret = env_add(envp, &k, "USER=%s", u->name)) < 0 ||
	    (ret = env_add(envp, &k, "LOGNAME=%s", u->name)) < 0 ||
	    (ret = env_add(envp, &k, "SHELL=%s", u->shell)) < 0 ||
	    (ret = env_add(envp, &k, "PATH=%s", PATH_DEFAULT)) < 0 ||
	    (ret = env_add(envp, &k, "TERM=%s", pty ? "xterm-256color" : "dumb")) < 0 ||
	    (ret = env_add(envp, &k, "LANG=C.UTF-8")) < 0 ||
	    (display && (ret = env_add(envp, &k, "DISPLAY=%s", display)) < 0))
		return ret;
	if (!env)
		return 0;
	json_object_object_foreach(env, key, val) {
		const char *v = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";

		if (!*key || strchr(key, '='))
			continue;
		env_drop(envp, &k, key);
		if ((ret = env_add(envp, &k, "%s=%s", key, v)) < 0)
			return ret;
	}
	return 0;
}

/* The user's groups from /etc/group (no NSS in a static agent); the primary one without it. */
static int collect_groups(const struct ag_user *u, gid_t *groups, int max)
{
	struct group gr, *res;
	char buf[8192];
	FILE *f = fopen("/etc/group", "re");
	int n = 0;

	groups[n++] = u->gid;
	while (f && n < max && fgetgrent_r(f, &gr, buf, sizeof(buf), &res) == 0 && res) {
		for (char **m = gr.gr_mem; m && *m; m++) {
			if (strcmp(*m, u->name) == 0 && gr.gr_gid != u->gid) {
				groups[n++] = gr.gr_gid;
				break;
			}
		}
	}
	if (f)
		fclose(f);
	return n;
}

int ag_spawn_from_request(struct ag_conn *c, struct json_object *req, struct ag_spawn *s)
{
	int ret;

	*s = (struct ag_spawn){ 0 };
	ret = ag_user_from_request(c, req, &s->user);
	if (ret < 0)
		return ret;
	s->pty = ag_jbool(req, "pty", false);
	ret = build_argv(req, &s->argv);
	if (ret == -EINVAL) {
		ag_reply_err(c, ret, "exec wants \"argv\" (a non-empty array of strings) or \"cmd\"");
		return ret;
	}
	if (ret == 0)
		ret = build_env(req, &s->user, s->pty, &s->envp);
	if (ret < 0) {
		ag_reply_err(c, ret, "exec");
		return ret;
	}
	s->ngroups = collect_groups(&s->user, s->groups, AG_SPAWN_MAX_GROUPS);
	s->cwd = ag_jstr(req, "cwd", NULL);
	s->want_stdin = ag_jbool(req, "stdin", false);
	s->rows = (unsigned short)ag_jint(req, "rows", 24);
	s->cols = (unsigned short)ag_jint(req, "cols", 80);
	s->timeout_ms = ag_jint(req, "timeout_ms", 0);
	s->desc = ag_jstr(req, "cmd", NULL) ? ag_jstr(req, "cmd", NULL) : s->argv[0];
	return 0;
}

void ag_spawn_free(struct ag_spawn *s)
{
	strv_free(s->argv);
	strv_free(s->envp);
	s->argv = s->envp = NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A close-on-exec pipe into *rd and *wr. 0 or -errno. */
static int open_pipe(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*rd = p[0];
	*wr = p[1];
	return 0;
}

/*
 * A PTY pair sized as asked, both ends close-on-exec from the start (another
 * thread may be spawning): the master is io->in and, duplicated, io->out.
 */
static int open_pty(const struct ag_spawn *s, struct ag_stdio *io)
{
	struct winsize ws = { .ws_row = s->rows, .ws_col = s->cols };
	char name[64];
	int ret;

	io->in = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (io->in < 0 || grantpt(io->in) < 0 || unlockpt(io->in) < 0)
		return -errno;
	ret = ptsname_r(io->in, name, sizeof(name));
	if (ret)
		return -ret;
	io->child_in = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (io->child_in < 0 || ioctl(io->in, TIOCSWINSZ, &ws) < 0)
		return -errno;
	io->child_out = io->child_err = io->child_in;
	io->out = fcntl(io->in, F_DUPFD_CLOEXEC, 0);
	return io->out < 0 ? -errno : 0;
}

int ag_stdio_open(const struct ag_spawn *s, struct ag_stdio *io)
{
	int ret;

	*io = (struct ag_stdio){ -1, -1, -1, -1, -1, -1 };
	if (s->pty) {
		ret = open_pty(s, io);
	} else {
		ret = open_pipe(&io->out, &io->child_out);
		if (ret == 0)
			ret = open_pipe(&io->err, &io->child_err);
		if (ret == 0 && s->want_stdin)
			ret = open_pipe(&io->child_in, &io->in);
		else if (ret == 0 && (io->child_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			ret = -errno;
	}
	if (ret < 0)
		ag_stdio_close(io);
	return ret;
}

void ag_stdio_close_child(struct ag_stdio *io)
{
	/* With a PTY the three are one descriptor. */
	if (io->child_err == io->child_in || io->child_err == io->child_out)
		io->child_err = -1;
	if (io->child_out == io->child_in)
		io->child_out = -1;
	close_fd(&io->child_in);
	close_fd(&io->child_out);
	close_fd(&io->child_err);
}

void ag_stdio_close(struct ag_stdio *io)
{
	ag_stdio_close_child(io);
	close_fd(&io->in);
	close_fd(&io->out);
	close_fd(&io->err);
}

struct child_args {
	const struct ag_spawn *s;
	const struct ag_stdio *io;
	int report;                 /* the exec error goes here */
};

/*
 * The child, started with CLONE_VM | CLONE_VFORK: it shares the agent's
 * memory until exec, which spares copying the agent's page tables and the
 * copy-on-write faults after fork (about a millisecond each under TCG). So it
 * only makes system calls, and raw ones for credentials: glibc's setuid()
 * would try to change every thread of the agent. Any step that fails is
 * reported as its errno on a->report.
 */
static int child(void *arg)
{
	const struct child_args *a = arg;
	const struct ag_spawn *s = a->s;
	const struct ag_stdio *io = a->io;
	sigset_t none;
	int e;

	sigemptyset(&none);
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR || sigprocmask(SIG_SETMASK, &none, NULL) < 0 ||
	    setsid() < 0 || (s->pty && ioctl(io->child_out, TIOCSCTTY, 0) < 0) ||
	    dup2(io->child_in, 0) < 0 || dup2(io->child_out, 1) < 0 || dup2(io->child_err, 2) < 0)
		goto out_report;
	if (s->user.uid != 0 &&
	    (syscall(SYS_setgroups, s->ngroups, s->groups) < 0 ||
	     syscall(SYS_setresgid, s->user.gid, s->user.gid, s->user.gid) < 0 ||
	     syscall(SYS_setresuid, s->user.uid, s->user.uid, s->user.uid) < 0))
		goto out_report;
	if (chdir(s->cwd ? s->cwd : s->user.home) < 0)
		goto out_report;
	execvpe(s->argv[0], s->argv, s->envp);
out_report:
	e = errno;
	/* 4 bytes into an empty pipe cannot fail short, and nobody is left to tell. */
	(void)!write(a->report, &e, sizeof(e));
	syscall(SYS_exit, 127);
	return 127;
}

int ag_spawn_clone(const struct ag_spawn *s, const struct ag_stdio *io, pid_t *pid)
{
	struct child_args ca = { .s = s, .io = io };
	int rep[2], e = 0;
	ssize_t n;

	*pid = -1;
	if (pipe2(rep, O_CLOEXEC) < 0)
		return -errno;
	ca.report = rep[1];
	pthread_mutex_lock(&stack_lock);
	*pid = clone(child, child_stack + sizeof(child_stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &ca);
	if (*pid < 0)
		e = errno;
	pthread_mutex_unlock(&stack_lock);
	close(rep[1]);
	if (*pid < 0) {
		close(rep[0]);
		*pid = -1;
		return -e;
	}
	/* The child has exec'd (the pipe closed) or written why not: vfork waited for it. */
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		e = errno;
	close(rep[0]);
	if (n == 0)
		return 0;
	return -(e > 0 ? e : EIO);
}
