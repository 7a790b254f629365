#include "devices.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errf.h"
#include "virtio_gpu.h"
#include "virtio_input.h"
#include "virtio_rng.h"
#include "virtio_vsock.h"

/* --- the rows' constructors and reports ------------------------------------- */

static bool always(const struct vmm_config *cfg)
{
	(void)cfg;
	return true;
}

static bool with_screen(const struct vmm_config *cfg)
{
	return cfg->display_w != 0;
}

static bool with_vsock(const struct vmm_config *cfg)
{
	return cfg->vsock != NULL;
}

static int made(struct virtio_dev *dev, struct virtio_dev **out, const char *name, char *err,
		size_t errlen)
{
	*out = dev;
	if (dev)
		return 0;
	errf(err, errlen, "cannot make the %s device: %s", name, strerror(ENOMEM));
	return -ENOMEM;
}

static int make_rng(const struct vmm_config *cfg, struct loop *loop, struct virtio_dev **out,
		    char *err, size_t errlen)
{
	(void)cfg;
	(void)loop;
	return made(rng_new(), out, "virtio-rng", err, errlen);
}

static int make_gpu(const struct vmm_config *cfg, struct loop *loop, struct virtio_dev **out,
		    char *err, size_t errlen)
{
	(void)loop;
	return made(gpu_new(cfg->display_w, cfg->display_h, GPU_DEFAULT_MEM_CAP), out,
		    "virtio-gpu", err, errlen);
}

static int make_keyboard(const struct vmm_config *cfg, struct loop *loop,
			 struct virtio_dev **out, char *err, size_t errlen)
{
	(void)cfg;
	return made(input_new(INPUT_KEYBOARD, loop), out, "virtio-input keyboard", err, errlen);
}

static int make_tablet(const struct vmm_config *cfg, struct loop *loop, struct virtio_dev **out,
		       char *err, size_t errlen)
{
	(void)cfg;
	return made(input_new(INPUT_TABLET, loop), out, "virtio-input tablet", err, errlen);
}

static int make_vsock(const struct vmm_config *cfg, struct loop *loop, struct virtio_dev **out,
		      char *err, size_t errlen)
{
	*out = vsock_new(loop, cfg->vsock, VSOCK_DEFAULT_GUEST_CID, err, errlen);
	return *out ? 0 : -EINVAL;      /* its socket path: the configuration */
}

static void report_rng(struct virtio_dev *dev, const struct vmm_config *cfg, char *line,
		       size_t len)
{
	struct rng_stats st = rng_stats(dev);

	(void)cfg;
	snprintf(line, len, "virtio-rng served %llu bytes in %llu requests",
		 (unsigned long long)st.bytes, (unsigned long long)st.requests);
}

static void report_gpu(struct virtio_dev *dev, const struct vmm_config *cfg, char *line,
		       size_t len)
{
	struct gpu_stats st = gpu_stats(dev);
	const struct framebuffer *fb = gpu_framebuffer(dev);

	(void)cfg;
	snprintf(line, len, "virtio-gpu: %llu commands, %llu flushes, %llu refused; screen %ux%u",
		 (unsigned long long)st.commands, (unsigned long long)st.flushes,
		 (unsigned long long)st.errors, fb->width, fb->height);
}

static void report_input(struct virtio_dev *dev, const struct vmm_config *cfg, char *line,
			 size_t len)
{
	struct input_stats st = input_stats(dev);
	bool kbd = input_kind(dev) == INPUT_KEYBOARD;

	snprintf(line, len, "virtio-input: %s: %llu events delivered, %llu refused (queue full), "
		 "%llu discarded at a reset%s%s", kbd ? "keyboard" : "tablet",
		 (unsigned long long)st.delivered, (unsigned long long)st.refused,
		 (unsigned long long)st.discarded, kbd ? "; layout " : "", kbd ? cfg->kbd_layout : "");
}

static void report_vsock(struct virtio_dev *dev, const struct vmm_config *cfg, char *line,
			 size_t len)
{
	struct vsock_stats st = vsock_stats(dev);

	(void)cfg;
	snprintf(line, len, "virtio-vsock: %llu connections, %llu bytes to the guest, %llu from "
		 "it, %llu reset", (unsigned long long)st.connections,
		 (unsigned long long)st.bytes_to_guest, (unsigned long long)st.bytes_from_guest,
		 (unsigned long long)st.resets);
}

const struct dev_type dev_types[DEV_COUNT] = {
	[DEV_RNG] = { "virtio-rng", "vhost-user-rng", always, make_rng, report_rng },
	[DEV_GPU] = { "virtio-gpu", "vhost-user-gpu", with_screen, make_gpu, report_gpu },
	[DEV_KEYBOARD] = { "virtio-input keyboard", "vhost-user-input", with_screen,
			   make_keyboard, report_input },
	[DEV_TABLET] = { "virtio-input tablet", "vhost-user-input", with_screen, make_tablet,
			 report_input },
	[DEV_VSOCK] = { "virtio-vsock", "vhost-user-vsock-device", with_vsock, make_vsock,
			report_vsock },
};

/* --- the set -------------------------------------------------------------------- */

/* Serves d->dev[i] on a new socket pair and hands the peer end to the engine. */
static int serve(struct devices *d, enum dev_index i, struct loop *loop, struct engine *engine,
		 void (*on_close)(struct vu_server *vu, const char *why), char *err, size_t errlen)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		errf(err, errlen, "%s: no socket for vhost-user: %s", dev_types[i].name,
		     strerror(-ret));
		return ret;
	}
	d->vu[i] = vu_new(d->dev[i], sv[0], loop);
	if (!d->vu[i]) {
		close(sv[0]);
		close(sv[1]);
		errf(err, errlen, "%s: %s", dev_types[i].name, strerror(ENOMEM));
		return -ENOMEM;
	}
	d->vu[i]->on_close = on_close;
	ret = engine_attach(engine, dev_types[i].vhost_user, sv[1]);
	if (ret < 0)
		errf(err, errlen, "%s: the engine cannot take it: %s", dev_types[i].name,
		     strerror(-ret));
	return ret;
}

int devices_make(struct devices *d, const struct vmm_config *cfg, struct loop *loop,
		 struct engine *engine, void (*on_close)(struct vu_server *vu, const char *why),
		 char *err, size_t errlen)
{
	*d = (struct devices){ 0 };
	for (int i = 0; i < DEV_COUNT; i++) {
		int ret;

		if (!dev_types[i].wanted(cfg))
			continue;
		ret = dev_types[i].make(cfg, loop, &d->dev[i], err, errlen);
		if (ret == 0)
			ret = serve(d, i, loop, engine, on_close, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void devices_report(const struct devices *d, const struct vmm_config *cfg,
		    void (*log)(const char *line))
{
	char line[256];

	for (int i = 0; i < DEV_COUNT; i++) {
		if (!d->dev[i])
			continue;
		dev_types[i].report(d->dev[i], cfg, line, sizeof(line));
		log(line);
	}
}

struct virtio_dev *devices_get(const struct devices *d, enum dev_index i)
{
	return i < DEV_COUNT ? d->dev[i] : NULL;
}

void devices_free(struct devices *d)
{
	for (int i = 0; i < DEV_COUNT; i++) {
		if (d->vu[i])
			vu_free(d->vu[i]);      /* frees its device */
		else
			vdev_free(d->dev[i]);
		d->vu[i] = NULL;
		d->dev[i] = NULL;
	}
}
