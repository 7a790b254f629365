#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "screen.h"

/* --- a turn ------------------------------------------------------------------ */

struct model_step *model_step_add(struct model_turn *t)
{
	struct model_step *s;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct model_step *steps = realloc(t->steps, cap * sizeof(*steps));

		if (!steps)
			return NULL;
		t->steps = steps;
		t->cap = cap;
	}
	s = &t->steps[t->n++];
	*s = (struct model_step){ .actions = json_object_new_array() };
	return s;
}

void model_turn_free(struct model_turn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		json_object_put(t->steps[i].actions);
		vmctl_image_free(&t->steps[i].shot);
		free(t->steps[i].arg);
	}
	free(t->steps);
	*t = (struct model_turn){ 0 };
}

/* The monitor's message without its "action N (type): " head, which names our batch, not the model's call. */
static void why_of(const struct vmctl_error *err, char *why, size_t len)
{
	const char *m = err->message, *p = strstr(m, "): ");

	if (!strncmp(m, "action ", 7) && p)
		m = p + 3;
	snprintf(why, len, "%s", *m ? m : err->code);
}

/* One batch of a turn: steps [first, last], and the step each of its actions came from. */
struct segment {
	struct json_object *list;
	size_t *from;                   /* action index -> step index */
	size_t first, last;
};

/*
 * Steps from first on (not a refused one) as one segment: up to the first
 * that wants an image, or the last before one that was refused or must be
 * prepared.
 */
static int segment_of(struct model_turn *t, size_t first, struct segment *g)
{
	size_t total = 0, k;

	for (k = first; k < t->n; k++)
		total += json_object_array_length(t->steps[k].actions) + 1;
	*g = (struct segment){ .list = json_object_new_array(), .first = first, .last = first };
	g->from = malloc((total ? total : 1) * sizeof(*g->from));
	if (!g->from) {
		json_object_put(g->list);
		return -ENOMEM;
	}
	for (k = first; k < t->n && !t->steps[k].why[0]; k++) {
		struct model_step *s = &t->steps[k];

		/* A new batch before one step would take this one past the monitor's 1000. */
		if (k > first && (s->prepare ||
				  json_object_array_length(g->list) + json_object_array_length(s->actions) +
				  1 > MODEL_BATCH_MAX))
			break;
		for (size_t a = 0; a < json_object_array_length(s->actions); a++) {
			g->from[json_object_array_length(g->list)] = k;
			json_object_array_add(g->list, json_object_get(
				json_object_array_get_idx(s->actions, a)));
		}
		if (s->want == MODEL_CURSOR) {
			g->from[json_object_array_length(g->list)] = k;
			json_object_array_add(g->list, model_action("cursor"));
		}
		g->last = k;
		/*
		 * A batch that fails at run time answers no results, so a cursor's
		 * answer must not wait behind later actions: it ends the batch too.
		 */
		if (s->want == MODEL_SHOT || s->want == MODEL_ZOOM || s->want == MODEL_CURSOR)
			break;
	}
	return 0;
}

static void segment_free(struct segment *g)
{
	json_object_put(g->list);
	free(g->from);
}

/* The screenshot a segment ends with, into *how; false if none. */
static bool segment_shot(const struct model_turn *t, const struct segment *g,
			 struct vmctl_shot *how)
{
	const struct model_step *s = &t->steps[g->last];

	*how = t->shot;
	if (s->want == MODEL_ZOOM) {
		how->width = 0;
		how->box = s->box;
		/* At full resolution, fitted into the screen the model was told of. */
		if (t->zoom_fit && !t->space.grid) {
			how->fit_width = t->space.width;
			how->fit_height = t->space.height;
		}
		return true;
	}
	return s->want == MODEL_SHOT ||
	       (t->last_shot && g->last == t->n - 1 && !t->steps[g->last].why[0]);
}

/* Runs segment g's actions (those before action `upto`, all if upto < 0) with shot how (NULL: none). */
static int segment_call(struct api_req *r, const struct model_turn *t, struct segment *g,
			int upto, const struct vmctl_shot *how, struct vmctl_batch_answer *ans,
			struct vmctl_error *err)
{
	struct json_object *list = g->list;
	struct vmctl_space space = t->space;
	struct vmctl_batch b;
	int ret;

	*ans = (struct vmctl_batch_answer){ NULL };
	if (upto >= 0) {
		list = json_object_new_array();
		for (int i = 0; i < upto; i++)
			json_object_array_add(list, json_object_get(json_object_array_get_idx(g->list,
											 (size_t)i)));
	}
	b = (struct vmctl_batch){ .actions = list, .space = space, .shot = how };
	if (json_object_array_length(list))
		ret = vmctl_actions(r->sb->control, &b, ans, err, api_actions_wait_ms(list));
	else
		ret = how ? vmctl_screenshot(r->sb->control, &space, how, &ans->shot, err,
					     API_CONTROL_WAIT_MS) : 0;
	if (list != g->list)
		json_object_put(list);
	return ret;
}

