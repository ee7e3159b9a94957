/* bench_replay.c: does the auth-hmac replay cache hold every signature of
 * its window at a given request rate? The real plugin (loaded through the
 * registry, default options unless given) verifies signed requests at
 * RATE per second of a simulated clock, for the window and a minute more,
 * with timestamps taken from that clock, as a busy server would see them.
 *
 *   bench_replay RATE [WINDOW_S] [EXTRA_INI_LINE]...
 *
 * Prints one line: the seconds of the window for which every signature
 * was held (the first refusal ends it), the requests refused (503: cache
 * full) and accepted, and how many replays were accepted: one accepted
 * signature per second is sent again one second before it leaves the
 * window, and must be refused. Exit 0, or 1 when a replay was accepted
 * (protection weakened), 2 on a usage error. The line ends with the
 * slowest single verification in wall time: a cache that resized all at
 * once made one request wait for a walk over the whole table.
 * Needs S2R_PLUGIN_PATH (the build's plugins folder) and
 * S2R_BENCH_SECRET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/config.h"
#include "plugin/host.h"
#include "plugin/registry.h"

typedef struct hdrs {
    char ts[40];
    char sig[72];
} hdrs;

static const char *lookup(void *payload, const char *name)
{
    hdrs *h = payload;
    if (strcasecmp(name, "X-S2R-Timestamp") == 0)
        return h->ts;
    if (strcasecmp(name, "X-S2R-Signature") == 0)
        return h->sig;
    return NULL;
}

/* Sign request number @p i at simulated milliseconds @p ms. */
static void sign(hdrs *h, const char *secret, int64_t ms, uint64_t i)
{
    snprintf(h->ts, sizeof(h->ts), "%lld.%03lld%06llu",
             (long long)(ms / 1000), (long long)(ms % 1000),
             (unsigned long long)(i % 1000000));
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "%s:", h->ts);
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(secret, strlen(secret), msg, (size_t)n,
                                  mac);
    s2r_host_table()->hex_encode(mac, sizeof(mac), h->sig);
}

static int verify(s2r_registry *reg, hdrs *h, int64_t now_s)
{
    s2r_auth_request r = {.struct_size = sizeof(r), .method = "POST",
                          .path = "/", .query = "", .header = lookup,
                          .header_payload = h, .body = (const uint8_t *)"",
                          .body_len = 0, .client_ip = "127.0.0.1",
                          .now_unix_s = now_s};
    s2r_auth_result res = {.struct_size = sizeof(res)};
    s2r_error err = {0};
    return s2r_registry_auth_verify(reg, "hmac", &r, &res, &err);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 0;
    long window = argc > 2 ? atol(argv[2]) : 300;
    const char *secret = getenv("S2R_BENCH_SECRET");
    if (rate <= 0 || window <= 0 || !secret) {
        fprintf(stderr, "usage: S2R_BENCH_SECRET=... bench_replay RATE "
                        "[WINDOW_S] [INI_LINE]...\n");
        return 2;
    }
    char ini_text[4096];
    size_t off = (size_t)snprintf(ini_text, sizeof(ini_text),
                                  "[auth.hmac]\nplugin = auth-hmac\n"
                                  "secret = env:S2R_BENCH_SECRET\n"
                                  "window = %lds\n", window);
    for (int i = 3; i < argc && off < sizeof(ini_text); i++)
        off += (size_t)snprintf(ini_text + off, sizeof(ini_text) - off,
                                "%s\n", argv[i]);
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags diags = {0};
    s2r_registry *reg = NULL;
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.ini = &ini;
    if (s2r_ini_read_string(&ini, "bench.ini", ini_text, &diags) != S2R_OK ||
        s2r_registry_open(&reg, &o, &diags) != S2R_OK) {
        for (size_t i = 0; i < diags.n; i++)
            fprintf(stderr, "bench_replay: %s\n", diags.v[i].message);
        return 2;
    }
    const int64_t t0 = (int64_t)time(NULL) * 1000;
    const long seconds = window + 60;
    const uint64_t total = (uint64_t)(rate * (double)seconds);
    /* one accepted signature per simulated second, replayed one second
     * before it leaves the window: it must be refused */
    hdrs *probe = calloc((size_t)seconds + 1, sizeof(*probe));
    if (!probe)
        return 2;
    uint64_t accepted = 0, refused = 0, probes = 0, replays_accepted = 0;
    double held = (double)seconds, w0 = now_mono(), slowest = 0;
    long sec_seen = -1;
    for (uint64_t i = 0; i < total; i++) {
        int64_t ms = t0 + (int64_t)((double)i * 1000.0 / rate);
        long sec = (long)((ms - t0) / 1000);
        if (sec != sec_seen) {
            sec_seen = sec;
            long from = sec - window + 1;
            if (from >= 0 && probe[from].sig[0]) {
                probes++;
                if (verify(reg, &probe[from], ms / 1000) != S2R_EAUTH)
                    replays_accepted++;
            }
        }
        hdrs h;
        sign(&h, secret, ms, i);
        double v0 = now_mono();
        int rc = verify(reg, &h, ms / 1000);
        double v1 = now_mono();
        if (v1 - v0 > slowest)
            slowest = v1 - v0;
        if (rc == S2R_OK) {
            accepted++;
            if (!probe[sec].sig[0])
                probe[sec] = h;
        } else {
            if (!refused)
                held = (double)(ms - t0) / 1000.0;
            refused++;
        }
    }
    double took = now_mono() - w0;
    double kept = held < (double)window ? held : (double)window;
    printf("bench_replay: %.0f signed requests/s for %ld s (window %ld s): "
           "every signature held for %.0f s (%.2f of the window); %llu "
           "accepted, %llu refused (cache full); %llu of %llu replays "
           "accepted; %.1f s; slowest verification %.2f ms\n", rate,
           seconds, window, kept,
           kept / (double)window, (unsigned long long)accepted,
           (unsigned long long)refused, (unsigned long long)replays_accepted,
           (unsigned long long)probes, took, slowest * 1e3);
    free(probe);
    s2r_registry_close(reg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&diags);
    return replays_accepted ? 1 : 0;
}
