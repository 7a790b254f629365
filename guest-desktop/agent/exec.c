/*
 * Commands: spawn as a user with pipes or a PTY, stream stdout and stderr as
 * they come, take stdin, signals and resizes, time out, and let any number
 * of connections attach to a running command. A command outlives the
 * connection that started it; `attach` picks it up again.
 *
 * Each command has a relay thread that moves its output to the attached
 * connections and sends the final status. The table lock guards the list;
 * each command's lock guards its attached connections and their writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define MAX_ATTACHED 16
#define MAX_ARGS 4096

struct proc {
	pid_t pid;
	char *desc;
	bool pty;
	int in_fd;                  /* stdin pipe or PTY master; -1 once closed */
	int out_fd, err_fd;         /* -1 at EOF */
	int wake_efd;               /* the reaper says the process ended */
	int done_efd;               /* readable once the final status went out */
	bool exited, timed_out;
	int status;
	long long timeout_ms;       /* 0: none */
	pthread_mutex_t lock;       /* attached[], final, writes to attached fds */
	pthread_mutex_t in_lock;    /* in_fd: a full stdin pipe never blocks output */
	int attached[MAX_ATTACHED];
	int nattached;
	char *final;                /* the final status frame, once sent */
	int refs;                   /* relay thread + connection threads */
	struct proc *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc *procs;
/* The stack a new child runs on until exec; the table lock serialises its use. */
static uint8_t child_stack[64 * 1024] __attribute__((aligned(16)));

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void proc_put(struct proc *p)
{
	bool last;

	pthread_mutex_lock(&table_lock);
	last = --p->refs == 0;
	pthread_mutex_unlock(&table_lock);
	if (!last)
		return;
	if (p->in_fd >= 0)
		close(p->in_fd);
	close(p->wake_efd);
	close(p->done_efd);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->in_lock);
	free(p->desc);
	free(p->final);
	free(p);
}

/* The running command with this pid, with a reference taken; NULL if none. */
static struct proc *proc_get(pid_t pid)
{
	struct proc *p;

	pthread_mutex_lock(&table_lock);
	for (p = procs; p && p->pid != pid; p = p->next)
		;
	if (p)
		p->refs++;
	pthread_mutex_unlock(&table_lock);
	return p;
}

bool exec_reaped(pid_t pid, int status)
{
	uint64_t one = 1;
	struct proc *p;

	pthread_mutex_lock(&table_lock);
	for (p = procs; p && p->pid != pid; p = p->next)
		;
	if (p) {
		p->status = status;
		p->exited = true;
		(void)!write(p->wake_efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&table_lock);
	return p != NULL;
}

/* Sends a frame to every attached connection; drops those that fail. */
static void broadcast(struct proc *p, uint8_t type, const void *buf, uint32_t len)
{
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nattached;) {
		if (frame_send(p->attached[i], type, buf, len) < 0) {
			p->attached[i] = p->attached[--p->nattached];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&p->lock);
}

static void detach(struct proc *p, int fd)
{
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nattached; i++) {
		if (p->attached[i] == fd) {
			p->attached[i] = p->attached[--p->nattached];
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

/*
 * Sends the final status to everyone attached and keeps it, so a connection
 * that attaches after the end (a command as quick as `true` ends before its
 * starter is attached) still gets it. Detaches everyone.
 */
static void send_status(struct proc *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	if (WIFSIGNALED(p->status)) {
		json_object_object_add(o, "signal", json_object_new_int(WTERMSIG(p->status)));
		json_object_object_add(o, "exit", NULL);
	} else {
		json_object_object_add(o, "exit", json_object_new_int(WEXITSTATUS(p->status)));
	}
	json_object_object_add(o, "timed_out", json_object_new_boolean(p->timed_out));
	pthread_mutex_lock(&p->lock);
	p->final = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	for (int i = 0; i < p->nattached && p->final; i++)
		frame_send(p->attached[i], FRAME_JSON, p->final, (uint32_t)strlen(p->final));
	p->nattached = 0;
	pthread_mutex_unlock(&p->lock);
	json_object_put(o);
}

/* Moves output until the process has ended and its output is drained. */
static void *relay(void *arg)
{
	struct proc *p = arg;
	long long deadline = p->timeout_ms ? now_ms() + p->timeout_ms : 0;
	long long exited_at = -1;
	uint8_t buf[65536];
	uint64_t one = 1;

	for (;;) {
		struct pollfd pf[3] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 },
					{ p->wake_efd, POLLIN, 0 } };
		int timeout = -1;

		if (p->exited && exited_at < 0)
			exited_at = now_ms();
		/* Ended, and its pipes are closed or quiet (a background child may hold them). */
		if (exited_at >= 0 && ((p->out_fd < 0 && p->err_fd < 0) || now_ms() - exited_at > 200))
			break;
		if (exited_at >= 0)
			timeout = 50;
		else if (deadline)
			timeout = deadline > now_ms() ? (int)(deadline - now_ms()) : 0;
		poll(pf, 3, timeout);
		/* Checked on every pass: a command that never stops printing times out too. */
		if (!p->exited && deadline && now_ms() >= deadline) {
			p->timed_out = true;
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			deadline = 0;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &p->err_fd : &p->out_fd;
			ssize_t n;

			if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n > 0) {
				broadcast(p, i ? FRAME_STDERR : FRAME_STDOUT, buf, (uint32_t)n);
			} else if (n == 0 || errno != EINTR) {
				/* EOF, or EIO from a PTY whose other side is gone. */
				close(*fd);
				*fd = -1;
			}
		}
		if (pf[2].revents & POLLIN) {
			uint64_t v;
			(void)!read(p->wake_efd, &v, sizeof(v));
		}
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->out_fd = p->err_fd = -1;

	pthread_mutex_lock(&table_lock);
	for (struct proc **pp = &procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	send_status(p);
	(void)!write(p->done_efd, &one, sizeof(one));
	proc_put(p);
	return NULL;
}

/*
 * Starts the relay thread. Without a thread to spare, the process is killed
 * and relayed on this thread: its end is reported, nothing leaks.
 */
static void relay_start(struct proc *p)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, relay, p) == 0) {
		pthread_detach(tid);
		return;
	}
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	relay(p);
}

