/*
 * A small client of QEMU's machine protocol (QMP) for the benchmarks, which
 * drive a plain QEMU peer (-qmp unix:PATH) beside cubicle-vmm. Commands are
 * synchronous, one at a time (a mutex), each bounded by a timeout; events
 * QEMU sends in between are read and dropped.
 */
#ifndef CUBICLE_QMP_H
#define CUBICLE_QMP_H

#include <json-c/json.h>
#include <stddef.h>

struct qmp;

/* Takes fd (our end of the monitor socket). NULL without memory. */
struct qmp *qmp_new(int fd);
void qmp_free(struct qmp *q);

/*
 * Runs command with args (taken; may be NULL). With pass_fd >= 0 the
 * descriptor travels with the command (SCM_RIGHTS), as getfd wants. The
 * first call does the capabilities handshake. Returns 0 and, when ret is not
 * NULL, the "return" value (the caller puts it); or -errno with a one-line
 * reason in err (QEMU's own error text for a refused command). After a
 * timeout or a transport error every later command fails (-EPIPE): a late
 * answer could otherwise be taken for the next command's.
 */
int qmp_execute(struct qmp *q, const char *command, struct json_object *args, int pass_fd,
		struct json_object **ret, char *err, size_t errlen);

#endif
