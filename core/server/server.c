/* server.c: `s2r serve` on libmicrohttpd (see server.h).
 *
 * s2r_server_start() is about 110 lines on purpose: it undoes every step
 * taken (address, listener, workers, acceptor) when a later one fails,
 * which reads best in one place. */
#include "server.h"
#include "server_conns.h"
#include "server_gate.h"
#include "server_request.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A connection that keeps sending a body past this many times max_body is
 * closed instead of answered. */
#define DISCARD_FACTOR 16

/* One listening socket, read by the gate's thread (server_gate.h), which
 * hands the connections round-robin to N libmicrohttpd daemons, each
 * running one poll() event loop on its own thread. (A thread pool of one
 * daemon lets the first thread accept nearly every connection, leaving
 * the others idle; the epoll loop of libmicrohttpd 0.9.75 stalls when a
 * daemon holds exactly 128 busy connections: after a batch of 128 events
 * it waits again, up to the next connection timeout, before handling
 * them.) */
#define MAX_WORKERS 1024

/* The daemons' own connection limit is max_connections plus this: the
 * gate never hands a daemon more than max_connections, so MHD's limit
 * (whose refusal path deadlocks in 0.9.75 for connections added with
 * MHD_add_connection) is never reached. The margin covers a connection
 * whose "closed" notification came before MHD's own count went down. */
#define MHD_LIMIT_MARGIN 64

/* How often the gate's thread looks for requests past receive_timeout. */
#define SWEEP_MS 250

/* One libmicrohttpd daemon and its thread. */
typedef struct worker {
    s2r_server *s;
    struct MHD_Daemon *d;
    s2r_server_conns *conns; /* its connections and their deadlines */
    int32_t busy; /* atomic: inside s2r_handler_handle() */
    int32_t left; /* still running after the stop (busy at the deadline) */
} worker;

struct s2r_server {
    worker *w;
    uint32_t n;
    uint32_t next;  /* gate's thread only: the next worker to get one */
    int listen_fd;
    s2r_server_gate *gate;
    int32_t stopping; /* atomic: no new request; answers close */
    int32_t closing;  /* atomic: drain over; no handler call starts */
    s2r_handler *handler;
    size_t max_body;
    uint32_t inflight;    /* atomic: requests received, answer not sent */
    uint32_t n_first;     /* entries of first_byte */
    int64_t *first_byte;  /* by socket: first byte's time (gate to worker) */
    uint16_t port;
    char address[INET6_ADDRSTRLEN + 16];
};

/* Per-request state (MHD's con_cls, made by the URI log callback). */
typedef struct req_buf {
    char *body;
    size_t len, cap;
    size_t seen;       /* bytes received, kept or not */
    size_t declared;   /* its Content-Length (at most max_body), or 0 */
    int32_t truncated; /* more than max_body arrived */
    int32_t counted;   /* in s2r_server.inflight */
    int32_t answered;  /* answered without the handler: drop the body */
    int32_t cut_query; /* more than S2R_SERVER_MAX_PARAMS parameters */
    int32_t started;   /* the handler saw its headers */
    int32_t queued;    /* an answer is queued: its log line is written */
    char id[S2R_HANDLER_ID_MAX]; /* that answer's request id */
} req_buf;

/* ------------------------------------------------------------------ */
/* MHD callbacks                                                       */
/* ------------------------------------------------------------------ */

static const char *lookup_header(void *payload, const char *name)
{
    return MHD_lookup_connection_value(payload, MHD_HEADER_KIND, name);
}

static const char *lookup_param(void *payload, const char *name)
{
    return MHD_lookup_connection_value(payload, MHD_GET_ARGUMENT_KIND, name);
}

static void client_ip(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    s2r_server_addr_text(ci ? ci->client_addr : NULL, buf, cap);
}