/* --- spawning ------------------------------------------------------------------- */

struct spawn {
	char **argv;
	char **envp;
	const char *cwd;
	struct who who;
	bool pty, want_stdin;
	unsigned short rows, cols;
	long long timeout_ms;
	const char *desc;           /* what ps shows */
};

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* argv from "argv": [...] or "cmd": "shell string"; NULL with *err set. */
static char **build_argv(struct json_object *req, int *err)
{
	struct json_object *a;
	char **argv;
	const char *cmd = jstr(req, "cmd", NULL);

	*err = EINVAL;
	if (cmd) {
		argv = calloc(4, sizeof(*argv));
		argv[0] = strdup("/bin/bash");
		argv[1] = strdup("-c");
		argv[2] = strdup(cmd);
		return argv;
	}
	if (!json_object_object_get_ex(req, "argv", &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	size_t n = json_object_array_length(a);
	if (n == 0 || n > MAX_ARGS)
		return NULL;
	argv = calloc(n + 1, sizeof(*argv));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_string)) {
			strv_free(argv);
			return NULL;
		}
		argv[i] = strdup(json_object_get_string(e));
	}
	return argv;
}

static char **build_env(struct json_object *req, const struct who *w, bool pty)
{
	struct json_object *env;
	size_t n = 8, k = 0;
	char **envp;

	if (json_object_object_get_ex(req, "env", &env) && json_object_is_type(env, json_type_object))
		n += (size_t)json_object_object_length(env);
	else
		env = NULL;
	envp = calloc(n + 1, sizeof(*envp));
	if (asprintf(&envp[k++], "HOME=%s", w->home) < 0 ||
	    asprintf(&envp[k++], "USER=%s", w->name) < 0 ||
	    asprintf(&envp[k++], "LOGNAME=%s", w->name) < 0 ||
	    asprintf(&envp[k++], "SHELL=%s", w->shell) < 0 ||
	    asprintf(&envp[k++], "PATH=%s", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
	    asprintf(&envp[k++], "TERM=%s", pty ? "xterm-256color" : "dumb") < 0 ||
	    asprintf(&envp[k++], "LANG=C.UTF-8") < 0 ||
	    (services_display() && asprintf(&envp[k++], "DISPLAY=%s", services_display()) < 0))
		return envp;
	if (env) {
		json_object_object_foreach(env, key, val) {
			const char *v = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";

			if (!*key || strchr(key, '='))
				continue;
			/* A later entry of the same name wins: drop the default. */
			for (size_t i = 0; i < k; i++) {
				size_t kl = strlen(key);
				if (strncmp(envp[i], key, kl) == 0 && envp[i][kl] == '=') {
					free(envp[i]);
					envp[i] = envp[--k];
					envp[k] = NULL;
					break;
				}
			}
			if (asprintf(&envp[k++], "%s=%s", key, v) < 0)
				break;
		}
	}
	return envp;
}

/* The user's groups from /etc/group (no NSS in a static agent). */
static int collect_groups(const struct who *w, gid_t *groups, int max)
{
	struct group gr, *res;
	char buf[8192];
	FILE *f = fopen("/etc/group", "re");
	int n = 0;

	groups[n++] = w->gid;
	while (f && n < max && fgetgrent_r(f, &gr, buf, sizeof(buf), &res) == 0 && res) {
		for (char **m = gr.gr_mem; m && *m; m++) {
			if (strcmp(*m, w->name) == 0 && gr.gr_gid != w->gid) {
				groups[n++] = gr.gr_gid;
				break;
			}
		}
	}
	if (f)
		fclose(f);
	return n;
}

struct child_args {
	const struct spawn *s;
	int in, out, err, report;
	gid_t groups[64];
	int ngroups;
};

/*
 * The child, started with CLONE_VM | CLONE_VFORK: it shares the agent's
 * memory until exec, which spares copying the agent's page tables and the
 * copy-on-write faults after fork (about a millisecond each under TCG). So it
 * only makes system calls, and raw ones for credentials: glibc's setuid()
 * would try to change every thread of the agent.
 */
static int child(void *arg)
{
	const struct child_args *a = arg;
	const struct spawn *s = a->s;
	sigset_t none;
	int e;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (s->pty)
		ioctl(a->out, TIOCSCTTY, 0);
	dup2(a->in, 0);
	dup2(a->out, 1);
	dup2(a->err, 2);
	if (s->who.uid != 0 &&
	    (syscall(SYS_setgroups, a->ngroups, a->groups) < 0 ||
	     syscall(SYS_setresgid, s->who.gid, s->who.gid, s->who.gid) < 0 ||
	     syscall(SYS_setresuid, s->who.uid, s->who.uid, s->who.uid) < 0))
		goto out_report;
	if (chdir(s->cwd ? s->cwd : s->who.home) < 0)
		goto out_report;
	execvpe(s->argv[0], s->argv, s->envp);
out_report:
	e = errno;
	(void)!write(a->report, &e, sizeof(e));
	syscall(SYS_exit, 127);
	return 127;
}

/* A PTY pair, both ends close-on-exec, sized as asked. 0 or -1 with errno. */
static int open_pty(const struct spawn *s, int *master, int *slave)
{
	struct winsize ws = { .ws_row = s->rows, .ws_col = s->cols };
	char name[64];

	*slave = -1;
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return -1;
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, name, sizeof(name)) != 0 ||
	    (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int e = errno;

		close(*master);
		*master = -1;
		errno = e;
		return -1;
	}
	ioctl(*master, TIOCSWINSZ, &ws);
	return 0;
}

