/*
 * cubicle: the command-line client of cubicled (docs/cli.md).
 *
 * Each subcommand is one function that parses its own arguments against a
 * table of options and makes its requests through http_run(), the one HTTP
 * helper (libcurl): a JSON body or a file to upload goes out; the answer
 * comes into a buffer, a FILE * or a sink called as it arrives; any failure
 * is said in one line on stderr. Exit statuses: 0; 1 a failure; 2 bad usage;
 * exec answers the command's own status, and 125 for its own failures.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLI_VERSION "0.1"
#define DEFAULT_URL "http://127.0.0.1:8080"
#define DEFAULT_KEY_FILE "/var/lib/cubicle/api-key"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_TIMED_OUT 124          /* exec: the command ran past --timeout-ms, as timeout(1) */
#define EXIT_EXEC_FAILED 125        /* exec: cubicle itself failed, as env(1) and docker */

#define ANSWER_MAX (256u << 20)     /* an answer (or one NDJSON line) held in memory */
#define STDIN_MAX (16u << 20)       /* text to type, a command's stdin, a batch of actions */
/* Bytes of text per request: a batch must end within cubicled's 180 s, at 125 keys/s at worst. */
#define TYPE_PIECE 2048

/* --- buffers, messages ------------------------------------------------------- */

struct buf {
	char *data;             /* NUL-terminated once anything was added */
	size_t len, cap;
	bool failed;            /* out of memory, or over ANSWER_MAX: later adds are dropped */
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *d;

	if (b->failed)
		return;
	if (n >= ANSWER_MAX || b->len + n >= ANSWER_MAX) {
		b->failed = true;
		return;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Says one line on stderr, "cubicle: ...", with any control character made a space. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "cubicle: %s\n", line);
}

/* Reads f (named name) to its end into b, up to max bytes; -1 after saying why not. */
static int read_all(FILE *f, const char *name, struct buf *b, size_t max)
{
	char chunk[65536];
	size_t n;
	int err = 0;

	buf_add(b, "", 0);
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > max)
			err = EFBIG;
		buf_add(b, chunk, n);
	}
	if (!err && ferror(f))
		err = errno ? errno : EIO;
	if (!err && b->failed)
		err = ENOMEM;
	if (err) {
		fail("%s: %s", name, strerror(err));
		return -1;
	}
	return 0;
}

/* --- the command line --------------------------------------------------------- */

struct cli;

struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *usage;
};

struct cli {
	char url[2048];                 /* cubicled's, without a trailing slash */
	const char *key;                /* --key or CUBICLE_API_KEY, or key_buf */
	const char *key_file;           /* --key-file or CUBICLE_API_KEY_FILE */
	char key_buf[512];
	const struct command *cmd;      /* the subcommand running; NULL while in the globals */
	CURL *curl;                     /* one handle: requests reuse its connection */
};

static const char main_usage[] =
	"usage: cubicle [--url URL] [--key KEY | --key-file FILE] COMMAND [ARGS]\n"
	"\n"
	"The command-line client of cubicled, the Cubicle sandbox service.\n"
	"\n"
	"Sandboxes:\n"
	"  create       start a sandbox; prints its id\n"
	"  list         the sandboxes, as a table\n"
	"  get          a sandbox, as JSON\n"
	"  kill         end sandboxes\n"
	"  timeout      end a sandbox some seconds from now\n"
	"Screen and input:\n"
	"  screenshot   save the screen as PNG or JPEG\n"
	"  move, click, scroll, drag\n"
	"               the pointer\n"
	"  type, key    the keyboard\n"
	"  cursor       where the pointer is\n"
	"  actions      run a batch of actions from JSON\n"
	"  stream       how to watch it with a VNC viewer\n"
	"Commands and files:\n"
	"  exec         run a command; its output comes as it is written\n"
	"  cp           copy a file in or out\n"
	"\n"
	"Options (before COMMAND):\n"
	"  --url URL         cubicled's address (else $CUBICLE_URL, else\n"
	"                    " DEFAULT_URL ")\n"
	"  --key KEY         the API key (else $CUBICLE_API_KEY)\n"
	"  --key-file FILE   read the API key from FILE's first line (else\n"
	"                    $CUBICLE_API_KEY_FILE, else " DEFAULT_KEY_FILE "\n"
	"                    when readable)\n"
	"  --version         print cubicle's version\n"
	"  -h, --help        this text\n"
	"\n"
	"'cubicle COMMAND --help' (or 'cubicle help COMMAND') tells more of each.\n"
	"Exit status: 0 done; 1 failed (one line on stderr says why); 2 bad usage;\n"
	"exec: the command's own (125 when cubicle failed).\n";

