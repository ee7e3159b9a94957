/* server_gate.c: the acceptor of `s2r serve` (see server_gate.h). */
#include "server_gate.h"

#include <s2r/s2r.h>
#include "handler.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define PEEK_BYTES 64   /* enough for a few empty lines and a method */
#define METHOD_MAX 32   /* longest method accepted */
#define ACCEPT_BURST 64 /* connections accepted per wake-up at most */

/* The messages of the gate's answers to requests. */
#define MALFORMED "malformed request line: an HTTP method and a space expected"
#define NOT_IN_TIME "request not received in time"

/* A connection accepted and not yet handed over. */
typedef struct pending {
    struct pending *prev, *next; /* in accept order */
    int fd;
    socklen_t len;
    int64_t accepted_ms;
    int64_t first_byte_ms; /* 0: nothing received yet */
    struct sockaddr_storage sa;
} pending;

/* Kinds of refusal, each logged at most once a second. */
enum { R_LIMIT, R_CLIENT, R_MALFORMED, R_TIMEOUT, R_KINDS };

struct s2r_server_gate {
    s2r_server_gate_options o;
    s2r_server_clients *clients;
    int epfd, stopfd;
    pthread_t thread;
    int32_t running;
    uint32_t open; /* atomic */
    pending *head, *tail;
    uint64_t refused[R_KINDS];
    int64_t logged_ms[R_KINDS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* answers                                                             */
/* ------------------------------------------------------------------ */

void s2r_server_answer_and_close(int fd, const char *status_line,
                                 const char *extra_header, const char *json)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%sConnection: close\r\n\r\n%s",
                     status_line, strlen(json),
                     extra_header ? extra_header : "",
                     extra_header ? "\r\n" : "", json);
    if (n > 0 && (size_t)n < sizeof(buf)) {
        ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    /* read what already came (without waiting), so that close() sends a
     * FIN rather than a reset that could destroy the answer */
    char sink[4096];
    for (int i = 0; i < 16; i++)
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    shutdown(fd, SHUT_WR);
    close(fd);
}

/* Count @p n refusals of @p kind; log them at most once a second. */
static void log_refusals(s2r_server_gate *g, int kind, uint64_t n,
                         int64_t now)
{
    g->refused[kind] += n;
    if (!g->refused[kind] || now - g->logged_ms[kind] < 1000)
        return;
    static const char *const events[R_KINDS] = {
        "connection_limit", "client_limit", "malformed_request",
        "receive_timeout"};
    static const char *const messages[R_KINDS] = {
        "max_connections open: new connections answered 503",
        ("max_connections_per_client open from one address: new "
         "connections from it answered 503"),
        "request lines that do not start with a method answered 400",
        "requests not received within receive_timeout answered 408"};
    int client = kind == R_CLIENT;
    s2r_handler_log_field f[] = {
        S2R_LOG_NUMBER("refused", g->refused[kind]),
        S2R_LOG_NUMBER(client ? "max_connections_per_client"
                              : "max_connections",
                       client ? g->o.max_per_client : g->o.max_connections)};
    s2r_handler_log_fields("warn", events[kind], messages[kind], f,
                           kind <= R_CLIENT ? 2 : 1);
    g->logged_ms[kind] = now;
    g->refused[kind] = 0;
}

static void log_refusal(s2r_server_gate *g, int kind, int64_t now)
{
    log_refusals(g, kind, 1, now);
}

/* Answer a connection that sent bytes and close it: @p json is
 * {"error": @p reason}. With a handler, the answer carries an
 * X-Request-Id and writes a request log line (no request line was read:
 * method and path ""). */
static void answer_request(s2r_server_gate *g, const pending *p,
                           const char *status_line, int status,
                           const char *json, const char *reason)
{
    if (!g->o.handler) {
        s2r_server_answer_and_close(p->fd, status_line, NULL, json);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t0 = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    char id[S2R_HANDLER_ID_MAX], header[S2R_HANDLER_ID_MAX + 16];
    s2r_handler_request_id(g->o.handler, id, sizeof(id));
    snprintf(header, sizeof(header), "X-Request-Id: %s", id);
    s2r_server_answer_and_close(p->fd, status_line, header, json);
    char ip[64];
    s2r_server_addr_text((const struct sockaddr *)&p->sa, ip, sizeof(ip));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s2r_handler_answered a = {
        .client_ip = ip[0] ? ip : NULL,
        .error = reason,
        .status = status,
        .duration_us =
            (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0,
        .bytes_out = strlen(json)};
    s2r_handler_log_answered(g->o.handler, id, &a);
}

/* Close a connection the gate holds or refuses, freeing its places. */
static void drop(s2r_server_gate *g, pending *p, int counted_client)
{
    if (counted_client) {
        s2r_client_key k = s2r_client_key_of((struct sockaddr *)&p->sa);
        s2r_server_clients_release(g->clients, &k);
    }
    __atomic_sub_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
}

static void unlink_pending(s2r_server_gate *g, pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        g->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        g->tail = p->prev;
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, p->fd, NULL);
}

/* ------------------------------------------------------------------ */
/* screening                                                           */
/* ------------------------------------------------------------------ */

/* RFC 9110 section 5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int s2r_server_gate_screen(const char *buf, size_t n)
{
    size_t i = 0;
    while (i < n && (buf[i] == '\r' || buf[i] == '\n')) {
        if (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n')
            return S2R_GATE_BAD;
        i++;
    }
    size_t start = i;
    while (i < n && is_tchar((unsigned char)buf[i])) {
        if (i - start >= METHOD_MAX)
            return S2R_GATE_BAD;
        i++;
    }
    if (i == n)
        return n < PEEK_BYTES ? S2R_GATE_MORE : S2R_GATE_BAD;
    return buf[i] == ' ' && i > start ? S2R_GATE_OK : S2R_GATE_BAD;
}

/* The connection has bytes (or an end): hand it over, refuse it, or keep
 * waiting. */
static void on_readable(s2r_server_gate *g, pending *p, int64_t now)
{
    char buf[PEEK_BYTES];
    ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (!p->first_byte_ms)
        p->first_byte_ms = now;
    int verdict = n > 0 ? s2r_server_gate_screen(buf, (size_t)n)
                        : S2R_GATE_BAD;
    if (verdict == S2R_GATE_MORE)
        return;
    unlink_pending(g, p);
    if (verdict == S2R_GATE_BAD) {
        if (n > 0) {
            answer_request(g, p, "400 Bad Request", 400,
                           "{\"error\":\"" MALFORMED "\"}", MALFORMED);
            log_refusal(g, R_MALFORMED, now);
        } else {
            close(p->fd); /* closed or reset before a request */
        }
        drop(g, p, 1);
    } else if (g->o.handoff(g->o.payload, p->fd, (struct sockaddr *)&p->sa,
                            p->len, p->first_byte_ms) != 0) {
        drop(g, p, 1); /* the worker refused it and closed it */
    }
    free(p);
}

/* Answer 408 to the connections past their deadline (checked every
 * wake-up, at least every tick_ms). */
static void expire(s2r_server_gate *g, int64_t now)
{
    pending *p = g->head;
    while (p) {
        pending *next = p->next;
        int64_t due = p->first_byte_ms
                          ? p->first_byte_ms + g->o.receive_timeout_ms
                          : p->accepted_ms + g->o.idle_timeout_ms;
        if (now >= due) {
            unlink_pending(g, p);
            static const char late[] =
                "{\"error\":\"" NOT_IN_TIME "\"}";
            if (p->first_byte_ms) /* a request began */
                answer_request(g, p, "408 Request Timeout", 408, late,
                               NOT_IN_TIME);
            else /* nothing came: no request to answer */
                s2r_server_answer_and_close(p->fd, "408 Request Timeout",
                                            NULL, late);
            log_refusal(g, R_TIMEOUT, now);
            drop(g, p, 1);
            free(p);
        }
        p = next;
    }
}

/* ------------------------------------------------------------------ */
/* accepting                                                           */
/* ------------------------------------------------------------------ */

/* A new connection: count it, refuse it over a limit, else hold it. */
static void admit(s2r_server_gate *g, int fd, const struct sockaddr_storage *sa,
                  socklen_t len, int64_t now)
{
    uint32_t open = __atomic_add_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
    if (open > g->o.max_connections) {
        __atomic_sub_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
        s2r_server_answer_and_close(
            fd, "503 Service Unavailable", "Retry-After: 1",
            "{\"error\":\"too many open connections\"}");
        log_refusal(g, R_LIMIT, now);
        return;
    }
    s2r_client_key k = s2r_client_key_of((const struct sockaddr *)sa);
    if (!s2r_server_clients_acquire(g->clients, &k)) {
        __atomic_sub_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
        s2r_server_answer_and_close(
            fd, "503 Service Unavailable", "Retry-After: 1",
            "{\"error\":\"too many open connections from this address\"}");
        log_refusal(g, R_CLIENT, now);
        return;
    }
    pending *p = calloc(1, sizeof(*p));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET};
    ev.data.ptr = p;
    if (!p || epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        s2r_server_clients_release(g->clients, &k);
        __atomic_sub_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
        free(p);
        return;
    }
    p->fd = fd;
    p->len = len;
    memcpy(&p->sa, sa, sizeof(*sa));
    p->accepted_ms = now;
    p->prev = g->tail;
    if (g->tail)
        g->tail->next = p;
    else
        g->head = p;
    g->tail = p;
    /* the request may already be there: look now (edge-triggered) */
    on_readable(g, p, now);
}

static void accept_burst(s2r_server_gate *g, int64_t now)
{
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept4(g->o.listen_fd, (struct sockaddr *)&sa, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* out of descriptors: let some close */
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
            }
            return; /* EAGAIN, ECONNABORTED, ... */
        }
        admit(g, fd, &sa, len, now);
    }
}

