/*
 * The desktop's web browser (Firefox in the `desktop` template), as
 * Gemini's browser-level actions need it: its window brought to the front
 * (the browser started when none shows), and the address it shows, read
 * from its session store. Everything goes through the guest's agent with
 * arguments as data, never a shell; the session store is the guest's, so
 * it is read with bounds (BROWSER_STORE_MAX in, BROWSER_JSON_MAX out).
 */
#ifndef CUBICLE_API_BROWSER_H
#define CUBICLE_API_BROWSER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROWSER_STORE_MAX (8u << 20)
#define BROWSER_JSON_MAX (4u << 20)      /* real stores are tens of KiB */
#define BROWSER_URL_MAX 8192
#define BROWSER_READ_MS 2000            /* the store's read, whatever the guest does */
#define BROWSER_START_MS 150000     /* Firefox's first window takes ~70 s under TCG */

/*
 * Brings the browser's window to the front, starting the browser when
 * none shows (at url, when not NULL: then *opened is set, and there is
 * nothing to type, which a window that has only just shown could lose)
 * and waiting for its window. 0, or -errno with a one-line reason in why.
 */
int browser_front(const char *vsock, const char *url, bool *opened, char *why, size_t len);

/*
 * Where a sandbox's session store was found, so that a turn reads it with
 * one request to the agent; and, when there was none, until when not to
 * look again (a sandbox without a browser pays nothing per turn).
 */
struct browser_seen {
	pthread_mutex_t lock;
	char store[512];                /* "" when not known */
	int64_t absent_until_ms;        /* monotonic */
};

void browser_seen_init(struct browser_seen *s);
void browser_seen_destroy(struct browser_seen *s);

/*
 * The address of the browser's selected tab, as its session store last
 * wrote it, into url (the caller's to free). seen says where the store is
 * (look says to look for it again even if it was not there a moment ago:
 * the browser was just started). -ENOENT when there is no store yet;
 * another -errno if it could not be read or decoded.
 */
int browser_url(const char *vsock, struct browser_seen *seen, bool look, char **url);

/*
 * url (malloc'd) decoded from a session store's bytes (mozLz4: a magic, a
 * size, an LZ4 block of JSON); NULL if they are not one or hold no
 * selected tab. Exposed for tests: the bytes are the guest's.
 */
char *browser_store_url(const void *data, size_t len);

#endif