/* Says a usage error and the help to read; returns EXIT_USAGE. */
static int usage_err(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_err(const struct cli *c, const char *fmt, ...)
{
	const char *name = c->cmd ? c->cmd->name : "";
	char line[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fail("%s%s%s (see 'cubicle %s%s--help')", name, *name ? ": " : "", line, name,
	     *name ? " " : "");
	return EXIT_USAGE;
}

enum opt_kind { OPT_FLAG, OPT_VALUE, OPT_PAIR };

struct opt {
	const char *name;       /* "--template" */
	const char *alias;      /* "-o", or NULL */
	enum opt_kind kind;
	void *out;              /* bool *, const char ** or struct json_object ** (K=V into it) */
};

static const struct opt *find_opt(const struct opt *opts, const char *arg, size_t len)
{
	for (; opts->name; opts++)
		if ((strlen(opts->name) == len && !strncmp(opts->name, arg, len)) ||
		    (opts->alias && strlen(opts->alias) == len && !strncmp(opts->alias, arg, len)))
			return opts;
	return NULL;
}

/* Adds "K=V" to the object *o->out (made on first use); -1, or EXIT_USAGE. */
static int add_pair(const struct cli *c, const struct opt *o, const char *kv)
{
	struct json_object **map = o->out;
	const char *eq = strchr(kv, '=');
	char *name;

	if (!eq || eq == kv)
		return usage_err(c, "%s '%s': want KEY=VALUE", o->name, kv);
	if (!*map)
		*map = json_object_new_object();
	name = strndup(kv, (size_t)(eq - kv));
	if (!*map || !name) {
		free(name);
		fail("out of memory");
		return EXIT_FAILED;
	}
	json_object_object_add(*map, name, json_object_new_string(eq + 1));
	free(name);
	return -1;
}

/*
 * Takes the option argv[*i] (and its value: after '=', or the next
 * argument, which *i then moves to); -1, or an exit status after saying why.
 */
static int take_opt(const struct cli *c, const struct opt *opts, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strncmp(arg, "--", 2) ? NULL : strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_opt(opts, arg, len);
	const char *val = eq ? eq + 1 : NULL;

	if (!o)
		return usage_err(c, "unknown option '%.*s'", (int)len, arg);
	if (o->kind == OPT_FLAG) {
		if (val)
			return usage_err(c, "%.*s takes no value", (int)len, arg);
		*(bool *)o->out = true;
		return -1;
	}
	if (!val && *i + 1 >= argc)
		return usage_err(c, "%.*s needs a value", (int)len, arg);
	if (!val)
		val = argv[++*i];
	if (o->kind == OPT_PAIR)
		return add_pair(c, o, val);
	*(const char **)o->out = val;
	return -1;
}

/*
 * Parses a command's arguments argv[1..argc) (argv[0] is its name) against
 * opts, and moves the positional ones to argv[0..*npos). After `stop`
 * positional arguments (if stop > 0) the rest are positional too, as is
 * all after "--". Returns -1, or an exit status: 0 once the help is
 * printed, EXIT_USAGE after saying what is wrong.
 */
static int parse_args(const struct cli *c, const struct opt *opts, int argc, char **argv, int stop,
		      int *npos)
{
	bool rest = false;
	int ret;

	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		rest = rest || (stop && *npos >= stop);
		/* "-", and "-5" (a number: refused by its range check, not as an option) */
		if (rest || a[0] != '-' || !a[1] || isdigit((unsigned char)a[1])) {
			argv[(*npos)++] = argv[i];
		} else if (!strcmp(a, "--")) {
			rest = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(c->cmd ? c->cmd->usage : main_usage, stdout);
			return 0;
		} else if ((ret = take_opt(c, opts, argc, argv, &i)) >= 0) {
			return ret;
		}
	}
	return -1;
}

/* Checks there are min..max positional arguments (max < 0: any more); -1, or EXIT_USAGE. */
static int count_args(const struct cli *c, int n, char **argv, int min, int max, const char *want)
{
	if (n < min)
		return usage_err(c, "missing arguments: want %s", want);
	if (min && !*argv[0])
		return usage_err(c, "an empty first argument: want %s", want);
	if (max >= 0 && n > max)
		return usage_err(c, "unexpected argument '%s'", argv[max]);
	return -1;
}

/* s as a whole number in lo..hi; false if it is not one. */
static bool to_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Adds the number s (NULL: nothing) as key to o; false after a usage error naming `what`. */
static bool add_num(const struct cli *c, struct json_object *o, const char *key, const char *what,
		    const char *s, long lo, long hi)
{
	long v;

	if (!s)
		return true;
	if (!to_long(s, lo, hi, &v)) {
		usage_err(c, "%s '%s': want a whole number %ld..%ld", what, s, lo, hi);
		return false;
	}
	json_object_object_add(o, key, json_object_new_int64(v));
	return true;
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

/* Whether s is one of the NULL-terminated words. */
static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/* --- JSON ---------------------------------------------------------------------- */

/* The JSON value of text[0..len), whole but for white space after it; NULL if it is not one. */
static struct json_object *parse_json(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	if (!text || !len || len > INT_MAX || !(tok = json_tokener_new()))
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (json_tokener_get_error(tok) != json_tokener_success || end != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* o's string field key, or NULL. */
static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* --- HTTP ---------------------------------------------------------------------- */

/*
 * One request. The caller fills the first part (path with path_add and
 * query_add) and frees it with http_free(), which puts json but closes no file.
 */
struct http {
	const char *method;
	struct buf path;                /* after the URL, escaped */
	struct json_object *json;       /* a body to send, */
	FILE *upload;                   /* or a file to PUT, */
	curl_off_t upload_size;         /* of this many bytes (-1: unknown, sent chunked) */
	FILE *out;                      /* a 2xx answer goes here, */
	int (*sink)(struct http *h, const char *p, size_t n);  /* or here (-1: stop, why said), */
	void *opaque;
	const char *out_name;           /* out's name, for errors */
	const char *progress;           /* what to show on a tty stderr while waiting */
	const char *quiet;              /* an error code the caller handles: not said */
	/* What came back: */
	long status;
	struct buf body;                /* a 2xx answer without out or sink; an error's body */
	long long received;             /* bytes given to out or sink */
	long long file_size;            /* X-File-Size, or -1 */
	char code[64];                  /* an error's code */
	char why[1024];                 /* why out or sink failed */
	CURL *curl;
	time_t started, shown;
};

static void http_free(struct http *h)
{
	buf_free(&h->path);
	buf_free(&h->body);
	json_object_put(h->json);
	h->json = NULL;
}

/* Appends fmt to b; %s is the only conversion, and its argument is URL-escaped. */
static void path_add(CURL *curl, struct buf *b, const char *fmt, ...)
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

/* Appends "?name=value" or "&name=value": name raw, value escaped. */
static void query_add(CURL *curl, struct buf *b, const char *name, const char *value)
{
	buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1);
	buf_add(b, name, strlen(name));
	path_add(curl, b, "=%s", value);
}

static size_t on_write(char *p, size_t size, size_t n, void *opaque)
{
	struct http *h = opaque;
	long status = 0;

	n *= size;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status / 100 != 2 || (!h->out && !h->sink)) {
		buf_add(&h->body, p, n);
		if (h->body.failed && status / 100 == 2)
			snprintf(h->why, sizeof(h->why), "out of memory for an answer (or over %u MiB)",
				 ANSWER_MAX >> 20);
		return h->body.failed && status / 100 == 2 ? 0 : n;
	}
	if (h->out && fwrite(p, 1, n, h->out) != n) {
		snprintf(h->why, sizeof(h->why), "%s: %s", h->out_name, strerror(errno));
		return 0;
	}
	if (h->sink && h->sink(h, p, n) < 0)
		return 0;
	h->received += (long long)n;
	return n;
}

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

static int on_progress(void *opaque, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct http *h = opaque;
	time_t now = time(NULL);

	(void)dt, (void)dn, (void)ut, (void)un;
	if (now != h->shown) {
		fprintf(stderr, "\rcubicle: %s... %lds", h->progress, (long)(now - h->started));
		h->shown = now;
	}
	return 0;
}

/* Reads c->key from the first line of path; -1 after saying why not. */
static int read_key_file(struct cli *c, const char *path)
{
	FILE *f = fopen(path, "re");

	if (!f) {
		fail("API key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(c->key_buf, sizeof(c->key_buf), f))
		c->key_buf[0] = '\0';
	fclose(f);
	c->key_buf[strcspn(c->key_buf, "\r\n")] = '\0';
	if (!c->key_buf[0]) {
		fail("API key file %s: no key on its first line", path);
		return -1;
	}
	c->key = c->key_buf;
	return 0;
}

/*
 * c->key, once: --key, --key-file, CUBICLE_API_KEY, CUBICLE_API_KEY_FILE,
 * or DEFAULT_KEY_FILE when readable (main sorts the first four); else none.
 */
static int load_key(struct cli *c)
{
	if (!c->key && c->key_file && read_key_file(c, c->key_file) < 0)
		return -1;
	if (!c->key && access(DEFAULT_KEY_FILE, R_OK) == 0 &&
	    read_key_file(c, DEFAULT_KEY_FILE) < 0)
		return -1;
	if (!c->key)
		c->key = "";
	if (strlen(c->key) >= sizeof(c->key_buf) - 1) {
		fail("the API key is over %zu bytes", sizeof(c->key_buf) - 2);
		return -1;
	}
	for (const char *p = c->key; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fail("the API key holds a control character");
			return -1;
		}
	}
	return 0;
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
	struct json_object *o = parse_json(h->body.data, h->body.len);
	const char *code = json_str(o, "code"), *msg = json_str(o, "message");

	snprintf(h->code, sizeof(h->code), "%s", code ? code : "");
	if (code && h->quiet && !strcmp(code, h->quiet))
		;
	else if (code && msg)
		fail("%s: %s", code, msg);
	else if (h->body.len)
		fail("HTTP %ld: %.200s", h->status, h->body.data);
	else
		fail("HTTP %ld", h->status);
	json_object_put(o);
}

/* After the transfer: 0 for a 2xx answer, wholly received; else -1 after saying why. */
static int http_report(const struct cli *c, struct http *h, CURLcode rc, const char *errbuf)
{
	const char *err = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (h->why[0])
		fail("%s", h->why);
	else if (h->status >= 300 && (rc == CURLE_OK || h->body.len))
		say_error(h);
	else if (rc != CURLE_OK && !h->status)
		fail("cannot reach %s: %s", c->url, err);
	else if (rc != CURLE_OK)
		fail("%s: %s", c->url, err);
	else if (h->status / 100 != 2)
		say_error(h);
	else
		return 0;
	return -1;
}

/*
 * Makes the request h describes: 0 once a 2xx answer is in (its body where
 * h says), -1 after saying in one line what failed.
 */
static int http_run(struct cli *c, struct http *h)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs;
	CURLcode rc;

	if (load_key(c) < 0)
		return -1;
	if (h->path.failed) {
		fail("out of memory");
		return -1;
	}
	h->curl = c->curl;
	h->status = 0;
	h->file_size = -1;
	h->started = time(NULL);
	hdrs = http_setup(c, h, errbuf);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdrs);
	if (h->shown)
		fputs("\r\033[K", stderr);
	return http_report(c, h, rc, errbuf);
}

/* Runs h, and returns its answer as a JSON object; NULL after saying what failed. */
static struct json_object *http_json(struct cli *c, struct http *h)
{
	struct json_object *o;

	if (http_run(c, h) < 0)
		return NULL;
	o = parse_json(h->body.data, h->body.len);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		fail("%s answered something that is not a JSON object", c->url);
		return NULL;
	}
	return o;
}

