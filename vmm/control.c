#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "encode.h"
#include "framebuffer.h"
#include "client.h"
#include "virtio_gpu.h"

/* Long enough for a type action with its 64 KiB of text escaped. */
#define LINE_MAX_LEN (512 * 1024)
#define MAX_CONNS 64
#define RESIZE_WAIT_MS 30000    /* a desktop under TCG can take seconds */

struct control {
	struct loop *loop;
	struct virtio_dev *gpu;
	char *agent_vsock;
	struct vnc *vnc;
	struct hands *hands;
	char *path;
	int listen_fd;
	int ret_pipe[2];            /* workers hand connections back to the loop */
	int workers;                /* encodes and resizes running, under lock */
	_Atomic bool stopping;      /* resizes stop waiting for the guest */
	_Atomic bool resizing;      /* one resize at a time */
	pthread_mutex_t lock;
	/* Action batches run one after another on one thread, in arrival order. */
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
};

struct act_job {
	struct cconn *conn;
	struct action_batch *batch;
	struct act_job *next;
};

struct job {
	struct cconn *conn;
	struct framebuffer snap;    /* a copy of the screen, owned */
	struct img_opts opts;
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

/* A short JSON line from the loop; false if the client does not take it at once. */
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
	ok = send(fd, line, len + 1, MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT)) == (ssize_t)len + 1;
	free(line);
	return ok;
}

static bool send_error(int fd, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool send_error(int fd, const char *code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	ok = send_line(fd, o, false);
	json_object_put(o);
	return ok;
}

/* Writes all of buf (the socket blocks, with a send timeout); false if it could not. */
static bool send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Blends the cursor (B,G,R,A) into the snapshot at its position. */
static void draw_cursor(struct framebuffer *fb, const struct gpu_cursor *cur)
{
	if (!cur->visible || !cur->width)
		return;
	for (uint32_t y = 0; y < cur->height; y++) {
		int64_t sy = (int64_t)cur->y - cur->hot_y + y;

		if (sy < 0 || sy >= fb->height)
			continue;
		for (uint32_t x = 0; x < cur->width; x++) {
			int64_t sx = (int64_t)cur->x - cur->hot_x + x;
			const uint8_t *s = cur->pixels + ((size_t)y * cur->width + x) * 4;
			uint8_t *d;

			if (sx < 0 || sx >= fb->width)
				continue;
			d = fb->pixels + (size_t)sy * fb->stride + (size_t)sx * 4;
			for (int k = 0; k < 3; k++)
				d[k] = (uint8_t)((s[k] * s[3] + d[k] * (255 - s[3]) + 127) / 255);
		}
	}
}

static void *encode_job(void *arg)
{
	struct job *j = arg;
	struct control *ctl = j->conn->ctl;
	struct img_buf img = { 0 };
	char err[256];

	if (img_encode(&j->snap, &j->opts, &img, err, sizeof(err)) < 0) {
		j->conn->dead = !send_error(j->conn->fd, "EINVAL", "%s", err);
	} else {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "format", json_object_new_string(
			j->opts.format == IMG_PNG ? "png" : "jpeg"));
		json_object_object_add(o, "width", json_object_new_int((int)img.width));
		json_object_object_add(o, "height", json_object_new_int((int)img.height));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)img.len));
		j->conn->dead = !send_line(j->conn->fd, o, true) || !send_all(j->conn->fd, img.data, img.len);
		json_object_put(o);
	}
	img_buf_free(&img);
	free(j->snap.pixels);
	(void)!write(ctl->ret_pipe[1], &j->conn, sizeof(j->conn));
	free(j);
	pthread_mutex_lock(&ctl->lock);
	ctl->workers--;
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/* Reads the screenshot options of req into o; false (answered) if bad. */
static bool screenshot_opts(struct cconn *cc, struct json_object *req, struct img_opts *o)
{
	struct json_object *v;
	const char *fmt = "png";

	*o = (struct img_opts){ .format = IMG_PNG };
	if (json_object_object_get_ex(req, "format", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return send_error(cc->fd, "EINVAL", "format: want \"png\" or \"jpeg\""), false;
		fmt = json_object_get_string(v);
	}
	if (strcmp(fmt, "png") == 0)
		o->format = IMG_PNG;
	else if (strcmp(fmt, "jpeg") == 0 || strcmp(fmt, "jpg") == 0)
		o->format = IMG_JPEG;
	else
		return send_error(cc->fd, "EINVAL", "format '%s': want png or jpeg", fmt), false;
	if (json_object_object_get_ex(req, "quality", &v))
		o->quality = json_object_get_int(v);
	if (json_object_object_get_ex(req, "scale", &v))
		o->scale = json_object_get_double(v);
	if (json_object_object_get_ex(req, "width", &v)) {
		int64_t w = json_object_get_int64(v);

		if (w <= 0 || w > FB_MAX_DIM)
			return send_error(cc->fd, "EINVAL", "width %lld is not in 1..%d", (long long)w,
					  FB_MAX_DIM), false;
		o->width = (uint32_t)w;
	}
	if (json_object_object_get_ex(req, "region", &v)) {
		int64_t r[4];

		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 4)
			return send_error(cc->fd, "EINVAL", "region: want [x, y, width, height]"), false;
		for (int i = 0; i < 4; i++) {
			r[i] = json_object_get_int64(json_object_array_get_idx(v, (size_t)i));
			if (r[i] < 0 || r[i] > FB_MAX_DIM)
				return send_error(cc->fd, "EINVAL", "region: values must be 0..%d",
						  FB_MAX_DIM), false;
		}
		o->region = (struct fb_rect){ (uint32_t)r[0], (uint32_t)r[1], (uint32_t)r[2], (uint32_t)r[3] };
		if (o->region.w == 0 || o->region.h == 0)
			return send_error(cc->fd, "EINVAL", "region: empty"), false;
	}
	return true;
}