static enum MHD_Result send_answer(struct MHD_Connection *c,
                                   s2r_handler_response *hr, int close)
{
    struct MHD_Response *resp;
    if (hr->body) {
        resp = MHD_create_response_from_buffer(hr->body_len, hr->body,
                                               MHD_RESPMEM_MUST_FREE);
        if (resp)
            hr->body = NULL; /* MHD frees it */
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            hr->content_type ? hr->content_type
                                             : "application/json");
    for (uint32_t i = 0; i < hr->n_headers; i++)
        MHD_add_response_header(resp, hr->headers[i].name,
                                hr->headers[i].value);
    if (close) /* stopping: no further request on this connection */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret =
        MHD_queue_response(c, (unsigned int)hr->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static int is_set(const int32_t *flag)
{
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST) != 0;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An answer of @p rb's request is queued, its log line written with
 * request id @p id: on_completed() says so if it is not sent whole. */
static void note_queued(req_buf *rb, const char *id)
{
    rb->queued = 1;
    snprintf(rb->id, sizeof(rb->id), "%s", id);
}

/* A static JSON answer {"error": @p reason} (@p body) that closes the
 * connection, made here rather than by the handler: to a request that
 * starts while the server stops (503, Retry-After), or to one refused
 * before its body (400). Like the handler's answers it carries an
 * X-Request-Id and writes the request's log line. */
static enum MHD_Result answer_close(worker *w, struct MHD_Connection *c,
                                    req_buf *rb, const char *url,
                                    const char *method, unsigned int status,
                                    const char *body, const char *reason)
{
    int64_t t0 = mono_us();
    s2r_handler *h = w->s->handler;
    char id[S2R_HANDLER_ID_MAX];
    s2r_handler_request_id(h, id, sizeof(id));
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    MHD_add_response_header(resp, "X-Request-Id", id);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES)
        note_queued(rb, id);
    char ip[INET6_ADDRSTRLEN];
    client_ip(c, ip, sizeof(ip));
    s2r_handler_answered a = {.method = method,
                              .path = url,
                              .client_ip = ip[0] ? ip : NULL,
                              .error = reason,
                              .status = (int32_t)status,
                              .duration_us = mono_us() - t0,
                              .bytes_out = strlen(body)};
    s2r_handler_log_answered(h, id, &a);
    return ret;
}

/* The connection's record (server_conns.h), or NULL. */
static s2r_server_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum MHD_Result run_handler(worker *w, struct MHD_Connection *c,
                                   const char *url, const char *method,
                                   req_buf *rb)
{
    s2r_server *s = w->s;
    s2r_server_conns_received(w->conns, conn_of(c));
    /* in flight from here (request received) until its answer is sent or
     * the connection dies: the drain on stop waits for these. A request
     * still uploading is not waited for: its client may be gone. */
    if (!rb->counted) {
        rb->counted = 1;
        __atomic_add_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
    }
    /* once the drain is over no handler call starts: s2r_server_stop()
     * looks at busy after setting closing, we look at closing after
     * setting busy, so a call it did not see never starts */
    __atomic_store_n(&w->busy, 1, __ATOMIC_SEQ_CST);
    if (is_set(&s->closing)) {
        __atomic_store_n(&w->busy, 0, __ATOMIC_SEQ_CST);
        return MHD_NO;
    }
    char ip[INET6_ADDRSTRLEN];
    client_ip(c, ip, sizeof(ip));
    s2r_handler_request req = {
        .method = method,
        .path = url,
        .query = NULL,
        .param = lookup_param,
        .param_payload = c,
        .header = lookup_header,
        .header_payload = c,
        .body = (const uint8_t *)rb->body,
        .body_len = rb->len,
        .body_truncated = rb->truncated,
        .client_ip = ip[0] ? ip : NULL,
        .request_id = NULL};
    s2r_handler_response hr;
    s2r_handler_handle(s->handler, &req, &hr);
    __atomic_store_n(&w->busy, 0, __ATOMIC_SEQ_CST);
    enum MHD_Result ret = send_answer(c, &hr, is_set(&s->stopping));
    if (ret == MHD_YES)
        note_queued(rb, hr.request_id);
    s2r_handler_response_free(&hr);
    return ret;
}

/* Whether the request on @p c says a body follows (Transfer-Encoding, or
 * a Content-Length other than 0). */
static int declares_body(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return MHD_lookup_connection_value(
               c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
           (cl && strcmp(cl, "0") != 0);
}

/* The request's headers are in: answer now what needs no body. Returns
 * MHD_YES to go on reading the request. */
static enum MHD_Result on_headers(worker *w, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  req_buf *rb)
{
    s2r_server *s = w->s;
    s2r_server_conns_headers(w->conns, conn_of(c), method, url);
    if (is_set(&s->stopping)) { /* a request that starts now */
        rb->answered = 1;
        return answer_close(w, c, rb, url, method, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "{\"error\":\"the server is shutting down\"}",
                            "the server is shutting down");
    }
    if (rb->cut_query) {
        rb->answered = 1;
        return answer_close(w, c, rb, url, method, MHD_HTTP_BAD_REQUEST,
                            "{\"error\":\"Bad request: more than 64 query "
                            "parameters\"}",
                            "Bad request: more than 64 query parameters");
    }
    int framing = s2r_server_check_framing(c);
    if (framing != S2R_FRAMING_OK) {
        rb->answered = 1;
        return answer_close(w, c, rb, url, method, MHD_HTTP_BAD_REQUEST,
                            s2r_server_framing_error(framing),
                            s2r_server_framing_reason(framing));
    }
    /* only POST has a body to read: another request is answered once
     * libmicrohttpd has its end (an answer queued before it closes the
     * connection), or at once, and closed, when it says it has a body */
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return declares_body(c) ? run_handler(w, c, url, method, rb)
                                : MHD_YES;
    /* refuse a declared oversized body before reading it */
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > s->max_body) {
            rb->truncated = 1;
            return run_handler(w, c, url, method, rb);
        }
        if (end != cl)
            rb->declared = (size_t)n;
    }
    return MHD_YES;
}