/* --- files made whole or not at all ---------------------------------------------- */

struct out_file {
	const char *path;       /* the file to make; "-" is stdout */
	char *tmp;              /* the temp file beside it, renamed to path at the end */
	FILE *f;
};

/* The temp file being written, which a signal that ends cubicle removes first. */
static char *volatile temp_path;

static void on_signal(int sig)
{
	char *p = temp_path;

	if (p)
		unlink(p);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Undoes out_open; harmless after out_commit and on a zeroed out_file. */
static void out_abort(struct out_file *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	temp_path = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

/* Opens o->f: stdout for "-", else a temp file beside path; -1 after saying why not. */
static int out_open(struct out_file *o, const char *path)
{
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	o->path = path;
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (asprintf(&o->tmp, "%s.cubicle-XXXXXX", path) < 0) {
		o->tmp = NULL;
		fail("out of memory");
		return -1;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		fail("%s: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	temp_path = o->tmp;
	if (fchmod(fd, 0666 & ~mask) < 0 || !(o->f = fdopen(fd, "wb"))) {
		fail("%s: %s", path, strerror(errno));
		close(fd);
		out_abort(o);
		return -1;
	}
	return 0;
}

/* Closes o->f and renames the temp file to its path; -1 after saying why not (then aborted). */
static int out_commit(struct out_file *o)
{
	int ret;

	if (o->f == stdout) {
		o->f = NULL;
		if (fflush(stdout) == 0)
			return 0;
		fail("stdout: %s", strerror(errno));
		return -1;
	}
	ret = fclose(o->f);
	o->f = NULL;
	if (ret == 0 && rename(o->tmp, o->path) == 0) {
		temp_path = NULL;
		free(o->tmp);
		o->tmp = NULL;
		return 0;
	}
	fail("%s: %s", o->path, strerror(errno));
	out_abort(o);
	return -1;
}

/* The last part of a path ("b" of "a/b"); "" when it ends in '/'. */
static const char *last_part(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* --- sandboxes ------------------------------------------------------------------- */

static const char create_usage[] =
	"usage: cubicle create [options]\n"
	"\n"
	"Starts a sandbox and prints its id once its desktop is ready (10 to 20 s\n"
	"for `minimal` under emulation). While it waits, it shows how long on a\n"
	"terminal's stderr. Unset options take cubicled's defaults.\n"
	"\n"
	"  --template T       the guest image (desktop, minimal, ...)\n"
	"  --resolution WxH   the screen, as 1280x800\n"
	"  --vcpus N          virtual CPUs\n"
	"  --memory MIB       memory in MiB\n"
	"  --timeout S        seconds until it ends on its own\n"
	"  --layout L         the keyboard layout (us, de, fr, ...)\n"
	"  --variant V        the layout's variant (nodeadkeys, ...)\n"
	"  --meta K=V         metadata, to find it by later (repeatable)\n"
	"  --env K=V          environment for every command run in it (repeatable)\n"
	"  --json             print the whole sandbox as JSON, not just its id\n"
	"\n"
	"example: id=$(cubicle create --template minimal --meta user=ada)\n";

/* Whether s is digits, x, digits. */
static bool is_wxh(const char *s)
{
	size_t w = strspn(s, "0123456789"), h = w && s[w] == 'x' ? strspn(s + w + 1, "0123456789") : 0;

	return h && !s[w + 1 + h];
}

/* Fills the body of POST /sandboxes; false after a usage error. */
static bool create_body(const struct cli *c, struct json_object *b, const char *const *v)
{
	if (v[1] && !is_wxh(v[1])) {
		usage_err(c, "--resolution '%s': want WxH, as 1280x800", v[1]);
		return false;
	}
	add_str(b, "template", v[0]);
	add_str(b, "resolution", v[1]);
	add_str(b, "keyboard_layout", v[5]);
	add_str(b, "keyboard_variant", v[6]);
	return add_num(c, b, "vcpus", "--vcpus", v[2], 1, 1024) &&
	       add_num(c, b, "memory_mib", "--memory", v[3], 1, 1L << 30) &&
	       add_num(c, b, "timeout", "--timeout", v[4], 1, INT_MAX);
}

static int cmd_create(struct cli *c, int argc, char **argv)
{
	const char *v[7] = { NULL };    /* template, resolution, vcpus, memory, timeout, layout, variant */
	struct json_object *meta = NULL, *env = NULL, *o = NULL;
	bool json = false;
	const struct opt opts[] = {
		{ "--template", NULL, OPT_VALUE, &v[0] }, { "--resolution", NULL, OPT_VALUE, &v[1] },
		{ "--vcpus", NULL, OPT_VALUE, &v[2] }, { "--memory", NULL, OPT_VALUE, &v[3] },
		{ "--timeout", NULL, OPT_VALUE, &v[4] }, { "--layout", NULL, OPT_VALUE, &v[5] },
		{ "--variant", NULL, OPT_VALUE, &v[6] }, { "--meta", NULL, OPT_PAIR, &meta },
		{ "--env", NULL, OPT_PAIR, &env }, { "--json", NULL, OPT_FLAG, &json }, { NULL } };
	struct http h = { .method = "POST", .progress = "starting the sandbox" };
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 0, 0, "no arguments");
	if (st >= 0)
		goto out_free;
	h.json = json_object_new_object();
	st = EXIT_USAGE;
	if (!create_body(c, h.json, v))
		goto out_free;
	if (meta)
		json_object_object_add(h.json, "metadata", json_object_get(meta));
	if (env)
		json_object_object_add(h.json, "env", json_object_get(env));
	path_add(c->curl, &h.path, "/sandboxes");
	st = EXIT_FAILED;
	if (!(o = http_json(c, &h)))
		goto out_free;
	if (!json && !json_str(o, "id")) {
		fail("%s answered a sandbox without an id", c->url);
		goto out_free;
	}
	st = 0;
	if (json)
		print_json(o);
	else
		puts(json_str(o, "id"));
out_free:
	json_object_put(o);
	json_object_put(meta);
	json_object_put(env);
	http_free(&h);
	return st;
}

static const char list_usage[] =
	"usage: cubicle list [--state S] [--meta K=V]... [--json]\n"
	"\n"
	"Lists the sandboxes as a table: ID STATE TEMPLATE RESOLUTION AGE LEFT (the\n"
	"time until its timeout ends it).\n"
	"\n"
	"  --state S    only those in state S: starting, running, stopping, dead\n"
	"  --meta K=V   only those with metadata K equal to V (repeatable)\n"
	"  --json       print the answer as JSON\n"
	"\n"
	"example: cubicle list --meta user=ada\n";

/* 42 -> "42s", 200 -> "3m", 7300 -> "2h", 90000 -> "1d". */
static void human_secs(char *out, size_t cap, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, cap, "%llds", s);
	else if (s < 3600)
		snprintf(out, cap, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%lldh", s / 3600);
	else
		snprintf(out, cap, "%lldd", s / 86400);
}

/* Prints one sandbox's row of the table. */
static void print_row(struct json_object *sb, time_t now)
{
	const char *created = json_str(sb, "created_at");
	char age[32] = "-", left[32] = "-";
	struct json_object *v;
	struct tm tm = { 0 };
	const char *end;

	if (created && (end = strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm)) && !*end)
		human_secs(age, sizeof(age), (long long)(now - timegm(&tm)));
	if (json_object_object_get_ex(sb, "timeout_left_s", &v) &&
	    json_object_is_type(v, json_type_int))
		human_secs(left, sizeof(left), (long long)json_object_get_int64(v));
	printf("%-16s  %-8s  %-10s  %-10s  %4s  %4s\n", json_str(sb, "id") ?: "-",
	       json_str(sb, "state") ?: "-", json_str(sb, "template") ?: "-",
	       json_str(sb, "resolution") ?: "-", age, left);
}

static void print_table(struct json_object *o)
{
	struct json_object *list;
	time_t now = time(NULL);

	printf("%-16s  %-8s  %-10s  %-10s  %4s  %4s\n", "ID", "STATE", "TEMPLATE", "RESOLUTION",
	       "AGE", "LEFT");
	if (!json_object_object_get_ex(o, "sandboxes", &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_row(json_object_array_get_idx(list, i), now);
}

/* Adds ?metadata.K=V for each of meta's pairs to h's path. */
static void add_meta_query(struct cli *c, struct http *h, struct json_object *meta)
{
	struct buf name = { 0 };

	if (!meta)
		return;
	json_object_object_foreach(meta, k, v) {
		name.len = 0;
		path_add(c->curl, &name, "metadata.%s", k);
		if (name.failed)
			h->path.failed = true;
		else
			query_add(c->curl, &h->path, name.data, json_object_get_string(v));
	}
	buf_free(&name);
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	static const char *const states[] = { "starting", "running", "stopping", "dead", NULL };
	const char *state = NULL;
	struct json_object *meta = NULL, *o = NULL;
	bool json = false;
	const struct opt opts[] = { { "--state", NULL, OPT_VALUE, &state },
				    { "--meta", NULL, OPT_PAIR, &meta },
				    { "--json", NULL, OPT_FLAG, &json }, { NULL } };
	struct http h = { .method = "GET" };
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 0, 0, "no arguments");
	if (st < 0 && state && !one_of(state, states))
		st = usage_err(c, "--state '%s': want starting, running, stopping or dead", state);
	if (st >= 0)
		goto out_free;
	path_add(c->curl, &h.path, "/sandboxes");
	if (state)
		query_add(c->curl, &h.path, "state", state);
	add_meta_query(c, &h, meta);
	st = EXIT_FAILED;
	if ((o = http_json(c, &h))) {
		st = 0;
		if (json)
			print_json(o);
		else
			print_table(o);
	}
out_free:
	json_object_put(o);
	json_object_put(meta);
	http_free(&h);
	return st;
}

static const char get_usage[] =
	"usage: cubicle get ID\n"
	"\n"
	"Prints sandbox ID as JSON (its state, template, screen, timeout, VNC port...).\n"
	"\n"
	"example: cubicle get 3f0c9a7be21d4c55\n";

static int cmd_get(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct http h = { .method = "GET" };
	struct json_object *o;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, 1, "ID");
	if (st >= 0)
		return st;
	path_add(c->curl, &h.path, "/sandboxes/%s", argv[0]);
	if ((o = http_json(c, &h)))
		print_json(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : EXIT_FAILED;
}

static const char kill_usage[] =
	"usage: cubicle kill ID...\n"
	"\n"
	"Ends each sandbox and removes it (DELETE). Goes on past a failure; the\n"
	"status is 1 if any failed.\n"
	"\n"
	"example: cubicle kill 3f0c9a7be21d4c55\n";

static int cmd_kill(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, -1, "ID...");
	if (st >= 0)
		return st;
	st = 0;
	for (int i = 0; i < n; i++) {
		struct http h = { .method = "DELETE" };

		path_add(c->curl, &h.path, "/sandboxes/%s", argv[i]);
		if (http_run(c, &h) < 0)
			st = EXIT_FAILED;
		http_free(&h);
	}
	return st;
}

static const char timeout_usage[] =
	"usage: cubicle timeout ID SECONDS\n"
	"\n"
	"Ends sandbox ID that many seconds from now (instead of at its old\n"
	"timeout), and prints when: its new expires_at.\n"
	"\n"
	"example: cubicle timeout 3f0c9a7be21d4c55 600\n";

static int cmd_timeout(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct http h = { .method = "POST" };
	struct json_object *o = NULL;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 2, 2, "ID SECONDS");
	if (st >= 0)
		return st;
	h.json = json_object_new_object();
	st = EXIT_USAGE;
	if (!add_num(c, h.json, "timeout", "SECONDS", argv[1], 1, INT_MAX))
		goto out_free;
	path_add(c->curl, &h.path, "/sandboxes/%s/timeout", argv[0]);
	st = EXIT_FAILED;
	if ((o = http_json(c, &h))) {
		puts(json_str(o, "expires_at") ?: "");
		st = 0;
	}
out_free:
	json_object_put(o);
	http_free(&h);
	return st;
}

/* --- the screen ------------------------------------------------------------------ */

static const char screenshot_usage[] =
	"usage: cubicle screenshot ID -o FILE [options]\n"
	"\n"
	"Saves the screen of sandbox ID to FILE, whole or not at all (a temp file\n"
	"beside it is renamed). -o - writes the image to stdout.\n"
	"\n"
	"  -o, --output FILE    where to write it (required)\n"
	"  --format F           png or jpeg (default: jpeg if FILE ends in .jpg or\n"
	"                       .jpeg, else png)\n"
	"  --quality Q          JPEG quality, 1..100\n"
	"  --scale S            scale the image by S, in (0, 1]\n"
	"  --width W            scale the image to W pixels wide (not with --scale)\n"
	"  --region X,Y,W,H     only this rectangle of the screen\n"
	"  --cursor             draw the pointer\n"
	"\n"
	"example: cubicle screenshot 3f0c9a7be21d4c55 -o shot.png --scale 0.5\n";

struct shot {
	const char *file, *format, *quality, *scale, *width, *region;
	bool cursor;
};

/* s's format: --format, else from FILE's extension; NULL if not one cubicled makes. */
static const char *shot_format(const struct shot *s)
{
	const char *dot = strrchr(s->file, '.');

	if (!s->format)
		return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")) ? "jpeg" : "png";
	if (!strcmp(s->format, "jpg") || !strcmp(s->format, "jpeg"))
		return "jpeg";
	return strcmp(s->format, "png") ? NULL : "png";
}

/* Checks s's numbers; -1, or EXIT_USAGE after saying which is wrong. */
static int shot_check(const struct cli *c, const struct shot *s)
{
	long v, x, y, w, h;
	double scale = 1;
	char *end = NULL;
	int n = 0;

	if (s->scale)
		scale = strtod(s->scale, &end);
	if (!s->file)
		return usage_err(c, "missing -o FILE");
	if (!shot_format(s))
		return usage_err(c, "--format '%s': want png or jpeg", s->format);
	if (s->quality && !to_long(s->quality, 1, 100, &v))
		return usage_err(c, "--quality '%s': want a whole number 1..100", s->quality);
	if (s->scale && (!*s->scale || *end || !(scale > 0 && scale <= 1)))
		return usage_err(c, "--scale '%s': want a number in (0, 1]", s->scale);
	if (s->width && !to_long(s->width, 1, 65535, &v))
		return usage_err(c, "--width '%s': want a whole number 1..65535", s->width);
	if (s->scale && s->width)
		return usage_err(c, "--scale and --width: want one of them");
	if (s->region && (sscanf(s->region, "%ld,%ld,%ld,%ld%n", &x, &y, &w, &h, &n) != 4 ||
			  s->region[n] || x < 0 || y < 0 || w < 1 || h < 1 ||
			  x > INT_MAX || y > INT_MAX || w > INT_MAX || h > INT_MAX))
		return usage_err(c, "--region '%s': want X,Y,W,H, as 0,0,640,400", s->region);
	return -1;
}

/* GET .../screenshot into s->file; 0, or EXIT_FAILED after saying why. */
static int shot_save(struct cli *c, const char *id, const struct shot *s)
{
	struct http h = { .method = "GET", .out_name = s->file };
	struct out_file out = { 0 };
	int st = EXIT_FAILED;

	path_add(c->curl, &h.path, "/sandboxes/%s/screenshot", id);
	query_add(c->curl, &h.path, "format", shot_format(s));
	if (s->quality)
		query_add(c->curl, &h.path, "quality", s->quality);
	if (s->scale)
		query_add(c->curl, &h.path, "scale", s->scale);
	if (s->width)
		query_add(c->curl, &h.path, "width", s->width);
	if (s->region)
		query_add(c->curl, &h.path, "region", s->region);
	if (s->cursor)
		query_add(c->curl, &h.path, "cursor", "true");
	if (out_open(&out, s->file) < 0)
		goto out_abort;
	h.out = out.f;
	if (http_run(c, &h) == 0 && out_commit(&out) == 0)
		st = 0;
out_abort:
	out_abort(&out);
	http_free(&h);
	return st;
}

static int cmd_screenshot(struct cli *c, int argc, char **argv)
{
	struct shot s = { 0 };
	const struct opt opts[] = {
		{ "--output", "-o", OPT_VALUE, &s.file }, { "--format", NULL, OPT_VALUE, &s.format },
		{ "--quality", NULL, OPT_VALUE, &s.quality }, { "--scale", NULL, OPT_VALUE, &s.scale },
		{ "--width", NULL, OPT_VALUE, &s.width }, { "--region", NULL, OPT_VALUE, &s.region },
		{ "--cursor", NULL, OPT_FLAG, &s.cursor }, { NULL } };
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, 1, "ID");
	if (st < 0)
		st = shot_check(c, &s);
	return st >= 0 ? st : shot_save(c, argv[0], &s);
}

/* --- the hands ------------------------------------------------------------------- */

static struct json_object *action_new(const char *type)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "type", json_object_new_string(type));
	return a;
}

