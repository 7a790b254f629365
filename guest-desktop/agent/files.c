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
#include <pthread.h>
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

/*
 * Receiving and writing overlap: the connection thread takes frames into one
 * slot while a writer thread puts the other into the file, so the two copies
 * a byte costs in the guest (socket to user, user to page cache) run on two
 * vCPUs.
 */
#define SLOTS 2

struct writer {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int fd;
	struct slot {
		uint8_t *buf;
		uint32_t cap, len;
		bool full;
	} slot[SLOTS];
	unsigned int next_write;
	bool done;
	int err;                    /* first write error, as errno */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->m);
	for (;;) {
		struct slot *sl = &w->slot[w->next_write];

		while (!sl->full && !w->done)
			pthread_cond_wait(&w->cv, &w->m);
		if (!sl->full)
			break;
		pthread_mutex_unlock(&w->m);
		for (uint32_t off = 0; off < sl->len && !w->err;) {
			ssize_t n = write(w->fd, sl->buf + off, sl->len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				w->err = errno;
			else
				off += (uint32_t)n;
		}
		pthread_mutex_lock(&w->m);
		sl->full = false;
		w->next_write = (w->next_write + 1) % SLOTS;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

/* Receives D frames until Z into the file; 0, or -errno (a write error is positive errno in *werr). */
static int receive_into(struct conn *c, int fd, long long *total, int *werr)
{
	struct writer w = { .m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = fd };
	unsigned int next_fill = 0;
	pthread_t tid;
	int ret = 0;

	if (pthread_create(&tid, NULL, writer_main, &w) != 0)
		return -EAGAIN;
	for (;;) {
		struct slot *sl = &w.slot[next_fill];
		uint8_t type;

		pthread_mutex_lock(&w.m);
		while (sl->full)
			pthread_cond_wait(&w.cv, &w.m);
		pthread_mutex_unlock(&w.m);
		if (w.err)
			break;
		ret = frame_recv(c->fd, &type, &sl->buf, &sl->cap, &sl->len);
		if (ret < 0 || type == FRAME_END)
			break;
		if (type != FRAME_DATA) {
			ret = -EPROTO;
			break;
		}
		*total += sl->len;
		pthread_mutex_lock(&w.m);
		sl->full = true;
		pthread_cond_broadcast(&w.cv);
		pthread_mutex_unlock(&w.m);
		next_fill = (next_fill + 1) % SLOTS;
	}
	pthread_mutex_lock(&w.m);
	w.done = true;
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.m);
	pthread_join(tid, NULL);
	for (int i = 0; i < SLOTS; i++)
		free(w.slot[i].buf);
	*werr = w.err;
	return ret;
}

static void do_write(struct conn *c, const char *path, struct json_object *req)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (jbool(req, "append", false) ? O_APPEND : O_TRUNC);
	mode_t mode = (mode_t)jint(req, "mode", 0644) & 07777;
	long long total = 0;
	struct json_object *o;
	int fd, ret, werr = 0;

	if (jbool(req, "parents", true) && (ret = make_parents(path)) < 0) {
		reply_err(c, -ret, "making the folders of %s", path);
		return;
	}
	fd = open(path, flags, mode);
	if (fd < 0) {
		reply_err(c, errno, "%s", path);
		return;
	}
	if (reply_ok(c, NULL) < 0) {
		close(fd);
		return;
	}
	ret = receive_into(c, fd, &total, &werr);
	if (close(fd) < 0 && !werr)
		werr = errno;
	if (werr) {
		reply_err(c, werr, "writing %s", path);
		return;
	}
	if (ret == -EPROTO)
		reply_err(c, EPROTO, "writing %s: expected data frames", path);
	if (ret < 0)
		return;          /* the client left: what came stays written */
	o = json_object_new_object();
	json_object_object_add(o, "size", json_object_new_int64(total));
	reply_ok(c, o);
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
