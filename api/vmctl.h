/*
 * cubicled's side of a sandbox's control socket (docs/control-protocol.md):
 * one typed call per request, each on a new connection: one JSON line out,
 * one JSON line back, and the image bytes after it when the answer says
 * `bytes`. The JSON is built and read here only.
 *
 * Every call returns 0; -EREMOTEIO when the monitor answered "ok": false
 * (then *err says what it said; err may be NULL); or another -errno for
 * the transport (-EPROTO: the answer was not what the protocol says). Each
 * read and write waits at most timeout_ms.
 *
 * Request structs ask for the monitor's defaults when zeroed, and a field
 * added later keeps that rule (its zero is "not given"), so callers that
 * set fields by name keep working as requests grow.
 */
#ifndef CUBICLE_API_VMCTL_H
#define CUBICLE_API_VMCTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the monitor said when it answered "ok": false. */
struct vmctl_error {
	char code[32];          /* an errno name: "EINVAL", "ENODEV", "EBUSY", ... */
	char message[512];
	int done;               /* a batch: how many of its actions were done; -1 if not said */
	int refused;            /* a batch: the action refused before any ran; -1 if not said */
};

/*
 * The coordinate space of a request's points (docs/control-protocol.md,
 * "Coordinates"): the screen's own pixels (zeroed), those of a screenshot
 * of the screen at `scale`, or those of a screen declared width x height
 * (the models' tools), or cells of a width x height grid laid over the
 * screen whatever its aspect (grid: Gemini's 1000x1000). The monitor maps
 * them; cubicled never does.
 */
struct vmctl_space {
	double scale;               /* 0.01..10; 0: not given */
	uint32_t width, height;     /* a declared screen; 0: not given */
	bool grid;                  /* with width and height: a grid, not a screen */
};

enum vmctl_format {
	VMCTL_PNG,
	VMCTL_JPEG,
};

/* A rectangle of the screen, in screen pixels. */
struct vmctl_rect {
	uint32_t x, y, w, h;
};

/* A box by its corners in the request's space, x1 and y1 past its last pixel. */
struct vmctl_box {
	uint32_t x0, y0, x1, y1;    /* x1 == 0: none */
};

/* A screenshot's options; zeroed, a PNG of the whole screen. */
struct vmctl_shot {
	enum vmctl_format format;
	unsigned int quality;       /* JPEG 1..100; 0: the monitor's default */
	double scale;               /* downscaled by this, (0, 1]; 0: not; not with width */
	unsigned int width;         /* or downscaled to this width (its aspect kept); 0: not */
	unsigned int fit_width;     /* or downscaled to fit inside fit_width x fit_height */
	unsigned int fit_height;
	struct vmctl_rect region;   /* a part of the screen; w and h 0: all of it */
	struct vmctl_box box;       /* or a box in the request's space, at full size (zoom) */
	bool cursor;                /* the pointer drawn into the image */
};

/* An encoded screenshot. */
struct vmctl_image {
	enum vmctl_format format;
	uint32_t width, height;     /* of the image, after scaling */
	uint8_t *data;              /* malloc'd, the caller's: vmctl_image_free */
	size_t len;
};

/* A batch of actions. */
struct vmctl_batch {
	struct json_object *actions;    /* the list as the caller got it (not taken) */
	struct vmctl_space space;       /* what its points (and cursor answers) are pixels of */
	const struct vmctl_shot *shot;  /* a screenshot to answer with once done; NULL: none */
};

/* What a batch answered: free with vmctl_batch_answer_free. */
struct vmctl_batch_answer {
	struct json_object *results;    /* one per action, as the monitor said; NULL if none */
	struct vmctl_image shot;        /* when the batch asked for one */
};

/* The screen as the monitor sees it. */
struct vmctl_display {
	uint32_t width, height;         /* the framebuffer's: what the guest scans out, once it does */
	struct {
		uint32_t x, y;
		bool visible;
	} cursor;
	int vnc_port;                   /* 0 without VNC */
	unsigned int vnc_clients;       /* viewers connected */
};

/*
 * A screenshot taken as how says (NULL: zeroed) into *img (zeroed on
 * failure). screen (NULL: the screen's own) is the declared screen a box
 * is on; a scale there is not for screenshots (how->scale is).
 */
int vmctl_screenshot(const char *path, const struct vmctl_space *screen,
		     const struct vmctl_shot *how, struct vmctl_image *img,
		     struct vmctl_error *err, int timeout_ms);

/* Frees img's bytes and zeroes it; accepts a zeroed one. */
void vmctl_image_free(struct vmctl_image *img);

/*
 * Runs batch b, checked whole by the monitor before any of it runs (its
 * screenshot options too); its results, and the screenshot it asked for,
 * into *ans (zeroed on failure): one round trip. A batch that fails midway
 * says how many of its actions were done in err->done.
 */
int vmctl_actions(const char *path, const struct vmctl_batch *b, struct vmctl_batch_answer *ans,
		  struct vmctl_error *err, int timeout_ms);

/* Frees what ans holds and zeroes it; accepts a zeroed one. */
void vmctl_batch_answer_free(struct vmctl_batch_answer *ans);

/* Where the guest's pointer is (right after a move, once it gets there). */
int vmctl_cursor(const char *path, uint32_t *x, uint32_t *y, struct vmctl_error *err,
		 int timeout_ms);

/* The screen's size, the pointer and the VNC server into *d. */
int vmctl_display(const char *path, struct vmctl_display *d, struct vmctl_error *err,
		  int timeout_ms);

/* Resizes the screen to width x height; 0 once the guest scans out the new size. */
int vmctl_resize(const char *path, uint32_t width, uint32_t height, struct vmctl_error *err,
		 int timeout_ms);

#endif
