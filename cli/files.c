/*
 * cp: a file into or out of a sandbox (PUT and GET /sandboxes/ID/files),
 * streamed both ways; a download is made whole or not at all (outfile.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "http.h"
#include "json.h"
#include "options.h"
#include "outfile.h"

static const char cp_usage[] =
	"usage: cubicle cp [--mode MODE] SRC DST\n"
	"\n"
	"Copies a file into or out of a sandbox: one of SRC and DST is ID:/path (an\n"
	"absolute path in sandbox ID), the other a local path, or - for stdin or\n"
	"stdout. Files stream: none is held in memory. A DST that is a folder (or\n"
	"ends in /) gets SRC's name. A download is written whole or not at all (a\n"
	"temp file beside DST is renamed); missing folders in the sandbox are made.\n"
	"\n"
	"  --mode MODE   the uploaded file's permissions, in octal (default 644)\n"
	"\n"
	"examples: cubicle cp data.csv 3f0c9a7be21d4c55:/home/user/\n"
	"          cubicle cp 3f0c9a7be21d4c55:/var/log/Xorg.0.log .\n";

struct cp_args {
	const char *mode;
};

static const struct opt cp_opts[] = {
	{ "--mode", NULL, OPT_VALUE, offsetof(struct cp_args, mode) },
	{ NULL },
};

/* The last part of a path ("b" of "a/b"); "" when it ends in '/'. */
static const char *last_part(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Splits ID:/path: the id (allocated) and *path; NULL when arg is a local path. */
static char *guest_side(const char *arg, const char **path)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg || colon[1] != '/' || memchr(arg, '/', (size_t)(colon - arg)))
		return NULL;
	*path = colon + 1;
	return strndup(arg, (size_t)(colon - arg));
}

/*
 * Whether path is a folder in sandbox id, into *dir (missing: not); 0, or
 * -errno after saying why.
 */
static int guest_is_dir(struct cli *c, const char *id, const char *path, bool *dir)
{
	struct http h = { .method = "GET", .quiet = "not_found" };
	struct json_object *o;
	int ret = 0;

	http_path_add(c->curl, &h.path, "/sandboxes/%s/files/stat", id);
	http_query_add(c->curl, &h.path, "path", path);
	o = http_json(c, &h);
	if (o)
		*dir = cj_str(o, "type") && !strcmp(cj_str(o, "type"), "dir");
	else if (!strcmp(h.code, "not_found"))
		*dir = false;
	else
		ret = -EIO;
	json_object_put(o);
	http_free(&h);
	return ret;
}