/* Keep a piece of the body (up to max_body; past it, count and drop). */
static enum MHD_Result on_body(s2r_server *s, req_buf *rb,
                               const char *data, size_t n)
{
    rb->seen += n;
    if (rb->truncated || rb->len + n > s->max_body) {
        rb->truncated = 1;
        /* discard; close connections that do not stop */
        return rb->seen > DISCARD_FACTOR * s->max_body ? MHD_NO : MHD_YES;
    }
    if (rb->len + n + 1 > rb->cap) {
        /* the declared length when it holds this piece: a script is
         * often under a kilobyte, which the allocator serves from its
         * per-thread cache (4 KiB every request took its slow path) */
        size_t cap = rb->cap              ? rb->cap
                     : rb->declared >= n ? rb->declared + 1
                                          : 4096;
        while (cap < rb->len + n + 1)
            cap *= 2;
        char *nb = realloc(rb->body, cap);
        if (!nb)
            return MHD_NO;
        rb->body = nb;
        rb->cap = cap;
    }
    memcpy(rb->body + rb->len, data, n);
    rb->len += n;
    rb->body[rb->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    worker *w = cls;
    req_buf *rb = *con_cls;
    if (!rb) { /* the URI log callback failed to allocate */
        return MHD_NO;
    }
    if (!rb->started) {
        rb->started = 1;
        return on_headers(w, c, url, method, rb);
    }
    if (rb->answered) { /* refused before its body: drop what comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return on_body(w->s, rb, upload_data, n);
    }
    return run_handler(w, c, url, method, rb);
}

/* libmicrohttpd's URI log callback: called once the request line is
 * read, before the query is parsed; its answer becomes the request's
 * con_cls. Too many query parameters are cut here (server_request.h). */
static void *on_request_line(void *cls, const char *uri,
                             struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    int cut = s2r_server_cut_query((char *)uri);
    req_buf *rb = s2r_zalloc(1, sizeof(*rb));
    if (rb)
        rb->cut_query = cut;
    return rb;
}

/* Why libmicrohttpd ended a request other than by sending its answer;
 * *@p failed: it failed to send it. Otherwise the client went away or
 * stopped reading, or the server stopped (whose "stopped" line counts
 * what it abandoned). */
static const char *termination_reason(enum MHD_RequestTerminationCode toe,
                                      bool *failed)
{
    *failed = false;
    switch (toe) {
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "connection timed out";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "server stopped";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "connection broken";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client closed the connection";
    default: /* an internal error: the answer's header did not fit in the
              * connection's memory, say */
        *failed = true;
        return "libmicrohttpd could not send it";
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    worker *w = cls;
    s2r_server *s = w->s;
    s2r_server_conns_done(w->conns, conn_of(c));
    req_buf *rb = *con_cls;
    if (!rb)
        return;
    if (rb->counted)
        __atomic_sub_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
    /* the request's log line gave a status the client did not get */
    if (rb->queued && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        bool failed;
        const char *fields[] = {"id", rb->id, "reason",
                                termination_reason(toe, &failed)};
        s2r_handler_log_event(failed ? "warn" : "info",
                              "answer_not_sent",
                              "the answer in this request's log line was "
                              "not sent whole", fields, 2);
    }
    free(rb->body);
    free(rb);
    *con_cls = NULL;
}

/* A connection starts (its record, for receive_timeout) or closes (the
 * gate's counts of open connections go down). */
static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    worker *w = cls;
    s2r_server *s = w->s;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = ci ? ci->connect_fd : -1;
        int64_t first = fd >= 0 && (uint32_t)fd < s->n_first
                            ? __atomic_load_n(&s->first_byte[fd],
                                              __ATOMIC_ACQUIRE)
                            : 0;
        *socket_context = fd >= 0 ? s2r_server_conns_open(w->conns, fd, first)
                                  : NULL;
        return;
    }
    s2r_server_conns_close(w->conns, *socket_context);
    *socket_context = NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    s2r_server_gate_closed(s->gate, ci ? ci->client_addr : NULL);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    s2r_handler_log_event("warn", "http", msg, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* start and stop                                                      */
/* ------------------------------------------------------------------ */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The gate hands a connection over: deal it to the next worker. */
static int hand_over(void *payload, int fd, const struct sockaddr *sa,
                     socklen_t len, int64_t first_byte_ms)
{
    s2r_server *s = payload;
    if (fd >= 0 && (uint32_t)fd < s->n_first)
        __atomic_store_n(&s->first_byte[fd], first_byte_ms,
                         __ATOMIC_RELEASE);
    worker *w = &s->w[s->next];
    s->next = (s->next + 1) % s->n;
    /* on failure MHD closes the socket (no "closed" notification) */
    return MHD_add_connection(w->d, fd, sa, len) == MHD_YES ? 0 : -1;
}

/* Every SWEEP_MS on the gate's thread: requests past receive_timeout
 * (answered 408; their number goes to the gate's receive_timeout
 * event); the log lines kept meanwhile (s2r_handler_log_buffer). */
static uint32_t sweep(void *payload, int64_t now_ms)
{
    s2r_server *s = payload;
    uint32_t cut = 0;
    for (uint32_t i = 0; i < s->n; i++)
        cut += s2r_server_conns_sweep(s->w[i].conns, now_ms);
    s2r_handler_log_flush();
    return cut;
}

/* Bind and listen on @p ai. Returns the socket or -1 (errno set). */
static int open_listener(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void stop_daemons(s2r_server *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->w[i].d && !s->w[i].left) {
            MHD_stop_daemon(s->w[i].d);
            s->w[i].d = NULL;
        }
}

/* Free what start made (the workers stopped, the gate too). */
static void free_server(s2r_server *s)
{
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s2r_server_gate_free(s->gate);
    for (uint32_t i = 0; s->w && i < s->n; i++)
        s2r_server_conns_free(s->w[i].conns);
    free(s->first_byte);
    free(s->w);
    free(s);
}

/* Let the process open max_conns sockets and some more; returns the
 * soft limit now (descriptors are below it). */
static uint32_t raise_fd_limit(uint32_t max_conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rlim_t want = (rlim_t)max_conns + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
                          ? want
                          : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20)
               ? 1u << 20
               : (uint32_t)rl.rlim_cur;
}

/* Start the n libmicrohttpd daemons (poll loops, no listening socket of
 * their own). Returns S2R_OK or S2R_ERROR/S2R_ENOMEM with @p err. */
static int start_workers(s2r_server *s, uint32_t n, int family,
                         const s2r_server_options *opts, s2r_error *err)
{
    unsigned int timeout = opts->connection_timeout_s
                               ? opts->connection_timeout_s
                               : 30;
    unsigned int maxconn = opts->max_connections ? opts->max_connections
                                                 : 1024;
    uint32_t rx_ms = opts->receive_timeout_ms ? opts->receive_timeout_ms
                                              : 10000;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                         MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET |
                         MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    for (uint32_t i = 0; i < n; i++) {
        worker *w = &s->w[i];
        w->s = s;
        if (!(w->conns = s2r_server_conns_new(rx_ms, s->handler)))
            return err->code = S2R_ENOMEM;
        s->n = i + 1;
        w->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, w,
            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout,
            MHD_OPTION_CONNECTION_LIMIT, maxconn + MHD_LIMIT_MARGIN,
            MHD_OPTION_URI_LOG_CALLBACK, on_request_line, w,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
            /* RFC 9112 section 3.2: 400 for an HTTP/1.1 request without
             * Host, which libmicrohttpd accepts unless told to be strict
             * (a blank in a field name, section 5.1, it accepts even
             * then: s2r_server_check_framing() refuses it) */
            MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
            MHD_OPTION_END);
        if (!w->d) {
            snprintf(err->message, sizeof(err->message),
                     "cannot start HTTP worker %u of %u", i + 1, n);
            return err->code = S2R_ERROR;
        }
    }
    return S2R_OK;
}

/* The bound address as text, and its port. */
static void note_address(s2r_server *s, int family)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    char numeric[INET6_ADDRSTRLEN] = "?";
    if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET) {
            struct sockaddr_in *b4 = (struct sockaddr_in *)&bound;
            inet_ntop(AF_INET, &b4->sin_addr, numeric, sizeof(numeric));
            s->port = ntohs(b4->sin_port);
        } else {
            struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&bound;
            inet_ntop(AF_INET6, &b6->sin6_addr, numeric, sizeof(numeric));
            s->port = ntohs(b6->sin6_port);
        }
    }
    snprintf(s->address, sizeof(s->address),
             family == AF_INET6 ? "[%s]:%u" : "%s:%u", numeric,
             (unsigned)s->port);
}