/*
 * Starts the command and puts it in the table. Returns the process with one
 * reference for the caller (the relay has its own), or NULL with *err set.
 */
static struct proc *spawn(const struct spawn *s, int *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2];
	struct proc *p = calloc(1, sizeof(*p));
	pid_t pid;
	ssize_t n;
	int e = 0;

	if (!p || pipe2(rep, O_CLOEXEC) < 0) {
		free(p);
		*err = ENOMEM;
		return NULL;
	}
	if (s->pty) {
		/* Close-on-exec from the start: another thread may be spawning. */
		if (open_pty(s, &in[1], &in[0]) < 0)
			goto out_errno;
		out[1] = errp[1] = in[0];
		out[0] = fcntl(in[1], F_DUPFD_CLOEXEC, 0);
		if (out[0] < 0)
			goto out_errno;
	} else {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
			goto out_errno;
		if (s->want_stdin) {
			if (pipe2(in, O_CLOEXEC) < 0)
				goto out_errno;
		} else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
			goto out_errno;
		}
	}
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = s->pty ? -1 : errp[0];
	p->pty = s->pty;
	p->wake_efd = eventfd(0, EFD_CLOEXEC);
	p->done_efd = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->in_lock, NULL);
	p->refs = 2;
	p->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 0;
	p->desc = s->desc ? strdup(s->desc) : NULL;

	struct child_args ca = { .s = s, .in = in[0], .out = out[1], .err = errp[1], .report = rep[1] };
	ca.ngroups = collect_groups(&s->who, ca.groups, 64);

	/* Held across clone and insert, so the reaper cannot miss a quick exit. */
	pthread_mutex_lock(&table_lock);
	pid = clone(child, child_stack + sizeof(child_stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &ca);
	if (pid < 0) {
		e = errno;
		pthread_mutex_unlock(&table_lock);
		goto out_close;
	}
	p->pid = pid;
	p->next = procs;
	procs = p;
	pthread_mutex_unlock(&table_lock);

	close(rep[1]);
	rep[1] = -1;
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (in[0] >= 0)
		close(in[0]);
	if (!s->pty) {
		close(out[1]);
		close(errp[1]);
	}
	if (n == sizeof(e)) {
		/* exec failed: the relay reports nothing, the caller reports e. */
		pthread_mutex_lock(&p->lock);
		p->nattached = 0;
		pthread_mutex_unlock(&p->lock);
		*err = e;
		relay_start(p);
		proc_put(p);
		return NULL;
	}
	return p;      /* the caller attaches itself, then starts the relay */

out_errno:
	e = errno;
out_close:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0 && !(s->pty && i == 1))
			close(out[i]);
		if (errp[i] >= 0 && !s->pty)
			close(errp[i]);
	}
	close(rep[0]);
	if (rep[1] >= 0)
		close(rep[1]);
	if (p->wake_efd > 0)
		close(p->wake_efd);
	if (p->done_efd > 0)
		close(p->done_efd);
	if (p->refs) {
		pthread_mutex_destroy(&p->lock);
		pthread_mutex_destroy(&p->in_lock);
	}
	free(p->desc);
	free(p);
	*err = e;
	return NULL;
}

