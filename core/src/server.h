/* server.h: the standalone HTTP server of `s2r serve` on libmicrohttpd
 * (private).
 *
 * One listening socket (bound here, SO_REUSEADDR only, so a second server
 * on the same port fails with "address in use"); an acceptor thread deals
 * the connections round-robin to N libmicrohttpd daemons, each one event
 * loop (epoll) on its own thread. (libmicrohttpd's own thread pool lets
 * one thread accept nearly every connection and leaves the others idle.)
 * A worker buffers each request body up to the handler's max_body and
 * calls s2r_handler_handle() on its thread.
 * A request whose Content-Length exceeds max_body is answered 413 before
 * its body is read; a chunked body that grows past it is discarded and
 * answered 413, and a connection that keeps sending past 16 times the
 * limit is closed. Idle and slow connections are closed after
 * connection_timeout. Malformed HTTP is answered by libmicrohttpd itself
 * (400) without reaching the handler.
 *
 * Signals are not handled here: the caller (apps/cmd_serve.c) waits for
 * SIGTERM/SIGINT and calls s2r_server_stop().
 */
#ifndef S2R_SERVER_H
#define S2R_SERVER_H

#include <stdint.h>

#include "s2r.h"
#include "handler.h"

typedef struct s2r_server s2r_server;

typedef struct s2r_server_options {
    const char *listen;            /**< "ADDR:PORT", "[V6ADDR]:PORT" or a
                                        host name and port; port 0 picks a
                                        free port (see s2r_server_port) */
    uint32_t threads;              /**< event-loop threads (workers); 0: one
                                        per CPU */
    uint32_t connection_timeout_s; /**< idle or slow connection limit;
                                        0: 30 s */
    uint32_t max_connections;      /**< open connections, shared out over
                                        the workers; 0: 1024 */
    uint32_t reserved;
    s2r_handler *handler;          /**< borrowed; outlives the server */
} s2r_server_options;

/**
 * Resolve the address, bind, listen and start the worker threads.
 * @return S2R_OK (*@p out set); S2R_EINVAL (bad address, with @p err);
 *         S2R_ERROR (cannot bind or start: address in use...); S2R_ENOMEM.
 */
int s2r_server_start(s2r_server **out, const s2r_server_options *opts,
                     s2r_error *err);

/** The bound port (useful with port 0). */
uint16_t s2r_server_port(const s2r_server *s);

/** The address text as bound, "127.0.0.1:8080" or "[::1]:8080". Valid
 *  as long as the server. */
const char *s2r_server_address(const s2r_server *s);

/** Requests being handled now (body received, answer not yet sent). */
uint32_t s2r_server_inflight(const s2r_server *s);

/**
 * Graceful stop: close the listening socket, let requests in flight
 * (body received, answer not yet sent) finish, at most @p drain_ms
 * milliseconds, then close every connection (a request still uploading
 * its body is dropped), join the threads and free @p s. NULL is fine.
 * @return the number of requests still in flight when the wait ended
 *         (0 for a clean drain).
 */
uint32_t s2r_server_stop(s2r_server *s, uint32_t drain_ms);

#endif
