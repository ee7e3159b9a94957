/* cmd_serve.c: `s2r serve`: the standalone conversion server.
 *
 *   s2r serve --config FILE [--listen ADDR:PORT] [--threads N]
 *             [--plugin-dir DIR]
 *
 * Reads the site INI (the [core]/[runai]/... conversion settings, the
 * [auth.*] [ratelimit.*] [provider.*] plugin sections and [server]),
 * starts the HTTP server and runs until SIGTERM or SIGINT, then stops
 * accepting, lets requests in flight finish (drain_timeout) and exits 0.
 * Logs are JSON lines on standard error: one per request, plus start,
 * stop and plugin messages.
 */
#include "s2r.h"
#include "commands.h"
#include "config.h"
#include "handler.h"
#include "options.h"
#include "registry.h"
#include "server.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* [server] keys of the transport (the handler reads the others). */
typedef struct serve_conf {
    const char *listen;
    int64_t threads;
    int64_t connection_timeout_ms;
    int64_t max_connections;
    int64_t drain_timeout_ms;
} serve_conf;

static const s2r_option serve_options[] = {
    {"listen", S2R_OPT_STRING, 0, "127.0.0.1:8080", 0, 0, NULL,
     S2R_OPT_OFFSET(serve_conf, listen),
     "Address and port to listen on (ADDR:PORT, [V6ADDR]:PORT); --listen "
     "wins."},
    {"threads", S2R_OPT_INT, 0, "0", 0, 1024, NULL,
     S2R_OPT_OFFSET(serve_conf, threads),
     "Worker threads; 0: one per CPU; --threads wins."},
    {"connection_timeout", S2R_OPT_DURATION, 0, "30s", 1000, 3600000, NULL,
     S2R_OPT_OFFSET(serve_conf, connection_timeout_ms),
     "Idle or slow connections are closed after this long."},
    {"max_connections", S2R_OPT_INT, 0, "1024", 1, 1000000, NULL,
     S2R_OPT_OFFSET(serve_conf, max_connections),
     "Open connections at most."},
    {"drain_timeout", S2R_OPT_DURATION, 0, "10s", 0, 600000, NULL,
     S2R_OPT_OFFSET(serve_conf, drain_timeout_ms),
     "On SIGTERM, how long requests in flight may take to finish."},
    S2R_OPTION_END};

static const char *const serve_keys[] = {"listen", "threads",
                                         "connection_timeout",
                                         "max_connections", "drain_timeout",
                                         NULL};

static void serve_usage(FILE *f)
{
    fprintf(f,
        "usage: s2r serve --config FILE [--listen ADDR:PORT] [--threads N]\n"
        "                 [--plugin-dir DIR]\n"
        "\n"
        "Runs the conversion service: POST / with a batch script as the\n"
        "body (signed with X-S2R-Timestamp and X-S2R-Signature when an\n"
        "[auth.*] section is configured) answers {\"runai_config\": ...};\n"
        "GET /healthz answers {\"status\": \"ok\"}. Stops cleanly on SIGTERM\n"
        "or SIGINT. Logs are JSON lines on standard error.\n"
        "\n"
        "  -c, --config FILE     site configuration with [server] and the\n"
        "                        [auth.*] [ratelimit.*] plugin sections\n"
        "  -l, --listen ADDR:PORT  default: [server] listen, else\n"
        "                        127.0.0.1:8080 (port 0: any free port)\n"
        "  -t, --threads N       worker threads (default: one per CPU)\n"
        "      --plugin-dir DIR  look for plugins in DIR first\n"
        "  -h, --help            this text\n");
}

static void print_diags(const s2r_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].severity == S2R_SEV_NOTE)
            continue;
        char *line = s2r_diag_format(&d->v[i]);
        if (line) {
            fprintf(stderr, "%s\n", line);
            free(line);
        }
    }
}

/* The handler's key names, for skipping them in the transport pass. */
static const char *const *handler_keys(void)
{
    static const char *keys[16];
    if (!keys[0]) {
        const s2r_option *o = s2r_handler_option_table();
        size_t n = 0;
        for (; o[n].name && n + 1 < sizeof(keys) / sizeof(keys[0]); n++)
            keys[n] = o[n].name;
        keys[n] = NULL;
    }
    return keys;
}

