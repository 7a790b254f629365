/*
 * The host side of the cubicle-agent protocol (docs/agent-protocol.md): talk
 * to the agent in a guest through cubicle-vmm's vsock unix socket. Host code
 * speaks the protocol through these functions rather than writing frames
 * and {"op": ...} objects of its own.
 *
 * Functions return 0, -EREMOTEIO when the agent answered with an error (the
 * error is copied into *err, which may be NULL), or another -errno for the
 * transport. A timeout_ms bounds each send and receive (0: no bound).
 * Every function may be called from any thread; none keeps state.
 */
#ifndef CUBICLE_AGENT_CLIENT_H
#define CUBICLE_AGENT_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct agent_error {
	char code[32];          /* errno name, e.g. "ENOENT" */
	char message[512];
};

/* A connection to guest port `port`: unix connect + "CONNECT port" + "OK". */
int agent_connect(const char *vsock_path, uint32_t port);

/* Retries hello until the agent answers or timeout_ms passes. */
int agent_wait_ready(const char *vsock_path, int timeout_ms);

/* Sends req on fd and reads one JSON reply (*reply is the caller's). */
int agent_request(int fd, struct json_object *req, struct json_object **reply,
		  struct agent_error *err);

/* Connects, sends req, reads one reply, closes. req is not taken. */
int agent_call(const char *vsock_path, struct json_object *req, struct json_object **reply,
	       struct agent_error *err);
/* The same, each send and receive bounded by timeout_ms (0: no bound). */
int agent_call_timeout(const char *vsock_path, struct json_object *req,
		       struct json_object **reply, struct agent_error *err, int timeout_ms);

struct agent_exec {
	const char *cmd;               /* a shell string, or */
	const char *const *argv;       /* NULL-terminated */
	const char *cwd;
	const char *user;              /* default "user" */
	const char *const *env;        /* "KEY=VALUE", NULL-terminated */
	const void *stdin_data;        /* sent, then stdin is closed */
	size_t stdin_len;
	bool pty;
	long long timeout_ms;
	/* stream 1 stdout, 2 stderr; called as output arrives */
	void (*on_output)(void *opaque, int stream, const uint8_t *buf, uint32_t len);
	void *opaque;
};

struct agent_exit {
	int pid;
	int exit_code;                 /* -1 when killed by a signal */
	int signal;                    /* 0 unless killed */
	bool timed_out;
};

/* Builds the exec request for x (the caller frees it). */
struct json_object *agent_exec_request(const struct agent_exec *x);

/* Runs a command to its end, streaming its output to x->on_output. */
int agent_exec_run(const char *vsock_path, const struct agent_exec *x, struct agent_exit *res,
		   struct agent_error *err);

/*
 * Starts x and returns its connection (the caller's), with the command's
 * pid in *pid, for agent_exec_follow: a caller that must say the pid
 * before the command's output (E2B's start event). -errno on failure.
 */
int agent_exec_open(const char *vsock_path, const struct agent_exec *x, int *pid,
		    struct agent_error *err);

/* Reads the rest of an exec/attach stream on fd until the final status. */
int agent_exec_follow(int fd, const struct agent_exec *x, struct agent_exit *res);

/* Streams src_fd into the guest's path (created with mode). */
int agent_file_write(const char *vsock_path, const char *path, int src_fd, unsigned int mode,
		     long long *written, struct agent_error *err);

/* Streams the guest's path into dst_fd. */
int agent_file_read(const char *vsock_path, const char *path, int dst_fd, long long *got,
		    struct agent_error *err);

/*
 * The same, each receive bounded by timeout_ms and the whole read by
 * 4 * timeout_ms (-ETIMEDOUT): for reads a request waits on, whatever the
 * guest does.
 */
int agent_file_read_timed(const char *vsock_path, const char *path, int dst_fd, long long *got,
			  struct agent_error *err, int timeout_ms);

/* --- background commands --------------------------------------------------- */

