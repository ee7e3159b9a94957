/* handler_text.h: the client's text in the request handler's answers and
 * log lines (private).
 *
 * Every answer of the handler is JSON, and JSON text exchanged between
 * systems is UTF-8 (RFC 8259 section 8.1). Scripts, header values and
 * query parameters reach the handler as bytes: a script that is not
 * UTF-8 is refused (400, naming its line and column) in every format,
 * before any of its bytes could reach an answer; other client text is
 * only ever quoted as printable ASCII.
 */
#ifndef S2R_HANDLER_TEXT_H
#define S2R_HANDLER_TEXT_H

#include <stddef.h>
#include <stdint.h>

/**
 * Offset of the first byte of @p buf that does not belong to well-formed
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF; a sequence cut by the end of @p buf is ill-formed), or
 * @p len when all of @p buf is UTF-8.
 */
size_t s2r_utf8_invalid_at(const uint8_t *buf, size_t len);

/** Line and column (both from 1; the column counts bytes) of offset
 *  @p at of @p buf. */
void s2r_text_position(const uint8_t *buf, size_t at, size_t *line,
                       size_t *col);

/**
 * Copy at most @p max bytes of @p src (NUL-terminated) into @p dst of
 * @p cap bytes (cap >= 1), each byte outside printable ASCII (0x20 to
 * 0x7E) replaced by '?'. @p src NULL gives "".
 */
void s2r_text_printable(char *dst, size_t cap, const char *src, size_t max);

#endif