/* POSTs body (taken) to sandbox id's actions: the answer, or NULL after saying why not. */
static struct json_object *post_actions(struct cli *c, const char *id, struct json_object *body)
{
	struct http h = { .method = "POST", .json = body };
	struct json_object *o;

	path_add(c->curl, &h.path, "/sandboxes/%s/actions", id);
	o = http_json(c, &h);
	http_free(&h);
	return o;
}

/* Runs the actions of list (taken) on sandbox id: 0, or EXIT_FAILED after saying why. */
static int run_actions(struct cli *c, const char *id, struct json_object *list)
{
	struct json_object *body = json_object_new_object(), *o;

	json_object_object_add(body, "actions", list);
	o = post_actions(c, id, body);
	json_object_put(o);
	return o ? 0 : EXIT_FAILED;
}

/* Runs the one action a (taken). */
static int run_action(struct cli *c, const char *id, struct json_object *a)
{
	struct json_object *list = json_object_new_array();

	json_object_array_add(list, a);
	return run_actions(c, id, list);
}

/* Adds the point (xs, ys) to action a; false after a usage error. */
static bool add_point(const struct cli *c, struct json_object *a, const char *xs, const char *ys)
{
	return add_num(c, a, "x", "X", xs, 0, 65535) && add_num(c, a, "y", "Y", ys, 0, 65535);
}