/* --- a connection attached to a command ------------------------------------------- */

static void control(struct proc *p, struct json_object *msg)
{
	const char *op = jstr(msg, "op", "");

	if (strcmp(op, "signal") == 0) {
		int sig = (int)jint(msg, "signal", SIGTERM);

		if (sig > 0 && sig < 65 && kill(-p->pid, sig) < 0)
			kill(p->pid, sig);
	} else if (strcmp(op, "resize") == 0 && p->pty) {
		struct winsize ws = { .ws_row = (unsigned short)jint(msg, "rows", 24),
				      .ws_col = (unsigned short)jint(msg, "cols", 80) };

		pthread_mutex_lock(&p->in_lock);
		if (p->in_fd >= 0)
			ioctl(p->in_fd, TIOCSWINSZ, &ws);
		pthread_mutex_unlock(&p->in_lock);
	}
}

static void write_stdin(struct proc *p, const uint8_t *buf, uint32_t len)
{
	pthread_mutex_lock(&p->in_lock);
	for (uint32_t off = 0; p->in_fd >= 0 && off < len;) {
		ssize_t n = write(p->in_fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (uint32_t)n;
	}
	pthread_mutex_unlock(&p->in_lock);
}

static void close_stdin(struct proc *p)
{
	pthread_mutex_lock(&p->in_lock);
	if (p->pty && p->in_fd >= 0)
		(void)!write(p->in_fd, "\x04", 1);     /* EOF at the terminal */
	else if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	pthread_mutex_unlock(&p->in_lock);
}

/* Serves the connection until the command ends or the client goes. */
static void follow(struct conn *c, struct proc *p)
{
	for (;;) {
		struct pollfd pf[2] = { { c->fd, POLLIN, 0 }, { p->done_efd, POLLIN, 0 } };
		uint8_t type;
		uint32_t len;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN)
			break;
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (frame_recv(c->fd, &type, &c->buf, &c->cap, &len) < 0)
			break;        /* the client left; the command goes on */
		if (type == FRAME_DATA)
			write_stdin(p, c->buf, len);
		else if (type == FRAME_END)
			close_stdin(p);
		else if (type == FRAME_JSON) {
			struct json_object *msg = json_tokener_parse((char *)c->buf);

			if (msg)
				control(p, msg);
			json_object_put(msg);
		}
	}
	detach(p, c->fd);
}

/*
 * Replies {"ok":true,"pid":N} and attaches c, in that order for the client;
 * false (with an error answer) if too many follow the command already.
 */