/* Starts an encode on a worker; the connection is the worker's until it is done. */
static void start_screenshot(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct framebuffer *fb;
	struct job *j;
	pthread_t tid;
	struct json_object *v;

	if (!ctl->gpu) {
		send_error(cc->fd, "ENODEV", "this sandbox has no screen (cubicle-vmm --display)");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !screenshot_opts(cc, req, &j->opts)) {
		free(j);
		return;
	}
	fb = gpu_framebuffer(ctl->gpu);
	j->conn = cc;
	j->snap = *fb;
	j->snap.pixels = malloc((size_t)fb->stride * fb->height);
	if (!j->snap.pixels) {
		free(j);
		send_error(cc->fd, "ENOMEM", "no memory for a copy of the screen");
		return;
	}
	memcpy(j->snap.pixels, fb->pixels, (size_t)fb->stride * fb->height);
	if (json_object_object_get_ex(req, "cursor", &v) && json_object_get_boolean(v))
		draw_cursor(&j->snap, gpu_cursor(ctl->gpu));
	cc->busy = true;
	loop_del(ctl->loop, cc->fd);
	pthread_mutex_lock(&ctl->lock);
	ctl->workers++;
	pthread_mutex_unlock(&ctl->lock);
	if (pthread_create(&tid, NULL, encode_job, j) != 0) {
		encode_job(j);          /* no thread to spare: encode here */
		return;
	}
	pthread_detach(tid);
}