static const char *const buttons[] = { "left", "right", "middle", "back", "forward", NULL };

static const char move_usage[] =
	"usage: cubicle move ID X Y\n"
	"\n"
	"Moves the pointer of sandbox ID to the screen pixel (X, Y).\n"
	"\n"
	"example: cubicle move 3f0c9a7be21d4c55 640 400\n";

/* ID, or ID X Y: -1 when so, else the usage status after saying why not. */
static int id_and_point(const struct cli *c, int n, char **argv)
{
	int st = count_args(c, n, argv, 1, 3, "ID [X Y]");

	if (st < 0 && n == 2)
		st = usage_err(c, "missing Y: want ID, or ID X Y");
	return st;
}

/*
 * Runs action a (taken) on sandbox argv[0], at argv[1..2] when n is 3, with
 * its number field key (1..100) from the option --KEY's value (NULL: none).
 */
static int run_pointed(struct cli *c, char **argv, int n, struct json_object *a,
		       const char *key, const char *value)
{
	char flag[32];

	snprintf(flag, sizeof(flag), "--%s", key);
	if ((n == 3 && !add_point(c, a, argv[1], argv[2])) ||
	    !add_num(c, a, key, flag, value, 1, 100)) {
		json_object_put(a);
		return EXIT_USAGE;
	}
	return run_action(c, argv[0], a);
}

static int cmd_move(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct json_object *a;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 3, 3, "ID X Y");
	if (st >= 0)
		return st;
	a = action_new("move");
	if (!add_point(c, a, argv[1], argv[2])) {
		json_object_put(a);
		return EXIT_USAGE;
	}
	return run_action(c, argv[0], a);
}

static const char click_usage[] =
	"usage: cubicle click ID [X Y] [--button B] [--count N] [--modifiers M]\n"
	"\n"
	"Clicks at the screen pixel (X, Y), or where the pointer is.\n"
	"\n"
	"  --button B      left (default), right, middle, back, forward\n"
	"  --count N       2 double-clicks, 3 triple-clicks (1..100)\n"
	"  --modifiers M   keys held meanwhile, as ctrl+shift\n"
	"\n"
	"example: cubicle click 3f0c9a7be21d4c55 100 200 --count 2\n";

static int cmd_click(struct cli *c, int argc, char **argv)
{
	const char *button = NULL, *count = NULL, *mods = NULL;
	const struct opt opts[] = { { "--button", NULL, OPT_VALUE, &button },
				    { "--count", NULL, OPT_VALUE, &count },
				    { "--modifiers", NULL, OPT_VALUE, &mods }, { NULL } };
	struct json_object *a;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = id_and_point(c, n, argv);
	if (st < 0 && button && !one_of(button, buttons))
		st = usage_err(c, "--button '%s': want left, right, middle, back or forward", button);
	if (st >= 0)
		return st;
	a = action_new("click");
	add_str(a, "button", button);
	add_str(a, "modifiers", mods);
	return run_pointed(c, argv, n, a, "count", count);
}

static const char scroll_usage[] =
	"usage: cubicle scroll ID [X Y] [--direction D] [--amount N]\n"
	"\n"
	"Turns the wheel at the screen pixel (X, Y), or where the pointer is.\n"
	"\n"
	"  --direction D   up, down (default), left, right\n"
	"  --amount N      wheel steps, 1..100 (default 1)\n"
	"\n"
	"example: cubicle scroll 3f0c9a7be21d4c55 640 400 --direction up --amount 5\n";

static int cmd_scroll(struct cli *c, int argc, char **argv)
{
	static const char *const dirs[] = { "up", "down", "left", "right", NULL };
	const char *dir = "down", *amount = NULL;
	const struct opt opts[] = { { "--direction", NULL, OPT_VALUE, &dir },
				    { "--amount", NULL, OPT_VALUE, &amount }, { NULL } };
	struct json_object *a;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = id_and_point(c, n, argv);
	if (st < 0 && !one_of(dir, dirs))
		st = usage_err(c, "--direction '%s': want up, down, left or right", dir);
	if (st >= 0)
		return st;
	a = action_new("scroll");
	add_str(a, "direction", dir);
	return run_pointed(c, argv, n, a, "amount", amount);
}

static const char type_usage[] =
	"usage: cubicle type ID TEXT [--delay MS]\n"
	"\n"
	"Types TEXT (UTF-8) on the keyboard of sandbox ID, in its keyboard layout;\n"
	"\\n is Return and \\t Tab, other control characters are refused. TEXT -\n"
	"reads the text from stdin. Put -- before a TEXT that starts with '-'.\n"
	"Long text goes in pieces of up to 2 KiB, one request each.\n"
	"\n"
	"  --delay MS   more milliseconds between characters (0..10000)\n"
	"\n"
	"example: cubicle type 3f0c9a7be21d4c55 'hello world'\n";

/* The length of the first piece of s[0..len) up to max bytes, cut between UTF-8 characters. */
static size_t utf8_piece(const char *s, size_t len, size_t max)
{
	size_t n = max;

	if (len <= max)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n ? n : max;
}

