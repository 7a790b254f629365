#include "desktop.h"

#include <json-c/json.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fdio.h"
#include "usock.h"

int desktop_boot(struct desktop *d, const char *vmm, const char *guest_dir, const char *image,
		 const char *memory_mib, bool vnc, char *const extra[], int timeout_s)
{
	char *argv[32];
	size_t n;

	memset(d, 0, sizeof(*d));
	d->vm.in = d->vm.out = d->vm.err = -1;
	d->kernel = vm_guest_path(guest_dir, "kernel.path");
	d->image = vm_guest_path(guest_dir, image);
	snprintf(d->dir, sizeof(d->dir), "/tmp/cubicle-vmtest-XXXXXX");
	if (!mkdtemp(d->dir)) {
		perror("mkdtemp");
		d->dir[0] = '\0';
		return -1;
	}
	snprintf(d->ctl, sizeof(d->ctl), "%s/control", d->dir);
	snprintf(d->vsock, sizeof(d->vsock), "%s/vsock", d->dir);
	snprintf(d->pw_path, sizeof(d->pw_path), "%s/vnc-password", d->dir);
	char *base[] = { (char *)vmm, "--kernel", d->kernel, "--disk", d->image, "--vcpus", "2",
			 "--memory", (char *)memory_mib, "--control", d->ctl, "--vsock", d->vsock };
	char *with_vnc[] = { "--vnc", "127.0.0.1:0", "--vnc-password-file", d->pw_path };

	memcpy(argv, base, sizeof(base));
	n = sizeof(base) / sizeof(*base);
	if (vnc) {
		memcpy(argv + n, with_vnc, sizeof(with_vnc));
		n += sizeof(with_vnc) / sizeof(*with_vnc);
	}
	for (size_t i = 0; extra && extra[i] && n < sizeof(argv) / sizeof(*argv) - 3; i++)
		argv[n++] = extra[i];
	argv[n++] = "--append";
	argv[n++] = "cubicle.noshell";
	argv[n] = NULL;
	if (vm_start(&d->vm, argv) < 0) {
		fprintf(stderr, "cannot start %s\n", vmm);
		return -1;
	}
	if (!vm_expect(&d->vm, "cubicle-agent: desktop ready", timeout_s)) {
		fprintf(stderr, "no desktop within %d s\n", timeout_s);
		return -1;
	}
	return 0;
}

void desktop_end(struct desktop *d, bool failed)
{
	if (failed && d->vm.out_buf)
		fprintf(stderr, "cubicle-vmm said:\n%s\nconsole:\n%s", d->vm.err_buf, d->vm.out_buf);
	vm_free(&d->vm);
	if (d->dir[0]) {
		unlink(d->ctl);
		unlink(d->vsock);
		unlink(d->pw_path);
		rmdir(d->dir);
	}
	free(d->kernel);
	free(d->image);
}

struct out {
	char buf[8192];
	size_t len;
};

