/*
 * Files, as the sandbox user: the operation's thread takes the user's
 * filesystem identity (setfsuid/setfsgid are per thread), so permissions are
 * the user's and what it creates is the user's. Relative paths are taken
 * from the user's home. Contents stream in FRAME_DATA chunks of any size.
 */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_conn.h"
#include "ag_json.h"
#include "ag_user.h"
#include "fdio.h"
#include "proto.h"

#define LIST_MAX 100000

/* The request's path field made absolute; false (and an answer sent) if bad. */
static bool get_path(struct ag_conn *c, struct json_object *req, const char *key,
		     const struct ag_user *u, char out[PATH_MAX])
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string) ||
	    !*(s = json_object_get_string(v)) || strlen(s) != (size_t)json_object_get_string_len(v)) {
		ag_reply_err(c, -EINVAL, "bad path in \"%s\"", key);
		return false;
	}
	if ((s[0] == '/' ? snprintf(out, PATH_MAX, "%s", s)
			 : snprintf(out, PATH_MAX, "%s/%s", u->home, s)) >= PATH_MAX) {
		ag_reply_err(c, -ENAMETOOLONG, "bad path in \"%s\"", key);
		return false;
	}
	return true;
}

/*
 * The start of every file operation: this thread takes the request user's
 * filesystem identity (setfsuid reports no error: asking again tells), then
 * the path field key, made absolute. false once an error is answered.
 */
static bool file_begin(struct ag_conn *c, struct json_object *req, const char *key,
		       struct ag_user *u, char path[PATH_MAX])
{
	if (ag_user_from_request(c, req, u) < 0)
		return false;
	setfsgid(u->gid);
	setfsuid(u->uid);
	if ((gid_t)setfsgid((gid_t)-1) != u->gid || (uid_t)setfsuid((uid_t)-1) != u->uid) {
		ag_reply_err(c, -EPERM, "cannot act as user '%s'", u->name);
		return false;
	}
	return get_path(c, req, key, u, path);
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

/* The stat fields of docs/agent-protocol.md, with "name" when given (a list entry). */
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

/* Sends fd's contents as data frames, then the end, or an error frame if reading fails. */
static void send_contents(struct ag_conn *c, int fd, const char *path)
{
	uint8_t *buf = malloc(FRAME_DATA_CHUNK);

	if (!buf) {
		ag_reply_err(c, -ENOMEM, "reading %s", path);
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf, FRAME_DATA_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ag_reply_err(c, -errno, "reading %s", path);
			break;
		}
		if (n == 0) {
			frame_send(c->fd, FRAME_END, NULL, 0);
			break;
		}
		if (frame_send(c->fd, FRAME_DATA, buf, (uint32_t)n) < 0)
			break;          /* the client left */
	}
	free(buf);
}

