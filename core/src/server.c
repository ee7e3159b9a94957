/* server.c: `s2r serve` on libmicrohttpd (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
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

/* One listening socket, read by an acceptor thread that hands the
 * connections round-robin to N libmicrohttpd daemons, each running one
 * event-loop thread (a thread pool of one daemon lets the first thread
 * accept nearly every connection, leaving the others idle). */
#define MAX_WORKERS 1024

/* The daemons' own connection limit is max_connections plus this: the
 * acceptor never hands a daemon more than max_connections, so MHD's limit
 * (whose refusal path deadlocks in 0.9.75 for connections added with
 * MHD_add_connection) is never reached. The margin covers a connection
 * whose "closed" notification came before MHD's own count went down. */
#define MHD_LIMIT_MARGIN 64

/* At most one "connection limit" log line per this many seconds. */
#define LIMIT_LOG_INTERVAL_S 1

/* One libmicrohttpd daemon and its thread. */
typedef struct worker {
    s2r_server *s;
    struct MHD_Daemon *d;
    int32_t busy; /* atomic: inside s2r_handler_handle() */
    int32_t left; /* still running after the stop (busy at the deadline) */
} worker;

struct s2r_server {
    worker *w;
    uint32_t n;
    int listen_fd;
    pthread_t acceptor;
    int32_t acceptor_running;
    int32_t stopping; /* atomic: no new request; answers close */
    int32_t closing;  /* atomic: drain over; no handler call starts */
    s2r_handler *handler;
    size_t max_body;
    uint32_t inflight;    /* atomic: requests received, answer not sent */
    uint32_t open;        /* atomic: connections handed over, not closed */
    uint32_t max_conns;
    uint16_t port;
    char address[INET6_ADDRSTRLEN + 16];
};

/* Per-request state (MHD's con_cls). */
typedef struct req_buf {
    char *body;
    size_t len, cap;
    size_t seen;       /* bytes received, kept or not */
    int32_t truncated; /* more than max_body arrived */
    int32_t counted;   /* in s2r_server.inflight */
    int32_t answered;  /* answered without the handler: drop the body */
    int32_t pad;
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
    buf[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
                      (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)cap);
    }
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

/* The answer to a request that starts while the server stops. */
static enum MHD_Result answer_stopping(struct MHD_Connection *c)
{
    static const char body[] =
        "{\"error\":\"the server is shutting down\"}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret =
        MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result run_handler(worker *w, struct MHD_Connection *c,
                                   const char *url, const char *method,
                                   req_buf *rb)
{
    s2r_server *s = w->s;
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
    s2r_handler_response_free(&hr);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    worker *w = cls;
    s2r_server *s = w->s;
    req_buf *rb = *con_cls;
    if (!rb) {
        rb = calloc(1, sizeof(*rb));
        if (!rb)
            return MHD_NO;
        *con_cls = rb;
        if (is_set(&s->stopping)) { /* a request that starts now */
            rb->answered = 1;
            return answer_stopping(c);
        }
        /* only POST has a body to wait for: answer anything else now */
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return run_handler(w, c, url, method, rb);
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
        }
        return MHD_YES;
    }
    if (rb->answered) { /* refused while stopping: drop what comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        rb->seen += n;
        if (rb->truncated || rb->len + n > s->max_body) {
            rb->truncated = 1;
            /* discard; close connections that do not stop */
            return rb->seen > DISCARD_FACTOR * s->max_body ? MHD_NO
                                                           : MHD_YES;
        }
        if (rb->len + n + 1 > rb->cap) {
            size_t cap = rb->cap ? rb->cap : 4096;
            while (cap < rb->len + n + 1)
                cap *= 2;
            char *nb = realloc(rb->body, cap);
            if (!nb)
                return MHD_NO;
            rb->body = nb;
            rb->cap = cap;
        }
        memcpy(rb->body + rb->len, upload_data, n);
        rb->len += n;
        rb->body[rb->len] = '\0';
        return MHD_YES;
    }
    return run_handler(w, c, url, method, rb);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    s2r_server *s = ((worker *)cls)->s;
    req_buf *rb = *con_cls;
    if (!rb)
        return;
    if (rb->counted)
        __atomic_sub_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
    free(rb->body);
    free(rb);
    *con_cls = NULL;
}

/* The acceptor's count of open connections goes down here. */
static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)c;
    (void)socket_context;
    s2r_server *s = ((worker *)cls)->s;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        __atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
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