/* Marks steps of g done up to (not with) step stop, their cursors from results. */
static void segment_done(struct model_turn *t, const struct segment *g, size_t stop,
			 struct json_object *results)
{
	for (size_t k = g->first; k < stop && k <= g->last; k++)
		t->steps[k].status = MODEL_DONE;
	for (size_t i = 0; results && i < json_object_array_length(results); i++) {
		struct json_object *res = json_object_array_get_idx(results, i);
		struct model_step *s = &t->steps[g->from[i]];
		const char *type = json_object_get_string(json_object_object_get(res, "type"));

		if (g->from[i] < stop && s->want == MODEL_CURSOR && type && !strcmp(type, "cursor")) {
			s->x = (uint32_t)json_object_get_int64(json_object_object_get(res, "x"));
			s->y = (uint32_t)json_object_get_int64(json_object_object_get(res, "y"));
		}
	}
}

/*
 * Segment g refused or failed at action `at` (err says why): the steps
 * before that action's step are done (run again up to it when nothing ran,
 * so that they are), that step fails, and the turn stops there.
 */
static int segment_failed(struct api_req *r, struct model_turn *t, struct segment *g, int at,
			  bool ran, const struct vmctl_error *why)
{
	size_t stop = g->from[at];
	struct vmctl_batch_answer ans = { NULL };
	struct vmctl_error err = { .done = -1, .refused = -1 };
	int upto = at;
	int ret = 0;

	/* Only the actions of whole steps before the failing one run again. */
	while (upto > 0 && g->from[upto - 1] == stop)
		upto--;
	if (!ran && upto > 0) {
		ret = segment_call(r, t, g, upto, NULL, &ans, &err);
		if (ret)
			return ret;
	}
	segment_done(t, g, stop, ans.results);
	vmctl_batch_answer_free(&ans);
	t->steps[stop].status = MODEL_FAILED;
	why_of(why, t->steps[stop].why, sizeof(t->steps[stop].why));
	return 0;
}

/* After a halt, the screen as it is now for the step halt_shot names (none: nothing to do). */
static int halt_shot(struct api_req *r, struct model_turn *t, struct vmctl_error *err)
{
	struct model_step *target = NULL;

	for (size_t i = 0; i < t->n; i++) {
		if (t->steps[i].status == MODEL_DONE && t->halt_shot == MODEL_HALT_LAST_DONE)
			target = &t->steps[i];
		if (t->steps[i].status == MODEL_FAILED && t->halt_shot == MODEL_HALT_FAILED)
			target = &t->steps[i];
	}
	if (!t->last_shot || !target || target->shot.data)
		return 0;
	return vmctl_screenshot(r->sb->control, &t->space, &t->shot, &target->shot, err,
				API_CONTROL_WAIT_MS);
}

int model_turn_run(struct api_req *r, struct model_turn *t, struct vmctl_error *err)
{
	size_t first = 0;

	*err = (struct vmctl_error){ .done = -1, .refused = -1 };
	while (first < t->n) {
		struct vmctl_batch_answer ans;
		struct vmctl_shot how;
		struct segment g;
		bool shot;
		int ret;

		if (t->steps[first].why[0] ||
		    (t->steps[first].prepare && !t->steps[first].prepare(r, &t->steps[first]))) {
			t->steps[first].status = MODEL_FAILED;
			return halt_shot(r, t, err);
		}
		if (segment_of(t, first, &g) < 0)
			return -ENOMEM;
		shot = segment_shot(t, &g, &how);
		ret = segment_call(r, t, &g, -1, shot ? &how : NULL, &ans, err);
		if (ret == -EREMOTEIO && (err->refused >= 0 || err->done >= 0) &&
		    (size_t)(err->refused >= 0 ? err->refused : err->done) <
		    json_object_array_length(g.list)) {
			bool ran = err->refused < 0;

			ret = segment_failed(r, t, &g, ran ? err->done : err->refused, ran, err);
			segment_free(&g);
			return ret ? ret : halt_shot(r, t, err);
		}
		/*
		 * Every action ran and only the screenshot failed: the steps are done
		 * (a loop must not repeat them), and the screen is asked for again.
		 */
		if (ret == -EREMOTEIO && shot && err->done >= 0 &&
		    (size_t)err->done == json_object_array_length(g.list)) {
			segment_done(t, &g, g.last + 1, NULL);
			ret = vmctl_screenshot(r->sb->control, &t->space, &how, &ans.shot, err,
					       API_CONTROL_WAIT_MS);
		}
		if (ret) {
			segment_free(&g);
			return ret;
		}
		segment_done(t, &g, g.last + 1, ans.results);
		t->steps[g.last].shot = ans.shot;
		ans.shot = (struct vmctl_image){ 0 };
		vmctl_batch_answer_free(&ans);
		first = g.last + 1;
		segment_free(&g);
	}
	return 0;
}

