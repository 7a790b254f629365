/* The HTTP layer of http.h, and the API key it sends. */
#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "json.h"

void http_free(struct http *h)
{
	buf_free(&h->path);
	buf_free(&h->body);
	json_object_put(h->json);
	h->json = NULL;
}

void http_path_add(CURL *curl, struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *e;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] != '%' || p[1] != 's') {
			buf_add(b, p, 1);
			continue;
		}
		e = curl_easy_escape(curl, va_arg(ap, const char *), 0);
		if (!e)
			b->failed = true;
		else
			buf_add(b, e, strlen(e));
		curl_free(e);
		p++;
	}
	va_end(ap);
}

void http_query_add(CURL *curl, struct buf *b, const char *name, const char *value)
{
	buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1);
	buf_add(b, name, strlen(name));
	http_path_add(curl, b, "=%s", value);
}

/* libcurl's write callback: a 2xx answer to out, sink or body; an error's to body. */
static size_t on_write(char *p, size_t size, size_t n, void *opaque)
{
	struct http *h = opaque;
	long status = 0;

	n *= size;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status / 100 != 2 || (!h->out && !h->sink)) {
		buf_add(&h->body, p, n);
		if (h->body.failed && status / 100 == 2)
			errf(h->why, sizeof(h->why), "out of memory for an answer (or over %u MiB)",
			     BUF_MAX >> 20);
		return h->body.failed && status / 100 == 2 ? 0 : n;
	}
	if (h->out && fwrite(p, 1, n, h->out) != n) {
		errf(h->why, sizeof(h->why), "%s: %s", h->out_name, strerror(errno));
		return 0;
	}
	if (h->sink && h->sink(h, p, n) < 0)
		return 0;
	h->received += (long long)n;
	return n;
}

/* libcurl's header callback: notes X-File-Size. */
static size_t on_header(char *p, size_t size, size_t n, void *opaque)
{
	struct http *h = opaque;
	char line[64];

	n *= size;
	if (n > 12 && n < sizeof(line) && !strncasecmp(p, "X-File-Size:", 12)) {
		memcpy(line, p + 12, n - 12);
		line[n - 12] = '\0';
		h->file_size = strtoll(line, NULL, 10);
	}
	return n;
}

/* libcurl's progress callback: how long it has waited, once a second, on stderr. */
static int on_progress(void *opaque, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct http *h = opaque;
	int64_t s = (clk_mono_ms() - h->started_ms) / 1000;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (s != h->shown_s) {
		fprintf(stderr, "\rcubicle: %s... %llds", h->progress, (long long)s);
		h->shown_s = s;
	}
	return 0;
}

/* Reads c->key from the first line of path; 0, or -errno after saying why not. */
static int read_key_file(struct cli *c, const char *path)
{
	FILE *f = fopen(path, "re");
	int err = errno;

	if (!f) {
		cli_fail("API key file %s: %s", path, strerror(err));
		return -err;
	}
	if (!fgets(c->key_buf, sizeof(c->key_buf), f))
		c->key_buf[0] = '\0';
	fclose(f);
	c->key_buf[strcspn(c->key_buf, "\r\n")] = '\0';
	if (!c->key_buf[0]) {
		cli_fail("API key file %s: no key on its first line", path);
		return -ENOKEY;
	}
	c->key = c->key_buf;
	return 0;
}

/*
 * c->key, once: --key, --key-file, CUBICLE_API_KEY, CUBICLE_API_KEY_FILE,
 * or CLI_DEFAULT_KEY_FILE when readable (main sorts the first four); else
 * none. 0, or -errno after saying why not.
 */
