/*
 * The screen and the hands: screenshots, batches of actions, the cursor and
 * the display, each a typed call to the sandbox's monitor (vmctl.h). The
 * handlers read a query or a body into vmctl's options, syntax only: the
 * monitor checks ranges (a quality over 100, a region off the screen) and
 * answers EINVAL, which is a 400 here too. Zero is vmctl's "not given", so
 * a number the user gives must be above it.
 */
#include "screen.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"

#define RESIZE_WAIT_MS 90000

/* "png" or "jpeg" into *out; false when answered. */
static bool format_of(struct api_req *r, const char *s, enum vmctl_format *out)
{
	if (!strcmp(s, "png") || !strcmp(s, "jpeg")) {
		*out = s[0] == 'j' ? VMCTL_JPEG : VMCTL_PNG;
		return true;
	}
	api_reply_error(r, 400, "invalid_request", "format: want png or jpeg");
	return false;
}

/*
 * Query argument name, a number above 0 (a whole one that fits 32 bits
 * when whole), into *out (unchanged if absent); false when answered.
 */
static bool query_number(struct api_req *r, const char *name, bool whole, double *out)
{
	const char *s = api_arg(r, name);
	char *end;
	double d;

	if (!s)
		return true;
	errno = 0;
	d = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(d) || d <= 0 ||
	    (whole && (d != floor(d) || d > UINT32_MAX))) {
		api_reply_error(r, 400, "invalid_request", "%s: want %s above 0", name,
				whole ? "a whole number" : "a number");
		return false;
	}
	*out = d;
	return true;
}

/* ?region=X,Y,W,H (W and H above 0) into *out (unchanged if absent); false when answered. */
static bool query_region(struct api_req *r, struct vmctl_rect *out)
{
	const char *s = api_arg(r, "region");
	int x, y, w, h, n = 0;

	if (!s)
		return true;
	if (sscanf(s, "%d,%d,%d,%d%n", &x, &y, &w, &h, &n) != 4 || s[n] || x < 0 || y < 0 ||
	    w < 1 || h < 1) {
		api_reply_error(r, 400, "invalid_request", "region: want X,Y,W,H");
		return false;
	}
	*out = (struct vmctl_rect){ (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h };
	return true;
}

/* GET .../screenshot's query into *how; false when answered. */
static bool shot_of_query(struct api_req *r, struct vmctl_shot *how)
{
	const char *format = api_arg(r, "format");
	double quality = 0, width = 0;

	*how = (struct vmctl_shot){ .format = VMCTL_PNG };
	if ((format && !format_of(r, format, &how->format)) ||
	    !query_number(r, "quality", true, &quality) ||
	    !query_number(r, "scale", false, &how->scale) ||
	    !query_number(r, "width", true, &width) || !query_region(r, &how->region) ||
	    !api_flag(r, "cursor", false, &how->cursor))
		return false;
	how->quality = (unsigned int)quality;
	how->width = (unsigned int)width;
	return true;
}

/* o's whole number key above 0 (named what) into *out (unchanged if absent); false when answered. */
static bool json_count(struct api_req *r, struct json_object *o, const char *key,
		       const char *what, unsigned int *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return true;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 1 || n > UINT32_MAX) {
		api_reply_error(r, 400, "invalid_request", "%s: want a whole number above 0", what);
		return false;
	}
	*out = (unsigned int)n;
	return true;
}

/* o's "scale", a number above 0 (named what), into *out (unchanged if absent); false when answered. */
static bool json_scale(struct api_req *r, struct json_object *o, const char *what, double *out)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(o, "scale", &v))
		return true;
	d = json_object_get_double(v);
	if ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
	    !isfinite(d) || d <= 0) {
		api_reply_error(r, 400, "invalid_request", "%s: want a number above 0", what);
		return false;
	}
	*out = d;
	return true;
}

/* o's "region" [x, y, w, h] (w and h above 0) into *out (unchanged if absent); false when answered. */
static bool json_region(struct api_req *r, struct json_object *o, struct vmctl_rect *out)
{
	struct json_object *v;
	int64_t n[4];

	if (!json_object_object_get_ex(o, "region", &v))
		return true;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 4)
		goto bad;
	for (size_t i = 0; i < 4; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		n[i] = json_object_get_int64(e);
		if (!json_object_is_type(e, json_type_int) || n[i] < (i < 2 ? 0 : 1) ||
		    n[i] > UINT32_MAX)
			goto bad;
	}
	*out = (struct vmctl_rect){ (uint32_t)n[0], (uint32_t)n[1], (uint32_t)n[2], (uint32_t)n[3] };
	return true;
bad:
	api_reply_error(r, 400, "invalid_request", "screenshot.region: want [x, y, w, h]");
	return false;
}

