/*
 * For tests and benchmarks that drive a real cubicled: start it on a free
 * loopback port over a data dir, and learn its URL and API key.
 */
#ifndef CUBICLE_TEST_CUBICLED_H
#define CUBICLE_TEST_CUBICLED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cubicled {
	pid_t pid;
	char url[128];          /* http://127.0.0.1:PORT */
	char key[128];
};

/*
 * Starts the cubicled binary with --data-dir data_dir --guest-dir guest_dir
 * on 127.0.0.1:0 and --no-network, its stderr appended to log_path (or
 * dropped when NULL); false if it did not come up.
 */
bool cubicled_start(struct cubicled *d, const char *binary, const char *data_dir,
		    const char *guest_dir, const char *log_path);

/*
 * The same listening on listen (ADDR:0) with sandboxes' networks on: for
 * the network suite only, which runs it inside its own lab namespace.
 */
bool cubicled_start_networked(struct cubicled *d, const char *binary, const char *data_dir,
			      const char *guest_dir, const char *log_path, const char *listen);

/* The pid of sandbox id's monitor under data_dir (its `pid` file), or 0. */
int cubicled_monitor_pid(const char *data_dir, const char *id);

/* Waits up to timeout_s for it to exit: its status (128 + signal), or -1. */
int cubicled_wait(struct cubicled *d, int timeout_s);

/*
 * The end of a suite: stops cubicled (SIGTERM, then SIGKILL after 60 s) if
 * it runs, shows its log (data_dir.log) on stderr when failed, and removes
 * data_dir and the log.
 */
void cubicled_finish(struct cubicled *d, const char *data_dir, bool failed);

#endif
