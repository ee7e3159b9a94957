/* server_conns.c: connections of one worker and receive_timeout (see
 * server_conns.h). */
#include "server_conns.h"

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
};

struct s2r_server_conns {
    pthread_mutex_t lock;
    s2r_server_conn *head;
    uint32_t timeout_ms;
    uint32_t pad;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

s2r_server_conns *s2r_server_conns_new(uint32_t receive_timeout_ms)
{
    s2r_server_conns *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    t->timeout_ms = receive_timeout_ms;
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

void s2r_server_conns_headers(s2r_server_conns *t, s2r_server_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (c->state == C_IDLE) { /* started unseen: count from now */
        c->state = C_RECEIVING;
        c->start_ms = mono_ms();
    }
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

/* The deadline passed: say so (the worker is not writing: the request
 * is not received yet) and end the connection for the worker. */
static void cut(s2r_server_conn *c, uint32_t timeout_ms)
{
    static const char fmt[] =
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nConnection: close\r\n\r\n%s";
    char body[96], msg[256];
    int bl = snprintf(body, sizeof(body),
                      "{\"error\":\"request not received within %u ms\"}",
                      timeout_ms);
    int n = snprintf(msg, sizeof(msg), fmt, bl, body);
    if (n > 0 && (size_t)n < sizeof(msg)) {
        ssize_t w = send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    shutdown(c->fd, SHUT_RDWR);
    c->state = C_ANSWERING; /* once */
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
            cut(c, t->timeout_ms);
            cut_n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return cut_n;
}