void ag_op_read(struct ag_conn *c, struct json_object *req)
{
	char path[PATH_MAX];
	struct json_object *o;
	struct ag_user u;
	struct stat st;
	int fd, ret = 0;

	if (!file_begin(c, req, "path", &u, path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ag_reply_err(c, -errno, "%s", path);
		return;
	}
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	if (ret < 0) {
		ag_reply_err(c, ret, "%s", path);
		close(fd);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "size", json_object_new_int64(st.st_size));
	if (ag_reply_ok(c, o) == 0)
		send_contents(c, fd, path);
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
	int err;                    /* the first write error, -errno */
};

/* The writer thread: writes each full slot in turn until told it is done. */
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
		if (!w->err)
			w->err = fdio_write_all(w->fd, sl->buf, sl->len);
		pthread_mutex_lock(&w->m);
		sl->full = false;
		w->next_write = (w->next_write + 1) % SLOTS;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

/*
 * Receives D frames until Z into the file. 0 or -errno for the connection
 * (-EPROTO: not a data frame); *werr the file's first write error, -errno
 * (or why there is no writer: that is answered too).
 */
static int receive_into(struct ag_conn *c, int fd, long long *total, int *werr)
{
	struct writer w = { .m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = fd };
	unsigned int next_fill = 0;
	pthread_t tid;
	int ret = pthread_create(&tid, NULL, writer_main, &w);

	if (ret) {
		*werr = -ret;
		return 0;
	}
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

void ag_op_write(struct ag_conn *c, struct json_object *req)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (ag_jbool(req, "append", false) ? O_APPEND : O_TRUNC);
	mode_t mode = (mode_t)ag_jint(req, "mode", 0644) & 07777;
	char path[PATH_MAX];
	long long total = 0;
	struct json_object *o;
	struct ag_user u;
	int fd, ret, werr = 0;

	if (!file_begin(c, req, "path", &u, path))
		return;
	if (ag_jbool(req, "parents", true) && (ret = make_parents(path)) < 0) {
		ag_reply_err(c, ret, "making the folders of %s", path);
		return;
	}
	fd = open(path, flags, mode);
	if (fd < 0) {
		ag_reply_err(c, -errno, "%s", path);
		return;
	}
	if (ag_reply_ok(c, NULL) < 0) {
		close(fd);
		return;
	}
	ret = receive_into(c, fd, &total, &werr);
	if (close(fd) < 0 && !werr)
		werr = -errno;
	if (werr) {
		ag_reply_err(c, werr, "writing %s", path);
		return;
	}
	if (ret == -EPROTO)
		ag_reply_err(c, ret, "writing %s: expected data frames", path);
	if (ret < 0)
		return;          /* the client left: what came stays written */
	o = json_object_new_object();
	json_object_object_add(o, "size", json_object_new_int64(total));
	ag_reply_ok(c, o);
}

void ag_op_stat(struct ag_conn *c, struct json_object *req)
{
	char path[PATH_MAX];
	struct ag_user u;
	struct stat st;

	if (!file_begin(c, req, "path", &u, path))
		return;
	if (lstat(path, &st) < 0)
		ag_reply_err(c, -errno, "%s", path);
	else
		ag_reply_ok(c, stat_json(NULL, path, &st));
}

void ag_op_exists(struct ag_conn *c, struct json_object *req)
{
	char path[PATH_MAX];
	struct json_object *o;
	struct ag_user u;
	struct stat st;

	if (!file_begin(c, req, "path", &u, path))
		return;
	o = json_object_new_object();
	json_object_object_add(o, "exists", json_object_new_boolean(lstat(path, &st) == 0));
	ag_reply_ok(c, o);
}

/* Appends dir's entries to out, depth levels down; folders it cannot read are skipped. */
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

void ag_op_list(struct ag_conn *c, struct json_object *req)
{
	int depth = (int)ag_jint(req, "depth", 1);
	struct json_object *o, *entries;
	char path[PATH_MAX];
	struct ag_user u;
	struct stat st;
	int ret;

	if (!file_begin(c, req, "path", &u, path))
		return;
	ret = stat(path, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (ret < 0) {
		ag_reply_err(c, ret, "%s", path);
		return;
	}
	entries = json_object_new_array();
	list_dir(path, "", depth < 1 ? 1 : depth > 64 ? 64 : depth, entries);
	o = json_object_new_object();
	json_object_object_add(o, "entries", entries);
	ag_reply_ok(c, o);
}

void ag_op_mkdir(struct ag_conn *c, struct json_object *req)
{
	bool parents = ag_jbool(req, "parents", true);
	char path[PATH_MAX];
	struct ag_user u;
	struct stat st;
	int ret;

	if (!file_begin(c, req, "path", &u, path))
		return;
	ret = parents ? make_parents(path) : 0;
	if (ret == 0 && mkdir(path, (mode_t)ag_jint(req, "mode", 0755) & 07777) < 0)
		ret = errno == EEXIST && parents && stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -errno;
	if (ret < 0)
		ag_reply_err(c, ret, "%s", path);
	else
		ag_reply_ok(c, NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

void ag_op_remove(struct ag_conn *c, struct json_object *req)
{
	char path[PATH_MAX];
	struct ag_user u;
	int ret;

	if (!file_begin(c, req, "path", &u, path))
		return;
	if (ag_jbool(req, "recursive", false))
		ret = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	else
		ret = remove(path);
	if (ret < 0)
		ag_reply_err(c, -errno, "%s", path);
	else
		ag_reply_ok(c, NULL);
}

void ag_op_rename(struct ag_conn *c, struct json_object *req)
{
	char path[PATH_MAX], to[PATH_MAX];
	struct ag_user u;

	if (!file_begin(c, req, "from", &u, path) || !get_path(c, req, "to", &u, to))
		return;
	if (rename(path, to) < 0)
		ag_reply_err(c, -errno, "%s -> %s", path, to);
	else
		ag_reply_ok(c, NULL);
}
