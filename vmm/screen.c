#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio_gpu.h"

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

static void on_resized(void *opaque, const struct framebuffer *fb)
{
	vnc_resize(opaque, fb);
}

static void on_damaged(void *opaque, const struct framebuffer *fb, const struct fb_rect *r)
{
	vnc_update(opaque, fb, r);
}

static void on_cursor(void *opaque, const struct gpu_cursor *c, bool new_image)
{
	if (new_image)
		vnc_set_cursor(opaque, c->pixels, c->width, c->height, c->hot_x, c->hot_y);
	vnc_move_cursor(opaque, c->x, c->y, c->visible);
}

struct vnc *screen_start_vnc(struct virtio_dev *gpu, const struct vmm_config *cfg,
			     const struct vnc_input *input, char *err, size_t errlen)
{
	char password[VNC_PASSWORD_MAX + 1], view[VNC_PASSWORD_MAX + 1];
	struct vnc_options o = { .addr = cfg->vnc_addr, .port = cfg->vnc_port,
				 .password = password, .view_only = cfg->vnc_view_only };
	struct vnc *v;

	if (screen_vnc_password(cfg->vnc_password_file, password, err, errlen) < 0)
		return NULL;
	if (cfg->vnc_view_password_file) {
		if (screen_vnc_password(cfg->vnc_view_password_file, view, err, errlen) < 0) {
			explicit_bzero(password, sizeof(password));
			return NULL;
		}
		o.view_password = view;
	}
	v = vnc_new(gpu_framebuffer(gpu), &o, input, err, errlen);
	explicit_bzero(password, sizeof(password));
	explicit_bzero(view, sizeof(view));
	if (!v)
		return NULL;
	gpu_set_listener(gpu, &(struct gpu_listener){ .resized = on_resized, .damaged = on_damaged,
						      .cursor = on_cursor, .opaque = v });
	return v;
}
