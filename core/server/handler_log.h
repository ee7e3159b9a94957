/* handler_log.h: building the JSON log lines of the request handler
 * (private to handler*.c). The public entry points are in handler.h. */
#ifndef S2R_HANDLER_LOG_H
#define S2R_HANDLER_LOG_H

#include <json-c/json.h>

#include "handler.h"

/**
 * A new log object {"time": ISO-8601 UTC with milliseconds, "level":
 * @p level, "event": @p event}; the caller adds fields and emits it.
 * @return NULL when out of memory.
 */
json_object *s2r_handler__log_head(const char *level, const char *event);

/**
 * Write @p o (not consumed) as one line: to @p fn when not NULL, else to
 * standard error in a single write(2), so that the lines of concurrent
 * threads and processes never interleave.
 */
void s2r_handler__log_emit(json_object *o, s2r_handler_log_fn fn,
                           void *payload);

#endif
