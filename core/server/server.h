/* server.h: the standalone HTTP server of `s2r serve` on libmicrohttpd
 * (private).
 *
 * One listening socket (bound here, SO_REUSEADDR only, so a second server
 * on the same port fails with "address in use"); the gate's thread
 * (server_gate.h) accepts, screens the first bytes of each connection and
 * deals the connections round-robin to N libmicrohttpd daemons, each one
 * poll() event loop on its own thread. (libmicrohttpd's own thread pool
 * lets one thread accept nearly every connection and leaves the others
 * idle; its epoll loop, in 0.9.75, stalls a daemon that holds exactly 128
 * busy connections: after a batch of 128 events it waits again, up to the
 * next connection timeout, before handling them. poll() has no batch.)
 *
 * The connection limits are kept by the gate, not by libmicrohttpd: it
 * counts the connections it hands over and libmicrohttpd's "closed"
 * notifications, and answers a connection over max_connections, or over
 * max_connections_per_client from one address, itself (503 JSON, then
 * close) without handing it over. The daemons' own limit is set above
 * anything they can receive: libmicrohttpd 0.9.75 leaves a mutex locked
 * when its limit refuses a connection added with MHD_add_connection(),
 * which hangs the worker for good.
 *
 * Deadlines: connection_timeout is libmicrohttpd's idle timeout (every
 * byte resets it); receive_timeout is absolute: a request must be
 * received whole within it of its first byte, else 408 and close
 * (server_conns.h). Requests libmicrohttpd would leave unanswered are
 * answered by s2r: a request line that does not start with a method
 * (400, by the gate), more than 64 query parameters (400), Content-Length
 * values that differ or come with Transfer-Encoding (400, RFC 9112)
 * (server_request.h). These answers, the 408s and the 503s while the
 * server stops carry an X-Request-Id and write a request log line, as
 * the handler's do (s2r_handler_log_answered); only the answers to a
 * connection before any request (the gate's 503s, a 408 to silence)
 * and libmicrohttpd's own have neither.
 *
 * A worker buffers each request body up to the handler's max_body and
 * calls s2r_handler_handle() on its thread.
 * A request whose Content-Length exceeds max_body is answered 413 before
 * its body is read; a chunked body that grows past it is discarded and
 * answered 413, and a connection that keeps sending past 16 times the
 * limit is closed. Idle and slow connections are closed after
 * connection_timeout. Malformed HTTP is answered by libmicrohttpd itself
 * (400, 413, 431, 505 with its own short HTML body) without reaching the
 * handler.
 *
 * Signals are not handled here: the caller (apps/cmd_serve.c) waits for
 * SIGTERM/SIGINT and calls s2r_server_stop().
 */
#ifndef S2R_SERVER_H
#define S2R_SERVER_H

#include <stdint.h>

#include <s2r/s2r.h>
#include "config/config.h"
#include "handler.h"

typedef struct s2r_server s2r_server;

/** The [server] keys of the transport (the handler reads the others). */
typedef struct s2r_server_settings {
    const char *listen;            /**< default 127.0.0.1:8080 */
    int64_t threads;               /**< 0: one per CPU */
    int64_t connection_timeout_ms; /**< default 30 s */
    int64_t max_connections;       /**< default 1024 */
    int64_t drain_timeout_ms;      /**< default 10 s */
    int64_t receive_timeout_ms;    /**< default 10 s */
    int64_t max_connections_per_client; /**< default 64; 0: no cap */
} s2r_server_settings;

/** The option table of those keys (for help and check-config). */
const s2r_option *s2r_server_option_table(void);

/**
 * Validate the transport keys of [server] of @p ini (may be absent),
 * including the form of listen (ADDR:PORT, port 0 to 65535), and fill
 * @p out. Keys that neither this table nor s2r_handler_option_table()
 * knows are reported here, once. *@p binding_out owns the strings.
 * Problems go to @p diags with file and line.
 * @return S2R_OK; S2R_EINVAL (reported); S2R_ENOMEM.
 */
int s2r_server_settings_read(s2r_server_settings *out,
                             s2r_binding **binding_out, const s2r_ini *ini,
                             s2r_diags *diags);

/**
 * The keys of [server] the handler's pass must skip (its transport_keys):
 * the transport's own and those s2r_server_settings_read() already
 * reported as unknown. NULL-terminated; free() the array (the strings
 * are borrowed from the table and @p ini). NULL when out of memory.
 */
const char **s2r_server_skip_keys(const s2r_ini *ini);

/**
 * Split a listen address "HOST:PORT", "[V6]:PORT" or ":PORT" into
 * @p host (may become empty) and @p port (digits, 0 to 65535).
 * @return 0, or -1 when malformed or too long for the buffers.
 */
int s2r_server_split_listen(const char *listen, char *host, size_t hcap,
                            char *port, size_t pcap);

/**
 * Check the form of a listen address ("ADDR:PORT", "[V6]:PORT",
 * ":PORT"; port 0 to 65535). On failure writes the reason to @p msg.
 * @return S2R_OK or S2R_EINVAL.
 */
int s2r_server_check_listen(const char *listen, char *msg, size_t cap);

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
    uint32_t max_connections_per_client; /**< per client address (IPv6:
                                        per /64); 0: no cap */
    uint32_t receive_timeout_ms;   /**< a whole request, from its first
                                        byte; 0: 10 s */
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

/** Requests in flight now (received, answer not yet sent). */
uint32_t s2r_server_inflight(const s2r_server *s);

/** Connections open now (handed to a worker, not closed yet). */
uint32_t s2r_server_connections(const s2r_server *s);

/** What s2r_server_stop() left behind. */
typedef struct s2r_server_stop_report {
    uint32_t abandoned;   /**< requests in flight when the wait ended */
    uint32_t connections; /**< connections open when the wait ended */
    uint32_t busy;        /**< workers still inside a handler call: the
                               server was not freed and the caller must
                               end the process (_exit) without freeing
                               the handler */
    uint32_t reserved;
} s2r_server_stop_report;

/**
 * Graceful stop: close the listening socket (new connections are
 * refused), answer any request that starts from now on 503 with
 * "Connection: close", let the requests in flight (received, answer not
 * yet sent) finish, at most @p drain_ms milliseconds, then stop the
 * workers, which closes every connection (a request still uploading its
 * body is dropped: its client may be gone). A handler call still
 * running then cannot be interrupted: its worker is left running
 * (@p report->busy) and @p s is not freed. NULL is fine. @p report may be
 * NULL.
 * @return the number of requests still in flight when the wait ended
 *         (0 for a clean drain).
 */
uint32_t s2r_server_stop(s2r_server *s, uint32_t drain_ms,
                         s2r_server_stop_report *report);

#endif
