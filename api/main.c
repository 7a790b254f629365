/*
 * cubicled: the sandbox service. Serves the HTTP API (docs/api.md) on one
 * address, keeps its sandboxes' files under --data-dir, and ends every
 * sandbox when it stops (SIGINT, SIGTERM).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "routes.h"
#include "sandbox.h"
#include "server.h"
#include "web.h"

#define KEY_BYTES 24

static const char usage[] =
	"usage: cubicled --data-dir DIR [options]\n"
	"\n"
	"The Cubicle sandbox service: an HTTP API (docs/api.md, api/openapi.yaml) that\n"
	"starts desktop sandboxes (one cubicle-vmm each), acts on them, runs commands\n"
	"and moves files in them, and ends them at their timeout or on request.\n"
	"\n"
	"  --data-dir DIR       where sandboxes' files and the API key live (made if\n"
	"                       missing; at most 60 characters, for unix sockets)\n"
	"  --listen ADDR:PORT   the HTTP address (default 127.0.0.1:8080; port 0 picks\n"
	"                       a free one, which the first line on stdout names)\n"
	"  --config PATH        a JSON file of settings and limits (docs/api.md);\n"
	"                       default DIR/cubicled.json when it exists\n"
	"  --api-key-file PATH  the API key (first line); default DIR/api-key, made\n"
	"                       with a random key (and printed) when missing\n"
	"  --vmm PATH           cubicle-vmm (default: beside cubicled in the build)\n"
	"  --guest-dir DIR      kernel.path and <template>.path, as `make guest`\n"
	"                       leaves them (default: build/guest beside cubicled)\n"
	"  --qemu PATH          QEMU for cubicle-vmm (default its own)\n"
	"  --web-dir DIR        the web console, served at / (console/ and novnc/, as\n"
	"                       `make web` leaves them; default: build/web beside\n"
	"                       cubicled)\n"
	"  --no-network         sandboxes get no network card (default: each its own\n"
	"                       network with NAT and rules, docs/networking.md)\n"
	"  --print-key          print the API key on stdout at start (it is printed\n"
	"                       anyway when it is made)\n"
	"  --help               this text\n"
	"\n"
	"Logs go to stderr, one logfmt line per event. Exit status: 0 after SIGINT or\n"
	"SIGTERM, 1 when it cannot start, 2 bad usage.\n";

/* The key in path's first line, or a new random one written there (mode 0600). */
static int load_key(const char *path, char *key, size_t len, bool *made)
{
	uint8_t b[KEY_BYTES];
	FILE *f = fopen(path, "re");
	int fd;

	*made = false;
	if (f) {
		bool ok = fgets(key, (int)len, f) != NULL;

		fclose(f);
		key[strcspn(key, "\r\n")] = '\0';
		return ok && strlen(key) >= 16 ? 0 : -EINVAL;
	}
	if (errno != ENOENT)
		return -errno;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b) || len < 2 * KEY_BYTES + 4)
		return -EIO;
	strcpy(key, "cbk_");
	for (size_t i = 0; i < sizeof(b); i++)
		sprintf(key + 4 + 2 * i, "%02x", b[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s\n", key) < 0) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	*made = true;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' }, { "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' }, { "api-key-file", required_argument, NULL, 'k' },
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "qemu", required_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
		{ "print-key", no_argument, NULL, 'p' }, { "web-dir", required_argument, NULL, 'w' },
		{ "no-network", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *config = NULL, *key_file = NULL, *vmm = NULL, *guest = NULL;
	const char *qemu = NULL, *data = NULL, *web = NULL;
	static struct api_config cfg;
	char self[PATH_MAX], err[1024], key[256], path[PATH_MAX + 32];
	struct api_routes *routes;
	struct sandboxes *t;
	struct api_server *srv;
	sigset_t mask;
	ssize_t n;
	bool made, print_key = false, no_network = false;
	int c, sig;

	opterr = 0;     /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'l': listen = optarg; break;
		case 'c': config = optarg; break;
		case 'k': key_file = optarg; break;
		case 'v': vmm = optarg; break;
		case 'g': guest = optarg; break;
		case 'q': qemu = optarg; break;
		case 'w': web = optarg; break;
		case 'p': print_key = true; break;
		case 'N': no_network = true; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':':
			fprintf(stderr, "cubicled: %s needs a value (see --help)\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "cubicled: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc || !data) {
		if (optind < argc)
			fprintf(stderr, "cubicled: unexpected argument '%s' (see --help)\n", argv[optind]);
		else
			fprintf(stderr, "cubicled: --data-dir is required (see --help)\n");
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	api_config_defaults(&cfg, self);
	if (strlen(data) >= sizeof(cfg.data_dir)) {
		fprintf(stderr, "cubicled: --data-dir: too long a path\n");
		return 2;
	}
	if (mkdir(data, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "cubicled: %s: %s\n", data, strerror(errno));
		return 1;
	}
	if (!realpath(data, cfg.data_dir)) {
		fprintf(stderr, "cubicled: %s: %s\n", data, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cubicled.json", cfg.data_dir);
	if (!config && access(path, F_OK) == 0)
		config = path;
	if (config && api_config_load(&cfg, config, err, sizeof(err))) {
		fprintf(stderr, "cubicled: %s\n", err);
		return 2;
	}
	if (listen && api_config_listen(&cfg, listen)) {
		fprintf(stderr, "cubicled: --listen %s: want ADDR:PORT with an IPv4 address\n", listen);
		return 2;
	}
	if ((vmm && strlen(vmm) >= sizeof(cfg.vmm)) || (guest && strlen(guest) >= sizeof(cfg.guest_dir)) ||
	    (qemu && strlen(qemu) >= sizeof(cfg.qemu)) || (web && strlen(web) >= sizeof(cfg.web_dir))) {
		fprintf(stderr, "cubicled: too long a path\n");
		return 2;
	}
	if (no_network)
		cfg.network = false;
	if (vmm)
		strcpy(cfg.vmm, vmm);
	if (guest)
		strcpy(cfg.guest_dir, guest);
	if (qemu)
		strcpy(cfg.qemu, qemu);
	if (web)
		strcpy(cfg.web_dir, web);
	if (!api_config_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "cubicled: %s\n", err);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/api-key", cfg.data_dir);
	if ((c = load_key(key_file ? key_file : path, key, sizeof(key), &made)) < 0) {
		fprintf(stderr, "cubicled: API key %s: %s\n", key_file ? key_file : path,
			c == -EINVAL ? "want a key of at least 16 characters on the first line" :
			strerror(-c));
		return 1;
	}

	/* Threads inherit this: only sigwait below takes the stop signals. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread: the MCP tools call this cubicled's API through libcurl. */
	curl_global_init(CURL_GLOBAL_DEFAULT);

	routes = api_routes_new();
	if (!routes) {
		fprintf(stderr, "cubicled: out of memory\n");
		return 1;
	}
	t = sandboxes_new(&cfg, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "cubicled: %s\n", err);
		api_routes_free(routes);
		return 1;
	}
	srv = api_server_start(&cfg, t, routes, key, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "cubicled: %s\n", err);
		sandboxes_free(t);
		api_routes_free(routes);
		return 1;
	}
	cfg.listen_port = api_server_port(srv);
	api_log("info", "msg=listening url=http://%s:%u data_dir=%s config=%s", cfg.listen_host,
		cfg.listen_port, cfg.data_dir, cfg.config_path[0] ? cfg.config_path : "none");
	printf("cubicled: listening on http://%s:%u\n", cfg.listen_host, cfg.listen_port);
	if (!api_web_ready(&cfg))
		api_log("warn", "msg=\"no web console: console/ or novnc/ is missing (make web)\" "
			"web_dir=%s", api_log_str(err, sizeof(err), cfg.web_dir));
	if (made)
		printf("cubicled: a new API key was made and stored in %s:\n%s\n",
		       key_file ? key_file : path, key);
	else if (print_key)
		printf("cubicled: the API key (from %s):\n%s\n", key_file ? key_file : path, key);
	else
		printf("cubicled: the API key is in %s\n", key_file ? key_file : path);
	fflush(stdout);

	while (sigwait(&mask, &sig) != 0)
		;
	api_log("info", "msg=\"stopping: ending every sandbox\" signal=%d", sig);
	sandboxes_shutdown(t);
	api_server_stop(srv);
	sandboxes_free(t);
	api_routes_free(routes);
	api_log("info", "msg=stopped");
	return 0;
}