/* Start the gate on the listening socket. */
static int start_gate(s2r_server *s, const s2r_server_options *opts,
                      s2r_error *err)
{
    s2r_server_gate_options go = {
        .listen_fd = s->listen_fd,
        .max_connections = opts->max_connections ? opts->max_connections
                                                 : 1024,
        .max_per_client = opts->max_connections_per_client,
        .receive_timeout_ms = opts->receive_timeout_ms
                                  ? opts->receive_timeout_ms
                                  : 10000,
        .idle_timeout_ms = (opts->connection_timeout_s
                                ? opts->connection_timeout_s
                                : 30) * 1000u,
        .tick_ms = SWEEP_MS,
        .handoff = hand_over,
        .tick = sweep,
        .payload = s,
        .handler = s->handler};
    int rc = s2r_server_gate_start(&s->gate, &go);
    if (rc != S2R_OK)
        snprintf(err->message, sizeof(err->message),
                 "cannot start the accepting thread");
    return err->code = rc;
}

int s2r_server_start(s2r_server **out, const s2r_server_options *opts,
                     s2r_error *err)
{
    *out = NULL;
    const char *listen = opts->listen ? opts->listen : "127.0.0.1:8080";
    char host[256], port[8];
    if (s2r_server_split_listen(listen, host, sizeof(host), port,
                                sizeof(port)) != 0) {
        s2r_server_check_listen(listen, err->message, sizeof(err->message));
        return err->code = S2R_EINVAL;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err->message, sizeof(err->message), "%s: %s", listen,
                 gai ? gai_strerror(gai) : "no address");
        return err->code = S2R_EINVAL;
    }
    s2r_server *s = calloc(1, sizeof(*s));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t n = opts->threads ? opts->threads
                               : (uint32_t)(ncpu > 0 ? ncpu : 1);
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    uint32_t nfd = raise_fd_limit(opts->max_connections
                                      ? opts->max_connections
                                      : 1024);
    if (!s || !(s->w = calloc(n, sizeof(*s->w))) ||
        !(s->first_byte = calloc(nfd ? nfd : 1, sizeof(int64_t)))) {
        if (s)
            free(s->w);
        free(s);
        freeaddrinfo(ai);
        return err->code = S2R_ENOMEM;
    }
    s->n_first = nfd;
    s->handler = opts->handler;
    s->max_body = s2r_handler_max_body(opts->handler);
    s->listen_fd = open_listener(ai);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (s->listen_fd < 0) {
        snprintf(err->message, sizeof(err->message), "cannot listen on %s: %s",
                 listen, strerror(errno));
        free_server(s);
        return err->code = S2R_ERROR;
    }
    if (start_workers(s, n, family, opts, err) != S2R_OK ||
        start_gate(s, opts, err) != S2R_OK) {
        stop_daemons(s);
        free_server(s);
        return err->code;
    }
    note_address(s, family);
    *out = s;
    return S2R_OK;
}