static void display_info(struct cconn *cc)
{
	struct json_object *o = json_object_new_object(), *cur = json_object_new_object();
	struct framebuffer *fb = cc->ctl->gpu ? gpu_framebuffer(cc->ctl->gpu) : NULL;
	const struct gpu_cursor *c = cc->ctl->gpu ? gpu_cursor(cc->ctl->gpu) : NULL;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "width", json_object_new_int(fb ? (int)fb->width : 0));
	json_object_object_add(o, "height", json_object_new_int(fb ? (int)fb->height : 0));
	json_object_object_add(cur, "x", json_object_new_int(c ? (int)c->x : 0));
	json_object_object_add(cur, "y", json_object_new_int(c ? (int)c->y : 0));
	json_object_object_add(cur, "visible", json_object_new_boolean(c && c->visible));
	json_object_object_add(o, "cursor", cur);
	if (cc->ctl->vnc) {
		struct json_object *vnc = json_object_new_object();

		json_object_object_add(vnc, "port", json_object_new_int(vnc_port(cc->ctl->vnc)));
		json_object_object_add(vnc, "clients", json_object_new_int(vnc_clients(cc->ctl->vnc)));
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

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Asks the guest agent to apply the mode (docs/control-protocol.md says why
 * not the display event): 0, or -errno with the reason in err.
 */
static int agent_apply(const char *vsock, uint32_t w, uint32_t h, char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	struct agent_error ae = { "", "" };
	int ret;

	json_object_object_add(req, "op", json_object_new_string("display"));
	json_object_object_add(req, "width", json_object_new_int((int)w));
	json_object_object_add(req, "height", json_object_new_int((int)h));
	/* The agent gives its hooks 20 s. */
	ret = agent_call_timeout(vsock, req, &reply, &ae, 25000);
	if (ret == -EREMOTEIO)
		snprintf(err, errlen, "the guest could not apply %ux%u: %s", w, h, ae.message);
	else if (ret < 0)
		snprintf(err, errlen, "the guest agent did not answer: %s", strerror(-ret));
	json_object_put(req);
	json_object_put(reply);
	return ret;
}

/*
 * On a worker: has the guest apply the mode, then waits until it scans out
 * the new size, and answers.
 */
static void *resize_job(void *arg)
{
	struct resize *r = arg;
	struct control *ctl = r->conn->ctl;
	uint64_t want = (uint64_t)r->width << 32 | r->height;
	char err[640];
	int ret = agent_apply(ctl->agent_vsock, r->width, r->height, err, sizeof(err));

	if (ret < 0) {
		r->conn->dead = !send_error(r->conn->fd, ret == -EREMOTEIO ? "EIO" : "EHOSTDOWN",
					    "%s", err);
	} else {
		long long deadline = mono_ms() + RESIZE_WAIT_MS;

		while (gpu_scanout_size(ctl->gpu) != want && mono_ms() < deadline && !ctl->stopping)
			usleep(10000);
		if (gpu_scanout_size(ctl->gpu) == want) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "ok", json_object_new_boolean(1));
			json_object_object_add(o, "width", json_object_new_int((int)r->width));
			json_object_object_add(o, "height", json_object_new_int((int)r->height));
			r->conn->dead = !send_line(r->conn->fd, o, true);
			json_object_put(o);
		} else {
			ret = -ETIMEDOUT;
			r->conn->dead = !send_error(r->conn->fd, "ETIMEDOUT",
				"the guest did not switch to %ux%u within %d s", r->width, r->height,
				RESIZE_WAIT_MS / 1000);
		}
	}
	/* A failed resize leaves the mode it found. */
	if (ret < 0)
		gpu_set_mode(ctl->gpu, r->old_width, r->old_height);
	ctl->resizing = false;
	(void)!write(ctl->ret_pipe[1], &r->conn, sizeof(r->conn));
	free(r);
	pthread_mutex_lock(&ctl->lock);
	ctl->workers--;
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/* Validates a resize, offers the new mode at once, and hands the rest to a worker. */
static void start_resize(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct json_object *w, *h;
	struct resize *r;
	pthread_t tid;
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
	if (!json_object_object_get_ex(req, "width", &w) || !json_object_is_type(w, json_type_int) ||
	    !json_object_object_get_ex(req, "height", &h) || !json_object_is_type(h, json_type_int)) {
		send_error(cc->fd, "EINVAL", "resize: want integer \"width\" and \"height\"");
		return;
	}
	width = json_object_get_int64(w);
	height = json_object_get_int64(h);
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
	cc->busy = true;
	loop_del(ctl->loop, cc->fd);
	pthread_mutex_lock(&ctl->lock);
	ctl->workers++;
	pthread_mutex_unlock(&ctl->lock);
	/* The job talks to the guest through the loop's own devices: never inline. */
	if (pthread_create(&tid, NULL, resize_job, r) != 0) {
		pthread_mutex_lock(&ctl->lock);
		ctl->workers--;
		pthread_mutex_unlock(&ctl->lock);
		gpu_set_mode(ctl->gpu, old_w, old_h);
		free(r);
		ctl->resizing = false;
		cc->busy = false;
		send_error(cc->fd, "EAGAIN", "resize: no thread to run it");
		if (loop_add(ctl->loop, cc->fd, EPOLLIN, on_conn, cc) < 0)
			cc->dead = true;
		return;
	}
	pthread_detach(tid);
}