static int wait_ms(int64_t now, int64_t next_tick)
{
    int64_t t = next_tick - now;
    return t < 0 ? 0 : (int)t;
}

static void *gate_main(void *arg)
{
    s2r_server_gate *g = arg;
    int64_t next_tick = mono_ms() + g->o.tick_ms;
    for (;;) {
        struct epoll_event ev[64];
        int n = epoll_wait(g->epfd, ev, 64, wait_ms(mono_ms(), next_tick));
        int64_t now = mono_ms();
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &g->stopfd)
                return NULL;
            if (ev[i].data.ptr == &g->o.listen_fd)
                accept_burst(g, now);
            else
                on_readable(g, ev[i].data.ptr, now);
        }
        expire(g, now);
        if (now >= next_tick) {
            if (g->o.tick)
                log_refusals(g, R_TIMEOUT, g->o.tick(g->o.payload, now),
                             now);
            next_tick = now + g->o.tick_ms;
        }
    }
}

/* ------------------------------------------------------------------ */
/* start and stop                                                      */
/* ------------------------------------------------------------------ */

static int add_fd(int epfd, int fd, void *ptr)
{
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.ptr = ptr;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int s2r_server_gate_start(s2r_server_gate **out,
                          const s2r_server_gate_options *o)
{
    *out = NULL;
    s2r_server_gate *g = calloc(1, sizeof(*g));
    if (!g)
        return S2R_ENOMEM;
    g->o = *o;
    if (!g->o.tick_ms)
        g->o.tick_ms = 250;
    g->epfd = g->stopfd = -1;
    if (!(g->clients = s2r_server_clients_new(o->max_per_client))) {
        free(g);
        return S2R_ENOMEM;
    }
    int fl = fcntl(o->listen_fd, F_GETFL);
    if (fl < 0 || fcntl(o->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        (g->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (g->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        add_fd(g->epfd, g->stopfd, &g->stopfd) != 0 ||
        add_fd(g->epfd, o->listen_fd, &g->o.listen_fd) != 0 ||
        pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        s2r_server_gate_free(g);
        return S2R_ERROR;
    }
    g->running = 1;
    *out = g;
    return S2R_OK;
}

void s2r_server_gate_stop(s2r_server_gate *g)
{
    if (!g || !g->running)
        return;
    uint64_t one = 1;
    ssize_t w = write(g->stopfd, &one, sizeof(one));
    (void)w;
    pthread_join(g->thread, NULL);
    g->running = 0;
    while (g->head) {
        pending *p = g->head;
        unlink_pending(g, p);
        close(p->fd);
        drop(g, p, 1);
        free(p);
    }
}

void s2r_server_gate_free(s2r_server_gate *g)
{
    if (!g)
        return;
    s2r_server_gate_stop(g);
    if (g->epfd >= 0)
        close(g->epfd);
    if (g->stopfd >= 0)
        close(g->stopfd);
    s2r_server_clients_free(g->clients);
    free(g);
}

void s2r_server_gate_closed(s2r_server_gate *g, const struct sockaddr *sa)
{
    s2r_client_key k = s2r_client_key_of(sa);
    s2r_server_clients_release(g->clients, &k);
    __atomic_sub_fetch(&g->open, 1, __ATOMIC_SEQ_CST);
}

uint32_t s2r_server_gate_open(const s2r_server_gate *g)
{
    return __atomic_load_n(&g->open, __ATOMIC_SEQ_CST);
}
