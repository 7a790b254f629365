/*
 * The host side of the cubicle-agent protocol (docs/agent-protocol.md): talk
 * to the agent in a guest through cubicle-vmm's vsock unix socket.
 *
 * Functions return 0, -EREMOTEIO when the agent answered with an error (the
 * error is copied into *err), or another -errno for the transport.
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

/* Reads the rest of an exec/attach stream on fd until the final status. */
int agent_exec_follow(int fd, const struct agent_exec *x, struct agent_exit *res);

/* Streams src_fd into the guest's path (created with mode). */
int agent_file_write(const char *vsock_path, const char *path, int src_fd, unsigned int mode,
		     long long *written, struct agent_error *err);

/* Streams the guest's path into dst_fd. */
int agent_file_read(const char *vsock_path, const char *path, int dst_fd, long long *got,
		    struct agent_error *err);

#endif
