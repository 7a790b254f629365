/*
 * What JSON parsers let through and text cannot carry: a \u escape of a
 * UTF-16 surrogate that is not half of a pair ("\ud800" alone). json-c
 * turns one into U+FFFD without a word, so text a client meant to send is
 * silently changed; Cubicle refuses such a request whole instead, before
 * it acts on any of it.
 */
#ifndef CUBICLE_JSONTEXT_H
#define CUBICLE_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether the JSON text (len bytes) holds a lone surrogate escape inside a
 * string; its byte offset (the backslash) in *at. Malformed JSON is left to
 * the parser: only well-formed escapes are judged.
 */
bool jsontext_lone_surrogate(const char *text, size_t len, size_t *at);

#endif
