/*
 * The agent's console lines: "cubicle-agent: <what>", one whole line at a
 * time whatever thread says it. Only the agent's top layers log (main, the
 * server, the reaper, the services' watcher); modules return -errno.
 */
#ifndef CUBICLE_AG_LOG_H
#define CUBICLE_AG_LOG_H

void ag_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