static int load_key(struct cli *c)
{
	int ret;

	if (!c->key && c->key_file && (ret = read_key_file(c, c->key_file)) < 0)
		return ret;
	if (!c->key && access(CLI_DEFAULT_KEY_FILE, R_OK) == 0 &&
	    (ret = read_key_file(c, CLI_DEFAULT_KEY_FILE)) < 0)
		return ret;
	if (!c->key)
		c->key = "";
	if (strlen(c->key) >= sizeof(c->key_buf) - 1) {
		cli_fail("the API key is over %zu bytes", sizeof(c->key_buf) - 2);
		return -EINVAL;
	}
	for (const char *p = c->key; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			cli_fail("the API key holds a control character");
			return -EINVAL;
		}
	}
	return 0;
}

/* Sets the body h sends up on curl: a JSON text or a file; adds its header to hdrs. */
static struct curl_slist *set_body(CURL *curl, struct http *h, struct curl_slist *hdrs)
{
	if (h->json) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(
			h->json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (h->upload) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READDATA, h->upload);
		if (h->upload_size >= 0)
			curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, h->upload_size);
	}
	return hdrs;
}

/* Sets c->curl up for h: the headers to free after (body and auth), or NULL. */
static struct curl_slist *http_setup(struct cli *c, struct http *h, char *errbuf)
{
	CURL *curl = c->curl;
	struct curl_slist *hdrs = NULL;
	struct buf url = { 0 };
	char auth[600];

	curl_easy_reset(curl);
	buf_add(&url, c->url, strlen(c->url));
	buf_add(&url, h->path.data ? h->path.data : "", h->path.len);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);          /* libcurl copies it */
	buf_free(&url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cubicle/" CLI_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);     /* exec and create wait long */
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, h);
	if (strcmp(h->method, "GET"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, h->method);
	if (c->key[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->key);
		hdrs = curl_slist_append(hdrs, auth);
	}
	hdrs = set_body(curl, h, hdrs);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (h->progress && isatty(STDERR_FILENO)) {
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, h);
	}
	return hdrs;
}

/* Notes the code of a non-2xx answer in h->code and says it (unless h->quiet): one line. */
static void say_error(struct http *h)
{
	struct json_object *o = cj_parse(h->body.data, h->body.len);
	const char *code = cj_str(o, "code"), *msg = cj_str(o, "message");

	snprintf(h->code, sizeof(h->code), "%s", code ? code : "");
	if (code && h->quiet && !strcmp(code, h->quiet))
		;
	else if (code && msg)
		cli_fail("%s: %s", code, msg);
	else if (h->body.len)
		cli_fail("HTTP %ld: %.200s", h->status, h->body.data);
	else
		cli_fail("HTTP %ld", h->status);
	json_object_put(o);
}

/* After the transfer: 0 for a 2xx answer, wholly received; else -EIO after saying why. */
static int http_report(const struct cli *c, struct http *h, CURLcode rc, const char *errbuf)
{
	const char *err = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (h->why[0])
		cli_fail("%s", h->why);
	else if (h->status >= 300 && (rc == CURLE_OK || h->body.len))
		say_error(h);
	else if (rc != CURLE_OK && !h->status)
		cli_fail("cannot reach %s: %s", c->url, err);
	else if (rc != CURLE_OK)
		cli_fail("%s: %s", c->url, err);
	else if (h->status / 100 != 2)
		say_error(h);
	else
		return 0;
	return -EIO;
}

int http_run(struct cli *c, struct http *h)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs;
	CURLcode rc;
	int ret;

	if ((ret = load_key(c)) < 0)
		return ret;
	if (h->path.failed) {
		cli_fail("out of memory");
		return -ENOMEM;
	}
	h->curl = c->curl;
	h->status = 0;
	h->file_size = -1;
	h->started_ms = clk_mono_ms();
	h->shown_s = -1;
	hdrs = http_setup(c, h, errbuf);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdrs);
	if (h->shown_s >= 0)
		fputs("\r\033[K", stderr);
	return http_report(c, h, rc, errbuf);
}

struct json_object *http_json(struct cli *c, struct http *h)
{
	struct json_object *o;

	if (http_run(c, h) < 0)
		return NULL;
	o = cj_parse(h->body.data, h->body.len);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		cli_fail("%s answered something that is not a JSON object", c->url);
		return NULL;
	}
	return o;
}
