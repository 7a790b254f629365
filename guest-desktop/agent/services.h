/*
 * The template's services (services.c): start.d at boot, display.d on a
 * monitor hotplug or a host's request, and the desktop's DISPLAY when the
 * template has one.
 */
#ifndef CUBICLE_AG_SERVICES_H
#define CUBICLE_AG_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads the template's desktop file; before any other call. */
void ag_services_init(void);
/* Starts every start.d service in the background. */
void ag_services_start(void);
/* Runs the display.d hooks on every DRM hotplug, if the template has hooks. */
void ag_services_watch_display(void);
/* Called by the reaper for every child that ends; false if not a service's or hook's. */
bool ag_services_reaped(pid_t pid, int status);
const char *ag_services_state(void);	/* "starting", "ready" or "failed" */
const char *ag_services_display(void);	/* ":0", or NULL without a desktop */
/*
 * Runs the display.d hooks with CUBICLE_DISPLAY_WIDTH/HEIGHT (none when width
 * is 0: take the preferred mode) and waits for them, killing them after
 * timeout_ms: 0, or -errno with a reason in why.
 */
int ag_services_set_display(unsigned int width, unsigned int height, int timeout_ms, char *why,
			    size_t whylen);

#endif