/* --- inputs ------------------------------------------------------------------ */

bool model_fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, MODEL_WHY, fmt, ap);
	va_end(ap);
	return false;
}

struct json_object *model_xy(struct json_object *pt)
{
	struct json_object *xy = json_object_new_array();

	json_object_array_add(xy, json_object_get(json_object_object_get(pt, "x")));
	json_object_array_add(xy, json_object_get(json_object_object_get(pt, "y")));
	return xy;
}

struct json_object *model_action(const char *type)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "type", json_object_new_string(type));
	return a;
}

bool model_point(struct json_object *x, struct json_object *y, const struct vmctl_space *s,
		 const char *what, struct json_object *a, char *why, size_t len)
{
	int64_t px = json_object_get_int64(x), py = json_object_get_int64(y);

	if (!json_object_is_type(x, json_type_int) || !json_object_is_type(y, json_type_int) ||
	    px < 0 || py < 0) {
		snprintf(why, len, "%s: want whole numbers from 0", what);
		return false;
	}
	if (s->width && (px >= s->width || py >= s->height)) {
		snprintf(why, len, "%s (%lld, %lld) is off the screen, which is %ux%u", what,
			 (long long)px, (long long)py, s->width, s->height);
		return false;
	}
	json_object_object_add(a, "x", json_object_new_int64(px));
	json_object_object_add(a, "y", json_object_new_int64(py));
	return true;
}

bool model_seconds(struct json_object *o, const char *key, double max, int *ms, char *why,
		   size_t len)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	    !((d = json_object_get_double(v)) >= 0 && d <= max)) {
		snprintf(why, len, "%s: want seconds, 0..%g", key, max);
		return false;
	}
	*ms = (int)lround(d * 1000);
	return true;
}

/* A query value that must be a whole number (up to 2^32 - 1); false if it is not one. */
static bool query_uint(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool model_space_arg(struct api_req *r, struct vmctl_space *s)
{
	const char *w = api_arg(r, "display_width"), *h = api_arg(r, "display_height");

	*s = (struct vmctl_space){ 0 };
	if (!w && !h)
		return true;
	if (!query_uint(w, &s->width) || !query_uint(h, &s->height) || !s->width || !s->height) {
		api_reply_error(r, 400, "invalid_request", "display_width and display_height: want "
				"both, whole numbers");
		return false;
	}
	return true;
}

bool model_screen(struct api_req *r, uint32_t *w, uint32_t *h)
{
	struct vmctl_error err = { .done = -1, .refused = -1 };
	struct vmctl_display d;
	int ret = vmctl_display(r->sb->control, &d, &err, API_CONTROL_WAIT_MS);

	if (ret) {
		api_control_failed(r, ret, &err);
		return false;
	}
	if (!d.width || !d.height) {
		api_reply_error(r, 409, "not_ready", "the guest shows no screen yet");
		return false;
	}
	*w = d.width;
	*h = d.height;
	return true;
}

void model_reply_pending(struct api_req *r, const char *code, const char *message,
			 const char *key, struct json_object *pending)
{
	struct json_object *err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(err, key, pending);
	snprintf(r->error, sizeof(r->error), "%s", code);
	api_reply_json(r, 409, err);
}

struct json_object *model_text(const char *text)
{
	struct json_object *t = json_object_new_object();

	json_object_object_add(t, "type", json_object_new_string("text"));
	json_object_object_add(t, "text", json_object_new_string(text));
	return t;
}

/* --- what each model family is shown ----------------------------------------- */

/*
 * Anthropic's limits (its computer-use and vision docs): the toolset never
 * downscales and rejects a larger image. Models from Opus 4.7 on (every
 * model with the toolset) take a long edge of 2576 and 4784 visual tokens
 * of 28x28; earlier ones 1568 and about 1.15 megapixels. A conversation
 * with more than 20 images wants each at most 2000 px a side, which an
 * agent's loop reaches in a few turns: the high tier is kept to that.
 * OpenAI's detail "original" takes up to 10.24 megapixels. Gemini takes any
 * size (its points are on a 1000 grid), best at 1440x900.
 */
#define ANTHROPIC_LONG_EDGE 1568
#define ANTHROPIC_PIXELS 1150000
#define ANTHROPIC_HIGH_EDGE 2000
#define ANTHROPIC_HIGH_TOKENS 4784
#define OPENAI_PIXELS 10240000

/* A name's number after prefix ("claude-opus-" then "4-7"): major and minor; false if none. */
static bool version_after(const char *model, const char *prefix, int *major, int *minor)
{
	const char *p = strstr(model, prefix);

	if (!p)
		return false;
	p += strlen(prefix);
	*minor = 0;
	return sscanf(p, "%d-%d", major, minor) >= 1 || sscanf(p, "%d.%d", major, minor) >= 1;
}

/* Whether an Anthropic model takes the high-resolution limits. */
static bool anthropic_high(const char *model)
{
	static const char *const families[] = { "opus-", "sonnet-", "haiku-", "fable-", "mythos-" };
	int major, minor;

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (!version_after(model, families[i], &major, &minor))
			continue;
		/* claude-3-5-sonnet-20241022: a date after the family is no version. */
		if (major >= 100)
			return false;
		if (i >= 3 || major >= 5)
			return true;
		return i == 0 && major == 4 && minor >= 7 && minor < 100;
	}
	return false;
}

