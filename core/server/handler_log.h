/* handler_log.h: building the JSON log lines of the request handler
 * (private to handler*.c). The public entry points are in handler.h. */
#ifndef S2R_HANDLER_LOG_H
#define S2R_HANDLER_LOG_H

#include "base/base.h"
#include "handler.h"

/* A log line is built as text in an s2r_buf, field by field, in the
 * bytes json-c writes for the same object with JSON_C_TO_STRING_PLAIN:
 * {"time":...,"level":...,"event":...,...} on one line. */

/** Start @p line (zero-initialised) with {"time": ISO-8601 UTC with
 *  milliseconds, "level": @p level, "event": @p event. */
void s2r_handler__log_head(s2r_buf *line, const char *level,
                           const char *event);

/* Keys are plain ASCII names (letters, digits, '_'), which JSON writes
 * as they are: they are copied, not escaped. */

/** Add "key": "value" (@p value escaped as a JSON string). */
void s2r_handler__log_str(s2r_buf *line, const char *key,
                          const char *value);

/** Add "key": @p value, in decimal. */
void s2r_handler__log_int(s2r_buf *line, const char *key, int64_t value);

/** Add "key": @p us microseconds as milliseconds with three decimals
 *  ("%.3f" of us / 1000.0; @p us >= 0). */
void s2r_handler__log_ms(s2r_buf *line, const char *key, int64_t us);

/**
 * Close @p line and write it as one line: to @p fn when not NULL, else
 * to standard error in a single write(2), so that the lines of
 * concurrent threads and processes never interleave. Frees the buffer;
 * a line that ran out of memory is dropped.
 */
void s2r_handler__log_emit(s2r_buf *line, s2r_handler_log_fn fn,
                           void *payload);

#endif