/*
 * A body's "screenshot": absent or false for none (*want false), true for
 * a PNG of the screen, or its options (other fields are ignored) into
 * *how; false when answered.
 */
static bool shot_of_body(struct api_req *r, struct json_object *body, bool *want,
			 struct vmctl_shot *how)
{
	struct json_object *o, *v;

	*how = (struct vmctl_shot){ .format = VMCTL_PNG };
	*want = json_object_object_get_ex(body, "screenshot", &o) &&
		!(json_object_is_type(o, json_type_boolean) && !json_object_get_boolean(o));
	if (!*want || json_object_is_type(o, json_type_boolean))
		return true;
	if (!json_object_is_type(o, json_type_object)) {
		api_reply_error(r, 400, "invalid_request", "screenshot: want true, false or its "
				"options");
		return false;
	}
	if (json_object_object_get_ex(o, "format", &v) &&
	    !format_of(r, api_str_field(o, "format") ?: "", &how->format))
		return false;
	if (json_object_object_get_ex(o, "cursor", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			api_reply_error(r, 400, "invalid_request", "screenshot.cursor: want true or "
					"false");
			return false;
		}
		how->cursor = json_object_get_boolean(v);
	}
	return json_count(r, o, "quality", "screenshot.quality", &how->quality) &&
	       json_scale(r, o, "screenshot.scale", &how->scale) &&
	       json_count(r, o, "width", "screenshot.width", &how->width) &&
	       json_region(r, o, &how->region);
}

/* GET .../screenshot: the image's bytes, its size in X-Image-Width and X-Image-Height. */
static void screenshot(struct api_req *r)
{
	struct vmctl_shot how;
	struct vmctl_image img;
	struct vmctl_error err;
	char num[16];
	int ret;

	if (!shot_of_query(r, &how))
		return;
	ret = vmctl_screenshot(r->sb->control, NULL, &how, &img, &err, API_CONTROL_WAIT_MS);
	if (ret) {
		api_control_failed(r, ret, &err);
		return;
	}
	api_reply_bytes(r, 200, img.format == VMCTL_JPEG ? "image/jpeg" : "image/png", img.data,
			img.len);
	snprintf(num, sizeof(num), "%u", img.width);
	MHD_add_response_header(r->resp, "X-Image-Width", num);
	snprintf(num, sizeof(num), "%u", img.height);
	MHD_add_response_header(r->resp, "X-Image-Height", num);
}

void api_base64(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

struct json_object *api_image_json(struct api_req *r, const struct vmctl_image *img)
{
	struct json_object *out;
	char *b64 = malloc(4 * ((img->len + 2) / 3) + 1);

	if (!b64) {
		api_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	api_base64(img->data, img->len, b64);
	out = json_object_new_object();
	json_object_object_add(out, "format", json_object_new_string(
		img->format == VMCTL_JPEG ? "jpeg" : "png"));
	json_object_object_add(out, "width", json_object_new_int64(img->width));
	json_object_object_add(out, "height", json_object_new_int64(img->height));
	json_object_object_add(out, "data", json_object_new_string(b64));
	free(b64);
	return out;
}

/* Notes a batch in the sandbox's activity, action by action. */
static void note_actions(struct api_req *r, struct json_object *list)
{
	char text[ACTIVITY_TEXT] = "";

	if (!json_object_is_type(list, json_type_array)) {
		activity_describe(text, sizeof(text), list, "type");
	} else {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			activity_describe(text, sizeof(text), json_object_array_get_idx(list, i),
					  "type");
	}
	api_note(r, "actions", "%s", text);
}

#define TYPE_MS_PER_BYTE 20        /* text off the layout, under TCG: ~114 characters/s */

static int64_t member_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
	       ? json_object_get_int64(v) : 0;
}

int api_actions_wait_ms(struct json_object *list)
{
	int64_t ms = API_ACTIONS_WAIT_MS;
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n && ms < INT_MAX; i++) {
		struct json_object *a = json_object_array_get_idx(list, i), *text;
		int64_t delay = member_int(a, "delay_ms");

		if (json_object_object_get_ex(a, "text", &text) && json_object_is_type(text, json_type_string))
			ms += json_object_get_string_len(text) * (TYPE_MS_PER_BYTE + (delay > 0 ? delay : 0));
		ms += member_int(a, "ms") > 0 ? member_int(a, "ms") : 0;
		ms += member_int(a, "duration_ms") > 0 ? member_int(a, "duration_ms") : 0;
	}
	return ms < INT_MAX ? (int)ms : INT_MAX;
}

/*
 * POST .../actions: the batch (checked whole by the monitor before any of
 * it runs) and, when the body asks for one, the screenshot taken once it
 * is done: one round trip.
 */
