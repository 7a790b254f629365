/*
 * The JSON the client reads and writes (json-c): answers parsed whole,
 * string fields looked up, objects printed for people, fields added when
 * set.
 */
#ifndef CUBICLE_CLI_JSON_H
#define CUBICLE_CLI_JSON_H

#include <json-c/json.h>
#include <stddef.h>

/* The JSON value of text[0..len), whole but for white space after it; NULL if it is not one. */
struct json_object *cj_parse(const char *text, size_t len);

/* o's string field key, or NULL (o may be NULL). */
const char *cj_str(struct json_object *o, const char *key);

/* Prints o on stdout, pretty, with a newline. */
void cj_print(struct json_object *o);

/* Adds the string s as key to o; nothing when s is NULL. */
void cj_add_str(struct json_object *o, const char *key, const char *s);

#endif
