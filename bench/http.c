#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t take(char *p, size_t size, size_t n, void *opaque)
{
	struct bench_buf *b = opaque;
	char *q = realloc(b->p, b->n + size * n + 1);

	if (!q)
		return 0;
	memcpy(q + b->n, p, size * n);
	b->n += size * n;
	q[b->n] = '\0';
	b->p = q;
	return size * n;
}

long bench_http(CURL *c, const char *base, const char *auth, const char *method,
		const char *path, const char *body, struct bench_buf *out)
{
	CURL *own = c ? NULL : curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	char url[512];
	long status = 0;

	*out = (struct bench_buf){ NULL, 0 };
	c = c ? c : own;
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 900L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(own);
	if (!out->p)
		out->p = calloc(1, 1);
	return status;
}
