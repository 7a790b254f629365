/*
 * Files, as the sandbox user: the operation's thread takes the user's
 * filesystem identity (setfsuid/setfsgid are per thread), so permissions are
 * the user's and what it creates is the user's. Relative paths are taken
 * from the user's home. Contents stream in FRAME_DATA chunks of any size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define LIST_MAX 100000

/* The request's path field made absolute; false (and an answer sent) if bad. */
static bool get_path(struct conn *c, struct json_object *req, const char *key,
		     const struct who *w, char out[PATH_MAX])
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string) ||
	    !*(s = json_object_get_string(v)) || strlen(s) != (size_t)json_object_get_string_len(v)) {
		reply_err(c, EINVAL, "bad path in \"%s\"", key);
		return false;
	}
	if ((s[0] == '/' ? snprintf(out, PATH_MAX, "%s", s)
			 : snprintf(out, PATH_MAX, "%s/%s", w->home, s)) >= PATH_MAX) {
		reply_err(c, ENAMETOOLONG, "bad path in \"%s\"", key);
		return false;
	}
	return true;
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

static struct json_object *stat_json(const char *name, const char *path, const struct stat *st)
{
	struct json_object *o = json_object_new_object();

	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "type", json_object_new_string(type_name(st->st_mode)));
	json_object_object_add(o, "size", json_object_new_int64(st->st_size));
	json_object_object_add(o, "mode", json_object_new_int(st->st_mode & 07777));
	json_object_object_add(o, "uid", json_object_new_int((int)st->st_uid));
	json_object_object_add(o, "gid", json_object_new_int((int)st->st_gid));
	json_object_object_add(o, "mtime", json_object_new_int64(st->st_mtim.tv_sec));
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n >= 0) {
			target[n] = '\0';
			json_object_object_add(o, "target", json_object_new_string(target));
		}
	}
	return o;
}

static void do_read(struct conn *c, const char *path)
{
	struct json_object *o;
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		reply_err(c, errno, "%s", path);
		return;
	}
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		reply_err(c, S_ISDIR(st.st_mode) ? EISDIR : errno, "%s", path);
		close(fd);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "size", json_object_new_int64(st.st_size));
	if (reply_ok(c, o) < 0 || !(buf = malloc(FRAME_DATA_CHUNK))) {
		close(fd);
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf, FRAME_DATA_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			reply_err(c, errno, "reading %s", path);
			break;
		}
		if (n == 0) {
			frame_send(c->fd, FRAME_END, NULL, 0);
			break;
		}
		if (frame_send(c->fd, FRAME_DATA, buf, (uint32_t)n) < 0)
			break;
	}
	free(buf);
	close(fd);
}

/* mkdir -p of path's parent; 0 or -errno. */
static int make_parents(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static void do_write(struct conn *c, const char *path, struct json_object *req)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (jbool(req, "append", false) ? O_APPEND : O_TRUNC);
	mode_t mode = (mode_t)jint(req, "mode", 0644) & 07777;
	long long total = 0;
	struct json_object *o;
	int fd, ret;

	if (jbool(req, "parents", true) && (ret = make_parents(path)) < 0) {
		reply_err(c, -ret, "making the folders of %s", path);
		return;
	}
	fd = open(path, flags, mode);
	if (fd < 0) {
		reply_err(c, errno, "%s", path);
		return;
	}
	if (reply_ok(c, NULL) < 0)
		goto out_close;
	for (;;) {
		uint8_t type;
		uint32_t len;

		ret = frame_recv(c->fd, &type, &c->buf, &c->cap, &len);
		if (ret < 0)
			goto out_close;          /* the client left: keep what came */
		if (type == FRAME_END)
			break;
		if (type != FRAME_DATA) {
			reply_err(c, EPROTO, "writing %s: expected data frames", path);
			goto out_close;
		}
		for (uint32_t off = 0; off < len;) {
			ssize_t n = write(fd, c->buf + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				reply_err(c, errno, "writing %s", path);
				goto out_close;
			}
			off += (uint32_t)n;
		}
		total += len;
	}
	if (close(fd) < 0) {
		reply_err(c, errno, "writing %s", path);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "size", json_object_new_int64(total));
	reply_ok(c, o);
	return;

out_close:
	close(fd);
}

static void list_dir(const char *dir, const char *rel, int depth, struct json_object *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && json_object_array_length(out) < LIST_MAX) {
		char path[PATH_MAX], relp[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name) >= PATH_MAX ||
		    snprintf(relp, sizeof(relp), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= PATH_MAX ||
		    lstat(path, &st) < 0)
			continue;
		json_object_array_add(out, stat_json(relp, path, &st));
		if (S_ISDIR(st.st_mode) && depth > 1)
			list_dir(path, relp, depth - 1, out);
	}
	closedir(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

void op_file(struct conn *c, const char *op, struct json_object *req)
{
	char path[PATH_MAX], to[PATH_MAX];
	struct stat st;
	struct who w;

	if (who_from_request(req, &w) < 0) {
		reply_err(c, ESRCH, "no such user '%s'", jstr(req, "user", "user"));
		return;
	}
	setfsgid(w.gid);
	setfsuid(w.uid);
	if (!get_path(c, req, strcmp(op, "rename") ? "path" : "from", &w, path))
		return;

	if (!strcmp(op, "read")) {
		do_read(c, path);
	} else if (!strcmp(op, "write")) {
		do_write(c, path, req);
	} else if (!strcmp(op, "stat")) {
		if (lstat(path, &st) < 0)
			reply_err(c, errno, "%s", path);
		else
			reply_ok(c, stat_json(NULL, path, &st));
	} else if (!strcmp(op, "exists")) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "exists", json_object_new_boolean(lstat(path, &st) == 0));
		reply_ok(c, o);
	} else if (!strcmp(op, "list")) {
		int depth = (int)jint(req, "depth", 1);
		struct json_object *o, *entries;

		int e = stat(path, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;

		if (e) {
			reply_err(c, e, "%s", path);
			return;
		}
		entries = json_object_new_array();
		list_dir(path, "", depth < 1 ? 1 : depth > 64 ? 64 : depth, entries);
		o = json_object_new_object();
		json_object_object_add(o, "entries", entries);
		reply_ok(c, o);
	} else if (!strcmp(op, "mkdir")) {
		int ret = jbool(req, "parents", true) ? make_parents(path) : 0;

		if (ret == 0 && mkdir(path, (mode_t)jint(req, "mode", 0755) & 07777) < 0)
			ret = errno == EEXIST && jbool(req, "parents", true) &&
			      stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -errno;
		if (ret < 0)
			reply_err(c, -ret, "%s", path);
		else
			reply_ok(c, NULL);
	} else if (!strcmp(op, "remove")) {
		int ret;

		if (jbool(req, "recursive", false))
			ret = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
		else
			ret = remove(path);
		if (ret < 0)
			reply_err(c, errno, "%s", path);
		else
			reply_ok(c, NULL);
	} else if (!strcmp(op, "rename")) {
		if (!get_path(c, req, "to", &w, to))
			return;
		if (rename(path, to) < 0)
			reply_err(c, errno, "%s -> %s", path, to);
		else
			reply_ok(c, NULL);
	}
}
