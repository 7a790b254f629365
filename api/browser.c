#include "browser.h"

#include <errno.h>
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>

#include <json-c/json.h>

#include "client.h"
#include "clock.h"

#define BROWSER_BIN "firefox-esr"
/*
 * The sandbox user's Firefox profiles (the templates make `user`, home
 * /home/user): where Firefox 147 on keeps them (XDG), then where it did.
 */
static const char *const profiles[] = { "/home/user/.config/mozilla/firefox",
					"/home/user/.mozilla/firefox" };
#define STORE_TAIL "/sessionstore-backups/recovery.jsonlz4"
#define MOZLZ4_MAGIC "mozLz40"      /* and a NUL: 8 bytes, then the size, then a block */
#define FRONT_MS 10000
#define ABSENT_MS 5000          /* a sandbox without a store is looked at again after this */

/* Runs argv in the guest as the sandbox user, up to timeout_ms; its exit code, or -errno. */
static int run(const char *vsock, const char *const *argv, long long timeout_ms,
	       struct agent_error *err)
{
	struct agent_exec x = { .argv = argv, .timeout_ms = timeout_ms };
	struct agent_exit res = { 0 };
	int ret = agent_exec_run(vsock, &x, &res, err);

	if (ret)
		return ret;
	return res.timed_out ? -ETIMEDOUT : res.signal ? -EINTR : res.exit_code;
}

int browser_front(const char *vsock, const char *url, bool *opened, char *why, size_t len)
{
	/* xdotool's search exits 1 when nothing matches; --sync waits for a window to show. */
	static const char *const front[] = { "xdotool", "search", "--onlyvisible", "--class",
					     "firefox", "windowactivate", "--sync", NULL };
	static const char *const wait[] = { "xdotool", "search", "--sync", "--onlyvisible",
					    "--class", "firefox", "windowactivate", "--sync", NULL };
	const char *start[] = { BROWSER_BIN, url, NULL };
	struct agent_exec x = { .argv = start };
	struct agent_error err = { "", "" };
	int pid, ret = run(vsock, front, FRONT_MS, &err);

	*opened = false;
	if (ret == 0)
		return 0;
	if (ret < 0) {
		snprintf(why, len, "the desktop did not answer (%s%s%s)", err.code,
			 err.message[0] ? ": " : "", err.message);
		return ret == -EREMOTEIO ? -EIO : ret;
	}
	ret = agent_exec_start(vsock, &x, false, &pid, &err);
	if (ret) {
		snprintf(why, len, "this sandbox has no web browser to start (%s: %s)", BROWSER_BIN,
			 err.message[0] ? err.message : err.code);
		return -ENOENT;
	}
	ret = run(vsock, wait, BROWSER_START_MS, &err);
	if (ret) {
		snprintf(why, len, "the web browser showed no window in %d s", BROWSER_START_MS / 1000);
		return ret < 0 ? ret : -ETIMEDOUT;
	}
	*opened = url != NULL;
	return 0;
}

/* o's member at 1-based index (taken from key of holder, default 1) of list; NULL if none. */
static struct json_object *selected(struct json_object *holder, const char *key,
				    struct json_object *list)
{
	struct json_object *v;
	int64_t i = 1;

	if (json_object_object_get_ex(holder, key, &v) && json_object_is_type(v, json_type_int))
		i = json_object_get_int64(v);
	if (!json_object_is_type(list, json_type_array) || i < 1 ||
	    (size_t)i > json_object_array_length(list))
		return NULL;
	return json_object_array_get_idx(list, (size_t)(i - 1));
}

