/*
 * What the models' computer tools share (api/anthropic.c, api/openai.c,
 * api/gemini.c): a model's turn as steps run in order on one sandbox, the
 * screen the model was told of, and the display each model family should be
 * told of.
 *
 * A turn is a list of steps, one per tool call the model made. Each step is
 * a list of our own actions (docs/control-protocol.md) and what the model
 * wants back from it (nothing, a screenshot, a zoomed box, the cursor).
 * model_turn_run runs them in order as few batches as the screenshots and
 * cursors allow (one, when only the last step wants one), and stops at the first
 * step that fails: the steps before it are done and answered, the failing
 * one says why, the ones after it are not run. A step whose input was
 * already refused (its why set before running) fails in its place, after
 * the steps before it ran. A step with a prepare hook (Gemini's browser
 * actions bring the browser to the front first) starts a new batch.
 *
 * Points go to the monitor as the model named them, in the turn's space;
 * the monitor alone maps them to the screen (vmm/space.c).
 */
#ifndef CUBICLE_API_MODEL_H
#define CUBICLE_API_MODEL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "vmctl.h"

#define MODEL_WHY 640
#define MODEL_BATCH_MAX 1000    /* actions in one batch: the monitor's limit */

enum model_want {
	MODEL_NOTHING,
	MODEL_SHOT,             /* a screenshot once the step is done */
	MODEL_ZOOM,             /* box, at full resolution (fitted into the model's screen) */
	MODEL_CURSOR,           /* where the pointer is, in the turn's space */
};

enum model_status {
	MODEL_NOT_RUN,
	MODEL_DONE,
	MODEL_FAILED,
};

struct model_step {
	struct json_object *actions;    /* ours, the step's own (model_turn_free puts it) */
	enum model_want want;
	struct vmctl_box box;           /* MODEL_ZOOM */
	char why[MODEL_WHY];            /* set before running: the input was refused */
	/*
	 * Called just before the step's actions run (NULL: none), with what
	 * ran before it done: false with why to fail the step there.
	 */
	bool (*prepare)(struct api_req *r, struct model_step *st);
	char *arg;                      /* the prepare hook's (malloc'd; model_turn_free frees it) */
	/* What running it gave. */
	enum model_status status;
	struct vmctl_image shot;        /* MODEL_SHOT, MODEL_ZOOM, or the turn's last screenshot */
	uint32_t x, y;                  /* MODEL_CURSOR */
};

/* With last_shot, the step that gets the screenshot when a turn halts. */
enum model_halt_shot {
	MODEL_HALT_LAST_DONE,           /* the last step done, if any (Anthropic: results of
					   is_error carry text) */
	MODEL_HALT_FAILED,              /* the one that failed (Gemini: its error response) */
};

struct model_turn {
	struct model_step *steps;
	size_t n, cap;
	struct vmctl_space space;       /* the model's screen; for a grid, the image's is shot */
	struct vmctl_shot shot;         /* how screenshots are taken */
	bool last_shot;                 /* the last step done gets a screenshot if it has none */
	enum model_halt_shot halt_shot; /* and when the turn halted, which one */
	bool zoom_fit;                  /* zoom's box fitted into the model's screen, not full size */
};

/* A new empty step at the end of t, its actions an empty list; NULL without memory. */
struct model_step *model_step_add(struct model_turn *t);

/*
 * Runs t's steps on r's sandbox as the head comment says; 0, or the failed
 * control call's -errno with *err (a transport failure, or a refusal the
 * steps cannot be told apart by), when nothing of the answer can be trusted.
 */
int model_turn_run(struct api_req *r, struct model_turn *t, struct vmctl_error *err);

/* Frees what t holds; accepts a zeroed one. */
void model_turn_free(struct model_turn *t);

/* A reason into why (MODEL_WHY bytes); false, for `return model_fail(...)`. */
bool model_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* [x, y] of a point object {"x", "y"} (as model_point makes one), for a drag's path. */
struct json_object *model_xy(struct json_object *pt);

/* A new action of our own, {"type": type}. */
struct json_object *model_action(const char *type);

/*
 * A point (x, y: whole numbers from 0, and inside s when s declares a
 * screen) added to action a as "x" and "y"; false with why.
 */
bool model_point(struct json_object *x, struct json_object *y, const struct vmctl_space *s,
		 const char *what, struct json_object *a, char *why, size_t len);

/* Seconds (a number 0..max) at key of o, as ms; false with why. */
bool model_seconds(struct json_object *o, const char *key, double max, int *ms, char *why,
		   size_t len);

/* The screen the query says the model was told of (display_width, display_height); false when answered. */
bool model_space_arg(struct api_req *r, struct vmctl_space *s);

/* The screen's size into *w, *h; false when answered. */
bool model_screen(struct api_req *r, uint32_t *w, uint32_t *h);

/* What a model family is shown: the vendor's image limits, the size that fits them. */
struct model_display {
	const char *vendor;             /* "anthropic", "openai", "gemini" */
	const char *tier;               /* the limit's name */
	uint32_t width, height;         /* the screen as the model should be told of it */
	uint32_t long_edge;             /* the limits it keeps: 0 where none applies */
	uint64_t pixels;
	uint32_t tokens;                /* Anthropic's visual tokens, ceil(w/28) * ceil(h/28) */
};

/*
 * The display for model (a vendor's model name; NULL or unknown: the
 * safest limits of vendor, or Anthropic's when vendor is NULL too) on a
 * w x h screen: the largest size of the screen's aspect within them, never
 * larger than the screen. false if model names no vendor we know and
 * vendor is NULL.
 */
bool model_recommend(const char *vendor, const char *model, uint32_t w, uint32_t h,
		     struct model_display *d);

/* d as JSON for an answer. */
struct json_object *model_display_json(const struct model_display *d, uint32_t w, uint32_t h);

/*
 * Answers r 409 {code, message, key: pending (taken)}: the calls that wait
 * for a person's answer to a safety check, of which nothing ran.
 */
void model_reply_pending(struct api_req *r, const char *code, const char *message,
			 const char *key, struct json_object *pending);

/* A text content block {"type":"text","text":text}. */
struct json_object *model_text(const char *text);

#endif
