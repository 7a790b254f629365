#include "desktop.h"

#include <json-c/json.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"

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

const char *guest_exec(const char *vsock, const char *cmd)
{
	static struct out o;
	struct agent_exec x = { .cmd = cmd, .on_output = collect, .opaque = &o, .timeout_ms = 60000 };
	struct agent_exit res;
	struct agent_error err;

	o.len = 0;
	o.buf[0] = '\0';
	if (agent_exec_run(vsock, &x, &res, &err) < 0 || res.exit_code != 0) {
		fprintf(stderr, "guest command failed: %s\n%s\n", cmd, o.buf);
		return NULL;
	}
	return o.buf;
}

void guest_poweroff(const char *vsock)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	struct agent_error err;

	json_object_object_add(req, "op", json_object_new_string("poweroff"));
	agent_call(vsock, req, &reply, &err);
	json_object_put(req);
	json_object_put(reply);
}

char *control_request(const char *ctl, const char *req, uint8_t **data, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char line[1024];
	size_t n = 0;
	const char *b;

	*data = NULL;
	*len = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl);
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

bool control_act(const char *ctl, const char *list)
{
	size_t n = strlen(list) + 64, len = 0;
	char *req = malloc(n), *line;
	uint8_t *data = NULL;
	bool ok;

	if (!req)
		return false;
	snprintf(req, n, "{\"op\":\"actions\",\"actions\":%s}\n", list);
	line = control_request(ctl, req, &data, &len);
	ok = line && strncmp(line, "{\"ok\":true", 10) == 0;
	if (!ok)
		fprintf(stderr, "actions %s: %s\n", list, line ? line : "(no answer)");
	free(line);
	free(data);
	free(req);
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
