/*
 * The sandbox's screen as cubicle-vmm assembles it: the virtio-gpu device,
 * the VNC server that follows its framebuffer and cursor, and the VNC
 * password read from (or first written to) the file the caller names.
 */
#ifndef CUBICLE_SCREEN_H
#define CUBICLE_SCREEN_H

#include <stddef.h>

#include "config.h"
#include "virtio_dev.h"
#include "vnc.h"

/*
 * Reads the VNC password from the first line of path, or, when path does not
 * exist, writes a random one there (mode 0600). A file others can read is
 * refused. 0, or -errno with a one-line reason in err.
 */
int screen_vnc_password(const char *path, char out[VNC_PASSWORD_MAX + 1], char *err,
			size_t errlen);

/*
 * Starts VNC for gpu as cfg says (cfg->vnc_addr set) and makes it follow the
 * device. input may be NULL. NULL with a reason in err.
 */
struct vnc *screen_start_vnc(struct virtio_dev *gpu, const struct vmm_config *cfg,
			     const struct vnc_input *input, char *err, size_t errlen);

#endif
