#include "control.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actions.h"
#include "client.h"
#include "clock.h"
#include "display.h"
#include "encode.h"
#include "fdio.h"
#include "jsontext.h"
#include "shot.h"
#include "usock.h"
#include "virtio_gpu.h"

/* Long enough for a type action with its 64 KiB of text escaped. */
#define LINE_MAX_LEN (512 * 1024)
#define SEND_WAIT_MS 30000      /* a client that takes nothing for this long is dropped */
#define MAX_CONNS 64
#define RESIZE_WAIT_MS 30000    /* a desktop under TCG can take seconds */

struct control {
	struct loop *loop;
	struct virtio_dev *gpu;
	struct display *display;    /* gpu's, or NULL */
	char *agent_vsock;
	struct vnc *vnc;
	struct hands *hands;
	char *path;
	int listen_fd;
	struct loop_wakeup *back;   /* workers hand connections back to the loop */
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* workers fell to 0 */
	int workers;                /* connections a worker or the action queue holds */
	struct cconn *returned;     /* handed back, for the loop to serve again */
	_Atomic bool stopping;
	_Atomic bool resizing;      /* one resize at a time */
	/* Action batches (and cursor reads) run one after another on one thread. */
	pthread_t act_thread;
	bool act_running;
	pthread_cond_t act_cond;
	struct act_job *act_head, *act_tail;
	struct cconn *conns[MAX_CONNS];
	unsigned int nconns;
};

struct cconn {
	struct control *ctl;
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
	bool busy;                  /* a worker owns the socket */
	bool dead;                  /* the worker could not write: close it */
	struct cconn *next_back;
};

/* What the action thread runs: a batch (maybe answering a screenshot), or a cursor read. */
struct act_job {
	struct cconn *conn;
	struct action_batch *batch;     /* NULL: a cursor read, or a layout switch */
	struct kbd_keymap *km;          /* a layout switch: the new layout (owned) */
	bool shot;
	struct shot_opts opts;
	struct act_job *next;
};

static void on_conn(struct loop *loop, int fd, uint32_t events, void *opaque);

static void conn_close(struct cconn *cc)
{
	struct control *ctl = cc->ctl;

	for (unsigned int i = 0; i < ctl->nconns; i++) {
		if (ctl->conns[i] == cc) {
			ctl->conns[i] = ctl->conns[--ctl->nconns];
			break;
		}
	}
	loop_del(ctl->loop, cc->fd);
	close(cc->fd);
	free(cc);
}

/* --- answers ------------------------------------------------------------------ */

/* A JSON line; without block, false if the client does not take it at once. */
static bool send_line(int fd, struct json_object *o, bool block)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *line = malloc(len + 1);
	bool ok;

	if (!line)
		return false;
	memcpy(line, s, len);
	line[len] = '\n';
	if (block)
		ok = fdio_write_all_timed(fd, line, len + 1, SEND_WAIT_MS) == 0;
	else
		ok = send(fd, line, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len + 1;
	free(line);
	return ok;
}

