/*
 * Files (files.c): the file operations of docs/agent-protocol.md, each run
 * as the request's user. Each answers on c and returns when done.
 */
#ifndef CUBICLE_AG_FILES_H
#define CUBICLE_AG_FILES_H

#include <json-c/json.h>

struct ag_conn;

void ag_op_read(struct ag_conn *c, struct json_object *req);
void ag_op_write(struct ag_conn *c, struct json_object *req);
void ag_op_stat(struct ag_conn *c, struct json_object *req);
void ag_op_exists(struct ag_conn *c, struct json_object *req);
void ag_op_list(struct ag_conn *c, struct json_object *req);
void ag_op_mkdir(struct ag_conn *c, struct json_object *req);
void ag_op_remove(struct ag_conn *c, struct json_object *req);
void ag_op_rename(struct ag_conn *c, struct json_object *req);

#endif
