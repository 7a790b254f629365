/* Powering the guest off: on request, when the console shell ends, at cubicle.once. */
#ifndef CUBICLE_AG_POWER_H
#define CUBICLE_AG_POWER_H

/* Syncs and powers off; never returns. */
void ag_power_off(void) __attribute__((noreturn));

#endif
