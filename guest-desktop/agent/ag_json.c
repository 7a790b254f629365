#include "ag_json.h"

/* The field key of obj when it has type t, else NULL. */
static struct json_object *field(struct json_object *obj, const char *key, json_type t)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

const char *ag_jstr(struct json_object *obj, const char *key, const char *def)
{
	struct json_object *v = field(obj, key, json_type_string);

	return v ? json_object_get_string(v) : def;
}

long long ag_jint(struct json_object *obj, const char *key, long long def)
{
	struct json_object *v = field(obj, key, json_type_int);

	return v ? json_object_get_int64(v) : def;
}

bool ag_jbool(struct json_object *obj, const char *key, bool def)
{
	struct json_object *v = field(obj, key, json_type_boolean);

	return v ? json_object_get_boolean(v) : def;
}