static bool attach_conn(struct conn *c, struct proc *p)
{
	struct json_object *o = json_object_new_object();
	size_t len;
	const char *s;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	pthread_mutex_lock(&p->lock);
	if (!p->final && p->nattached == MAX_ATTACHED) {
		pthread_mutex_unlock(&p->lock);
		json_object_put(o);
		reply_err(c, EBUSY, "%d connections follow pid %d already", MAX_ATTACHED, p->pid);
		return false;
	}
	if (frame_send(c->fd, FRAME_JSON, s, (uint32_t)len) == 0) {
		if (p->final)       /* it ended already */
			frame_send(c->fd, FRAME_JSON, p->final, (uint32_t)strlen(p->final));
		else
			p->attached[p->nattached++] = c->fd;
	}
	pthread_mutex_unlock(&p->lock);
	json_object_put(o);
	return true;
}

void op_exec(struct conn *c, struct json_object *req)
{
	struct spawn s = { 0 };
	struct proc *p;
	int err;

	if (who_from_request(req, &s.who) < 0) {
		reply_err(c, ESRCH, "no such user '%s'", jstr(req, "user", "user"));
		return;
	}
	s.argv = build_argv(req, &err);
	if (!s.argv) {
		reply_err(c, EINVAL, "exec wants \"argv\" (a non-empty array of strings) or \"cmd\"");
		return;
	}
	s.envp = build_env(req, &s.who, jbool(req, "pty", false));
	s.cwd = jstr(req, "cwd", NULL);
	s.pty = jbool(req, "pty", false);
	s.want_stdin = jbool(req, "stdin", false);
	s.rows = (unsigned short)jint(req, "rows", 24);
	s.cols = (unsigned short)jint(req, "cols", 80);
	s.timeout_ms = jint(req, "timeout_ms", 0);
	s.desc = jstr(req, "cmd", NULL) ? jstr(req, "cmd", NULL) : s.argv[0];
	p = spawn(&s, &err);
	if (!p) {
		if (err == ENOENT && !jstr(req, "cmd", NULL))
			reply_err(c, err, "command not found: %s", s.argv[0]);
		else if (err == ENOENT || err == ENOTDIR)
			reply_err(c, err, "cannot run in '%s'", s.cwd ? s.cwd : s.who.home);
		else
			reply_err(c, err, "cannot run %s", s.argv[0]);
	} else {
		/* Attached before the relay starts, so no output goes to nobody. */
		bool attached = attach_conn(c, p);

		relay_start(p);
		if (attached)
			follow(c, p);
		proc_put(p);
	}
	strv_free(s.argv);
	strv_free(s.envp);
}

void op_attach(struct conn *c, struct json_object *req)
{
	struct proc *p = proc_get((pid_t)jint(req, "pid", 0));

	if (!p) {
		reply_err(c, ESRCH, "no running command with pid %lld", jint(req, "pid", 0));
		return;
	}
	if (attach_conn(c, p))
		follow(c, p);
	proc_put(p);
}

void op_kill(struct conn *c, struct json_object *req)
{
	struct proc *p = proc_get((pid_t)jint(req, "pid", 0));
	int sig = (int)jint(req, "signal", SIGKILL);

	if (!p) {
		reply_err(c, ESRCH, "no running command with pid %lld", jint(req, "pid", 0));
		return;
	}
	if (sig <= 0 || sig > 64)
		reply_err(c, EINVAL, "bad signal %d", sig);
	else if (kill(-p->pid, sig) < 0 && kill(p->pid, sig) < 0)
		reply_err(c, errno, "kill %d", p->pid);
	else
		reply_ok(c, NULL);
	proc_put(p);
}

void op_ps(struct conn *c, struct json_object *req)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();

	(void)req;
	pthread_mutex_lock(&table_lock);
	for (struct proc *p = procs; p; p = p->next) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "pid", json_object_new_int(p->pid));
		json_object_object_add(e, "cmd", json_object_new_string(p->desc ? p->desc : ""));
		json_object_object_add(e, "pty", json_object_new_boolean(p->pty));
		json_object_object_add(e, "attached", json_object_new_int(p->nattached));
		json_object_array_add(list, e);
	}
	pthread_mutex_unlock(&table_lock);
	json_object_object_add(o, "processes", list);
	reply_ok(c, o);
}
