/* A small HTTP client of cubicled for the tests (libcurl); see http_client.h. */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char tc_base[128], tc_key[128];

void tc_init(const char *base, const char *key)
{
	snprintf(tc_base, sizeof(tc_base), "%s", base);
	snprintf(tc_key, sizeof(tc_key), "%s", key);
}

/* Grows by doubling: 50 MiB in 16 KiB pieces must not copy quadratically (ASan). */
static size_t take(char *p, size_t size, size_t n, void *opaque)
{
	struct tc_resp *r = opaque;

	if (r->len + size * n + 1 > r->cap) {
		size_t cap = (r->len + size * n + 1) * 2;
		char *b = realloc(r->body, cap);

		if (!b)
			return 0;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t take_header(char *p, size_t size, size_t n, void *opaque)
{
	struct tc_resp *r = opaque;
	size_t have = strlen(r->headers);

	snprintf(r->headers + have, sizeof(r->headers) - have, "%.*s", (int)(size * n), p);
	return size * n;
}

bool tc_http_with(const char *method, const char *path, const char *const *headers,
		  const void *body, size_t len, struct tc_resp *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[1024];
	char *ct = NULL;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", tc_base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, take_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	for (const char *const *p = headers; p && *p; p++)
		h = curl_slist_append(h, *p);
	h = curl_slist_append(h, "Expect:");
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(out->type, sizeof(out->type), "%s", ct ? ct : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (!out->body)
		out->body = calloc(1, 1);
	return rc == CURLE_OK;
}

/* One request; with_key false sends none, a key of "bad" a wrong one. */
bool tc_http_key(const char *method, const char *path, const char *k, const void *body,
		 size_t len, struct tc_resp *out)
{
	char auth[256];
	const char *headers[] = { auth, NULL };

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k ? k : "");
	return tc_http_with(method, path, k ? headers : NULL, body, len, out);
}

bool tc_http(const char *method, const char *path, const char *body, struct tc_resp *out)
{
	return tc_http_key(method, path, tc_key, body, body ? strlen(body) : 0, out);
}

/* A request whose answer must have status want; returns the body parsed (or NULL). */
struct json_object *tc_expect(const char *method, const char *path, const char *body,
				  long want)
{
	struct tc_resp r;
	struct json_object *o = NULL;

	if (!tc_http(method, path, body, &r) || r.status != want) {
		fprintf(stderr, "%s %s: status %ld, want %ld: %.500s\n", method, path, r.status, want,
			r.body);
		free(r.body);
		return NULL;
	}
	o = json_tokener_parse(r.body);
	free(r.body);
	return o ? o : json_object_new_object();
}

/* An error answer: status want, a JSON {code, message} with code want_code. */
bool tc_refused(const char *method, const char *path, const char *body, long want,
		    const char *want_code)
{
	struct json_object *o = tc_expect(method, path, body, want), *c, *m;
	bool ok = o && json_object_object_get_ex(o, "code", &c) &&
		  json_object_object_get_ex(o, "message", &m) &&
		  strcmp(json_object_get_string(c), want_code) == 0 &&
		  json_object_get_string_len(m) > 0;

	if (o && !ok)
		fprintf(stderr, "%s %s: got %s, want code %s\n", method, path,
			json_object_to_json_string(o), want_code);
	json_object_put(o);
	return ok;
}

const char *tc_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* A base64 PNG's size from its IHDR. */
bool tc_png_b64_size(const char *b64, unsigned int *w, unsigned int *h)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t b[24];

	if (!b64 || strlen(b64) < 32)
		return false;
	for (int i = 0; i < 8; i++) {
		uint32_t v = 0;

		for (int j = 0; j < 4; j++) {
			const char *p = strchr(tab, b64[4 * i + j]);

			if (!p || !*p)
				return false;
			v = v << 6 | (uint32_t)(p - tab);
		}
		b[3 * i] = (uint8_t)(v >> 16);
		b[3 * i + 1] = (uint8_t)(v >> 8);
		b[3 * i + 2] = (uint8_t)v;
	}
	if (memcmp(b, "\x89PNG\r\n\x1a\n", 8) || memcmp(b + 12, "IHDR", 4))
		return false;
	*w = (unsigned int)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
	*h = (unsigned int)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
	return true;
}
