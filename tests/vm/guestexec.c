#include "guestexec.h"

#include <stdio.h>
#include <string.h>

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
