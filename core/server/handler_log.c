/* handler_log.c: the JSON log lines of the request handler and of the
 * transports (see handler.h, handler_log.h). */
#include "handler.h"
#include "handler_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* @p v (0-999) as three digits, zero-padded: "%03d" */
static void put3(char out[3], long v)
{
    out[0] = (char)('0' + v / 100 % 10);
    out[1] = (char)('0' + v / 10 % 10);
    out[2] = (char)('0' + v % 10);
}

/* The UTC time now as "2026-12-06T01:15:32.123Z" (@p buf holds 40
 * bytes). Each thread keeps the text of the last second it formatted:
 * gmtime_r and strftime run once a second, not once a line. */
static void iso_time(char buf[40])
{
    static _Thread_local time_t last_sec = (time_t)-1;
    static _Thread_local char last_text[32];
    static _Thread_local size_t last_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last_sec || !last_len) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        last_len = strftime(last_text, sizeof(last_text),
                            "%Y-%m-%dT%H:%M:%S", &tm);
        last_sec = ts.tv_sec;
    }
    long ms = ts.tv_nsec / 1000000L;
    memcpy(buf, last_text, last_len);
    char *at = buf + last_len;
    *at++ = '.';
    put3(at, ms);
    at += 3;
    *at++ = 'Z';
    *at = '\0';
}

