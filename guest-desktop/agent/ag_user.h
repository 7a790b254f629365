/*
 * Who an operation runs as: the sandbox user `user` unless the request's
 * "user" names another in the guest's /etc/passwd.
 */
#ifndef CUBICLE_AG_USER_H
#define CUBICLE_AG_USER_H

#include <json-c/json.h>
#include <sys/types.h>

struct ag_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[256];
	char shell[128];
};

struct ag_conn;

/*
 * Fills u from the request's "user" (default "user"). 0, or -errno once the
 * error is answered on c (ESRCH "no such user").
 */
int ag_user_from_request(struct ag_conn *c, struct json_object *req, struct ag_user *u);

#endif
