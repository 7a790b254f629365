#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"

int screen_vnc_password(const char *path, char out[VNC_PASSWORD_MAX + 1], char *err,
			size_t errlen)
{
	char line[64];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0) {
		int ret = vnc_random_password(out);

		if (ret == 0 && (write(fd, out, VNC_PASSWORD_MAX) != VNC_PASSWORD_MAX ||
				 write(fd, "\n", 1) != 1))
			ret = -EIO;
		if (close(fd) < 0 && ret == 0)
			ret = -errno;
		if (ret < 0) {
			unlink(path);
			snprintf(err, errlen, "--vnc-password-file '%s': %s", path, strerror(-ret));
		}
		return ret;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "--vnc-password-file '%s': %s", path, strerror(errno));
		return -errno;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "--vnc-password-file '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errlen, "--vnc-password-file '%s': others can read it (chmod 600)", path);
		return -EPERM;
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0] || strlen(line) > VNC_PASSWORD_MAX) {
		snprintf(err, errlen, "--vnc-password-file '%s': want 1 to %d characters on the "
			 "first line (VNC uses no more)", path, VNC_PASSWORD_MAX);
		return -EINVAL;
	}
	memcpy(out, line, strlen(line) + 1);
	return 0;
}

struct screen_vnc {
	struct vnc *vnc;
	struct display *display;
	int slot;
};

static void on_resized(void *opaque, const struct framebuffer *fb)
{
	vnc_resize(opaque, fb);
}

static void on_damaged(void *opaque, const struct framebuffer *fb, const struct fb_rect *r)
{
	vnc_update(opaque, fb, r);
}

static void on_cursor(void *opaque, const struct fb_cursor *c, bool new_image)
{
	if (new_image)
		vnc_set_cursor(opaque, c->pixels, c->width, c->height, c->hot_x, c->hot_y);
	vnc_move_cursor(opaque, c->x, c->y, c->visible);
}

struct screen_vnc *screen_vnc_start(struct display *d, const struct vmm_config *cfg,
				    const struct vnc_input *input, char *err, size_t errlen)
{
	char password[VNC_PASSWORD_MAX + 1], view[VNC_PASSWORD_MAX + 1];
	struct vnc_options o = { .addr = cfg->vnc_addr, .port = cfg->vnc_port,
				 .password = password, .view_only = cfg->vnc_view_only };
	struct screen_vnc *s;

	if (screen_vnc_password(cfg->vnc_password_file, password, err, errlen) < 0)
		return NULL;
	if (cfg->vnc_view_password_file) {
		if (screen_vnc_password(cfg->vnc_view_password_file, view, err, errlen) < 0) {
			explicit_bzero(password, sizeof(password));
			return NULL;
		}
		o.view_password = view;
	}
	s = calloc(1, sizeof(*s));
	/* Before the loop runs, so the framebuffer is ours to read. */
	if (s)
		s->vnc = vnc_new(display_fb(d), &o, input, err, errlen);
	else
		errf(err, errlen, "out of memory");
	explicit_bzero(password, sizeof(password));
	explicit_bzero(view, sizeof(view));
	if (!s || !s->vnc) {
		free(s);
		return NULL;
	}
	s->display = d;
	s->slot = display_attach(d, &(struct display_consumer){ .resized = on_resized,
		.damaged = on_damaged, .cursor = on_cursor, .opaque = s->vnc });
	if (s->slot < 0) {
		errf(err, errlen, "vnc: the screen has no room for another consumer");
		vnc_free(s->vnc);
		free(s);
		return NULL;
	}
	return s;
}

struct vnc *screen_vnc_server(struct screen_vnc *s)
{
	return s ? s->vnc : NULL;
}

void screen_vnc_stop(struct screen_vnc *s)
{
	if (!s)
		return;
	display_detach(s->display, s->slot);
	vnc_free(s->vnc);
	free(s);
}