/* The action thread: runs batches in order and answers each on its connection. */
static void *action_thread(void *arg)
{
	struct control *ctl = arg;

	pthread_mutex_lock(&ctl->lock);
	for (;;) {
		struct act_job *j;
		struct json_object *answer;

		while (!ctl->act_head && !ctl->stopping)
			pthread_cond_wait(&ctl->act_cond, &ctl->lock);
		if (ctl->stopping)
			break;
		j = ctl->act_head;
		ctl->act_head = j->next;
		if (!ctl->act_head)
			ctl->act_tail = NULL;
		pthread_mutex_unlock(&ctl->lock);
		answer = actions_run(j->batch, ctl->hands);
		j->conn->dead = !answer || !send_line(j->conn->fd, answer, true);
		json_object_put(answer);
		action_batch_free(j->batch);
		(void)!write(ctl->ret_pipe[1], &j->conn, sizeof(j->conn));
		free(j);
		pthread_mutex_lock(&ctl->lock);
	}
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/* Checks a batch whole on the loop, then queues it for the action thread. */
static void start_actions(struct cconn *cc, struct json_object *req)
{
	struct control *ctl = cc->ctl;
	struct act_job *j;
	char err[512];

	if (!ctl->hands) {
		send_error(cc->fd, "ENODEV", "this sandbox has no keyboard or mouse (cubicle-vmm --display)");
		return;
	}
	if (!ctl->act_running) {
		if (pthread_create(&ctl->act_thread, NULL, action_thread, ctl) != 0) {
			send_error(cc->fd, "EAGAIN", "actions: no thread to run them");
			return;
		}
		ctl->act_running = true;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		send_error(cc->fd, "ENOMEM", "out of memory");
		return;
	}
	j->batch = actions_parse(req, ctl->hands, ctl->agent_vsock, err, sizeof(err));
	if (!j->batch) {
		free(j);
		send_error(cc->fd, "EINVAL", "%s", err);
		return;
	}
	j->conn = cc;
	cc->busy = true;
	loop_del(ctl->loop, cc->fd);
	pthread_mutex_lock(&ctl->lock);
	if (ctl->act_tail)
		ctl->act_tail->next = j;
	else
		ctl->act_head = j;
	ctl->act_tail = j;
	pthread_cond_signal(&ctl->act_cond);
	pthread_mutex_unlock(&ctl->lock);
}

static void cursor_info(struct cconn *cc)
{
	struct json_object *o;
	uint32_t x, y;

	if (!cc->ctl->hands) {
		send_error(cc->fd, "ENODEV", "this sandbox has no mouse (cubicle-vmm --display)");
		return;
	}
	/* As the cursor action does: a move just sent is where the pointer goes. */
	hands_cursor(cc->ctl->hands, &x, &y, HANDS_CURSOR_WAIT_MS);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "x", json_object_new_int((int)x));
	json_object_object_add(o, "y", json_object_new_int((int)y));
	if (!send_line(cc->fd, o, false))
		cc->dead = true;
	json_object_put(o);
}

