/*
 * Commands: stream stdout and stderr as they come, take stdin, signals and
 * resizes, time out, and let any number of connections attach to a running
 * command. A command outlives the connection that started it; `attach`
 * picks it up again. Starting one is spawn.c's.
 *
 * Each command has a relay thread that moves its output to the attached
 * connections and sends the final status. The table lock guards the list;
 * each command's lock guards its attached connections and their writes.
 */
#include "exec.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_conn.h"
#include "ag_json.h"
#include "ag_log.h"
#include "clock.h"
#include "fdio.h"
#include "proto.h"
#include "spawn.h"

#define MAX_ATTACHED 16

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

/* Frees a record nobody refers to; its stdio is closed already (the relay's, proc_put's). */
static void proc_free(struct proc *p)
{
	if (p->wake_efd >= 0)
		close(p->wake_efd);
	if (p->done_efd >= 0)
		close(p->done_efd);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->in_lock);
	free(p->desc);
	free(p->final);
	free(p);
}

/* A record for s with two references (the relay's and the starter's). 0 or -errno. */
static int proc_new(const struct ag_spawn *s, struct proc **out)
{
	struct proc *p = calloc(1, sizeof(*p));
	int ret = 0;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->in_lock, NULL);
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->wake_efd = eventfd(0, EFD_CLOEXEC);
	if (p->wake_efd < 0)
		ret = -errno;
	p->done_efd = eventfd(0, EFD_CLOEXEC);
	if (p->done_efd < 0 && !ret)
		ret = -errno;
	p->desc = strdup(s->desc);
	if (!p->desc && !ret)
		ret = -ENOMEM;
	if (ret < 0) {
		proc_free(p);
		return ret;
	}
	p->pty = s->pty;
	p->refs = 2;
	p->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 0;
	*out = p;
	return 0;
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
	proc_free(p);
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

/* Signals the command's process group, or the command alone if it has none. 0 or -errno. */
static int proc_kill(struct proc *p, int sig)
{
	if (kill(-p->pid, sig) == 0 || kill(p->pid, sig) == 0)
		return 0;
	return -errno;
}

bool ag_exec_reaped(pid_t pid, int status)
{
	uint64_t one = 1;
	struct proc *p;

	pthread_mutex_lock(&table_lock);
	for (p = procs; p && p->pid != pid; p = p->next)
		;
	if (p) {
		p->status = status;
		p->exited = true;
		if (write(p->wake_efd, &one, sizeof(one)) < 0)
			ag_say("pid %d ended, its relay not told: %s", (int)pid, strerror(errno));
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
 * starter is attached) still gets it. Detaches everyone; a connection that
 * cannot take it has gone.
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
	if (!p->final)
		ag_say("pid %d: no memory for its final status", (int)p->pid);
	for (int i = 0; i < p->nattached && p->final; i++)
		frame_send(p->attached[i], FRAME_JSON, p->final, (uint32_t)strlen(p->final));
	p->nattached = 0;
	pthread_mutex_unlock(&p->lock);
	json_object_put(o);
}

/* Kills a command that ran past its timeout; it may have ended meanwhile. */
static void time_out(struct proc *p)
{
	int ret;

	p->timed_out = true;
	ret = proc_kill(p, SIGKILL);
	if (ret < 0 && ret != -ESRCH)
		ag_say("pid %d timed out, and kill: %s", (int)p->pid, strerror(-ret));
}

/* Reads what is ready on the command's stdout and stderr and sends it on. */
static void relay_output(struct proc *p, const struct pollfd *pf, uint8_t *buf, size_t size)
{
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &p->err_fd : &p->out_fd;
		ssize_t n;

		if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(*fd, buf, size);
		if (n > 0) {
			broadcast(p, i ? FRAME_STDERR : FRAME_STDOUT, buf, (uint32_t)n);
		} else if (n == 0 || errno != EINTR) {
			/* EOF, or EIO from a PTY whose other side is gone. */
			close(*fd);
			*fd = -1;
		}
	}
}

/* Takes the reaper's word from the eventfd, so the next poll waits again. */
static void take_wake(struct proc *p)
{
	uint64_t v;

	if (read(p->wake_efd, &v, sizeof(v)) < 0 && errno != EINTR)
		ag_say("pid %d: its end's eventfd: %s", (int)p->pid, strerror(errno));
}

