#include "vmctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "usock.h"

#define ANSWER_MAX 65536        /* an answer line without its image */
#define IMAGE_MAX (256u << 20)  /* more than any screenshot the monitor makes */

/* Reads up to '\n' into line (NUL-terminated, without it); what came after stays in rest. */
static int read_line(int fd, char *line, size_t cap, uint8_t *rest, size_t *nrest, int timeout_ms)
{
	size_t n = 0;

	for (;;) {
		char *nl;
		ssize_t r;
		int ret = fdio_wait(fd, POLLIN, timeout_ms);

		if (ret < 0)
			return ret;
		r = read(fd, line + n, cap - 1 - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		n += (size_t)r;
		line[n] = '\0';
		nl = memchr(line, '\n', n);
		if (nl) {
			*nrest = n - (size_t)(nl + 1 - line);
			memcpy(rest, nl + 1, *nrest);
			*nl = '\0';
			return 0;
		}
		if (n + 1 >= cap)
			return -EMSGSIZE;
	}
}

/* The image bytes the answer announces: nrest of them in rest, the others still on fd. */
static int read_bytes(int fd, struct json_object *answer, const uint8_t *rest, size_t nrest,
		      uint8_t **data, size_t *len, int timeout_ms)
{
	struct json_object *bytes;
	int64_t n;

	if (!json_object_object_get_ex(answer, "bytes", &bytes))
		return -EPROTO;
	n = json_object_get_int64(bytes);
	if (n < 0 || (uint64_t)n > IMAGE_MAX || (size_t)n < nrest)
		return -EPROTO;
	*data = malloc(n ? (size_t)n : 1);
	if (!*data)
		return -ENOMEM;
	memcpy(*data, rest, nrest);
	*len = (size_t)n;
	return fdio_read_full_timed(fd, *data + nrest, (size_t)n - nrest, timeout_ms);
}

/* err from an answer that said "ok": false; -EREMOTEIO. */
static int refused(struct json_object *answer, struct vmctl_error *err)
{
	struct json_object *v;

	if (!err)
		return -EREMOTEIO;
	snprintf(err->code, sizeof(err->code), "%s", json_object_object_get_ex(answer, "code", &v) &&
		 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "EIO");
	snprintf(err->message, sizeof(err->message), "%s",
		 json_object_object_get_ex(answer, "message", &v) &&
		 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
	err->done = json_object_object_get_ex(answer, "done", &v) ? json_object_get_int(v) : -1;
	err->refused = json_object_object_get_ex(answer, "refused", &v) ? json_object_get_int(v) : -1;
	return -EREMOTEIO;
}

/*
 * Sends req (taken) on a new connection to the socket at path and reads the
 * answer into *answer (the caller's), and its image bytes into *data
 * (malloc'd, the caller's) when data is not NULL. See vmctl.h for what it
 * returns; on failure nothing is left in *answer or *data.
 */
static int call(const char *path, struct json_object *req, struct json_object **answer,
		uint8_t **data, size_t *len, struct vmctl_error *err, int timeout_ms)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *line = malloc(ANSWER_MAX);
	uint8_t *rest = malloc(ANSWER_MAX);
	struct json_object *ok;
	size_t nrest = 0;
	int fd, ret;

	*answer = NULL;
	if (data) {
		*data = NULL;
		*len = 0;
	}
	fd = line && rest ? usock_connect(path, SOCK_NONBLOCK) : -ENOMEM;
	ret = fd < 0 ? fd : fdio_write_all_timed(fd, text, strlen(text), timeout_ms);
	ret = ret ? ret : fdio_write_all_timed(fd, "\n", 1, timeout_ms);
	ret = ret ? ret : read_line(fd, line, ANSWER_MAX, rest, &nrest, timeout_ms);
	if (ret == 0) {
		*answer = json_tokener_parse(line);
		if (!*answer || !json_object_is_type(*answer, json_type_object))
			ret = -EPROTO;
	}
	if (ret == 0 && !(json_object_object_get_ex(*answer, "ok", &ok) && json_object_get_boolean(ok)))
		ret = refused(*answer, err);
	if (ret == 0 && data)
		ret = read_bytes(fd, *answer, rest, nrest, data, len, timeout_ms);
	if (ret) {
		json_object_put(*answer);
		*answer = NULL;
		if (data) {
			free(*data);
			*data = NULL;
			*len = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	free(line);
	free(rest);
	json_object_put(req);
	return ret;
}

/* A new request, {"op": op}. */
static struct json_object *request(const char *op)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(op));
	return o;
}

/* An answer's whole number key, 0 when absent. */
static uint32_t uint_of(struct json_object *o, const char *key)
{
	int64_t n = json_object_get_int64(json_object_object_get(o, key));

	return n < 0 || n > UINT32_MAX ? 0 : (uint32_t)n;
}

/* The coordinate space s as req's fields (none for the screen's own). */
static void add_space(struct json_object *req, const struct vmctl_space *s)
{
	struct json_object *screen;

	if (s->scale != 0)
		json_object_object_add(req, "scale", json_object_new_double(s->scale));
	if (s->width || s->height) {
		screen = json_object_new_object();
		json_object_object_add(screen, "width", json_object_new_int64(s->width));
		json_object_object_add(screen, "height", json_object_new_int64(s->height));
		json_object_object_add(req, s->grid ? "grid" : "screen", screen);
	}
}

static struct json_object *four(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	struct json_object *v = json_object_new_array();

	json_object_array_add(v, json_object_new_int64(a));
	json_object_array_add(v, json_object_new_int64(b));
	json_object_array_add(v, json_object_new_int64(c));
	json_object_array_add(v, json_object_new_int64(d));
	return v;
}

/* The options of how as fields of o (docs/control-protocol.md, "screenshot"). */
static void add_shot(struct json_object *o, const struct vmctl_shot *how)
{
	json_object_object_add(o, "format", json_object_new_string(
		how->format == VMCTL_JPEG ? "jpeg" : "png"));
	if (how->quality)
		json_object_object_add(o, "quality", json_object_new_int64(how->quality));
	if (how->scale != 0)
		json_object_object_add(o, "scale", json_object_new_double(how->scale));
	if (how->width)
		json_object_object_add(o, "width", json_object_new_int64(how->width));
	if (how->fit_width) {
		struct json_object *fit = json_object_new_array();

		json_object_array_add(fit, json_object_new_int64(how->fit_width));
		json_object_array_add(fit, json_object_new_int64(how->fit_height));
		json_object_object_add(o, "fit", fit);
	}
	if (how->region.w || how->region.h)
		json_object_object_add(o, "region", four(how->region.x, how->region.y,
							 how->region.w, how->region.h));
	if (how->box.x1)
		json_object_object_add(o, "box", four(how->box.x0, how->box.y0, how->box.x1,
						      how->box.y1));
	if (how->cursor)
		json_object_object_add(o, "cursor", json_object_new_boolean(1));
}

/* An answer's image fields (format, width, height) into img, whose bytes are read. */
static int image_of(struct json_object *ans, struct vmctl_image *img)
{
	const char *format = json_object_get_string(json_object_object_get(ans, "format"));

	if (!format || (strcmp(format, "png") && strcmp(format, "jpeg"))) {
		vmctl_image_free(img);
		return -EPROTO;
	}
	img->format = strcmp(format, "jpeg") ? VMCTL_PNG : VMCTL_JPEG;
	img->width = uint_of(ans, "width");
	img->height = uint_of(ans, "height");
	return 0;
}

int vmctl_screenshot(const char *path, const struct vmctl_space *screen,
		     const struct vmctl_shot *how, struct vmctl_image *img,
		     struct vmctl_error *err, int timeout_ms)
{
	static const struct vmctl_shot defaults;
	struct json_object *req = request("screenshot"), *ans;
	int ret;

	*img = (struct vmctl_image){ 0 };
	add_shot(req, how ? how : &defaults);
	if (screen)
		add_space(req, &(struct vmctl_space){ 0, screen->width, screen->height, screen->grid });
	ret = call(path, req, &ans, &img->data, &img->len, err, timeout_ms);
	if (ret)
		return ret;
	ret = image_of(ans, img);
	json_object_put(ans);
	return ret;
}

void vmctl_image_free(struct vmctl_image *img)
{
	free(img->data);
	*img = (struct vmctl_image){ 0 };
}

int vmctl_actions(const char *path, const struct vmctl_batch *b, struct vmctl_batch_answer *ans,
		  struct vmctl_error *err, int timeout_ms)
{
	struct json_object *req = request("actions"), *a, *v, *shot;
	int ret;

	*ans = (struct vmctl_batch_answer){ NULL };
	json_object_object_add(req, "actions", json_object_get(b->actions));
	add_space(req, &b->space);
	if (b->shot) {
		shot = json_object_new_object();
		add_shot(shot, b->shot);
		json_object_object_add(req, "screenshot", shot);
	}
	ret = call(path, req, &a, b->shot ? &ans->shot.data : NULL, &ans->shot.len, err,
		   timeout_ms);
	if (ret)
		return ret;
	if (b->shot)
		ret = image_of(a, &ans->shot);
	if (ret == 0 && json_object_object_get_ex(a, "results", &v))
		ans->results = json_object_get(v);
	json_object_put(a);
	return ret;
}

void vmctl_batch_answer_free(struct vmctl_batch_answer *ans)
{
	json_object_put(ans->results);
	vmctl_image_free(&ans->shot);
	*ans = (struct vmctl_batch_answer){ NULL };
}

int vmctl_cursor(const char *path, uint32_t *x, uint32_t *y, struct vmctl_error *err,
		 int timeout_ms)
{
	struct json_object *ans;
	int ret = call(path, request("cursor"), &ans, NULL, NULL, err, timeout_ms);

	*x = *y = 0;
	if (ret)
		return ret;
	*x = uint_of(ans, "x");
	*y = uint_of(ans, "y");
	json_object_put(ans);
	return 0;
}

int vmctl_display(const char *path, struct vmctl_display *d, struct vmctl_error *err,
		  int timeout_ms)
{
	struct json_object *ans, *cur, *vnc;
	int ret = call(path, request("display"), &ans, NULL, NULL, err, timeout_ms);

	*d = (struct vmctl_display){ 0 };
	if (ret)
		return ret;
	d->width = uint_of(ans, "width");
	d->height = uint_of(ans, "height");
	if (json_object_object_get_ex(ans, "cursor", &cur)) {
		d->cursor.x = uint_of(cur, "x");
		d->cursor.y = uint_of(cur, "y");
		d->cursor.visible = json_object_get_boolean(json_object_object_get(cur, "visible"));
	}
	if (json_object_object_get_ex(ans, "vnc", &vnc)) {
		d->vnc_port = (int)uint_of(vnc, "port");
		d->vnc_clients = uint_of(vnc, "clients");
	}
	json_object_put(ans);
	return 0;
}

int vmctl_resize(const char *path, uint32_t width, uint32_t height, struct vmctl_error *err,
		 int timeout_ms)
{
	struct json_object *req = request("resize"), *ans;
	int ret;

	json_object_object_add(req, "width", json_object_new_int64(width));
	json_object_object_add(req, "height", json_object_new_int64(height));
	ret = call(path, req, &ans, NULL, NULL, err, timeout_ms);
	json_object_put(ans);
	return ret;
}