uint16_t s2r_server_port(const s2r_server *s)
{
    return s->port;
}

const char *s2r_server_address(const s2r_server *s)
{
    return s->address;
}

uint32_t s2r_server_inflight(const s2r_server *s)
{
    return __atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST);
}

uint32_t s2r_server_connections(const s2r_server *s)
{
    return s2r_server_gate_open(s->gate);
}

uint32_t s2r_server_stop(s2r_server *s, uint32_t drain_ms,
                         s2r_server_stop_report *report)
{
    s2r_server_stop_report rep = {0};
    if (!s) {
        if (report)
            *report = rep;
        return 0;
    }
    /* 1. stop accepting: stop the gate and close the socket (new
     *    connections are refused by the kernel from now on); requests
     *    that start from now on are answered 503 */
    __atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
    s2r_server_gate_stop(s->gate);
    close(s->listen_fd);
    s->listen_fd = -1;
    /* 2. let the requests in flight finish, at most drain_ms */
    int64_t t0 = monotonic_ms();
    while (s2r_server_inflight(s) > 0 &&
           monotonic_ms() - t0 < (int64_t)drain_ms) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* 3. no handler call starts any more; a worker inside one cannot be
     *    stopped (MHD_stop_daemon would wait for it): leave it running */
    __atomic_store_n(&s->closing, 1, __ATOMIC_SEQ_CST);
    rep.abandoned = s2r_server_inflight(s);
    rep.connections = s2r_server_connections(s);
    for (uint32_t i = 0; i < s->n; i++)
        if (__atomic_load_n(&s->w[i].busy, __ATOMIC_SEQ_CST)) {
            s->w[i].left = 1;
            rep.busy++;
        }
    /* 4. stop the other workers: this closes their connections */
    stop_daemons(s);
    uint32_t left = rep.abandoned;
    if (report)
        *report = rep;
    if (rep.busy)
        return left; /* still in use by the busy workers: not freed */
    free_server(s);
    return left;
}
