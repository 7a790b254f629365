/*
 * The guest's KMS driver on our virtio-gpu over vhost-user: the connector
 * reports the mode we configured (from our display info and EDID), text the
 * guest writes on its framebuffer console shows in screenshots taken through
 * the control socket (decoded with libpng and TurboJPEG), bad requests are
 * answered, and no command from the guest is refused.
 *
 * usage: test_gpu_boot CUBICLE_VMM GUEST_DIR
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "../check.h"
#include "vmtest.h"

static char ctl_path[108];

/* One control request; returns the JSON line, image bytes in *data. */
static char *control(const char *req, uint8_t **data, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char line[1024];
	size_t n = 0;
	const char *b;

	*data = NULL;
	*len = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return NULL;
	}
	while (n + 1 < sizeof(line) && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if ((b = strstr(line, "\"bytes\":"))) {
		*len = strtoull(b + 8, NULL, 10);
		*data = malloc(*len ? *len : 1);
		for (size_t got = 0; got < *len;) {
			ssize_t r = read(fd, *data + got, *len - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
	close(fd);
	return strdup(line);
}

/* The screen as a PNG: right size, valid, and with more than one colour. */
static void check_screenshots(void)
{
	uint8_t *data, *rgb;
	size_t len;
	char *h = control("{\"op\":\"screenshot\",\"format\":\"png\"}\n", &data, &len);
	png_image img = { .version = PNG_IMAGE_VERSION };
	bool varied = false;

	CHECK(h && strstr(h, "\"ok\":true") && strstr(h, "\"width\":1024") && strstr(h, "\"height\":768"));
	CHECK(data && png_image_begin_read_from_memory(&img, data, len));
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	CHECK(png_image_finish_read(&img, NULL, rgb, 0, NULL) && img.width == 1024 && img.height == 768);
	for (size_t i = 3; i < (size_t)img.width * img.height * 3 && !varied; i++)
		varied = rgb[i] != rgb[i % 3];
	CHECK(varied);          /* the console's text is there */
	free(rgb);
	free(data);
	free(h);

	tjhandle tj = tjInitDecompress();
	int w, hh, sub, cs;
	h = control("{\"op\":\"screenshot\",\"format\":\"jpeg\",\"quality\":60,\"scale\":0.5}\n", &data, &len);
	CHECK(h && data && tjDecompressHeader3(tj, data, (unsigned long)len, &w, &hh, &sub, &cs) == 0);
	CHECK(w == 512 && hh == 384);
	tjDestroy(tj);
	free(data);
	free(h);

	h = control("{\"op\":\"screenshot\",\"region\":[1000,700,100,100]}\n", &data, &len);
	CHECK(h && strstr(h, "\"ok\":false") && strstr(h, "not inside"));
	free(h);
	free(data);
	h = control("{\"op\":\"screenshot\",\"format\":null}\n", &data, &len);
	CHECK(h && strstr(h, "\"ok\":false") && strstr(h, "EINVAL"));
	free(h);
	free(data);
	h = control("{\"op\":\"display\"}\n", &data, &len);
	CHECK(h && strstr(h, "\"width\":1024") && strstr(h, "\"height\":768"));
	free(h);
	free(data);
}

int main(int argc, char **argv)
{
	struct vm vm;
	unsigned long long cmds = 0, flushes = 0, refused = 1;
	unsigned int w = 0, h = 0;
	const char *p;
	char *out;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	char *kernel = vm_guest_path(argv[2], "kernel.path"), *image = vm_guest_path(argv[2], "minimal.path");
	char dir[] = "/tmp/cubicle-gpu-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	snprintf(ctl_path, sizeof(ctl_path), "%s/control", dir);
	char *vm_argv[] = { argv[1], "--kernel", kernel, "--disk", image, "--display", "1024x768",
			    "--control", ctl_path, NULL };

	CHECK(vm_start(&vm, vm_argv) == 0);
	if (!vm_expect(&vm, "cubicle-agent: ready", 240)) {
		CHECK(!"guest ready");
		goto out;
	}
	vm_send(&vm, "stty -echo\n");
	out = vm_run(&vm, "head -1 /sys/class/drm/card0-*/modes; cat /sys/class/drm/card0-*/status", 60);
	CHECK(out && strstr(out, "1024x768") == out && strstr(out, "connected"));
	free(out);
	out = vm_run(&vm, "for i in 1 2 3; do echo Cubicle on the framebuffer console > /dev/tty1; done; sleep 1", 60);
	free(out);
	RUN(check_screenshots);
	vm_send(&vm, "exit\n");
	CHECK(vm_wait(&vm, 60) == 0);
	/* The statistics line, among the device's other log lines. */
	int got = 0;
	for (p = strstr(vm.err_buf, "virtio-gpu: "); p && got != 5; p = strstr(p + 1, "virtio-gpu: "))
		got = sscanf(p, "virtio-gpu: %llu commands, %llu flushes, %llu refused; screen %ux%u",
			     &cmds, &flushes, &refused, &w, &h);
	CHECK(got == 5);
	CHECK(cmds > 0 && flushes > 0 && refused == 0 && w == 1024 && h == 768);
out:
	if (check_failed)
		fprintf(stderr, "cubicle-vmm said:\n%s", vm.err_buf);
	vm_free(&vm);
	unlink(ctl_path);
	rmdir(dir);
	free(kernel);
	free(image);
	return check_done();
}