static void actions(struct api_req *r)
{
	static const char *const fields[] = { "actions", "scale", "screenshot", NULL };
	struct json_object *body = api_body_object(r), *out, *shot;
	struct vmctl_batch batch = { NULL };
	struct vmctl_batch_answer ans;
	struct vmctl_error err;
	struct vmctl_shot how;
	bool want_shot;
	int ret;

	if (!body)
		return;
	if (!api_known_keys(r, body, fields))
		goto out;
	if (!json_object_object_get_ex(body, "actions", &batch.actions)) {
		api_reply_error(r, 400, "invalid_request", "actions: want a list of actions");
		goto out;
	}
	note_actions(r, batch.actions);
	if (!json_scale(r, body, "scale", &batch.space.scale) ||
	    !shot_of_body(r, body, &want_shot, &how))
		goto out;
	batch.shot = want_shot ? &how : NULL;
	ret = vmctl_actions(r->sb->control, &batch, &ans, &err, api_actions_wait_ms(batch.actions));
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	out = json_object_new_object();
	if (ans.results)
		json_object_object_add(out, "results", json_object_get(ans.results));
	shot = want_shot ? api_image_json(r, &ans.shot) : NULL;
	vmctl_batch_answer_free(&ans);
	if (want_shot && !shot) {
		json_object_put(out);
		goto out;
	}
	if (shot)
		json_object_object_add(out, "screenshot", shot);
	api_reply_json(r, 200, out);
out:
	json_object_put(body);
}

/* GET .../cursor: where the guest's pointer is. */
static void cursor(struct api_req *r)
{
	struct vmctl_error err;
	struct json_object *o;
	uint32_t x, y;
	/* The monitor reads it after the batches before it: it may wait as long as they. */
	int ret = vmctl_cursor(r->sb->control, &x, &y, &err, API_ACTIONS_WAIT_MS);

	if (ret) {
		api_control_failed(r, ret, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "x", json_object_new_int64(x));
	json_object_object_add(o, "y", json_object_new_int64(y));
	api_reply_json(r, 200, o);
}

/* GET .../display: the screen's size and the cursor. */
static void display_get(struct api_req *r)
{
	struct vmctl_display d;
	struct vmctl_error err;
	struct json_object *o, *cur;
	int ret = vmctl_display(r->sb->control, &d, &err, API_CONTROL_WAIT_MS);

	if (ret) {
		api_control_failed(r, ret, &err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "width", json_object_new_int64(d.width));
	json_object_object_add(o, "height", json_object_new_int64(d.height));
	cur = json_object_new_object();
	json_object_object_add(cur, "x", json_object_new_int64(d.cursor.x));
	json_object_object_add(cur, "y", json_object_new_int64(d.cursor.y));
	json_object_object_add(cur, "visible", json_object_new_boolean(d.cursor.visible));
	json_object_object_add(o, "cursor", cur);
	api_reply_json(r, 200, o);
}

/* POST .../display {"width","height"}: resizes the screen, then answers the new display. */
static void display_set(struct api_req *r)
{
	static const char *const fields[] = { "width", "height", NULL };
	struct json_object *body = api_body_object(r);
	struct vmctl_error err;
	unsigned int w = 0, h = 0;
	int ret;

	if (!body)
		return;
	if (!api_known_keys(r, body, fields) || !api_uint_field(r, body, "width", 64, 8192, &w) ||
	    !api_uint_field(r, body, "height", 64, 8192, &h))
		goto out;
	if (!w || !h) {
		api_reply_error(r, 400, "invalid_request", "want width and height (64..8192)");
		goto out;
	}
	api_note(r, "resize", "%ux%u", w, h);
	ret = vmctl_resize(r->sb->control, w, h, &err, RESIZE_WAIT_MS);
	if (ret) {
		api_control_failed(r, ret, &err);
		goto out;
	}
	sandbox_set_resolution(r->sandboxes, r->sb, w, h);
	display_get(r);
out:
	json_object_put(body);
}

static const struct api_route rows[] = {
	{ "GET", "sandboxes/{id}/screenshot", ROUTE_SANDBOX, screenshot, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/actions", ROUTE_SANDBOX, actions, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/cursor", ROUTE_SANDBOX, cursor, NULL, NULL, NULL },
	{ "GET", "sandboxes/{id}/display", ROUTE_SANDBOX, display_get, NULL, NULL, NULL },
	{ "POST", "sandboxes/{id}/display", ROUTE_SANDBOX, display_set, NULL, NULL, NULL },
};

const struct api_routes api_screen_routes = { rows, sizeof(rows) / sizeof(rows[0]) };