/* The offset of text's first control character that cannot be typed, or -1. */
static long untypable(const struct buf *text)
{
	for (size_t i = 0; i < text->len; i++) {
		unsigned char ch = (unsigned char)text->data[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			return (long)i;
	}
	return -1;
}

/* Types text in pieces that each end within a request's time; 0, or EXIT_FAILED. */
static int type_text(struct cli *c, const char *id, const struct buf *text, long delay_ms)
{
	size_t max = (size_t)(TYPE_PIECE * 8 / (8 + delay_ms)), n;

	if (max < 16)
		max = 16;
	for (size_t off = 0; off < text->len; off += n) {
		struct json_object *a = action_new("type");

		n = utf8_piece(text->data + off, text->len - off, max);
		json_object_object_add(a, "text", json_object_new_string_len(text->data + off,
									       (int)n));
		if (delay_ms)
			json_object_object_add(a, "delay_ms", json_object_new_int64(delay_ms));
		if (run_action(c, id, a))
			return EXIT_FAILED;
	}
	return 0;
}

static int cmd_type(struct cli *c, int argc, char **argv)
{
	const char *delay = NULL;
	const struct opt opts[] = { { "--delay", NULL, OPT_VALUE, &delay }, { NULL } };
	struct buf text = { 0 };
	long ms = 0, bad;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 2, 2, "ID TEXT");
	if (st < 0 && delay && !to_long(delay, 0, 10000, &ms))
		st = usage_err(c, "--delay '%s': want a whole number 0..10000", delay);
	if (st >= 0)
		return st;
	if (!strcmp(argv[1], "-") && read_all(stdin, "stdin", &text, STDIN_MAX) < 0)
		goto out_free;
	if (strcmp(argv[1], "-"))
		buf_add(&text, argv[1], strlen(argv[1]));
	if ((bad = untypable(&text)) >= 0 && strcmp(argv[1], "-"))
		st = usage_err(c, "TEXT: control character 0x%02x at byte %ld: only \\n and \\t "
			       "can be typed", (unsigned char)text.data[bad], bad);
	else if (bad >= 0)
		fail("stdin: control character 0x%02x at byte %ld: only \\n and \\t can be typed",
		     (unsigned char)text.data[bad], bad);
	else if (text.failed)
		fail("out of memory");
	else
		st = type_text(c, argv[0], &text, ms);
out_free:
	buf_free(&text);
	return st >= 0 ? st : EXIT_FAILED;
}

static const char key_usage[] =
	"usage: cubicle key ID KEYS [KEYS...]\n"
	"\n"
	"Presses key combinations on sandbox ID, one per argument, in one batch:\n"
	"X keysym names (Return, Page_Up, KP_0), aliases (ctrl, alt, super, enter,\n"
	"esc, ...) and single characters, joined with +.\n"
	"\n"
	"example: cubicle key 3f0c9a7be21d4c55 ctrl+s Return\n";

static int cmd_key(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct json_object *list;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 2, -1, "ID KEYS...");
	if (st >= 0)
		return st;
	list = json_object_new_array();
	for (int i = 1; i < n; i++) {
		struct json_object *a = action_new("key");

		add_str(a, "keys", argv[i]);
		json_object_array_add(list, a);
	}
	return run_actions(c, argv[0], list);
}

static const char drag_usage[] =
	"usage: cubicle drag ID X1 Y1 X2 Y2 [--button B]\n"
	"\n"
	"Presses a button at (X1, Y1), moves to (X2, Y2) and lets go.\n"
	"\n"
	"  --button B   left (default), right, middle, back, forward\n"
	"\n"
	"example: cubicle drag 3f0c9a7be21d4c55 100 100 400 300\n";

static int cmd_drag(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = { "X1", "Y1", "X2", "Y2" };
	const char *button = NULL;
	const struct opt opts[] = { { "--button", NULL, OPT_VALUE, &button }, { NULL } };
	struct json_object *a, *path;
	long xy[4];
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 5, 5, "ID X1 Y1 X2 Y2");
	for (int i = 0; st < 0 && i < 4; i++)
		if (!to_long(argv[i + 1], 0, 65535, &xy[i]))
			st = usage_err(c, "%s '%s': want a whole number 0..65535", names[i],
				       argv[i + 1]);
	if (st < 0 && button && !one_of(button, buttons))
		st = usage_err(c, "--button '%s': want left, right, middle, back or forward", button);
	if (st >= 0)
		return st;
	a = action_new("drag");
	path = json_object_new_array();
	for (int i = 0; i < 2; i++) {
		struct json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_int64(xy[2 * i]));
		json_object_array_add(p, json_object_new_int64(xy[2 * i + 1]));
		json_object_array_add(path, p);
	}
	json_object_object_add(a, "path", path);
	add_str(a, "button", button);
	return run_action(c, argv[0], a);
}

static const char cursor_usage[] =
	"usage: cubicle cursor ID\n"
	"\n"
	"Prints where the pointer of sandbox ID is: X Y. Right after a move it waits\n"
	"(up to 200 ms) for the guest's pointer to get there.\n"
	"\n"
	"example: cubicle cursor 3f0c9a7be21d4c55\n";

static int cmd_cursor(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct http h = { .method = "GET" };
	struct json_object *o, *x, *y;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, 1, "ID");
	if (st >= 0)
		return st;
	path_add(c->curl, &h.path, "/sandboxes/%s/cursor", argv[0]);
	o = http_json(c, &h);
	http_free(&h);
	if (!o)
		return EXIT_FAILED;
	if (json_object_object_get_ex(o, "x", &x) && json_object_object_get_ex(o, "y", &y)) {
		printf("%d %d\n", json_object_get_int(x), json_object_get_int(y));
		st = 0;
	} else {
		fail("%s answered no x and y", c->url);
		st = EXIT_FAILED;
	}
	json_object_put(o);
	return st;
}

static const char actions_usage[] =
	"usage: cubicle actions ID [FILE|-]\n"
	"\n"
	"Runs a batch of actions from FILE (or stdin) on sandbox ID and prints the\n"
	"answer as JSON. The batch is the body of POST /sandboxes/ID/actions,\n"
	"{\"actions\": [...], ...}, or just its list of actions; the actions are\n"
	"those of docs/control-protocol.md (move, click, down, up, drag, scroll,\n"
	"type, key, hold, wait, cursor).\n"
	"\n"
	"example: echo '[{\"type\":\"click\",\"x\":10,\"y\":20},{\"type\":\"cursor\"}]' |\n"
	"           cubicle actions 3f0c9a7be21d4c55\n";

/* The batch in file (or stdin for "-"): NULL after saying why not. */
static struct json_object *read_batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	struct json_object *o = NULL, *body;
	struct buf text = { 0 };

	if (!f)
		fail("%s: %s", file, strerror(errno));
	if (f && read_all(f, file, &text, STDIN_MAX) == 0 &&
	    !(o = parse_json(text.data, text.len)))
		fail("%s: not JSON", file);
	if (f && f != stdin)
		fclose(f);
	buf_free(&text);
	if (json_object_is_type(o, json_type_array)) {
		body = json_object_new_object();
		json_object_object_add(body, "actions", o);
		return body;
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		fail("%s: want {\"actions\": [...]} or a list of actions", file);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int cmd_actions(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	struct json_object *body, *o;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, 2, "ID [FILE]");
	if (st >= 0)
		return st;
	if (!(body = read_batch(n == 2 ? argv[1] : "-")))
		return EXIT_FAILED;
	if ((o = post_actions(c, argv[0], body)))
		print_json(o);
	json_object_put(o);
	return o ? 0 : EXIT_FAILED;
}

static const char stream_usage[] =
	"usage: cubicle stream ID [--view-only] [--json]\n"
	"\n"
	"Prints what a VNC viewer or noVNC needs to watch sandbox ID, one labelled\n"
	"line each:\n"
	"  vnc: vnc://HOST:PORT\n"
	"  password: PASSWORD\n"
	"  websocket: ws://HOST:PORT/websockify\n"
	"\n"
	"  --view-only   the password that only watches\n"
	"  --json        print the answer as JSON\n"
	"\n"
	"example: cubicle stream 3f0c9a7be21d4c55 --view-only\n";

