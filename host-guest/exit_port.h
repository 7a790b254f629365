/*
 * How the guest powers itself off: QEMU's isa-debug-exit device at an I/O
 * port (docs/boot.md). The guest's agent writes GUEST_EXIT_POWEROFF there;
 * QEMU then exits with status (value << 1) | 1, which the monitor takes as
 * "the guest powered off".
 */
#ifndef CUBICLE_EXIT_PORT_H
#define CUBICLE_EXIT_PORT_H

#define GUEST_EXIT_PORT 0xf4
#define GUEST_EXIT_POWEROFF 0x10
#define GUEST_EXIT_QEMU_STATUS ((GUEST_EXIT_POWEROFF << 1) | 1)

#endif
