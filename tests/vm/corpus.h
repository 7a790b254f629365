/*
 * What the typing checks (typing.h) and the typing benchmark type, and how
 * they read it back: a multilingual corpus, the layouts it is typed on, an
 * xterm that writes what it is typed into a guest file.
 */
#ifndef CUBICLE_VM_CORPUS_H
#define CUBICLE_VM_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

/* One line of each kind of text (none holds a newline); why each layout: typing.c. */
#define TYPING_LINES 14
#define TYPING_LAYOUTS 7
extern const char *const typing_corpus[TYPING_LINES];
extern const char *const typing_layouts[TYPING_LAYOUTS];

/* The whole corpus, each line ending in "\n" (malloc'd), or NULL. */
char *typing_corpus_text(void);

/* Switches the guest behind ctl_path to layout (the `keyboard` op); whether it did. */
bool typing_layout(const char *ctl_path, const char *layout);

/*
 * Opens an xterm whose `head -c bytes` writes what is typed into the guest
 * file path (the terminal raw: no line editing, no echo), and gives it the
 * focus with a click.
 */
bool typing_xterm(const char *ctl_path, const char *vsock_path, const char *path, size_t bytes);

/* The guest file path once it holds bytes (or what it holds after 45 s), as a string. */
const char *typing_file(const char *vsock_path, const char *path, size_t bytes);

#endif