/* Moves output until the process has ended and its output is drained. */
static void *relay(void *arg)
{
	struct proc *p = arg;
	int64_t deadline = p->timeout_ms ? clk_mono_ms() + p->timeout_ms : 0, exited_at = -1;
	uint8_t buf[65536];
	uint64_t one = 1;

	for (;;) {
		struct pollfd pf[3] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 },
					{ p->wake_efd, POLLIN, 0 } };
		int64_t now = clk_mono_ms();
		int timeout = -1;

		if (p->exited && exited_at < 0)
			exited_at = now;
		/* Ended, and its pipes are closed or quiet (a background child may hold them). */
		if (exited_at >= 0 && ((p->out_fd < 0 && p->err_fd < 0) || now - exited_at > 200))
			break;
		if (exited_at >= 0)
			timeout = 50;
		else if (deadline)
			timeout = deadline > now ? (int)(deadline - now) : 0;
		if (poll(pf, 3, timeout) < 0) {
			if (errno != EINTR)
				ag_say("pid %d: poll: %s", (int)p->pid, strerror(errno));
			continue;
		}
		/* Checked on every pass: a command that never stops printing times out too. */
		if (!p->exited && deadline && clk_mono_ms() >= deadline) {
			time_out(p);
			deadline = 0;
		}
		relay_output(p, pf, buf, sizeof(buf));
		if (pf[2].revents & POLLIN)
			take_wake(p);
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
	if (write(p->done_efd, &one, sizeof(one)) < 0)
		ag_say("pid %d: its followers not told of its end: %s", (int)p->pid, strerror(errno));
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
	int ret = pthread_create(&tid, NULL, relay, p);

	if (ret == 0) {
		pthread_detach(tid);
		return;
	}
	ag_say("pid %d: no relay thread (%s); killed", (int)p->pid, strerror(ret));
	proc_kill(p, SIGKILL);
	relay(p);
}

/*
 * Starts s and puts it in the table: *out gets the process with one
 * reference for the caller (the relay has its own), who attaches itself and
 * then starts the relay. 0 or -errno; a child that failed to exec is
 * relayed to nobody and reaped.
 */
static int start(const struct ag_spawn *s, struct proc **out)
{
	struct ag_stdio io;
	struct proc *p;
	pid_t pid;
	int ret = proc_new(s, &p);

	if (ret < 0)
		return ret;
	ret = ag_stdio_open(s, &io);
	if (ret < 0) {
		proc_free(p);
		return ret;
	}
	p->in_fd = io.in;
	p->out_fd = io.out;
	p->err_fd = io.err;
	/* Held across clone and insert, so the reaper cannot miss a quick exit. */
	pthread_mutex_lock(&table_lock);
	ret = ag_spawn_clone(s, &io, &pid);
	if (pid > 0) {
		p->pid = pid;
		p->next = procs;
		procs = p;
	}
	pthread_mutex_unlock(&table_lock);
	if (pid < 0) {
		ag_stdio_close(&io);
		proc_free(p);
		return ret;
	}
	ag_stdio_close_child(&io);
	if (ret < 0) {
		relay_start(p);
		proc_put(p);
		return ret;
	}
	*out = p;
	return 0;
}

/* --- a connection attached to a command ------------------------------------------- */

/* A control message from a follower: a signal, or a PTY's new size. No answer. */
static void control(struct proc *p, struct json_object *msg)
{
	const char *op = ag_jstr(msg, "op", "");

	if (strcmp(op, "signal") == 0) {
		int sig = (int)ag_jint(msg, "signal", SIGTERM), ret;

		if (sig > 0 && sig < 65 && (ret = proc_kill(p, sig)) < 0 && ret != -ESRCH)
			ag_say("pid %d: signal %d: %s", (int)p->pid, sig, strerror(-ret));
	} else if (strcmp(op, "resize") == 0 && p->pty) {
		struct winsize ws = { .ws_row = (unsigned short)ag_jint(msg, "rows", 24),
				      .ws_col = (unsigned short)ag_jint(msg, "cols", 80) };

		pthread_mutex_lock(&p->in_lock);
		if (p->in_fd >= 0 && ioctl(p->in_fd, TIOCSWINSZ, &ws) < 0)
			ag_say("pid %d: resize: %s", (int)p->pid, strerror(errno));
		pthread_mutex_unlock(&p->in_lock);
	}
}

/*
 * Writes to the command's stdin, under in_lock. A write that fails closes
 * it: the command has closed its end (EPIPE, said nowhere: commands do) or
 * its terminal is gone, and data frames have no answer.
 */
static void put_stdin(struct proc *p, const void *buf, size_t len)
{
	int ret;

	if (p->in_fd < 0)
		return;
	ret = fdio_write_all(p->in_fd, buf, len);
	if (ret == 0)
		return;
	if (ret != -EPIPE)
		ag_say("pid %d: stdin: %s; the rest is dropped", (int)p->pid, strerror(-ret));
	close(p->in_fd);
	p->in_fd = -1;
}

