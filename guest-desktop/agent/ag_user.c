#include "ag_user.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "ag_conn.h"
#include "ag_json.h"

/*
 * Users come from /etc/passwd itself, not NSS: the agent is static and the
 * sandbox has no other user database.
 */
static int look_up(const char *name, struct ag_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	FILE *f = fopen("/etc/passwd", "re");

	if (!f)
		return -errno;
	while (fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0 && res)
		if (strcmp(pw.pw_name, name) == 0)
			break;
	fclose(f);
	if (!res)
		return -ESRCH;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw.pw_dir);
	snprintf(u->shell, sizeof(u->shell), "%s", pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
	return 0;
}

int ag_user_from_request(struct ag_conn *c, struct json_object *req, struct ag_user *u)
{
	const char *name = ag_jstr(req, "user", "user");
	int ret = look_up(name, u);

	if (ret == -ESRCH)
		ag_reply_err(c, ret, "no such user '%s'", name);
	else if (ret < 0)
		ag_reply_err(c, ret, "reading /etc/passwd for user '%s'", name);
	return ret;
}
