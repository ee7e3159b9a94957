/* server_request.h: checks of `s2r serve` on a request's framing and size
 * that libmicrohttpd 0.9.75 does not make, or makes without answering
 * (private).
 *
 *   - Query parameters: libmicrohttpd stores each one in the connection's
 *     memory (32 KiB); when they do not fit (about 600 of them) it queues
 *     a 431 answer and then goes on waiting for header lines, so the
 *     client gets nothing until the connection times out. s2r looks at the
 *     raw target first (libmicrohttpd's URI log callback, called before
 *     it parses the query), and a target with more than
 *     S2R_SERVER_MAX_PARAMS parameters has its query cut (libmicrohttpd
 *     then parses an empty one) and is answered 400.
 *   - Content-Length (RFC 9112 section 6.3): several Content-Length
 *     header lines, or a list of values, that do not all say the same
 *     number are an unrecoverable framing error: 400 and close.
 *     libmicrohttpd uses the first one. A request with both
 *     Transfer-Encoding and Content-Length is refused likewise (RFC 9112
 *     section 6.1 allows it and asks to close the connection).
 *   - Header field names (RFC 9112 section 5.1): a server must refuse,
 *     with 400, a request with whitespace between a field name and its
 *     colon ("Content-Length : 5"). libmicrohttpd 0.9.75, strict or not,
 *     keeps the name with its blank: the request had no Content-Length
 *     for it, and its body was read as the next request. Any blank in a
 *     name is refused likewise (a field name is a token): 400 and close.
 */
#ifndef S2R_SERVER_REQUEST_H
#define S2R_SERVER_REQUEST_H

#include <microhttpd.h>
#include <stddef.h>

/** Most query parameters accepted (s2r reads two: format, dry_run). */
#define S2R_SERVER_MAX_PARAMS 64

/**
 * Count the parameters of the query of @p target (the text after the
 * first '?', '&'-separated; an empty query has none). When there are
 * more than S2R_SERVER_MAX_PARAMS, cut the query in place to an empty
 * one (the '?' stays) so that libmicrohttpd does not parse it.
 * @p target is libmicrohttpd's own buffer, handed to the URI log callback.
 * @return 1 when the query was cut (answer 400), else 0.
 */
int s2r_server_cut_query(char *target);

/** Framing verdicts of s2r_server_check_framing(). */
#define S2R_FRAMING_OK 0
#define S2R_FRAMING_CONFLICTING_LENGTH 1 /**< Content-Length values differ */
#define S2R_FRAMING_LENGTH_AND_CHUNKED 2 /**< Transfer-Encoding and
                                              Content-Length together */
#define S2R_FRAMING_BLANK_IN_NAME 3      /**< a space or tab in a header
                                              field name */

/** Look at the header field names of @p c and at its Content-Length and
 *  Transfer-Encoding header lines (all of them, not only the first). */
int s2r_server_check_framing(struct MHD_Connection *c);

/** The JSON text of the 400 answer for a framing verdict (static):
 *  {"error": s2r_server_framing_reason(verdict)}. */
const char *s2r_server_framing_error(int verdict);

/** The message of that answer, for the log line (static). */
const char *s2r_server_framing_reason(int verdict);

#endif
