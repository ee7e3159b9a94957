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
 *
 * s2r_cmd_serve() is about 180 lines on purpose: the subcommand's whole
 * life (options, configuration, start-up line, signals, drain, exit
 * status) in the order it happens, each step reporting its own error.
 */
#include <s2r/s2r.h>
#include "commands.h"
#include "config/config.h"
#include "server/handler.h"
#include "plugin/registry.h"
#include "server/server.h"

#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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
    /* Freed memory stays with the process for the next request. By
     * default glibc hands the top of a heap back to the kernel whenever
     * 128 KiB are free there (each SQLite transaction frees a 64 KiB
     * statement journal), and every hand-back costs a TLB flush on all
     * CPUs: a third of a rate-limit check. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);

    int status = 1;
    s2r_diags diags = {0};
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_handler_stack stack = {0};
    s2r_binding *sbind = NULL;
    const char **skip = NULL;
    s2r_handler *handler = NULL;
    s2r_server *server = NULL;

    int rc = s2r_ini_read(&ini, config_path, &diags);
    if (rc == S2R_ENOTFOUND) {
        fprintf(stderr, "s2r serve: %s: cannot open\n", config_path);
        goto done;
    }
    if (listen) { /* the command line's address, named as such */
        char why[300];
        if (s2r_server_check_listen(listen, why, sizeof(why)) != S2R_OK) {
            fprintf(stderr, "s2r serve: --listen %s\n", why);
            status = 2;
            goto done;
        }
    }
    s2r_server_settings sset;
    s2r_handler_stack st;
    if (rc != S2R_OK)
        goto done_diags;
    if (s2r_server_settings_read(&sset, &sbind, &ini, &diags) != S2R_OK) {
        /* report the handler's keys too, all in one go */
        const char **sk = s2r_server_skip_keys(&ini);
        s2r_handler_settings hs;
        s2r_binding *hb = NULL;
        if (sk)
            s2r_handler_settings_read(&hs, &hb, &ini, "server", sk, &diags);
        s2r_binding_free(hb);
        free(sk);
        goto done_diags;
    }
    if (!(skip = s2r_server_skip_keys(&ini)) ||
        s2r_handler_stack_open(&st, &cfg, &ini, "server", skip, plugin_dir,
                               &diags) != S2R_OK)
        goto done_diags;
    stack = st;
    handler = st.handler;
    const s2r_server_settings *sc = &sset;

    print_diags(&diags); /* warnings */

    s2r_server_options so = {
        .listen = listen ? listen : sc->listen,
        .threads = (uint32_t)(threads > 0 ? threads : sc->threads),
        .connection_timeout_s =
            (uint32_t)((sc->connection_timeout_ms + 999) / 1000),
        .max_connections = (uint32_t)sc->max_connections,
        .max_connections_per_client =
            (uint32_t)sc->max_connections_per_client,
        .receive_timeout_ms = (uint32_t)sc->receive_timeout_ms,
        .handler = handler};
    s2r_error err = {0};
    if (s2r_server_start(&server, &so, &err) != S2R_OK) {
        const s2r_ini_entry *le =
            s2r_ini_entry_find(s2r_ini_section_find(&ini, "server"),
                               "listen");
        if (listen)
            fprintf(stderr, "s2r serve: --listen %s\n", err.message);
        else if (le)
            fprintf(stderr, "%s:%d: [server] listen: %s\n", ini.path,
                    (int)le->line, err.message);
        else
            fprintf(stderr, "s2r serve: %s\n", err.message);
        goto done;
    }
    s2r_handler_log_field fields[] = {
        S2R_LOG_TEXT("address", s2r_server_address(server)),
        so.threads ? (s2r_handler_log_field)S2R_LOG_NUMBER("threads",
                                                           so.threads)
                   : (s2r_handler_log_field)S2R_LOG_TEXT("threads", "auto"),
        S2R_LOG_TEXT("auth", s2r_handler_auth_id(handler)),
        S2R_LOG_TEXT("ratelimit", s2r_handler_ratelimit_id(handler)),
        S2R_LOG_TEXT("provider", s2r_handler_provider_id(handler)),
        S2R_LOG_TEXT("version", S2R_VERSION)};
    s2r_handler_log_fields("info", "listening", "s2r serve is ready", fields,
                           sizeof(fields) / sizeof(fields[0]));
    /* from now on log lines reach stderr a few times a second, together
     * (the server's sweep flushes them) */
    s2r_handler_log_buffer(1);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    s2r_handler_log_field sf[] = {
        S2R_LOG_TEXT("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")};
    s2r_handler_log_fields("info", "stopping",
                           "stopped accepting; draining requests", sf, 1);
    s2r_server_stop_report rep;
    uint32_t left =
        s2r_server_stop(server, (uint32_t)sc->drain_timeout_ms, &rep);
    server = NULL;
    s2r_handler_log_buffer(0);
    s2r_handler_log_field ef[] = {
        S2R_LOG_NUMBER("abandoned_requests", left),
        S2R_LOG_NUMBER("open_connections", rep.connections)};
    s2r_handler_log_fields(left ? "warn" : "info", "stopped",
                           "s2r serve stopped", ef, 2);
    if (rep.busy) {
        /* a conversion still running past drain_timeout cannot be
         * interrupted, and its thread still uses the handler: end the
         * process now rather than wait for it or free what it uses (the
         * kernel closes its connection) */
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    status = 0;
    goto done;

done_diags:
    print_diags(&diags);
    if (s2r_diags_count(&diags, S2R_SEV_ERROR) == 0)
        fprintf(stderr, "s2r serve: cannot start\n");
done:
    s2r_server_stop(server, 0, NULL);
    free(skip);
    s2r_handler_stack_close(&stack);
    s2r_binding_free(sbind);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&diags);
    return status;
}
