/*
 * The commands main.c's table dispatches to, one file per resource:
 * sandboxes.c, screen.c (the screen and the hands), exec.c (commands run
 * in a sandbox), files.c (cp), mcp.c (the MCP server on stdio).
 */
#ifndef CUBICLE_CLI_COMMANDS_H
#define CUBICLE_CLI_COMMANDS_H

#include "cli.h"

extern const struct cli_command cli_create, cli_list, cli_get, cli_kill, cli_timeout;
extern const struct cli_command cli_network, cli_port;
extern const struct cli_command cli_screenshot, cli_move, cli_click, cli_scroll, cli_drag,
	cli_type, cli_key, cli_cursor, cli_actions, cli_stream;
extern const struct cli_command cli_exec;
extern const struct cli_command cli_cp;
extern const struct cli_command cli_mcp;

#endif