static void write_stdin(struct proc *p, const uint8_t *buf, uint32_t len)
{
	pthread_mutex_lock(&p->in_lock);
	put_stdin(p, buf, len);
	pthread_mutex_unlock(&p->in_lock);
}

/* The end of stdin: closed, or on a PTY an EOF character at the terminal. */
static void close_stdin(struct proc *p)
{
	pthread_mutex_lock(&p->in_lock);
	if (p->pty) {
		put_stdin(p, "\x04", 1);
	} else if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	pthread_mutex_unlock(&p->in_lock);
}

/* Serves the connection until the command ends or the client goes. */
static void follow(struct ag_conn *c, struct proc *p)
{
	for (;;) {
		struct pollfd pf[2] = { { c->fd, POLLIN, 0 }, { p->done_efd, POLLIN, 0 } };
		uint8_t type;
		uint32_t len;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ag_say("pid %d: a follower's poll: %s", (int)p->pid, strerror(errno));
			break;
		}
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
 * false (with an error answer) if too many follow the command already, or
 * if the reply could not be sent.
 */
static bool attach_conn(struct ag_conn *c, struct proc *p)
{
	struct json_object *o = json_object_new_object();
	bool attached = false;
	size_t len;
	const char *s;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	pthread_mutex_lock(&p->lock);
	if (!p->final && p->nattached == MAX_ATTACHED) {
		pthread_mutex_unlock(&p->lock);
		json_object_put(o);
		ag_reply_err(c, -EBUSY, "%d connections follow pid %d already", MAX_ATTACHED, p->pid);
		return false;
	}
	if (frame_send(c->fd, FRAME_JSON, s, (uint32_t)len) == 0) {
		attached = true;
		if (p->final)       /* it ended already */
			frame_send(c->fd, FRAME_JSON, p->final, (uint32_t)strlen(p->final));
		else
			p->attached[p->nattached++] = c->fd;
	}
	pthread_mutex_unlock(&p->lock);
	json_object_put(o);
	return attached;
}

/* Why a command did not start, in the words the protocol promises. */
static void reply_start_err(struct ag_conn *c, struct json_object *req, const struct ag_spawn *s,
			    int err)
{
	if (err == -ENOENT && !ag_jstr(req, "cmd", NULL))
		ag_reply_err(c, err, "command not found: %s", s->argv[0]);
	else if (err == -ENOENT || err == -ENOTDIR)
		ag_reply_err(c, err, "cannot run in '%s'", s->cwd ? s->cwd : s->user.home);
	else
		ag_reply_err(c, err, "cannot run %s", s->argv[0]);
}

void ag_op_exec(struct ag_conn *c, struct json_object *req)
{
	struct ag_spawn s;
	struct proc *p = NULL;
	bool attached;
	int ret;

	if (ag_spawn_from_request(c, req, &s) < 0)
		goto out;
	ret = start(&s, &p);
	if (ret < 0) {
		reply_start_err(c, req, &s, ret);
		goto out;
	}
	/* Attached before the relay starts, so no output goes to nobody. */
	attached = attach_conn(c, p);
	relay_start(p);
	if (attached)
		follow(c, p);
	proc_put(p);
out:
	ag_spawn_free(&s);
}

void ag_op_attach(struct ag_conn *c, struct json_object *req)
{
	struct proc *p = proc_get((pid_t)ag_jint(req, "pid", 0));

	if (!p) {
		ag_reply_err(c, -ESRCH, "no running command with pid %lld", ag_jint(req, "pid", 0));
		return;
	}
	if (attach_conn(c, p))
		follow(c, p);
	proc_put(p);
}

void ag_op_kill(struct ag_conn *c, struct json_object *req)
{
	struct proc *p = proc_get((pid_t)ag_jint(req, "pid", 0));
	int sig = (int)ag_jint(req, "signal", SIGKILL), ret;

	if (!p) {
		ag_reply_err(c, -ESRCH, "no running command with pid %lld", ag_jint(req, "pid", 0));
		return;
	}
	if (sig <= 0 || sig > 64)
		ag_reply_err(c, -EINVAL, "bad signal %d", sig);
	else if ((ret = proc_kill(p, sig)) < 0)
		ag_reply_err(c, ret, "kill %d", p->pid);
	else
		ag_reply_ok(c, NULL);
	proc_put(p);
}

void ag_op_ps(struct ag_conn *c, struct json_object *req)
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
	ag_reply_ok(c, o);
}
