#include "cubicled.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool start(struct cubicled *d, const char *binary, const char *data_dir,
		  const char *guest_dir, const char *log_path, const char *listen, bool network)
{
	char line[256], path[512];
	const char *http;
	int out[2];
	FILE *f;

	memset(d, 0, sizeof(*d));
	if (pipe(out) < 0)
		return false;
	d->pid = fork();
	if (d->pid == 0) {
		int fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600) :
				    open("/dev/null", O_WRONLY);

		dup2(out[1], 1);
		dup2(fd, 2);
		close(out[0]);
		/*
		 * Sandboxes without a network: guests of these suites send nothing
		 * anywhere. The network suite starts cubicled in its own lab.
		 */
		execl(binary, binary, "--data-dir", data_dir, "--listen", listen,
		      "--guest-dir", guest_dir, network ? NULL : "--no-network", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	/* The first line: "cubicled: listening on http://ADDR:PORT". */
	if (!f || !fgets(line, sizeof(line), f) || !(http = strstr(line, "http://"))) {
		if (f)
			fclose(f);
		return false;
	}
	fclose(f);      /* later lines go nowhere: cubicled ignores SIGPIPE */
	snprintf(d->url, sizeof(d->url), "%.*s", (int)strcspn(http, "\n"), http);
	snprintf(path, sizeof(path), "%s/api-key", data_dir);
	f = fopen(path, "r");
	if (!f || !fgets(d->key, sizeof(d->key), f)) {
		if (f)
			fclose(f);
		return false;
	}
	fclose(f);
	d->key[strcspn(d->key, "\n")] = '\0';
	return true;
}

bool cubicled_start(struct cubicled *d, const char *binary, const char *data_dir,
		    const char *guest_dir, const char *log_path)
{
	return start(d, binary, data_dir, guest_dir, log_path, "127.0.0.1:0", false);
}

bool cubicled_start_networked(struct cubicled *d, const char *binary, const char *data_dir,
			      const char *guest_dir, const char *log_path, const char *listen)
{
	return start(d, binary, data_dir, guest_dir, log_path, listen, true);
}

int cubicled_monitor_pid(const char *data_dir, const char *id)
{
	char path[512];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/sandboxes/%s/pid", data_dir, id);
	f = fopen(path, "r");
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid;
}

int cubicled_wait(struct cubicled *d, int timeout_s)
{
	int status;

	for (int i = 0; d->pid > 0 && i < timeout_s * 10; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(100000);
	}
	return -1;
}

void cubicled_finish(struct cubicled *d, const char *data_dir, bool failed)
{
	char cmd[256];

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		if (cubicled_wait(d, 60) < 0)
			kill(d->pid, SIGKILL);
	}
	if (failed) {
		snprintf(cmd, sizeof(cmd), "echo 'cubicled said:'; tail -n 60 %s.log >&2", data_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "no log\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", data_dir, data_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", data_dir);
}
