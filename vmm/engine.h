/*
 * Engines: what runs a sandbox's vCPUs and memory and carries its devices to
 * the guest. The device host is the same whatever the engine; an engine
 * takes each device as a vhost-user socket (the `qemu` engine hands it to
 * QEMU; an in-process engine would serve it itself) and tells the monitor
 * when the guest has ended and how.
 *
 * Life of an engine, all on the monitor's loop thread:
 *   engine_new()     picks the engine the configuration asks for (or the
 *                    best one this host runs) and checks the host for it;
 *   engine_attach()  once per device, before start;
 *   engine_start()   boots the guest; from then on the engine watches it on
 *                    the loop and calls ended() once, with a VMM_EXIT_*;
 *   engine_stop()    asks the guest to end (ended() follows);
 *   engine_free()    ends it at once if it still runs, and frees.
 * Adding an engine is a file with its ops and a row in engine.c's table.
 */
#ifndef CUBICLE_ENGINE_H
#define CUBICLE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "loop.h"

struct engine;

/* What the monitor hands every engine. */
struct engine_env {
	const struct vmm_config *cfg;
	struct loop *loop;
	int console_fd;             /* the guest's serial console (taken at start) */
	/*
	 * The guest ended: status is a VMM_EXIT_*, why a line for the log.
	 * Called once, on the loop.
	 */
	void (*ended)(void *opaque, int status, const char *why);
	void *opaque;
};

struct engine_ops {
	const char *name;
	/*
	 * Whether cfg's --engine names this engine (or is "auto"); why not in
	 * err. Walked in table order: the first that serves is prepared, and
	 * its prepare() checks the host.
	 */
	bool (*serves)(const struct vmm_config *cfg, char *err, size_t errlen);
	/*
	 * Makes the engine's state, checking what it needs; NULL with err and
	 * *status the exit status to leave with (VMM_EXIT_USAGE for a bad
	 * configuration, VMM_EXIT_ERROR for a host that cannot run it).
	 */
	void *(*prepare)(const struct engine_env *env, int *status, char *err, size_t errlen);
	/* Carries a device: fd is our peer end of its vhost-user socket (taken). */
	int (*attach)(void *priv, const char *vhost_user_type, int fd);
	int (*start)(void *priv, char *err, size_t errlen);
	void (*stop)(void *priv);
	/* Hooks later issues fill in; NULL where the engine cannot (yet). */
	int (*pause)(void *priv);                  /* stop the vCPUs */
	int (*resume)(void *priv);
	int (*add_net)(void *priv, int tap_fd);    /* a virtio-net on a TAP device (taken) */
	/* A short description for the monitor's start-up line ("qemu-tcg"). */
	const char *(*describe)(void *priv);
	void (*free)(void *priv);
};

/*
 * The engine for env->cfg: the one --engine names, or for auto the first
 * in the table this host serves. NULL with the reason in err and *status
 * the exit status to leave with (VMM_EXIT_USAGE or VMM_EXIT_ERROR).
 */
struct engine *engine_new(const struct engine_env *env, int *status, char *err, size_t errlen);
void engine_free(struct engine *e);   /* accepts NULL */

int engine_attach(struct engine *e, const char *vhost_user_type, int fd);
int engine_start(struct engine *e, char *err, size_t errlen);
void engine_stop(struct engine *e);
/* -ENOTSUP where the engine has no such hook. */
int engine_pause(struct engine *e);
int engine_resume(struct engine *e);
int engine_add_net(struct engine *e, int tap_fd);
const char *engine_describe(const struct engine *e);

#endif
