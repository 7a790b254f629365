/*
 * Fields of a request (a JSON object from the host, so hostile): each reader
 * returns the field when it is there with the right type, else the default.
 */
#ifndef CUBICLE_AG_JSON_H
#define CUBICLE_AG_JSON_H

#include <json-c/json.h>
#include <stdbool.h>

/* The string field key of obj, or def; it lives as long as obj. */
const char *ag_jstr(struct json_object *obj, const char *key, const char *def);
long long ag_jint(struct json_object *obj, const char *key, long long def);
bool ag_jbool(struct json_object *obj, const char *key, bool def);

#endif
