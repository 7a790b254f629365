/*
 * The devices a monitor serves, as one table: for each, the vhost-user
 * device type that carries it to the guest, whether the configuration
 * wants it, how to make it, and the line it reports when the guest ends.
 * Adding a device is its own file and a row here (and its index below).
 */
#ifndef CUBICLE_DEVICES_H
#define CUBICLE_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "engine.h"
#include "loop.h"
#include "vhost_user.h"
#include "virtio_dev.h"

/* Rows of the table, in the order the guest finds them. */
enum dev_index { DEV_RNG, DEV_GPU, DEV_KEYBOARD, DEV_TABLET, DEV_VSOCK, DEV_COUNT };

struct dev_type {
	const char *name;           /* for the log: "virtio-gpu" */
	const char *vhost_user;     /* the front-end's device type: "vhost-user-gpu" */
	bool (*wanted)(const struct vmm_config *cfg);
	/* 0, -EINVAL for a configuration it cannot serve, or -errno; why in err. */
	int (*make)(const struct vmm_config *cfg, struct loop *loop, struct virtio_dev **out,
		    char *err, size_t errlen);
	/* Its figures at the end, as one line for the log. */
	void (*report)(struct virtio_dev *dev, const struct vmm_config *cfg, char *line,
		       size_t len);
};

extern const struct dev_type dev_types[DEV_COUNT];

/* The devices of one monitor; NULL where the configuration wants none. */
struct devices {
	struct virtio_dev *dev[DEV_COUNT];   /* owned by vu[] once served */
	struct vu_server *vu[DEV_COUNT];
};

/*
 * Makes every device cfg wants and carries each to the engine over a new
 * vhost-user socket pair, served on loop; on_close hears of a front-end
 * that goes away. 0, or -errno with what failed in err (-EINVAL: the
 * configuration); what was made stays in d for devices_free.
 */
int devices_make(struct devices *d, const struct vmm_config *cfg, struct loop *loop,
		 struct engine *engine, void (*on_close)(struct vu_server *vu, const char *why),
		 char *err, size_t errlen);

/* Each device's report line, to log(). */
void devices_report(const struct devices *d, const struct vmm_config *cfg,
		    void (*log)(const char *line));

/* A device of the set, or NULL. */
struct virtio_dev *devices_get(const struct devices *d, enum dev_index i);

void devices_free(struct devices *d);

#endif
