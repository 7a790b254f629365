#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
};

/* The Content-Type of a file, by its name's extension. */
static const char *type_of(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i].ext);

		if (len > n && !strcmp(name + len - n, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/*
 * Whether a path segment may name a file of the console: letters, digits,
 * '.', '-', '_', and no leading dot (so no "..", no hidden files).
 */
static bool plain_name(const char *seg)
{
	if (!seg[0] || seg[0] == '.')
		return false;
	for (const char *c = seg; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
			return false;
	return true;
}

/* GET /, /console/..., /novnc/...: a file of web_dir, or 404. */
static void web_file(struct api_req *r)
{
	char path[PATH_MAX];
	struct MHD_Response *resp;
	const char *type;
	struct stat st;
	size_t used;
	int fd;

	used = (size_t)snprintf(path, sizeof(path), "%s%s", r->cfg->web_dir,
				r->nseg ? "" : "/console/index.html");
	for (unsigned int i = 0; i < r->nseg && used < sizeof(path); i++) {
		if (!plain_name(r->seg[i])) {
			api_reply_error(r, 404, "not_found", "no such file");
			return;
		}
		used += (size_t)snprintf(path + used, sizeof(path) - used, "/%s", r->seg[i]);
	}
	if (used >= sizeof(path)) {
		api_reply_error(r, 404, "not_found", "no such file");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		if (!r->nseg)
			api_reply_error(r, 404, "not_found", "the web console is not installed here "
					"(make web; cubicled --web-dir)");
		else
			api_reply_error(r, 404, "not_found", "no such file");
		return;
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);   /* takes fd */
	if (!resp) {
		close(fd);
		api_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	r->resp = resp;
	r->status = 200;
	type = type_of(path);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (!strncmp(type, "text/html", 9))     /* any page, not only / */
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'self'; img-src 'self' blob: data:; "
					"style-src 'self' 'unsafe-inline'; "
					"connect-src 'self' ws: wss:; frame-ancestors 'none'");
}

bool api_web_ready(const struct api_config *cfg)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/console/index.html", cfg->web_dir);
	if (access(path, R_OK))
		return false;
	snprintf(path, sizeof(path), "%s/novnc/core/rfb.js", cfg->web_dir);
	return access(path, R_OK) == 0;
}

static const struct api_route rows[] = {
	{ "GET", "", ROUTE_PUBLIC | ROUTE_WEB, web_file, NULL, NULL, NULL },
	{ "GET", "console/*", ROUTE_PUBLIC | ROUTE_WEB, web_file, NULL, NULL, NULL },
	{ "GET", "novnc/*", ROUTE_PUBLIC | ROUTE_WEB, web_file, NULL, NULL, NULL },
};

const struct api_routes api_web_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