static struct json_object *error_answer_plain(const char *code, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

static struct json_object *error_answer(const char *code, const char *fmt, va_list ap)
{
	char msg[640];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return error_answer_plain(code, msg);
}

/* An error answer; block as for send_line (workers block, the loop does not). */
static bool send_error_mode(int fd, bool block, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool send_error_mode(int fd, bool block, const char *code, const char *fmt, ...)
{
	struct json_object *o;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	o = error_answer(code, fmt, ap);
	va_end(ap);
	ok = send_line(fd, o, block);
	json_object_put(o);
	return ok;
}

#define send_error(fd, ...) send_error_mode((fd), false, __VA_ARGS__)

/* An image that could not be made: its error, with the batch's done count (done >= 0). */
static bool image_failed(int fd, int done, const char *code, const char *msg)
{
	struct json_object *o = error_answer_plain(code, msg);
	bool ok;

	if (done >= 0)
		json_object_object_add(o, "done", json_object_new_int(done));
	ok = send_line(fd, o, true);
	json_object_put(o);
	return ok;
}

/*
 * Takes a snapshot of the screen, encodes it per opts, and sends head
 * (taken) with the image's format, width, height and bytes added, then the
 * bytes. done >= 0: the image answers a batch of that many actions, all
 * done, which a failure says. On a worker (never the loop). false if the
 * client could not be written to.
 */
static bool answer_image(struct control *ctl, int fd, struct json_object *head,
			 const struct shot_opts *opts, int done)
{
	struct framebuffer snap;
	struct img_buf img = { 0 };
	char err[256];
	bool ok;

	if (display_snapshot(ctl->display, &snap, opts->cursor) < 0) {
		json_object_put(head);
		return image_failed(fd, done, "ENOMEM", "no memory for a copy of the screen");
	}
	if (img_encode(&snap, &opts->img, &img, err, sizeof(err)) < 0) {
		free(snap.pixels);
		json_object_put(head);
		return image_failed(fd, done, "EINVAL", err);
	}
	free(snap.pixels);
	json_object_object_add(head, "format", json_object_new_string(
		opts->img.format == IMG_PNG ? "png" : "jpeg"));
	json_object_object_add(head, "width", json_object_new_int((int)img.width));
	json_object_object_add(head, "height", json_object_new_int((int)img.height));
	json_object_object_add(head, "bytes", json_object_new_int64((int64_t)img.len));
	ok = send_line(fd, head, true) &&
	     fdio_write_all_timed(fd, img.data, img.len, SEND_WAIT_MS) == 0;
	json_object_put(head);
	img_buf_free(&img);
	return ok;
}

static struct json_object *ok_answer(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

/* --- workers ------------------------------------------------------------------ */

/* The loop lends cc to a worker: it is not read until handed back. */
static void worker_take(struct cconn *cc)
{
	struct control *ctl = cc->ctl;

	cc->busy = true;
	loop_del(ctl->loop, cc->fd);
	pthread_mutex_lock(&ctl->lock);
	ctl->workers++;
	pthread_mutex_unlock(&ctl->lock);
}

/* A worker is done with cc: the loop serves it again (or closes it). Any thread. */
static void worker_give_back(struct cconn *cc)
{
	struct control *ctl = cc->ctl;

	pthread_mutex_lock(&ctl->lock);
	cc->next_back = ctl->returned;
	ctl->returned = cc;
	loop_wake(ctl->back);
	if (--ctl->workers == 0)
		pthread_cond_broadcast(&ctl->idle);
	pthread_mutex_unlock(&ctl->lock);
}

/* Runs fn(arg) on a thread of its own; false if there is none to spare. */
static bool spawn(void *(*fn)(void *), void *arg)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, fn, arg) != 0)
		return false;
	pthread_detach(tid);
	return true;
}

/* The screen's size for a screenshot: what is scanned out, else the framebuffer's. */
static void screen_size(struct control *ctl, uint32_t *w, uint32_t *h)
{
	uint64_t wh = display_scanout(ctl->display);

	if (wh) {
		*w = (uint32_t)(wh >> 32);
		*h = (uint32_t)wh;
	} else {
		display_size(ctl->display, w, h);
	}
}

/* --- screenshot ------------------------------------------------------------------ */

struct shot_job {
	struct cconn *conn;
	struct shot_opts opts;
};

static void *shot_thread(void *arg)
{
	struct shot_job *j = arg;

	j->conn->dead = !answer_image(j->conn->ctl, j->conn->fd, ok_answer(), &j->opts, -1);
	worker_give_back(j->conn);
	free(j);
	return NULL;
}