/*
 * Starts x as a command that runs on without a connection and returns once
 * the agent has started it, with its pid in *pid. Its stdin gets
 * x->stdin_data (x->stdin_len bytes) and is closed; with keep_stdin it stays
 * open (after the data, if any) for agent_stdin_write(). Without either,
 * stdin is /dev/null. x->on_output is not used: the output is dropped until
 * someone attaches. Like agent_exec_run, bounded only by the connect's 10 s.
 */
int agent_exec_start(const char *vsock_path, const struct agent_exec *x, bool keep_stdin,
		     int *pid, struct agent_error *err);

/*
 * Writes len bytes to the stdin of the running command pid, then closes its
 * stdin if close_stdin. With wait_ms > 0 it then waits, up to wait_ms, until
 * the agent has taken every byte (it closes the connection after our end of
 * stream), so that two writes in a row reach the command in order; a wait
 * that runs out is not an error (the bytes were sent). The command's output,
 * which arrives meanwhile, is dropped. -EREMOTEIO "ESRCH": no such command.
 * Sends are bounded only by the command taking its stdin.
 */
int agent_stdin_write(const char *vsock_path, int pid, const void *data, size_t len,
		      bool close_stdin, int wait_ms, struct agent_error *err);

/*
 * The agent's running commands: *reply (the caller's) is
 * {"processes":[{"pid","cmd","pty","attached"}]}; NULL on failure.
 */
int agent_ps(const char *vsock_path, struct json_object **reply, struct agent_error *err,
	     int timeout_ms);

/* Sends signal (1..64) to the process group of the agent's command pid. */
int agent_kill(const char *vsock_path, int pid, int signal, struct agent_error *err,
	       int timeout_ms);

/* --- the file tree, as the sandbox user sees it ---------------------------- */

/*
 * lstat of path: *reply (the caller's) is {"path","type","size","mode","uid",
 * "gid","mtime"[,"target"]}; NULL on failure.
 */
int agent_stat(const char *vsock_path, const char *path, struct json_object **reply,
	       struct agent_error *err, int timeout_ms);

/*
 * The folder path, depth (1..64) levels down: *reply (the caller's) is
 * {"entries":[{"name","path","type",...}]}; NULL on failure.
 */
int agent_list(const char *vsock_path, const char *path, int depth, struct json_object **reply,
	       struct agent_error *err, int timeout_ms);

/* mkdir; with parents, missing parents are made and an existing folder is fine. */
int agent_mkdir(const char *vsock_path, const char *path, bool parents, struct agent_error *err,
		int timeout_ms);

/* Removes a file or an empty folder; with recursive, a whole tree. */
int agent_remove(const char *vsock_path, const char *path, bool recursive,
		 struct agent_error *err, int timeout_ms);

int agent_rename(const char *vsock_path, const char *from, const char *to,
		 struct agent_error *err, int timeout_ms);

/* --- the desktop ----------------------------------------------------------- */

/*
 * Has the guest's display.d hooks apply width x height (64..8192; the agent
 * gives them 20 s). -EREMOTEIO "ENODEV": the template has no desktop.
 */
int agent_set_display(const char *vsock_path, unsigned int width, unsigned int height,
		      struct agent_error *err, int timeout_ms);

/* --- the agent itself ----------------------------------------------------- */

/* The protocol's round trip alone: "hello". */
int agent_hello(const char *vsock_path, struct agent_error *err, int timeout_ms);

/*
 * The agent's state: *reply (the caller's) is {"protocol","services",
 * "display",...} (docs/agent-protocol.md); NULL on failure.
 */
int agent_status(const char *vsock_path, struct json_object **reply, struct agent_error *err,
		 int timeout_ms);

/* Has the guest power off (its answer comes before it does). */
int agent_poweroff(const char *vsock_path, struct agent_error *err, int timeout_ms);

/* --- on an exec or attach connection the caller drives itself --------------- */

/* Sends len bytes to the command's stdin; len 0 ends it. 0 or -errno. */
int agent_send_stdin(int fd, const void *data, size_t len);

/* Tells a command on a pty its terminal's new size. 0 or -errno. */
int agent_send_resize(int fd, unsigned int rows, unsigned int cols);

#endif