/* Handles one request line. */
static void request(struct cconn *cc, char *line)
{
	struct json_object *req = json_tokener_parse(line);
	const char *op;

	if (!req || !json_object_is_type(req, json_type_object)) {
		send_error(cc->fd, "EPROTO", "a request is one JSON object per line");
		json_object_put(req);
		return;
	}
	op = json_object_get_string(json_object_object_get(req, "op"));
	if (!op)
		send_error(cc->fd, "EINVAL", "no \"op\"");
	else if (strcmp(op, "screenshot") == 0)
		start_screenshot(cc, req);
	else if (strcmp(op, "display") == 0)
		display_info(cc);
	else if (strcmp(op, "resize") == 0)
		start_resize(cc, req);
	else if (strcmp(op, "actions") == 0)
		start_actions(cc, req);
	else if (strcmp(op, "cursor") == 0)
		cursor_info(cc);
	else
		send_error(cc->fd, "EOPNOTSUPP", "unknown op '%s'", op);
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

/* A worker is done with a connection: serve it again, or close it. */
static void on_return(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct cconn *cc;

	(void)events;
	(void)opaque;
	while (read(fd, &cc, sizeof(cc)) == sizeof(cc)) {
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
	/* Blocking sockets: the loop only sends with MSG_DONTWAIT and reads after EPOLLIN. */
	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct cconn *cc = ctl->nconns < MAX_CONNS ? calloc(1, sizeof(*cc)) : NULL;
		struct timeval tv = { 30, 0 };

		if (!cc) {
			close(cfd);
			continue;
		}
		/* Workers write images blocking, but never forever. */
		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
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
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--control '%s': %s", path, ctl ? "path too long" : "out of memory");
		free(ctl);
		return NULL;
	}
	ctl->loop = loop;
	ctl->gpu = deps->gpu;
	ctl->agent_vsock = deps->agent_vsock ? strdup(deps->agent_vsock) : NULL;
	ctl->vnc = deps->vnc;
	ctl->hands = deps->hands;
	ctl->path = strdup(path);
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_cond_init(&ctl->act_cond, NULL);
	strcpy(sa.sun_path, path);
	unlink(path);
	ctl->ret_pipe[0] = ctl->ret_pipe[1] = -1;
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0 || bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ctl->listen_fd, 16) < 0 || pipe2(ctl->ret_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    loop_add(loop, ctl->listen_fd, EPOLLIN, on_listen, ctl) < 0 ||
	    loop_add(loop, ctl->ret_pipe[0], EPOLLIN, on_return, ctl) < 0) {
		snprintf(err, errlen, "--control '%s': %s", path, strerror(errno));
		control_free(ctl);
		return NULL;
	}
	return ctl;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	/* Running workers hold connections and the return pipe: let them finish. */
	pthread_mutex_lock(&ctl->lock);
	ctl->stopping = true;
	pthread_cond_signal(&ctl->act_cond);
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->act_running)
		pthread_join(ctl->act_thread, NULL);
	while (ctl->act_head) {
		struct act_job *j = ctl->act_head;

		ctl->act_head = j->next;
		j->conn->busy = false;  /* queued, never run: closed below */
		action_batch_free(j->batch);
		free(j);
	}
	for (;;) {
		pthread_mutex_lock(&ctl->lock);
		int busy = ctl->workers;
		pthread_mutex_unlock(&ctl->lock);
		if (!busy)
			break;
		usleep(1000);
	}
	while (ctl->nconns)
		conn_close(ctl->conns[0]);
	if (ctl->listen_fd >= 0) {
		loop_del(ctl->loop, ctl->listen_fd);
		close(ctl->listen_fd);
	}
	if (ctl->ret_pipe[0] >= 0) {
		loop_del(ctl->loop, ctl->ret_pipe[0]);
		close(ctl->ret_pipe[0]);
		close(ctl->ret_pipe[1]);
	}
	unlink(ctl->path);
	free(ctl->path);
	free(ctl->agent_vsock);
	pthread_cond_destroy(&ctl->act_cond);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}