static void print_stream(struct json_object *o)
{
	struct json_object *vnc = NULL, *port = NULL;
	const char *host;

	json_object_object_get_ex(o, "vnc", &vnc);
	json_object_object_get_ex(vnc, "port", &port);
	host = json_str(vnc, "host") ?: "";
	printf("vnc: vnc://%s%s%s:%d\n", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", json_object_get_int(port));
	printf("password: %s\n", json_str(vnc, "password") ?: "");
	printf("websocket: %s\n", json_str(o, "websocket_url") ?: "");
}

static int cmd_stream(struct cli *c, int argc, char **argv)
{
	bool view = false, json = false;
	const struct opt opts[] = { { "--view-only", NULL, OPT_FLAG, &view },
				    { "--json", NULL, OPT_FLAG, &json }, { NULL } };
	struct http h = { .method = "GET" };
	struct json_object *o;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 1, 1, "ID");
	if (st >= 0)
		return st;
	path_add(c->curl, &h.path, "/sandboxes/%s/stream", argv[0]);
	if (view)
		query_add(c->curl, &h.path, "view_only", "true");
	o = http_json(c, &h);
	if (o && json)
		print_json(o);
	else if (o)
		print_stream(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : EXIT_FAILED;
}

/* --- commands and files ---------------------------------------------------------- */

static const char exec_usage[] =
	"usage: cubicle exec [options] ID CMD [ARG...]\n"
	"\n"
	"Runs a command in sandbox ID; its stdout and stderr come to ours as it\n"
	"writes them. One CMD runs through bash (pipes, ;, $VARS work); with ARGs\n"
	"it runs as a program and its arguments. Options go before ID; a -- after\n"
	"ID is dropped.\n"
	"\n"
	"  --cwd DIR          the folder to run in\n"
	"  --user U           the user to run as\n"
	"  --env K=V          an environment variable (repeatable)\n"
	"  --timeout-ms N     kill it after N ms (1..86400000)\n"
	"  -i, --stdin        send our stdin (read to its end first) as its stdin\n"
	"\n"
	"Exit status: the command's; 128+N if signal N ended it; 124 if it timed\n"
	"out; 125 if cubicle failed (the server or the network); 2 bad usage.\n"
	"\n"
	"example: cubicle exec 3f0c9a7be21d4c55 'uname -a; ls /tmp'\n";

struct exec_opts {
	const char *cwd, *user, *timeout_ms;
	struct json_object *env;
	bool in;
};

struct exec_run {
	struct buf line;        /* an NDJSON line not yet ended */
	int status;             /* the command's, once `ended` */
	bool ended;
};

/* The body to run cmd[0..n); -1, or an exit status after saying why not. */
static int exec_body(const struct cli *c, const struct exec_opts *e, char **cmd, int n,
		     struct json_object *b)
{
	struct json_object *list;
	struct buf in = { 0 };

	if (!add_num(c, b, "timeout_ms", "--timeout-ms", e->timeout_ms, 1, 86400000))
		return EXIT_USAGE;
	if (n == 1) {
		add_str(b, "cmd", cmd[0]);
	} else {
		list = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_string(cmd[i]));
		json_object_object_add(b, "argv", list);
	}
	add_str(b, "cwd", e->cwd);
	add_str(b, "user", e->user);
	if (e->env)
		json_object_object_add(b, "env", json_object_get(e->env));
	add_str(b, "stream", "ndjson");
	if (!e->in)
		return -1;
	if (read_all(stdin, "stdin", &in, STDIN_MAX) < 0)
		return EXIT_EXEC_FAILED;
	json_object_object_add(b, "stdin", json_object_new_string_len(in.data, (int)in.len));
	buf_free(&in);
	return -1;
}

/* The status of an exit event, as a shell gives it. */
static int exit_status(struct json_object *o)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, "timed_out", &v) && json_object_get_boolean(v))
		return EXIT_TIMED_OUT;
	if (json_object_object_get_ex(o, "signal", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int(v) > 0)
		return 128 + (json_object_get_int(v) & 127);
	if (json_object_object_get_ex(o, "exit_code", &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int(v) & 255;
	return EXIT_EXEC_FAILED;
}

/* One NDJSON event: output to ours, the exit, or an error; -1 after noting why in h->why. */
static int exec_event(struct http *h, struct exec_run *x, const char *line, size_t len)
{
	struct json_object *o = parse_json(line, len), *data;
	const char *type = json_str(o, "type");
	FILE *f = type && !strcmp(type, "stderr") ? stderr : stdout;
	int ret = 0;

	if (!type) {
		snprintf(h->why, sizeof(h->why), "not an event of the command: %.*s",
			 (int)(len < 80 ? len : 80), line);
		ret = -1;
	} else if ((!strcmp(type, "stdout") || !strcmp(type, "stderr")) &&
		   json_object_object_get_ex(o, "data", &data) &&
		   json_object_is_type(data, json_type_string)) {
		if (fwrite(json_object_get_string(data), 1, (size_t)json_object_get_string_len(data),
			   f) != (size_t)json_object_get_string_len(data) || fflush(f)) {
			snprintf(h->why, sizeof(h->why), "%s: %s", f == stderr ? "stderr" : "stdout",
				 strerror(errno));
			ret = -1;
		}
	} else if (!strcmp(type, "exit")) {
		x->status = exit_status(o);
		x->ended = true;
	} else if (!strcmp(type, "error")) {
		snprintf(h->why, sizeof(h->why), "%s: %s", json_str(o, "code") ?: "error",
			 json_str(o, "message") ?: "the command failed");
		ret = -1;
	}
	json_object_put(o);
	return ret;
}

/* The sink of exec's answer: whole lines to exec_event, the rest kept for later. */
static int exec_sink(struct http *h, const char *p, size_t n)
{
	struct exec_run *x = h->opaque;
	size_t start = 0;
	char *nl;

	buf_add(&x->line, p, n);
	if (x->line.failed) {
		snprintf(h->why, sizeof(h->why), "out of memory for a line of output (or over %u MiB)",
			 ANSWER_MAX >> 20);
		return -1;
	}
	while ((nl = memchr(x->line.data + start, '\n', x->line.len - start))) {
		size_t len = (size_t)(nl - (x->line.data + start));

		if (len && exec_event(h, x, x->line.data + start, len) < 0)
			return -1;
		start += len + 1;
	}
	memmove(x->line.data, x->line.data + start, x->line.len - start + 1);
	x->line.len -= start;
	return 0;
}

/* Runs the command: its status, or EXIT_EXEC_FAILED after saying why. */
static int exec_run(struct cli *c, const char *id, struct json_object *body)
{
	struct http h = { .method = "POST", .json = body, .sink = exec_sink };
	struct exec_run x = { 0 };
	int st = EXIT_EXEC_FAILED;

	h.opaque = &x;
	path_add(c->curl, &h.path, "/sandboxes/%s/commands", id);
	if (http_run(c, &h) < 0)
		goto out_free;
	if (x.line.len && exec_event(&h, &x, x.line.data, x.line.len) < 0)
		fail("%s", h.why);
	else if (!x.ended)
		fail("the command's output ended before its exit status");
	else
		st = x.status;
out_free:
	buf_free(&x.line);
	http_free(&h);
	return st;
}

static int cmd_exec(struct cli *c, int argc, char **argv)
{
	struct exec_opts e = { 0 };
	const struct opt opts[] = {
		{ "--cwd", NULL, OPT_VALUE, &e.cwd }, { "--user", NULL, OPT_VALUE, &e.user },
		{ "--env", NULL, OPT_PAIR, &e.env }, { "--timeout-ms", NULL, OPT_VALUE, &e.timeout_ms },
		{ "--stdin", "-i", OPT_FLAG, &e.in }, { NULL } };
	struct json_object *body = NULL;
	int n, st = parse_args(c, opts, argc, argv, 1, &n);

	if (st == EXIT_FAILED)
		st = EXIT_EXEC_FAILED;  /* out of memory */
	if (st < 0 && n > 1 && !strcmp(argv[1], "--")) {
		memmove(argv + 1, argv + 2, (size_t)(n - 2) * sizeof(*argv));
		n--;
	}
	if (st < 0)
		st = count_args(c, n, argv, 2, -1, "ID CMD...");
	if (st < 0) {
		body = json_object_new_object();
		st = exec_body(c, &e, argv + 1, n - 1, body);
	}
	if (st < 0) {
		st = exec_run(c, argv[0], body);
		body = NULL;
	}
	json_object_put(body);
	json_object_put(e.env);
	return st;
}

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

/* Splits ID:/path: the id (allocated) and *path; NULL when arg is a local path. */
static char *guest_side(const char *arg, const char **path)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg || colon[1] != '/' || memchr(arg, '/', (size_t)(colon - arg)))
		return NULL;
	*path = colon + 1;
	return strndup(arg, (size_t)(colon - arg));
}