/* Checks the options on the loop; copying and encoding happen on a worker. */
static void start_screenshot(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct shot_job *j;
	struct space s;
	char err[400];
	uint32_t w, h;

	if (!ctl->display) {
		send_error(cc->fd, "ENODEV", "this sandbox has no screen (cubicle-vmm --display)");
		return;
	}
	screen_size(ctl, &w, &h);
	j = calloc(1, sizeof(*j));
	if (!j) {
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	/* A screenshot's own "scale" is its output's; only "screen" is a space here. */
	if (space_parse(req, w, h, false, &s, err, sizeof(err)) < 0 ||
	    shot_parse(req, &s, &j->opts, err, sizeof(err)) < 0) {
		free(j);
		send_error(cc->fd, "EINVAL", "%s", err);
		return;
	}
	j->conn = cc;
	worker_take(cc);
	if (!spawn(shot_thread, j))
		shot_thread(j);         /* no thread to spare: encode here */
}

/* --- display and resize ------------------------------------------------------------ */

static void display_info(struct cconn *cc)
{
	struct control *ctl = cc->ctl;
	struct json_object *o = ok_answer(), *cur = json_object_new_object();
	uint32_t w = 0, h = 0, x = 0, y = 0;
	bool visible = false;

	if (ctl->display) {
		display_size(ctl->display, &w, &h);
		display_cursor_pos(ctl->display, &x, &y, &visible);
	}
	json_object_object_add(o, "width", json_object_new_int((int)w));
	json_object_object_add(o, "height", json_object_new_int((int)h));
	json_object_object_add(cur, "x", json_object_new_int((int)x));
	json_object_object_add(cur, "y", json_object_new_int((int)y));
	json_object_object_add(cur, "visible", json_object_new_boolean(visible));
	json_object_object_add(o, "cursor", cur);
	if (ctl->vnc) {
		struct json_object *vnc = json_object_new_object();

		json_object_object_add(vnc, "port", json_object_new_int(vnc_port(ctl->vnc)));
		json_object_object_add(vnc, "clients", json_object_new_int(vnc_clients(ctl->vnc)));
		json_object_object_add(o, "vnc", vnc);
	}
	if (!send_line(cc->fd, o, false))
		cc->dead = true;
	json_object_put(o);
}

struct resize {
	struct cconn *conn;
	uint32_t width, height;
	uint32_t old_width, old_height;    /* offered again if the guest cannot follow */
};

/*
 * Asks the guest agent to apply the mode (docs/control-protocol.md says why
 * not the display event): 0, or -errno with the reason in err.
 */
static int agent_apply(const char *vsock, uint32_t w, uint32_t h, char *err, size_t errlen)
{
	struct agent_error ae = { "", "" };
	/* The agent gives its hooks 20 s. */
	int ret = agent_set_display(vsock, w, h, &ae, 25000);

	if (ret == -EREMOTEIO)
		snprintf(err, errlen, "the guest could not apply %ux%u: %s", w, h, ae.message);
	else if (ret < 0)
		snprintf(err, errlen, "the guest agent did not answer: %s", strerror(-ret));
	return ret;
}

/*
 * Waits (woken by each change of the screen) until the guest scans out
 * want, RESIZE_WAIT_MS pass, or the monitor stops; whether it does.
 */
static bool scanout_reaches(struct control *ctl, uint64_t want)
{
	int64_t end = clk_mono_ms() + RESIZE_WAIT_MS, left;
	uint64_t seen = display_changes(ctl->display);

	while (display_scanout(ctl->display) != want && !ctl->stopping &&
	       (left = end - clk_mono_ms()) > 0)
		seen = display_wait(ctl->display, seen, (int)left);
	return display_scanout(ctl->display) == want;
}

/* On a worker: has the guest apply the mode, waits until it scans it out, and answers. */
static void *resize_thread(void *arg)
{
	struct resize *r = arg;
	struct control *ctl = r->conn->ctl;
	char err[640];
	int ret = agent_apply(ctl->agent_vsock, r->width, r->height, err, sizeof(err));
	int fd = r->conn->fd;

	if (ret < 0) {
		r->conn->dead = !send_error_mode(fd, true, ret == -EREMOTEIO ? "EIO" : "EHOSTDOWN",
						 "%s", err);
	} else if (scanout_reaches(ctl, (uint64_t)r->width << 32 | r->height)) {
		struct json_object *o = ok_answer();

		json_object_object_add(o, "width", json_object_new_int((int)r->width));
		json_object_object_add(o, "height", json_object_new_int((int)r->height));
		r->conn->dead = !send_line(fd, o, true);
		json_object_put(o);
	} else {
		ret = -ETIMEDOUT;
		r->conn->dead = !send_error_mode(fd, true, "ETIMEDOUT", "the guest did not switch "
						 "to %ux%u within %d s", r->width, r->height,
						 RESIZE_WAIT_MS / 1000);
	}
	/* A failed resize leaves the mode it found. */
	if (ret < 0)
		gpu_set_mode(ctl->gpu, r->old_width, r->old_height);
	ctl->resizing = false;
	worker_give_back(r->conn);
	free(r);
	return NULL;
}

/* Reads a resize's size; false (answered) if it is not one. */
static bool resize_size(struct cconn *cc, struct json_object *req, int64_t *w, int64_t *h)
{
	struct json_object *wo, *ho;

	if (!json_object_object_get_ex(req, "width", &wo) || !json_object_is_type(wo, json_type_int) ||
	    !json_object_object_get_ex(req, "height", &ho) || !json_object_is_type(ho, json_type_int)) {
		send_error(cc->fd, "EINVAL", "resize: want integer \"width\" and \"height\"");
		return false;
	}
	*w = json_object_get_int64(wo);
	*h = json_object_get_int64(ho);
	return true;
}

/* Validates a resize, offers the new mode at once, and hands the rest to a worker. */
static void start_resize(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct resize *r;
	int64_t width, height;
	uint32_t old_w, old_h;

	if (!ctl->gpu) {
		send_error(cc->fd, "ENODEV", "this sandbox has no screen (cubicle-vmm --display)");
		return;
	}
	if (!ctl->agent_vsock) {
		send_error(cc->fd, "ENODEV", "resizing needs the guest agent (cubicle-vmm --vsock)");
		return;
	}
	if (!resize_size(cc, req, &width, &height))
		return;
	if (ctl->resizing) {
		send_error(cc->fd, "EBUSY", "resize: another resize is under way");
		return;
	}
	gpu_mode(ctl->gpu, &old_w, &old_h);
	if (width < 64 || height < 64 || width > FB_MAX_DIM || height > FB_MAX_DIM ||
	    gpu_set_mode(ctl->gpu, (uint32_t)width, (uint32_t)height) < 0) {
		send_error(cc->fd, "EINVAL", "resize: %lldx%lld is not a mode this screen offers "
			   "(64..%d each, within the sandbox's GPU memory)", (long long)width,
			   (long long)height, FB_MAX_DIM);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		gpu_set_mode(ctl->gpu, old_w, old_h);
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	*r = (struct resize){ cc, (uint32_t)width, (uint32_t)height, old_w, old_h };
	ctl->resizing = true;
	worker_take(cc);
	/* The job talks to the guest through the loop's own devices: never inline. */
	if (!spawn(resize_thread, r)) {
		gpu_set_mode(ctl->gpu, old_w, old_h);
		ctl->resizing = false;
		free(r);
		send_error(cc->fd, "EAGAIN", "resize: no thread to run it");
		worker_give_back(cc);
	}
}

/* --- actions and the cursor --------------------------------------------------------- */

/*
 * On the action thread, after every batch before it: the guest's X takes
 * the new layout (setxkbmap through the agent), then the hands type on it.
 * The answer (a new object); the job's keymap is taken when it is used.
 */
static struct json_object *switch_layout(struct control *ctl, struct act_job *j)
{
	const char *layout = kbd_keymap_layout(j->km), *variant = kbd_keymap_variant(j->km);
	const char *argv[] = { "setxkbmap", "-layout", layout, "-variant", variant, NULL };
	struct agent_exec x = { .argv = argv, .timeout_ms = 20000 };
	struct agent_error ae = { "", "" };
	struct agent_exit res = { 0 };
	struct json_object *o;
	int ret;

	/* What was typed on the old layout is X's before X changes its keys. */
	hands_sync(ctl->hands);
	ret = agent_exec_run(ctl->agent_vsock, &x, &res, &ae);
	if (ret < 0 || res.exit_code != 0) {
		o = error_answer_plain("EIO", ret == -EREMOTEIO ? ae.message : ret < 0 ?
				       strerror(-ret) : "setxkbmap failed in the guest");
		return o;
	}
	hands_set_keymap(ctl->hands, j->km);
	j->km = NULL;
	o = ok_answer();
	json_object_object_add(o, "layout", json_object_new_string(layout));
	json_object_object_add(o, "variant", json_object_new_string(variant));
	return o;
}

/* Runs one job on the action thread and answers it. */
static void run_job(struct control *ctl, struct act_job *j)
{
	struct json_object *answer, *ok;
	int fd = j->conn->fd;
	uint32_t x, y;

	if (j->km) {
		answer = switch_layout(ctl, j);
	} else if (!j->batch) {
		/* As the cursor action does: a move just sent is where the pointer goes. */
		hands_cursor(ctl->hands, &x, &y, HANDS_CURSOR_WAIT_MS);
		answer = ok_answer();
		json_object_object_add(answer, "x", json_object_new_int((int)x));
		json_object_object_add(answer, "y", json_object_new_int((int)y));
	} else {
		answer = actions_run(j->batch, ctl->hands);
	}
	if (!answer) {
		j->conn->dead = true;
		return;
	}
	if (j->shot && json_object_object_get_ex(answer, "ok", &ok) && json_object_get_boolean(ok)) {
		j->conn->dead = !answer_image(ctl, fd, answer, &j->opts,
					      (int)json_object_array_length(
						      json_object_object_get(answer, "results")));
		return;
	}
	j->conn->dead = !send_line(fd, answer, true);
	json_object_put(answer);
}

static void act_job_free(struct act_job *j)
{
	action_batch_free(j->batch);
	kbd_keymap_free(j->km);
	free(j);
}

/* The action thread: runs jobs in order, each answered on its connection. */
static void *action_thread(void *arg)
{
	struct control *ctl = arg;

	pthread_mutex_lock(&ctl->lock);
	for (;;) {
		struct act_job *j;

		while (!ctl->act_head && !ctl->stopping)
			pthread_cond_wait(&ctl->act_cond, &ctl->lock);
		if (ctl->stopping)
			break;
		j = ctl->act_head;
		ctl->act_head = j->next;
		if (!ctl->act_head)
			ctl->act_tail = NULL;
		pthread_mutex_unlock(&ctl->lock);
		run_job(ctl, j);
		worker_give_back(j->conn);
		act_job_free(j);
		pthread_mutex_lock(&ctl->lock);
	}
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/* Queues j (its connection is the queue's until answered); false (answered) if not. */
static bool queue_job(struct cconn *cc, struct act_job *j)
{
	struct control *ctl = cc->ctl;

	if (!ctl->act_running) {
		if (pthread_create(&ctl->act_thread, NULL, action_thread, ctl) != 0) {
			send_error(cc->fd, "EAGAIN", "actions: no thread to run them");
			return false;
		}
		ctl->act_running = true;
	}
	j->conn = cc;
	worker_take(cc);
	pthread_mutex_lock(&ctl->lock);
	if (ctl->act_tail)
		ctl->act_tail->next = j;
	else
		ctl->act_head = j;
	ctl->act_tail = j;
	pthread_cond_signal(&ctl->act_cond);
	pthread_mutex_unlock(&ctl->lock);
	return true;
}

/*
 * A batch's screenshot options: absent or false (none), true (a PNG of the
 * screen) or an object of them. -EINVAL with the reason in err.
 */
static int batch_shot(struct json_object *req, const struct space *s, struct act_job *j,
		      char *err, size_t errlen)
{
	struct json_object *v, *empty;
	int ret;

	if (!json_object_object_get_ex(req, "screenshot", &v) ||
	    (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v)))
		return 0;
	j->shot = true;
	if (!json_object_is_type(v, json_type_boolean))
		return shot_parse(v, s, &j->opts, err, errlen);
	empty = json_object_new_object();
	ret = shot_parse(empty, s, &j->opts, err, errlen);
	json_object_put(empty);
	return ret;
}

/* Checks a batch whole on the loop, then queues it for the action thread. */
static void start_actions(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct json_object *list = NULL;
	struct act_job *j;
	struct space s;
	char err[512];
	int refused = -1;
	uint32_t w, h;

	if (!ctl->hands) {
		send_error(cc->fd, "ENODEV", "this sandbox has no keyboard or mouse (cubicle-vmm --display)");
		return;
	}
	hands_screen(ctl->hands, &w, &h);
	j = calloc(1, sizeof(*j));
	if (!j) {
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	json_object_object_get_ex(req, "actions", &list);
	if (space_parse(req, w, h, true, &s, err, sizeof(err)) < 0 ||
	    !(j->batch = actions_parse(list, &s, ctl->hands, ctl->agent_vsock, &refused, err,
				       sizeof(err))) ||
	    batch_shot(req, &s, j, err, sizeof(err)) < 0) {
		struct json_object *o = error_answer_plain("EINVAL", err);

		/* Which action was refused, so a client can run the ones before it. */
		if (refused >= 0)
			json_object_object_add(o, "refused", json_object_new_int(refused));
		act_job_free(j);
		send_line(cc->fd, o, false);
		json_object_put(o);
		return;
	}
	if (!queue_job(cc, j))
		act_job_free(j);
}

/*
 * {"op":"keyboard","layout":L,"variant":V}: the layout compiled (and so
 * checked) here, switched on the action thread behind the batches before.
 */
static void start_keyboard(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	const char *layout = json_object_get_string(json_object_object_get(req, "layout"));
	const char *variant = json_object_get_string(json_object_object_get(req, "variant"));
	struct act_job *j;
	char err[256];

	if (!ctl->hands || !ctl->agent_vsock) {
		send_error(cc->fd, "ENODEV", "switching the layout needs a keyboard and the guest "
			   "agent (cubicle-vmm --display, --vsock)");
		return;
	}
	if (!json_object_is_type(json_object_object_get(req, "layout"), json_type_string) ||
	    (json_object_object_get(req, "variant") &&
	     !json_object_is_type(json_object_object_get(req, "variant"), json_type_string))) {
		send_error(cc->fd, "EINVAL", "keyboard: want \"layout\" (and \"variant\") names");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	j->km = kbd_keymap_new(layout, variant, err, sizeof(err));
	if (!j->km) {
		free(j);
		send_error(cc->fd, "EINVAL", "%s", err);
		return;
	}
	if (!queue_job(cc, j))
		act_job_free(j);
}

/* The cursor is read on the action thread, after every batch before it. */
static void start_cursor(struct cconn *cc)
{
	struct act_job *j;

	if (!cc->ctl->hands) {
		send_error(cc->fd, "ENODEV", "this sandbox has no mouse (cubicle-vmm --display)");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	if (!queue_job(cc, j))
		act_job_free(j);
}

/* --- the socket ------------------------------------------------------------------ */

static void op_display(struct cconn *cc, struct json_object *req)
{
	(void)req;
	display_info(cc);
}

static void op_cursor(struct cconn *cc, struct json_object *req)
{
	(void)req;
	start_cursor(cc);
}

/* The requests (docs/control-protocol.md): a new one is a handler and a row. */
static const struct {
	const char *op;
	void (*start)(struct cconn *cc, struct json_object *req);
} ops[] = {
	{ "screenshot", start_screenshot },
	{ "display", op_display },
	{ "resize", start_resize },
	{ "actions", start_actions },
	{ "cursor", op_cursor },
	{ "keyboard", start_keyboard },
};

/* Handles one request line. */
static void request(struct cconn *cc, char *line)
{
	struct json_object *req = json_tokener_parse(line);
	const char *op;
	size_t i, lone;

	if (req && jsontext_lone_surrogate(line, strlen(line), &lone)) {
		send_error(cc->fd, "EINVAL", "the request holds a lone UTF-16 surrogate (\\u%.4s) at "
			   "byte %zu: text must be Unicode; nothing was done", line + lone + 2, lone);
		json_object_put(req);
		return;
	}
	if (!req || !json_object_is_type(req, json_type_object)) {
		send_error(cc->fd, "EPROTO", "a request is one JSON object per line");
		json_object_put(req);
		return;
	}
	op = json_object_get_string(json_object_object_get(req, "op"));
	for (i = 0; op && i < sizeof(ops) / sizeof(ops[0]) && strcmp(op, ops[i].op); i++)
		;
	if (!op)
		send_error(cc->fd, "EINVAL", "no \"op\"");
	else if (i == sizeof(ops) / sizeof(ops[0]))
		send_error(cc->fd, "EOPNOTSUPP", "unknown op '%.64s'", op);
	else
		ops[i].start(cc, req);
	json_object_put(req);
}

/* Serves whole lines in the buffer until one hands the socket to a worker. */
static void serve_lines(struct cconn *cc)
{
	char *nl;

	while (!cc->busy && !cc->dead && (nl = memchr(cc->buf, '\n', cc->len))) {
		size_t n = (size_t)(nl - cc->buf) + 1;

		*nl = '\0';            /* request() is done with the line when it returns */
		request(cc, cc->buf);
		memmove(cc->buf, cc->buf + n, cc->len - n);
		cc->len -= n;
	}
}

static void on_conn(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct cconn *cc = opaque;
	ssize_t n = recv(fd, cc->buf + cc->len, sizeof(cc->buf) - cc->len, MSG_DONTWAIT);

	(void)loop;
	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(cc);
		return;
	}
	cc->len += (size_t)n;
	serve_lines(cc);
	if (!cc->busy && !cc->dead && cc->len == sizeof(cc->buf)) {
		send_error(cc->fd, "EMSGSIZE", "a request line is longer than %d bytes", LINE_MAX_LEN);
		cc->dead = true;
	}
	if (!cc->busy && cc->dead)
		conn_close(cc);
}

/* Workers handed connections back: serve each again, or close it. */
static void on_back(struct loop *loop, void *opaque)
{
	struct control *ctl = opaque;
	struct cconn *cc, *next;

	pthread_mutex_lock(&ctl->lock);
	cc = ctl->returned;
	ctl->returned = NULL;
	pthread_mutex_unlock(&ctl->lock);
	for (; cc; cc = next) {
		next = cc->next_back;
		cc->busy = false;
		if (cc->dead || loop_add(loop, cc->fd, EPOLLIN, on_conn, cc) < 0) {
			conn_close(cc);
			continue;
		}
		serve_lines(cc);
		if (!cc->busy && cc->dead)
			conn_close(cc);
	}
}

static void on_listen(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct control *ctl = opaque;
	int cfd;

	(void)events;
	/*
	 * Non-blocking: the loop sends only what fits at once, workers wait for
	 * room at most SEND_WAIT_MS at a time.
	 */
	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct cconn *cc = ctl->nconns < MAX_CONNS ? calloc(1, sizeof(*cc)) : NULL;

		if (!cc) {
			close(cfd);
			continue;
		}
		cc->ctl = ctl;
		cc->fd = cfd;
		if (loop_add(loop, cfd, EPOLLIN, on_conn, cc) < 0) {
			close(cfd);
			free(cc);
			continue;
		}
		ctl->conns[ctl->nconns++] = cc;
	}
}

struct control *control_new(struct loop *loop, const char *path, const struct control_deps *deps,
			    char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int ret;

	if (!ctl) {
		snprintf(err, errlen, "--control '%s': out of memory", path);
		return NULL;
	}
	ctl->loop = loop;
	ctl->gpu = deps->gpu;
	ctl->display = deps->gpu ? gpu_display(deps->gpu) : NULL;
	ctl->agent_vsock = deps->agent_vsock ? strdup(deps->agent_vsock) : NULL;
	ctl->vnc = deps->vnc;
	ctl->hands = deps->hands;
	ctl->path = strdup(path);
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_cond_init(&ctl->act_cond, NULL);
	clk_cond_init(&ctl->idle);
	ctl->listen_fd = ret = usock_listen(path, 16, SOCK_NONBLOCK);
	if (ret >= 0 && !(ctl->back = loop_wakeup_new(loop, on_back, ctl)))
		ret = -ENOMEM;
	if (ret >= 0)
		ret = loop_add(loop, ctl->listen_fd, EPOLLIN, on_listen, ctl);
	if (ret < 0 || !ctl->path) {
		snprintf(err, errlen, "--control '%s': %s", path,
			 strerror(ret < 0 ? -ret : ENOMEM));
		control_free(ctl);
		return NULL;
	}
	return ctl;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	/* The action thread stops after the job it runs; queued jobs are dropped. */
	pthread_mutex_lock(&ctl->lock);
	ctl->stopping = true;
	pthread_cond_signal(&ctl->act_cond);
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->display)
		display_kick(ctl->display);     /* a resize waiting for the guest gives up */
	if (ctl->act_running)
		pthread_join(ctl->act_thread, NULL);
	while (ctl->act_head) {
		struct act_job *j = ctl->act_head;

		ctl->act_head = j->next;
		worker_give_back(j->conn);      /* never run: closed below */
		act_job_free(j);
	}
	/* Other workers (encodes, a resize) hold connections: they finish first. */
	pthread_mutex_lock(&ctl->lock);
	while (ctl->workers)
		pthread_cond_wait(&ctl->idle, &ctl->lock);
	pthread_mutex_unlock(&ctl->lock);
	for (struct cconn *cc = ctl->returned; cc; cc = cc->next_back)
		cc->busy = false;
	ctl->returned = NULL;
	while (ctl->nconns)
		conn_close(ctl->conns[0]);
	if (ctl->listen_fd >= 0) {
		loop_del(ctl->loop, ctl->listen_fd);
		close(ctl->listen_fd);
		unlink(ctl->path);
	}
	loop_wakeup_free(ctl->back);
	free(ctl->path);
	free(ctl->agent_vsock);
	pthread_cond_destroy(&ctl->idle);
	pthread_cond_destroy(&ctl->act_cond);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}
