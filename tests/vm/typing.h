/*
 * The typing checks (issue "exact hands"), run on a booted `desktop` guest
 * by test_template_desktop, which shares its boot with them: a multilingual
 * corpus typed through the `type` action into an xterm, Mousepad (GTK) and
 * a Firefox text field, on several layouts switched with the `keyboard`
 * op, read back byte for byte through the agent; refusals of untypeable
 * text; key combinations by symbol on layouts that move or lack it. The
 * layouts and why each: typing.c.
 */
#ifndef CUBICLE_VM_TYPING_H
#define CUBICLE_VM_TYPING_H

/* The guest behind ctl (control socket) and vsock (agent), with its desktop up. */
void typing_init(const char *ctl, const char *vsock);

void check_typing_xterm(void);      /* every layout, line by line and whole */
void check_typing_long(void);       /* a 4 KiB line, 64 KiB in one action, a byte more refused */
void check_typing_mousepad(void);
void check_typing_firefox(void);
void check_typing_refusals(void);
void check_typing_combos(void);

#endif