/* 1 if path is a folder in sandbox id, 0 if not (or missing), -1 after saying why. */
static int guest_is_dir(struct cli *c, const char *id, const char *path)
{
	struct http h = { .method = "GET", .quiet = "not_found" };
	struct json_object *o;
	int ret;

	path_add(c->curl, &h.path, "/sandboxes/%s/files/stat", id);
	query_add(c->curl, &h.path, "path", path);
	o = http_json(c, &h);
	if (o)
		ret = json_str(o, "type") && !strcmp(json_str(o, "type"), "dir");
	else
		ret = strcmp(h.code, "not_found") ? -1 : 0;
	json_object_put(o);
	http_free(&h);
	return ret;
}

/* dir/name, allocated; NULL after saying why not. */
static char *join(const char *dir, const char *name)
{
	char *s;

	if (!*name) {
		fail("%s: a folder: name the file to copy", dir);
		return NULL;
	}
	if (asprintf(&s, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0) {
		fail("out of memory");
		return NULL;
	}
	return s;
}

/* Where to upload src to: gpath, or gpath/NAME if it is a folder. NULL after saying why. */
static char *upload_target(struct cli *c, const char *id, const char *gpath, const char *src)
{
	int dir = gpath[strlen(gpath) - 1] == '/' ? 1 : guest_is_dir(c, id, gpath);

	if (dir < 0)
		return NULL;
	if (dir)
		return join(gpath, strcmp(src, "-") ? last_part(src) : "");
	return strdup(gpath);
}

static int cp_up(struct cli *c, const char *src, const char *id, const char *gpath,
		 const char *mode)
{
	struct http h = { .method = "PUT", .upload_size = -1 };
	char *target = NULL;
	struct stat st;
	int ret = EXIT_FAILED;

	h.upload = strcmp(src, "-") ? fopen(src, "rbe") : stdin;
	if (!h.upload || fstat(fileno(h.upload), &st) < 0) {
		fail("%s: %s", src, strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		fail("%s: %s", src, strerror(EISDIR));
		goto out_close;
	}
	if (S_ISREG(st.st_mode))
		h.upload_size = st.st_size;
	if (!(target = upload_target(c, id, gpath, src)))
		goto out_close;
	path_add(c->curl, &h.path, "/sandboxes/%s/files", id);
	query_add(c->curl, &h.path, "path", target);
	if (mode)
		query_add(c->curl, &h.path, "mode", mode);
	if (http_run(c, &h) == 0)
		ret = 0;
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
		fail("out of memory");
	return s;
}

static int cp_down(struct cli *c, const char *id, const char *gpath, const char *dst)
{
	struct http h = { .method = "GET" };
	struct out_file out = { 0 };
	char *target = download_target(gpath, dst);
	int ret = EXIT_FAILED;

	if (!target || out_open(&out, target) < 0)
		goto out_abort;
	h.out = out.f;
	h.out_name = target;
	path_add(c->curl, &h.path, "/sandboxes/%s/files", id);
	query_add(c->curl, &h.path, "path", gpath);
	if (http_run(c, &h) < 0)
		goto out_abort;
	if (h.file_size >= 0 && h.received != h.file_size)
		fail("%s: the download ended after %lld of %lld bytes", gpath, h.received,
		     h.file_size);
	else if (out_commit(&out) == 0)
		ret = 0;
out_abort:
	out_abort(&out);
	free(target);
	http_free(&h);
	return ret;
}

static int cmd_cp(struct cli *c, int argc, char **argv)
{
	const char *mode = NULL, *sp = NULL, *dp = NULL;
	const struct opt opts[] = { { "--mode", NULL, OPT_VALUE, &mode }, { NULL } };
	char *sid = NULL, *did = NULL;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 2, 2, "SRC DST");
	if (st >= 0)
		return st;
	sid = guest_side(argv[0], &sp);
	did = guest_side(argv[1], &dp);
	if (!*argv[1])
		st = usage_err(c, "an empty DST");
	else if (mode && (!*mode || strlen(mode) > 4 || strspn(mode, "01234567") != strlen(mode)))
		st = usage_err(c, "--mode '%s': want octal permissions, as 644", mode);
	else if (sid && did)
		st = usage_err(c, "SRC and DST are both in sandboxes: one must be local");
	else if (!sid && !did)
		st = usage_err(c, "want SRC or DST in a sandbox, as ID:/path");
	else if (sid && mode)
		st = usage_err(c, "--mode is for uploads");
	else
		st = did ? cp_up(c, argv[0], did, dp, mode) : cp_down(c, sid, sp, argv[1]);
	free(sid);
	free(did);
	return st;
}

/* --- the top ----------------------------------------------------------------------- */

static const char help_usage[] =
	"usage: cubicle help [COMMAND]\n"
	"\n"
	"Prints the help of COMMAND, or of cubicle.\n";

static int cmd_help(struct cli *c, int argc, char **argv);

static const struct command commands[] = {
	{ "create", cmd_create, create_usage },
	{ "list", cmd_list, list_usage },
	{ "get", cmd_get, get_usage },
	{ "kill", cmd_kill, kill_usage },
	{ "timeout", cmd_timeout, timeout_usage },
	{ "screenshot", cmd_screenshot, screenshot_usage },
	{ "move", cmd_move, move_usage },
	{ "click", cmd_click, click_usage },
	{ "scroll", cmd_scroll, scroll_usage },
	{ "type", cmd_type, type_usage },
	{ "key", cmd_key, key_usage },
	{ "drag", cmd_drag, drag_usage },
	{ "cursor", cmd_cursor, cursor_usage },
	{ "actions", cmd_actions, actions_usage },
	{ "stream", cmd_stream, stream_usage },
	{ "exec", cmd_exec, exec_usage },
	{ "cp", cmd_cp, cp_usage },
	{ "help", cmd_help, help_usage },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
	const struct opt opts[] = { { NULL } };
	const struct command *cmd;
	int n, st = parse_args(c, opts, argc, argv, 0, &n);

	if (st < 0)
		st = count_args(c, n, argv, 0, 1, "[COMMAND]");
	if (st >= 0)
		return st;
	if (!n) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!(cmd = find_command(argv[0])))
		return usage_err(c, "unknown command '%s'", argv[0]);
	fputs(cmd->usage, stdout);
	return 0;
}

/* s, or NULL when s is NULL or empty. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* The URL (without trailing slashes) and where the key comes from; -1, or EXIT_USAGE. */
static int settle(struct cli *c, const char *url)
{
	size_t len;

	url = nonempty(url) ?: nonempty(getenv("CUBICLE_URL")) ?: DEFAULT_URL;
	len = strlen(url);
	while (len > 1 && url[len - 1] == '/')
		len--;
	if (len >= sizeof(c->url))
		return usage_err(c, "--url: too long a URL");
	memcpy(c->url, url, len);
	c->url[len] = '\0';
	if (!c->key && !c->key_file) {
		c->key = nonempty(getenv("CUBICLE_API_KEY"));
		if (!c->key)
			c->key_file = nonempty(getenv("CUBICLE_API_KEY_FILE"));
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct cli c;
	const char *url = NULL;
	bool version = false;
	const struct opt opts[] = {
		{ "--url", NULL, OPT_VALUE, &url }, { "--key", NULL, OPT_VALUE, &c.key },
		{ "--key-file", NULL, OPT_VALUE, &c.key_file },
		{ "--version", NULL, OPT_FLAG, &version }, { NULL } };
	int n, st = parse_args(&c, opts, argc, argv, 1, &n);

	if (st >= 0)
		return st;
	if (version) {
		puts("cubicle " CLI_VERSION);
		return 0;
	}
	if (!n)
		return usage_err(&c, "no command given");
	if (!find_command(argv[0]))
		return usage_err(&c, "unknown command '%s'", argv[0]);
	if ((st = settle(&c, url)) >= 0)
		return st;
	c.cmd = find_command(argv[0]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c.curl = curl_easy_init())) {
		fail("cannot start libcurl");
		return c.cmd->run == cmd_exec ? EXIT_EXEC_FAILED : EXIT_FAILED;
	}
	st = c.cmd->run(&c, n, argv);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return st;
}