/* Answer a connection over the limit ourselves and close it. */
static void refuse_connection(int fd)
{
    static const char answer[] =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 37\r\n"
        "Retry-After: 1\r\n"
        "Connection: close\r\n"
        "\r\n"
        "{\"error\":\"too many open connections\"}";
    ssize_t w = send(fd, answer, sizeof(answer) - 1,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    /* read what already came (non-blocking), so that close() sends FIN
     * rather than a reset that could destroy the answer */
    char sink[4096];
    for (int i = 0; i < 16; i++)
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    shutdown(fd, SHUT_WR);
    close(fd);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Accept connections and deal them out to the daemons in turn, at most
 * max_conns open at once (counted here, uncounted by on_connection). */
static void *acceptor_main(void *arg)
{
    s2r_server *s = arg;
    uint32_t next = 0;
    uint64_t refused = 0;
    int64_t last_log = 0;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (is_set(&s->stopping)) {
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL); /* out of descriptors: let some close */
            } else if (errno == EBADF || errno == EINVAL ||
                       errno == ENOTSOCK) {
                break; /* the socket is gone */
            }
            continue; /* EINTR, ECONNABORTED, ... */
        }
        uint32_t open = __atomic_add_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
        if (open > s->max_conns) {
            __atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
            refuse_connection(fd);
            refused++;
            int64_t now = monotonic_ms();
            if (now - last_log >= LIMIT_LOG_INTERVAL_S * 1000) {
                char nmax[16], nref[24];
                snprintf(nmax, sizeof(nmax), "%u", s->max_conns);
                snprintf(nref, sizeof(nref), "%llu",
                         (unsigned long long)refused);
                const char *f[] = {"max_connections", nmax, "refused",
                                   nref};
                s2r_handler_log_event(
                    "warn", "connection_limit",
                    "max_connections open: new connections answered 503",
                    f, 2);
                last_log = now;
                refused = 0;
            }
            continue;
        }
        /* on failure MHD closes the socket (no "closed" notification) */
        if (MHD_add_connection(s->w[next].d, fd, (const struct sockaddr *)&sa,
                               len) != MHD_YES)
            __atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
        next = (next + 1) % s->n;
    }
    return NULL;
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

/* Let the process open max_conns sockets and some more. */
static void raise_fd_limit(uint32_t max_conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)max_conns + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
                          ? want
                          : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
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
    if (!s || !(s->w = calloc(n, sizeof(*s->w)))) {
        free(s);
        freeaddrinfo(ai);
        return err->code = S2R_ENOMEM;
    }
    s->listen_fd = -1;
    s->handler = opts->handler;
    s->max_body = s2r_handler_max_body(opts->handler);
    unsigned int timeout = opts->connection_timeout_s
                               ? opts->connection_timeout_s
                               : 30;
    unsigned int maxconn = opts->max_connections ? opts->max_connections
                                                 : 1024;
    s->max_conns = maxconn;
    raise_fd_limit(maxconn);

    s->listen_fd = open_listener(ai);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (s->listen_fd < 0) {
        snprintf(err->message, sizeof(err->message), "cannot listen on %s: %s",
                 listen, strerror(errno));
        free(s->w);
        free(s);
        return err->code = S2R_ERROR;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET |
                         MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    for (uint32_t i = 0; i < n; i++) {
        worker *w = &s->w[i];
        w->s = s;
        w->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, w,
            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout,
            MHD_OPTION_CONNECTION_LIMIT, maxconn + MHD_LIMIT_MARGIN,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
            MHD_OPTION_END);
        if (!w->d) {
            snprintf(err->message, sizeof(err->message),
                     "cannot start HTTP worker %u of %u", i + 1, n);
            s->n = i;
            stop_daemons(s);
            close(s->listen_fd);
            free(s->w);
            free(s);
            return err->code = S2R_ERROR;
        }
        s->n = i + 1;
    }
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
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        snprintf(err->message, sizeof(err->message),
                 "cannot start the accepting thread");
        stop_daemons(s);
        close(s->listen_fd);
        free(s->w);
        free(s);
        return err->code = S2R_ERROR;
    }
    s->acceptor_running = 1;
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
    return __atomic_load_n(&s->open, __ATOMIC_SEQ_CST);
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
    /* 1. stop accepting: wake the acceptor and close the socket (new
     *    connections are refused by the kernel from now on); requests
     *    that start from now on are answered 503 */
    __atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
    if (s->acceptor_running) {
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->acceptor, NULL);
        s->acceptor_running = 0;
    }
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
    free(s->w);
    free(s);
    return left;
}