static void collect(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	struct out *o = opaque;

	(void)stream;
	if (len > sizeof(o->buf) - 1 - o->len)
		len = (uint32_t)(sizeof(o->buf) - 1 - o->len);
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

const char *guest_run(const char *vsock, const char *user, const char *cmd, int timeout_ms,
		      int *status)
{
	static struct out o;
	struct agent_exec x = { .cmd = cmd, .user = user, .on_output = collect, .opaque = &o,
				.timeout_ms = timeout_ms };
	struct agent_exit res = { 0 };
	struct agent_error err;

	o.len = 0;
	o.buf[0] = '\0';
	*status = agent_exec_run(vsock, &x, &res, &err) < 0 ? -1 : res.exit_code;
	return o.buf;
}

const char *guest_exec(const char *vsock, const char *cmd)
{
	int status;
	const char *out = guest_run(vsock, NULL, cmd, 60000, &status);

	if (status != 0) {
		fprintf(stderr, "guest command failed: %s\n%s\n", cmd, out);
		return NULL;
	}
	return out;
}

void guest_poweroff(const char *vsock)
{
	agent_poweroff(vsock, NULL, 30000);
}

char *control_request(const char *ctl, const char *req, uint8_t **data, size_t *len)
{
	int fd = usock_connect(ctl, 0);
	char line[1024];
	size_t n = 0;
	const char *b;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return NULL;
	if (fdio_write_all(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	/* Byte by byte, so that no image byte after the line is taken with it. */
	while (n + 1 < sizeof(line) && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if ((b = strstr(line, "\"bytes\":"))) {
		*len = strtoull(b + 8, NULL, 10);
		*data = malloc(*len ? *len : 1);
		if (!*data || fdio_read_full(fd, *data, *len) < 0) {
			free(*data);
			*data = NULL;
			*len = 0;
		}
	}
	close(fd);
	return strdup(line);
}

char *control_line(const char *ctl, const char *req)
{
	uint8_t *data;
	size_t len;
	char *line = control_request(ctl, req, &data, &len);

	free(data);
	return line;
}

char *control_actions(const char *ctl, const char *list, const char *extra)
{
	size_t n = strlen(list) + (extra ? strlen(extra) : 0) + 64;
	char *req = malloc(n), *line;

	if (!req)
		return NULL;
	snprintf(req, n, "{\"op\":\"actions\"%s%s,\"actions\":%s}\n", extra ? "," : "",
		 extra ? extra : "", list);
	line = control_line(ctl, req);
	free(req);
	return line;
}

bool control_act(const char *ctl, const char *list)
{
	char *line = control_actions(ctl, list, NULL);
	bool ok = line && strncmp(line, "{\"ok\":true", 10) == 0;

	if (!ok)
		fprintf(stderr, "actions %s: %s\n", list, line ? line : "(no answer)");
	free(line);
	return ok;
}

bool control_type(const char *ctl, const char *text)
{
	struct json_object *list = json_object_new_array(), *a = json_object_new_object();
	bool ok;

	json_object_object_add(a, "type", json_object_new_string("type"));
	json_object_object_add(a, "text", json_object_new_string(text));
	json_object_array_add(list, a);
	ok = control_act(ctl, json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
	json_object_put(list);
	return ok;
}

uint8_t *screenshot_rgb(const char *ctl, uint32_t *w, uint32_t *h)
{
	uint8_t *data, *rgb = NULL;
	size_t len;
	char *line = control_request(ctl, "{\"op\":\"screenshot\",\"format\":\"png\"}\n", &data, &len);
	png_image img = { .version = PNG_IMAGE_VERSION };

	if (line && data && png_image_begin_read_from_memory(&img, data, len)) {
		img.format = PNG_FORMAT_RGB;
		rgb = malloc(PNG_IMAGE_SIZE(img));
		if (!png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
			free(rgb);
			rgb = NULL;
		}
		*w = img.width;
		*h = img.height;
	}
	free(line);
	free(data);
	return rgb;
}

int control_vnc_port(const char *ctl)
{
	char *line = control_line(ctl, "{\"op\":\"display\"}\n");
	const char *p = line ? strstr(line, "\"port\":") : NULL;
	int port = p ? atoi(p + 7) : 0;

	free(line);
	return port;
}

bool xwininfo_rect(const char *out, struct rect *r)
{
	const char *px = out ? strstr(out, "Absolute upper-left X:") : NULL;
	const char *py = out ? strstr(out, "Absolute upper-left Y:") : NULL;
	const char *pw = out ? strstr(out, "Width:") : NULL, *ph = out ? strstr(out, "Height:") : NULL;

	return px && py && pw && ph && sscanf(px, "Absolute upper-left X: %d", &r->x) == 1 &&
	       sscanf(py, "Absolute upper-left Y: %d", &r->y) == 1 &&
	       sscanf(pw, "Width: %d", &r->w) == 1 && sscanf(ph, "Height: %d", &r->h) == 1;
}