int s2r_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *listen = NULL, *plugin_dir = NULL;
    long threads = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:l:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'l': listen = optarg; break;
        case 't': {
            char *end = NULL;
            threads = strtol(optarg, &end, 10);
            if (!*optarg || *end || threads < 1 || threads > 1024) {
                fprintf(stderr, "s2r serve: --threads: 1 to 1024\n");
                return 2;
            }
            break;
        }
        case 'P': plugin_dir = optarg; break;
        case 'h': serve_usage(stdout); return 0;
        default: serve_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "s2r serve: unexpected argument '%s'\n", argv[optind]);
        serve_usage(stderr);
        return 2;
    }
    if (!config_path) {
        fprintf(stderr, "s2r serve: --config FILE is required (the server "
                        "needs its [auth.*] section)\n");
        serve_usage(stderr);
        return 2;
    }

    /* Signals go to sigwait() below: block them before any thread starts
     * so that every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    s2r_diags diags = {0};
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_handler_stack stack = {0};
    s2r_binding *sbind = NULL;
    s2r_handler *handler = NULL;
    s2r_server *server = NULL;

    int rc = s2r_ini_read(&ini, config_path, &diags);
    if (rc == S2R_ENOTFOUND) {
        fprintf(stderr, "s2r serve: %s: cannot open\n", config_path);
        goto done;
    }
    const s2r_ini_section *ssec = s2r_ini_section_find(&ini, "server");
    s2r_handler_stack st;
    if (rc != S2R_OK ||
        s2r_options_apply(serve_options, sizeof(serve_conf), ssec, ini.path,
                          "[server]", handler_keys(), &diags,
                          &sbind) != S2R_OK ||
        s2r_handler_stack_open(&st, &cfg, &ini, "server", serve_keys,
                               plugin_dir, &diags) != S2R_OK)
        goto done_diags;
    stack = st;
    handler = st.handler;
    const serve_conf *sc = sbind->config;

    print_diags(&diags); /* warnings */

    s2r_server_options so = {
        .listen = listen ? listen : sc->listen,
        .threads = (uint32_t)(threads > 0 ? threads : sc->threads),
        .connection_timeout_s =
            (uint32_t)((sc->connection_timeout_ms + 999) / 1000),
        .max_connections = (uint32_t)sc->max_connections,
        .handler = handler};
    s2r_error err = {0};
    if (s2r_server_start(&server, &so, &err) != S2R_OK) {
        fprintf(stderr, "s2r serve: %s\n", err.message);
        goto done;
    }
    char nthreads[16];
    snprintf(nthreads, sizeof(nthreads), "%u", so.threads);
    const char *fields[] = {
        "address", s2r_server_address(server),
        "threads", so.threads ? nthreads : "auto",
        "auth", s2r_handler_auth_id(handler),
        "ratelimit", s2r_handler_ratelimit_id(handler),
        "provider", s2r_handler_provider_id(handler),
        "version", S2R_VERSION};
    s2r_handler_log_event("info", "listening", "s2r serve is ready", fields,
                          sizeof(fields) / sizeof(fields[0]) / 2);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    const char *sf[] = {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"};
    s2r_handler_log_event("info", "stopping",
                          "stopped accepting; draining requests", sf, 1);
    uint32_t left = s2r_server_stop(server, (uint32_t)sc->drain_timeout_ms);
    server = NULL;
    char nleft[16];
    snprintf(nleft, sizeof(nleft), "%u", left);
    const char *ef[] = {"abandoned_requests", nleft};
    s2r_handler_log_event(left ? "warn" : "info", "stopped",
                          "s2r serve stopped", ef, 1);
    status = 0;
    goto done;

done_diags:
    print_diags(&diags);
    if (s2r_diags_count(&diags, S2R_SEV_ERROR) == 0)
        fprintf(stderr, "s2r serve: cannot start\n");
done:
    s2r_server_stop(server, 0);
    s2r_handler_stack_close(&stack);
    s2r_binding_free(sbind);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&diags);
    return status;
}