char *browser_store_url(const void *data, size_t len)
{
	const uint8_t *p = data;
	struct json_object *root = NULL, *win, *tab, *entry, *v;
	struct json_tokener *tok;
	uint32_t size;
	char *json, *url = NULL;
	int n;

	if (len < 12 || memcmp(p, MOZLZ4_MAGIC, 8) || len - 12 > INT32_MAX)
		return NULL;
	size = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
	if (!size || size > BROWSER_JSON_MAX || !(json = malloc(size)))
		return NULL;
	n = LZ4_decompress_safe((const char *)p + 12, json, (int)(len - 12), (int)size);
	tok = n > 0 ? json_tokener_new_ex(256) : NULL;
	if (tok) {
		root = json_tokener_parse_ex(tok, json, n);
		json_tokener_free(tok);
	}
	free(json);
	win = json_object_object_get_ex(root, "windows", &v) ? selected(root, "selectedWindow", v) : NULL;
	tab = win && json_object_object_get_ex(win, "tabs", &v) ? selected(win, "selected", v) : NULL;
	entry = tab && json_object_object_get_ex(tab, "entries", &v) ? selected(tab, "index", v) : NULL;
	if (entry && json_object_object_get_ex(entry, "url", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) < BROWSER_URL_MAX)
		url = strdup(json_object_get_string(v));
	json_object_put(root);
	return url;
}

/* The newest session store's path into path; -ENOENT if there is none. */
static int store_path(const char *vsock, char *path, size_t len)
{
	struct json_object *reply = NULL, *entries;
	struct agent_error err = { "", "" };
	int64_t newest = -1;
	int ret = -ENOENT;

	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]) && ret; i++)
		ret = agent_list(vsock, profiles[i], 3, &reply, &err, FRONT_MS);
	if (ret)
		return ret == -EREMOTEIO ? -ENOENT : ret;
	if (json_object_object_get_ex(reply, "entries", &entries) &&
	    json_object_is_type(entries, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(entries); i++) {
			struct json_object *e = json_object_array_get_idx(entries, i);
			const char *p = json_object_get_string(json_object_object_get(e, "path"));
			int64_t m = json_object_get_int64(json_object_object_get(e, "mtime"));
			size_t n = p ? strlen(p) : 0;

			if (n > strlen(STORE_TAIL) && n < len && m > newest &&
			    !strcmp(p + n - strlen(STORE_TAIL), STORE_TAIL)) {
				newest = m;
				memcpy(path, p, n + 1);
			}
		}
	}
	json_object_put(reply);
	return newest < 0 ? -ENOENT : 0;
}

/* The store at path, read with bounds and decoded into *url. */
static int read_store(const char *vsock, const char *path, char **url)
{
	struct agent_error err = { "", "" };
	long long got = 0;
	void *map;
	int fd, ret;

	/* A file of at most BROWSER_STORE_MAX: past it, the guest's bytes fail to write. */
	fd = memfd_create("cubicle-store", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, BROWSER_STORE_MAX) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0) {
		ret = -errno;
		goto out;
	}
	ret = agent_file_read_timed(vsock, path, fd, &got, &err, BROWSER_READ_MS);
	if (ret)
		goto out;
	map = mmap(NULL, BROWSER_STORE_MAX, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	*url = browser_store_url(map, (size_t)got);
	munmap(map, BROWSER_STORE_MAX);
	ret = *url ? 0 : -EBADMSG;
out:
	close(fd);
	return ret;
}

void browser_seen_init(struct browser_seen *s)
{
	*s = (struct browser_seen){ .absent_until_ms = 0 };
	pthread_mutex_init(&s->lock, NULL);
}

void browser_seen_destroy(struct browser_seen *s)
{
	pthread_mutex_destroy(&s->lock);
}

int browser_url(const char *vsock, struct browser_seen *seen, bool look, char **url)
{
	char path[512];
	int ret;

	*url = NULL;
	pthread_mutex_lock(&seen->lock);
	snprintf(path, sizeof(path), "%s", seen->store);
	ret = !path[0] && !look && clk_mono_ms() < seen->absent_until_ms ? -ENOENT : 0;
	pthread_mutex_unlock(&seen->lock);
	if (ret)
		return ret;
	if (path[0] && (ret = read_store(vsock, path, url)) != -EREMOTEIO)
		return ret;
	/* Not known, or gone (a new profile): looked for again. */
	ret = store_path(vsock, path, sizeof(path));
	pthread_mutex_lock(&seen->lock);
	snprintf(seen->store, sizeof(seen->store), "%s", ret ? "" : path);
	if (ret == -ENOENT)
		seen->absent_until_ms = clk_mono_ms() + ABSENT_MS;
	pthread_mutex_unlock(&seen->lock);
	return ret ? ret : read_store(vsock, path, url);
}
