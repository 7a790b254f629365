#include "power.h"

#include <errno.h>
#include <string.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "ag_log.h"
#include "exit_port.h"

/*
 * QEMU's isa-debug-exit makes QEMU exit at once with GUEST_EXIT_QEMU_STATUS,
 * which the monitor takes as a power-off; reboot(2) is for machines without
 * it, and PID 1 must not return if both fail.
 */
void ag_power_off(void)
{
	sync();
	ag_say("powering off");
	if (ioperm(GUEST_EXIT_PORT, 1, 1) == 0)
		outb(GUEST_EXIT_POWEROFF, GUEST_EXIT_PORT);
	else
		ag_say("no exit port: %s", strerror(errno));
	if (reboot(RB_POWER_OFF) < 0)
		ag_say("power off: %s", strerror(errno));
	for (;;)
		pause();
}