/* dir/name, allocated; NULL after saying why not. */
static char *join(const char *dir, const char *name)
{
	char *s;

	if (!*name) {
		cli_fail("%s: a folder: name the file to copy", dir);
		return NULL;
	}
	if (asprintf(&s, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0) {
		cli_fail("out of memory");
		return NULL;
	}
	return s;
}

/*
 * Where to upload src to: gpath, or gpath/NAME if it is a folder. NULL
 * after saying why; strdup's out of memory goes unsaid.
 */
static char *upload_target(struct cli *c, const char *id, const char *gpath, const char *src)
{
	bool dir = gpath[strlen(gpath) - 1] == '/';

	if (!dir && guest_is_dir(c, id, gpath, &dir) < 0)
		return NULL;
	if (dir)
		return join(gpath, strcmp(src, "-") ? last_part(src) : "");
	return strdup(gpath);
}

/* Uploads src (or stdin) to gpath in sandbox id; 0, or -errno after saying why not. */
static int cp_up(struct cli *c, const char *src, const char *id, const char *gpath,
		 const char *mode)
{
	struct http h = { .method = "PUT", .upload_size = -1 };
	char *target = NULL;
	struct stat st;
	int ret = -EIO;

	h.upload = strcmp(src, "-") ? fopen(src, "rbe") : stdin;
	if (!h.upload || fstat(fileno(h.upload), &st) < 0) {
		ret = -errno;
		cli_fail("%s: %s", src, strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		cli_fail("%s: %s", src, strerror(EISDIR));
		goto out_close;
	}
	if (S_ISREG(st.st_mode))
		h.upload_size = st.st_size;
	if (!(target = upload_target(c, id, gpath, src)))
		goto out_close;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/files", id);
	http_query_add(c->curl, &h.path, "path", target);
	if (mode)
		http_query_add(c->curl, &h.path, "mode", mode);
	ret = http_run(c, &h);
out_close:
	if (h.upload && h.upload != stdin)
		fclose(h.upload);
	free(target);
	http_free(&h);
	return ret;
}

/* Where to download gpath to: dst, or dst/NAME if it is a folder. NULL after saying why. */
static char *download_target(const char *gpath, const char *dst)
{
	struct stat st;
	char *s;

	if (strcmp(dst, "-") && (dst[strlen(dst) - 1] == '/' ||
				 (stat(dst, &st) == 0 && S_ISDIR(st.st_mode))))
		return join(dst, last_part(gpath));
	if (!(s = strdup(dst)))
		cli_fail("out of memory");
	return s;
}

/* Downloads gpath in sandbox id to dst (or stdout), whole; 0, or -errno after saying why not. */
static int cp_down(struct cli *c, const char *id, const char *gpath, const char *dst)
{
	struct http h = { .method = "GET" };
	struct outfile out = { 0 };
	char *target = download_target(gpath, dst);
	int ret = -ENOMEM;

	if (!target || (ret = outfile_open(&out, target)) < 0)
		goto out_abort;
	h.out = out.f;
	h.out_name = target;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/files", id);
	http_query_add(c->curl, &h.path, "path", gpath);
	if ((ret = http_run(c, &h)) < 0)
		goto out_abort;
	if (h.file_size >= 0 && h.received != h.file_size) {
		cli_fail("%s: the download ended after %lld of %lld bytes", gpath, h.received,
			 h.file_size);
		ret = -EPIPE;
	} else {
		ret = outfile_commit(&out);
	}
out_abort:
	outfile_abort(&out);
	free(target);
	http_free(&h);
	return ret;
}

/* Checks cp's arguments (sid and did: the sandboxes of SRC and DST); 0, or -EINVAL after saying. */
static int cp_check(const struct cli *c, const char *mode, const char *dst, const char *sid,
		    const char *did)
{
	if (!*dst)
		return cli_usage_err(c, "an empty DST");
	if (mode && (!*mode || strlen(mode) > 4 || strspn(mode, "01234567") != strlen(mode)))
		return cli_usage_err(c, "--mode '%s': want octal permissions, as 644", mode);
	if (sid && did)
		return cli_usage_err(c, "SRC and DST are both in sandboxes: one must be local");
	if (!sid && !did)
		return cli_usage_err(c, "want SRC or DST in a sandbox, as ID:/path");
	if (sid && mode)
		return cli_usage_err(c, "--mode is for uploads");
	return 0;
}

/* Copies argv[0] to argv[1], one of them ID:/path. */
static int cmd_cp(struct cli *c, void *opts, int n, char **argv)
{
	const struct cp_args *a = opts;
	const char *sp = NULL, *dp = NULL;
	char *sid = guest_side(argv[0], &sp), *did = guest_side(argv[1], &dp);
	int st;

	(void)n;
	if (cp_check(c, a->mode, argv[1], sid, did) < 0)
		st = CLI_EXIT_USAGE;
	else if ((did ? cp_up(c, argv[0], did, dp, a->mode) : cp_down(c, sid, sp, argv[1])) < 0)
		st = CLI_EXIT_FAILED;
	else
		st = 0;
	free(sid);
	free(did);
	return st;
}

const struct cli_command cli_cp = { cp_usage, cp_opts, sizeof(struct cp_args), cmd_cp };
