/*
 * The guest's serial console as the monitor carries it: the engine gets one
 * end of a socket pair, and what the guest prints goes to a file or to our
 * standard output; with standard output, standard input goes back to the
 * guest (on a terminal in raw mode, where Ctrl-] asks to stop the guest).
 */
#ifndef CUBICLE_CONSOLE_H
#define CUBICLE_CONSOLE_H

#include <stddef.h>

#include "loop.h"

struct console;

/* A console: the socket pair between the guest and us. NULL with the reason in err. */
struct console *console_new(char *err, size_t errlen);

/*
 * Where the guest's output goes: serial is "stdout" or a file path
 * (truncated). 0, or -errno with the reason in err.
 */
int console_open(struct console *c, const char *serial, char *err, size_t errlen);

/* The engine's end of the console (the console keeps it until console_handed). */
int console_engine_fd(const struct console *c);
/* The engine took its end (it closes it). */
void console_handed(struct console *c);

/*
 * Starts carrying output on loop, and input when the target is stdout;
 * stop(opaque) is called when the person at the terminal presses Ctrl-].
 * 0 or -errno.
 */
int console_start(struct console *c, struct loop *loop, void (*stop)(void *opaque), void *opaque);

/* Copies what the guest printed and is still buffered (after the engine ended). */
void console_drain(struct console *c);

/* Restores the terminal and closes everything; accepts NULL. */
void console_free(struct console *c);

#endif
