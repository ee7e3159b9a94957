/* server_conns.h: the connections one libmicrohttpd worker of `s2r serve`
 * holds, and the receive_timeout deadline (private).
 *
 * connection_timeout (libmicrohttpd's) is an idle timeout: every byte
 * resets it, so a client that sends one header byte a second would hold
 * its connection for ever. receive_timeout is absolute: a request (request
 * line, headers, body) must be received whole within receive_timeout of
 * its first byte. The first request's first byte is seen by the gate
 * (server_gate.h); on a keep-alive connection, the next request starts
 * when the connection's received-bytes count (TCP_INFO
 * tcpi_bytes_received) grows after the previous answer, checked after
 * the connection has been idle for a second. A connection past its
 * deadline gets a 408 answer and is shut down; libmicrohttpd then closes
 * it as a client that went away. The 408 carries an X-Request-Id and
 * writes the request's log line, as the handler's answers do (method and
 * path when its headers had arrived, else ""). Idle keep-alive
 * connections (no byte of a next request) are left to
 * connection_timeout.
 *
 * The worker's thread reports each connection's steps; the gate's thread
 * calls s2r_server_conns_sweep() a few times a second. One mutex per
 * worker. Times are CLOCK_MONOTONIC milliseconds.
 */
#ifndef S2R_SERVER_CONNS_H
#define S2R_SERVER_CONNS_H

#include <stdint.h>

#include "handler.h"

typedef struct s2r_server_conns s2r_server_conns;
typedef struct s2r_server_conn s2r_server_conn;

/** New empty set; @p h (borrowed, may be NULL: no id, no log line) makes
 *  the 408 answers' request ids and log lines. @return NULL when out of
 *  memory. */
s2r_server_conns *s2r_server_conns_new(uint32_t receive_timeout_ms,
                                       s2r_handler *h);
/** Free the set; its connections must all be closed. NULL is fine. */
void s2r_server_conns_free(s2r_server_conns *t);

/**
 * A connection starts (libmicrohttpd's MHD_CONNECTION_NOTIFY_STARTED):
 * socket @p fd, its first request's first byte at @p first_byte_ms.
 * @return the record (give it to the calls below), NULL when out of
 *         memory (the connection then has no deadline).
 */
s2r_server_conn *s2r_server_conns_open(s2r_server_conns *t, int fd,
                                       int64_t first_byte_ms);

/** The request's headers are in (first call of the request handler):
 *  its @p method and @p path (kept, as printable ASCII, for the log
 *  line of a 408). */
void s2r_server_conns_headers(s2r_server_conns *t, s2r_server_conn *c,
                              const char *method, const char *path);

/** The whole request is in (its body too): no deadline until answered. */
void s2r_server_conns_received(s2r_server_conns *t, s2r_server_conn *c);

/** The request is over (answered or abandoned): the connection waits for
 *  its next request. */
void s2r_server_conns_done(s2r_server_conns *t, s2r_server_conn *c);

/** The connection closes (MHD_CONNECTION_NOTIFY_CLOSED, before its
 *  socket is closed): forget it. NULL @p c is fine. */
void s2r_server_conns_close(s2r_server_conns *t, s2r_server_conn *c);

/**
 * Answer 408 and shut down every connection whose request is past its
 * deadline at @p now_ms; notice keep-alive requests that started.
 * @return the number of connections shut down.
 */
uint32_t s2r_server_conns_sweep(s2r_server_conns *t, int64_t now_ms);

#endif