/* The vendor a model name belongs to; NULL if none we know. */
static const char *vendor_of(const char *model)
{
	if (!strncmp(model, "claude", 6) || strstr(model, "fable") || strstr(model, "mythos"))
		return "anthropic";
	if (!strncmp(model, "gpt", 3) || strstr(model, "computer-use-preview") ||
	    !strncmp(model, "o3", 2) || !strncmp(model, "o4", 2))
		return "openai";
	if (!strncmp(model, "gemini", 6))
		return "gemini";
	return NULL;
}

static uint32_t tokens_of(uint32_t w, uint32_t h)
{
	return ((w + 27) / 28) * ((h + 27) / 28);
}

/* Whether w x h keeps d's limits. */
static bool within(const struct model_display *d, uint32_t w, uint32_t h)
{
	return (!d->long_edge || (w > h ? w : h) <= d->long_edge) &&
	       (!d->pixels || (uint64_t)w * h <= d->pixels) &&
	       (!d->tokens || tokens_of(w, h) <= d->tokens);
}

bool model_recommend(const char *vendor, const char *model, uint32_t w, uint32_t h,
		     struct model_display *d)
{
	const char *v = model ? vendor_of(model) : NULL;
	uint32_t cw = w;

	if (!v && !vendor)
		v = model ? NULL : "anthropic";
	if (!v)
		v = vendor;
	if (!v)
		return false;
	*d = (struct model_display){ .vendor = v };
	if (!strcmp(v, "anthropic") && model && anthropic_high(model)) {
		d->tier = "high-resolution";
		d->long_edge = ANTHROPIC_HIGH_EDGE;
		d->tokens = ANTHROPIC_HIGH_TOKENS;
	} else if (!strcmp(v, "anthropic")) {
		d->tier = "standard";
		d->long_edge = ANTHROPIC_LONG_EDGE;
		d->pixels = ANTHROPIC_PIXELS;
	} else if (!strcmp(v, "openai")) {
		d->tier = "original";
		d->pixels = OPENAI_PIXELS;
	} else {
		d->tier = "any";
	}
	/* The widest width whose height, at the screen's aspect (rounded), keeps the limits. */
	if (w && h) {
		while (cw > 16 && !within(d, cw, (uint32_t)(((uint64_t)h * cw + w / 2) / w)))
			cw--;
	}
	d->width = cw;
	d->height = w ? (uint32_t)(((uint64_t)h * cw + w / 2) / w) : 0;
	return true;
}

struct json_object *model_display_json(const struct model_display *d, uint32_t w, uint32_t h)
{
	struct json_object *o = json_object_new_object(), *screen = json_object_new_object();
	struct json_object *limits = json_object_new_object(), *disp = json_object_new_object();

	json_object_object_add(screen, "width", json_object_new_int64(w));
	json_object_object_add(screen, "height", json_object_new_int64(h));
	json_object_object_add(disp, "width", json_object_new_int64(d->width));
	json_object_object_add(disp, "height", json_object_new_int64(d->height));
	if (d->long_edge)
		json_object_object_add(limits, "long_edge", json_object_new_int64(d->long_edge));
	if (d->pixels)
		json_object_object_add(limits, "pixels", json_object_new_int64((int64_t)d->pixels));
	if (d->tokens)
		json_object_object_add(limits, "visual_tokens", json_object_new_int64(d->tokens));
	json_object_object_add(o, "vendor", json_object_new_string(d->vendor));
	json_object_object_add(o, "tier", json_object_new_string(d->tier));
	json_object_object_add(o, "screen", screen);
	json_object_object_add(o, "recommended_display", disp);
	json_object_object_add(o, "limits", limits);
	return o;
}