/* Write all of @p buf to stderr. */
static void write_all(const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, buf + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* Buffered mode (s2r_handler_log_buffer): whole lines gather in
 * `pending` and reach stderr together. A flush swaps in the spare buffer
 * and writes outside `pending_lock`, so a slow write (a busy disk) never
 * holds up the threads that log; `flush_lock` keeps flushes, and so the
 * lines, in order. */
#define PENDING_FLUSH (64 * 1024)      /* a logging thread flushes */
#define PENDING_WAIT (4 * 1024 * 1024) /* it waits for the flush */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static int32_t buffering; /* atomic */
static char *pending, *spare;
static size_t pending_len, pending_cap, spare_cap;

void s2r_handler_log_flush(void)
{
    pthread_mutex_lock(&flush_lock);
    pthread_mutex_lock(&pending_lock);
    char *buf = pending;
    size_t len = pending_len, cap = pending_cap;
    pending = spare;
    pending_cap = spare_cap;
    pending_len = 0;
    spare = NULL;
    spare_cap = 0;
    pthread_mutex_unlock(&pending_lock);
    if (len)
        write_all(buf, len);
    pthread_mutex_lock(&pending_lock);
    if (!spare) {
        spare = buf;
        spare_cap = cap;
        buf = NULL;
    }
    pthread_mutex_unlock(&pending_lock);
    free(buf);
    pthread_mutex_unlock(&flush_lock);
}

/* Keep a line for the next flush. Returns 0, or -1 when there is no
 * room (out of memory): the caller writes it now. */
static int keep_line(const char *text, size_t len)
{
    pthread_mutex_lock(&pending_lock);
    if (pending_len + len + 1 > pending_cap) {
        size_t cap = pending_cap ? pending_cap : 16384;
        while (cap < pending_len + len + 1)
            cap *= 2;
        char *n = realloc(pending, cap);
        if (!n) {
            pthread_mutex_unlock(&pending_lock);
            return -1;
        }
        pending = n;
        pending_cap = cap;
    }
    memcpy(pending + pending_len, text, len);
    pending[pending_len + len] = '\n';
    pending_len += len + 1;
    size_t now = pending_len;
    pthread_mutex_unlock(&pending_lock);
    if (now >= PENDING_WAIT)
        s2r_handler_log_flush(); /* waits for a slow flush: back-pressure */
    else if (now >= PENDING_FLUSH && pthread_mutex_trylock(&flush_lock) == 0) {
        pthread_mutex_unlock(&flush_lock);
        s2r_handler_log_flush();
    }
    return 0;
}

void s2r_handler_log_buffer(int on)
{
    if (!on)
        s2r_handler_log_flush();
    __atomic_store_n(&buffering, on ? 1 : 0, __ATOMIC_SEQ_CST);
    if (!on)
        s2r_handler_log_flush(); /* lines kept meanwhile */
}

/* One line to stderr in a single write(2), so lines of concurrent
 * threads and processes never interleave; in buffered mode, with the
 * other lines of the next flush. */
static void write_line(const char *text, size_t len)
{
    if (__atomic_load_n(&buffering, __ATOMIC_RELAXED) &&
        keep_line(text, len) == 0)
        return;
    char stackbuf[1024];
    char *buf = len + 1 <= sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    if (!buf)
        return;
    memcpy(buf, text, len);
    buf[len] = '\n';
    write_all(buf, len + 1);
    if (buf != stackbuf)
        free(buf);
}

void s2r_handler__log_head(s2r_buf *line, const char *level,
                           const char *event)
{
    char now[40];
    iso_time(now);
    /* room for a request line (about 300 bytes): one allocation */
    s2r_buf_reserve(line, 480);
    s2r_buf_putn(line, "{", 1);
    s2r_handler__log_str(line, "time", now);
    s2r_handler__log_str(line, "level", level);
    s2r_handler__log_str(line, "event", event);
}

/* ,"KEY": (no comma after the opening brace). KEY is a plain ASCII name,
 * which a JSON string writes as it is: it is copied, not escaped. */
static void log_key(s2r_buf *line, const char *key)
{
    size_t n = strlen(key);
    if (!s2r_buf_reserve(line, n + 4))
        return;
    char *o = line->p + line->len;
    if (line->len > 1)
        *o++ = ',';
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    *o = '\0';
    line->len = (size_t)(o - line->p);
}

void s2r_handler__log_str(s2r_buf *line, const char *key, const char *value)
{
    log_key(line, key);
    s2r_json_put_string(line, value, strlen(value));
}

void s2r_handler__log_int(s2r_buf *line, const char *key, int64_t value)
{
    log_key(line, key);
    s2r_buf_put_i64(line, value);
}

void s2r_handler__log_ms(s2r_buf *line, const char *key, int64_t us)
{
    log_key(line, key);
    if (us < 0)
        us = 0;
    s2r_buf_put_i64(line, us / 1000);
    char frac[4] = {'.'};
    put3(frac + 1, (long)(us % 1000));
    s2r_buf_putn(line, frac, 4);
}

void s2r_handler__log_emit(s2r_buf *line, s2r_handler_log_fn fn,
                           void *payload)
{
    s2r_buf_putn(line, "}", 1);
    if (!line->oom) {
        if (fn)
            fn(payload, line->p, line->len);
        else
            write_line(line->p, line->len);
    }
    s2r_buf_free(line);
}

void s2r_handler_log_fields(const char *level, const char *event,
                            const char *message,
                            const s2r_handler_log_field *fields, size_t n)
{
    s2r_buf line = {0};
    s2r_handler__log_head(&line, level, event);
    if (message)
        s2r_handler__log_str(&line, "message", message);
    for (size_t i = 0; fields && i < n; i++) {
        const s2r_handler_log_field *f = &fields[i];
        if (!f->name)
            continue;
        if (f->text)
            s2r_handler__log_str(&line, f->name, f->text);
        else
            s2r_handler__log_int(&line, f->name, f->number);
    }
    s2r_handler__log_emit(&line, NULL, NULL);
}

void s2r_handler_log_event(const char *level, const char *event,
                           const char *message, const char *const *fields,
                           size_t n)
{
    s2r_buf line = {0};
    s2r_handler__log_head(&line, level, event);
    if (message)
        s2r_handler__log_str(&line, "message", message);
    for (size_t i = 0; fields && i < n; i++)
        if (fields[2 * i] && fields[2 * i + 1])
            s2r_handler__log_str(&line, fields[2 * i], fields[2 * i + 1]);
    s2r_handler__log_emit(&line, NULL, NULL);
}

void s2r_handler_plugin_log(void *payload, int32_t level, const char *line)
{
    (void)payload;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    s2r_handler_log_event(names[level < 0 ? 0 : level > 3 ? 3 : level],
                          "plugin", line, NULL, 0);
}

