/* server_gate.h: the acceptor of `s2r serve` (private).
 *
 * One thread accepts the connections of the listening socket and holds
 * each new connection until the first bytes of its request line show an
 * HTTP method followed by a space (RFC 9112 section 3: method = token).
 * Only then is it handed over to a libmicrohttpd worker. On the way it
 * keeps the connection limits and answers, itself, what the workers
 * should never see (JSON bodies, then close):
 *
 *   503  max_connections open (idle keep-alive ones included), or
 *        max_connections_per_client open from the client's address
 *        (see server_clients.h), with Retry-After: 1
 *   400  the request line does not start with a method and a space
 *        (binary junk, a TLS handshake sent to the plain-HTTP port):
 *        answered at once, not left to wait for a line end
 *   408  no method within receive_timeout of the connection's first byte,
 *        or no byte within connection_timeout
 *
 * The 400, and the 408 to a connection that sent a byte, carry an
 * X-Request-Id and write a request log line (method and path "": no
 * request line was read), as the handler's answers do. The 503s and the
 * 408 to a connection that sent nothing answer a connection before any
 * request: no id, no request line (a flood of them would flood the log);
 * the once-a-second events below count them.
 *
 * The same thread calls the server's tick() a few times a second, which
 * enforces receive_timeout on the connections the workers hold (see
 * server_conns.h). Refusals are logged at most once a second per kind.
 */
#ifndef S2R_SERVER_GATE_H
#define S2R_SERVER_GATE_H

#include <stdint.h>
#include <sys/socket.h>

#include "handler.h"
#include "server_clients.h"

typedef struct s2r_server_gate s2r_server_gate;

/**
 * Hand connection @p fd (non-blocking) over to a worker. @p first_byte_ms
 * is the monotonic time (ms) its first byte arrived.
 * @return 0 (the worker owns it: it reports the close with
 *         s2r_server_gate_closed()), or -1 (refused: @p fd is already
 *         closed).
 */
typedef int (*s2r_server_gate_handoff_fn)(void *payload, int fd,
                                          const struct sockaddr *sa,
                                          socklen_t len,
                                          int64_t first_byte_ms);
/** Called every tick_ms on the gate's thread with the monotonic time.
 *  @return the requests it answered 408 (past receive_timeout), which
 *  the gate's `receive_timeout` event counts with its own. */
typedef uint32_t (*s2r_server_gate_tick_fn)(void *payload, int64_t now_ms);

typedef struct s2r_server_gate_options {
    int listen_fd;                /**< borrowed: bound and listening */
    uint32_t max_connections;     /**< open at most, all clients */
    uint32_t max_per_client;      /**< per client address; 0: no cap */
    uint32_t receive_timeout_ms;  /**< first byte to method */
    uint32_t idle_timeout_ms;     /**< accept to first byte */
    uint32_t tick_ms;             /**< period of tick (ms) */
    uint32_t reserved;
    s2r_server_gate_handoff_fn handoff;
    s2r_server_gate_tick_fn tick; /**< may be NULL */
    void *payload;
    s2r_handler *handler;         /**< request ids and log lines of the
                                       gate's 400 and 408; may be NULL */
} s2r_server_gate_options;

/**
 * Start the gate's thread.
 * @return S2R_OK (*@p out set); S2R_ENOMEM; S2R_ERROR (no thread, no
 *         epoll instance).
 */
int s2r_server_gate_start(s2r_server_gate **out,
                          const s2r_server_gate_options *o);

/**
 * Stop accepting: the thread ends and the connections it still holds are
 * closed (the listening socket is the caller's to close). NULL is fine.
 * The connections handed over stay counted until reported closed; the
 * gate is freed by s2r_server_gate_free().
 */
void s2r_server_gate_stop(s2r_server_gate *g);
void s2r_server_gate_free(s2r_server_gate *g);

/**
 * A connection handed over is closed (called from any thread, once per
 * connection, with the client address it was accepted from).
 */
void s2r_server_gate_closed(s2r_server_gate *g, const struct sockaddr *sa);

/** Connections open now: held by the gate or handed over, not closed. */
uint32_t s2r_server_gate_open(const s2r_server_gate *g);

/** What the first bytes of a request line say (s2r_server_gate_screen). */
#define S2R_GATE_MORE 0 /**< a method so far, no space yet: wait */
#define S2R_GATE_OK 1   /**< method and space */
#define S2R_GATE_BAD 2  /**< not a request line */

/**
 * Screen the first @p n bytes a connection sent: empty lines (CRLF or
 * LF, RFC 9112 section 2.2) may come first, then a method of 1 to 32
 * token characters (RFC 9110 section 5.6.2) and a space.
 * @return S2R_GATE_OK, S2R_GATE_MORE or S2R_GATE_BAD.
 */
int s2r_server_gate_screen(const char *buf, size_t n);

/**
 * Write a whole small answer (status line, JSON body, Content-Type,
 * Content-Length, Connection: close, and @p extra_header when not NULL,
 * e.g. "Retry-After: 1") to @p fd without blocking, then close @p fd
 * so that the client reads the answer before the end of the stream.
 */
void s2r_server_answer_and_close(int fd, const char *status_line,
                                 const char *extra_header,
                                 const char *json);

#endif
