/* bench_handler.c: the cost of one `s2r serve` request in the handler,
 * without the network, stage by stage: the conversion alone
 * (s2r_convert_buffer), then s2r_handler_handle() with no auth and no
 * limiter, with ratelimit-sqlite, and with auth-hmac too (the real
 * plugins through the registry, a fresh SQLite file, every request signed
 * differently), each as microseconds of one thread per request. The
 * differences say what each stage adds to the hot path; bench-serve.py
 * measures the whole server against its floor.
 *
 * In the server, wrk, the kernel's network stack and the other worker
 * thread run on the same two cores between two requests of a worker, and
 * evict much of what the last request left in the caches. The last stage
 * (auth + limiter) is run once more that way ("cold"): before every
 * request, untimed, one byte of each cache line of a 2 MiB buffer is
 * written. The cold figure is the hot one plus what refilling the caches
 * costs: the part of the server's CPU per request (bench-serve.py) that
 * no hot loop shows.
 *
 *   bench_handler [SCRIPT] [SECONDS_PER_STAGE]
 *
 * Needs S2R_PLUGIN_PATH (the build's plugins folder). Log lines are
 * dropped (a log function that discards them), as with log_requests =
 * false; the line itself is built in every stage but the first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "server/handler.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include <s2r/s2r.h>

#define SECRET "bench-handler-secret"

typedef struct hdrs {
    char ts[40];
    char sig[72];
} hdrs;

static const char *lookup(void *payload, const char *name)
{
    hdrs *h = payload;
    if (strcasecmp(name, "X-S2R-Timestamp") == 0)
        return h->ts[0] ? h->ts : NULL;
    if (strcasecmp(name, "X-S2R-Signature") == 0)
        return h->sig[0] ? h->sig : NULL;
    if (strcasecmp(name, "X-S2R-Filename") == 0)
        return "job.sbatch";
    return NULL;
}

static const char *param(void *payload, const char *name)
{
    (void)payload;
    return strcmp(name, "format") == 0 ? "cli" : NULL;
}

static void drop_line(void *payload, const char *line, size_t len)
{
    (void)payload, (void)line, (void)len;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sign(hdrs *h, const char *body, size_t len, uint64_t i)
{
    snprintf(h->ts, sizeof(h->ts), "%lld.%09llu", (long long)time(NULL),
             (unsigned long long)(i % 1000000000ULL));
    size_t tl = strlen(h->ts);
    char *msg = malloc(tl + 1 + len);
    memcpy(msg, h->ts, tl);
    msg[tl] = ':';
    memcpy(msg + tl + 1, body, len);
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(SECRET, strlen(SECRET), msg, tl + 1 + len,
                                  mac);
    s2r_host_table()->hex_encode(mac, sizeof(mac), h->sig);
    free(msg);
}

/* Bytes walked before each request of a cold stage: more than the L2
 * cache of one core of the machines the benchmarks run on. */
#define COLD_BYTES ((size_t)2 << 20)

/* Write one byte of each 64-byte cache line of @p junk (COLD_BYTES). */
static void evict_caches(volatile unsigned char *junk)
{
    for (size_t i = 0; i < COLD_BYTES; i += 64)
        junk[i]++;
}

/* One stage: a handler over @p ini_text, requests for @p seconds; with
 * @p junk (COLD_BYTES), the caches evicted before each request. */
static double stage(const char *ini_text, const char *body, size_t len,
                    int signed_requests, double seconds,
                    unsigned char *junk)
{
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_handler_stack st;
    if (s2r_ini_read_string(&ini, "bench.ini", ini_text, &d) != S2R_OK ||
        s2r_handler_stack_open(&st, &cfg, &ini, "server", NULL, NULL, &d) !=
            S2R_OK) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "bench_handler: %s\n", d.v[i].message);
        exit(2);
    }
    s2r_handler_free(st.handler);
    s2r_handler_settings hs;
    s2r_binding *b = NULL;
    s2r_handler_settings_read(&hs, &b, &ini, "server", NULL, &d);
    s2r_handler_options ho = {.section = "server", .cfg = &cfg,
                              .reg = st.reg, .settings = hs,
                              .log_fn = drop_line};
    if (s2r_handler_new(&st.handler, &ho, &d) != S2R_OK)
        exit(2);
    uint64_t n = 0, bad = 0;
    double spent = 0;
    do {
        hdrs h;
        memset(&h, 0, sizeof(h));
        if (signed_requests)
            sign(&h, body, len, n); /* not timed */
        if (junk)
            evict_caches(junk); /* not timed */
        s2r_handler_request req = {
            .method = "POST", .path = "/", .param = param,
            .header = lookup, .header_payload = &h,
            .body = (const uint8_t *)body, .body_len = len,
            .client_ip = "127.0.0.1"};
        s2r_handler_response r;
        double t0 = now_s();
        s2r_handler_handle(st.handler, &req, &r);
        spent += now_s() - t0;
        bad += r.status != 200;
        s2r_handler_response_free(&r);
        n++;
    } while (spent < seconds);
    s2r_handler_stack_close(&st);
    s2r_binding_free(b);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
    if (bad)
        fprintf(stderr, "bench_handler: %llu answers not 200\n",
                (unsigned long long)bad);
    return spent * 1e6 / (double)n;
}

static double convert_only(const char *body, size_t len, double seconds)
{
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        s2r_diags d = {0};
        char *out = NULL;
        s2r_convert_buffer(&out, "job.sbatch", body, len, S2R_FMT_CLI, &cfg,
                           &d);
        free(out);
        s2r_diags_clear(&d);
        n++;
    } while ((t = now_s() - t0) < seconds);
    s2r_config_free(&cfg);
    return t * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/train-resnet.sbatch";
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    static char body[1 << 16];
    size_t len = fread(body, 1, sizeof(body) - 1, f);
    fclose(f);
    char dir[] = "/tmp/bench-handler-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    setenv("S2R_BENCH_HANDLER_SECRET", SECRET, 1);
    char rl[512], full[768];
    snprintf(rl, sizeof(rl),
             "[server]\nauth = none\n[ratelimit.daily]\n"
             "plugin = ratelimit-sqlite\npath = %s/rl.db\n"
             "limit = 1000000000000\n", dir);
    snprintf(full, sizeof(full),
             "[auth.hmac]\nplugin = auth-hmac\n"
             "secret = env:S2R_BENCH_HANDLER_SECRET\n"
             "[ratelimit.daily]\nplugin = ratelimit-sqlite\n"
             "path = %s/rl2.db\nlimit = 1000000000000\n", dir);
    double c = convert_only(body, len, seconds);
    double h0 = stage("[server]\nauth = none\n", body, len, 0, seconds,
                      NULL);
    double h1 = stage(rl, body, len, 0, seconds, NULL);
    double h2 = stage(full, body, len, 1, seconds, NULL);
    unsigned char *junk = calloc(1, COLD_BYTES);
    if (!junk)
        return 2;
    double cold = stage(full, body, len, 1, seconds, junk);
    free(junk);
    printf("bench_handler: %s, us per request on one thread: conversion "
           "%.1f; handler %.1f (+%.1f answer and log line); + limiter "
           "%.1f (+%.1f); + auth %.1f (+%.1f); the same with cold caches "
           "%.1f (%.2fx)\n", path, c, h0, h0 - c, h1, h1 - h0, h2, h2 - h1,
           cold, cold / h2);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
