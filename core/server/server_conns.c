/* server_conns.c: connections of one worker and receive_timeout (see
 * server_conns.h). */
#include "server_conns.h"
#include "handler_text.h"
#include "server_clients.h"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* An idle keep-alive connection is looked at (TCP_INFO) once it has been
 * idle this long; a request that starts earlier is seen by its headers. */
#define IDLE_LOOK_MS 1000

enum conn_state {
    C_RECEIVING, /* a request is arriving: deadline = start + timeout */
    C_ANSWERING, /* received whole: no deadline */
    C_IDLE,      /* waiting for the next request */
};

struct s2r_server_conn {
    s2r_server_conn *prev, *next;
    int fd;
    int32_t state;
    int64_t start_ms;  /* C_RECEIVING: first byte; C_IDLE: idle since */
    uint64_t mark;     /* C_IDLE: bytes received when first looked at */
    int32_t marked;    /* mark is set */
    int32_t pad;
    char method[17];   /* the request's, once its headers are in; else "" */
    char path[129];
};

struct s2r_server_conns {
    pthread_mutex_t lock;
    s2r_server_conn *head;
    s2r_handler *handler; /* request ids and log lines; may be NULL */
    uint32_t timeout_ms;
    uint32_t pad;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

s2r_server_conns *s2r_server_conns_new(uint32_t receive_timeout_ms,
                                       s2r_handler *h)
{
    s2r_server_conns *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    t->timeout_ms = receive_timeout_ms;
    t->handler = h;
    return t;
}

void s2r_server_conns_free(s2r_server_conns *t)
{
    if (!t)
        return;
    while (t->head) {
        s2r_server_conn *c = t->head;
        t->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

s2r_server_conn *s2r_server_conns_open(s2r_server_conns *t, int fd,
                                       int64_t first_byte_ms)
{
    s2r_server_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->state = C_RECEIVING;
    c->start_ms = first_byte_ms ? first_byte_ms : mono_ms();
    pthread_mutex_lock(&t->lock);
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    pthread_mutex_unlock(&t->lock);
    return c;
}

void s2r_server_conns_headers(s2r_server_conns *t, s2r_server_conn *c,
                              const char *method, const char *path)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->state == C_IDLE) { /* started unseen: count from now */
        c->state = C_RECEIVING;
        c->start_ms = mono_ms();
    }
    s2r_text_printable(c->method, sizeof(c->method), method,
                       sizeof(c->method) - 1);
    s2r_text_printable(c->path, sizeof(c->path), path, sizeof(c->path) - 1);
    pthread_mutex_unlock(&t->lock);
}

void s2r_server_conns_received(s2r_server_conns *t, s2r_server_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    c->state = C_ANSWERING;
    pthread_mutex_unlock(&t->lock);
}

void s2r_server_conns_done(s2r_server_conns *t, s2r_server_conn *c)
{
    if (!c)
        return;
    int64_t now = mono_ms();
    pthread_mutex_lock(&t->lock);
    c->state = C_IDLE;
    c->start_ms = now;
    c->marked = 0;
    c->method[0] = c->path[0] = '\0';
    pthread_mutex_unlock(&t->lock);
}

void s2r_server_conns_close(s2r_server_conns *t, s2r_server_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
    free(c);
}

/* Bytes received on @p fd so far (TCP_INFO), or 0 when unknown. */
static uint64_t bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) +
                  sizeof(ti.tcpi_bytes_received))
        return 0;
    return ti.tcpi_bytes_received;
}

/* An idle connection: has its next request begun? */
static void look_idle(s2r_server_conn *c, int64_t now)
{
    if (now - c->start_ms < IDLE_LOOK_MS)
        return;
    uint64_t n = bytes_received(c->fd);
    if (!c->marked) {
        c->mark = n;
        c->marked = 1;
    } else if (n > c->mark) {
        c->state = C_RECEIVING;
        c->start_ms = now;
    }
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The deadline passed: say so (the worker is not writing: the request
 * is not received yet) and end the connection for the worker. The
 * answer has its request id and log line, as the handler's have. */
static void cut(s2r_server_conns *t, s2r_server_conn *c)
{
    int64_t t0 = mono_us();
    static const char fmt[] =
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\n%s%s%sConnection: close\r\n\r\n%s";
    char id[S2R_HANDLER_ID_MAX] = "";
    if (t->handler)
        s2r_handler_request_id(t->handler, id, sizeof(id));
    char reason[64], body[96], msg[384];
    snprintf(reason, sizeof(reason), "request not received within %u ms",
             t->timeout_ms);
    int bl = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", reason);
    int n = snprintf(msg, sizeof(msg), fmt, bl, id[0] ? "X-Request-Id: " : "",
                     id, id[0] ? "\r\n" : "", body);
    /* the peer's address, while the socket is still connected */
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    char ip[INET6_ADDRSTRLEN] = "";
    if (t->handler && getpeername(c->fd, (struct sockaddr *)&sa, &len) == 0)
        s2r_server_addr_text((struct sockaddr *)&sa, ip, sizeof(ip));
    if (n > 0 && (size_t)n < sizeof(msg)) {
        ssize_t w = send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    shutdown(c->fd, SHUT_RDWR);
    c->state = C_ANSWERING; /* once */
    if (!t->handler)
        return;
    s2r_handler_answered a = {.method = c->method,
                              .path = c->path,
                              .client_ip = ip[0] ? ip : NULL,
                              .error = reason,
                              .status = 408,
                              .duration_us = mono_us() - t0,
                              .bytes_out = (size_t)(bl > 0 ? bl : 0)};
    s2r_handler_log_answered(t->handler, id, &a);
}

uint32_t s2r_server_conns_sweep(s2r_server_conns *t, int64_t now_ms)
{
    uint32_t cut_n = 0;
    pthread_mutex_lock(&t->lock);
    for (s2r_server_conn *c = t->head; c; c = c->next) {
        if (c->state == C_IDLE)
            look_idle(c, now_ms);
        if (c->state == C_RECEIVING &&
            now_ms - c->start_ms >= (int64_t)t->timeout_ms) {
            cut(t, c);
            cut_n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return cut_n;
}
