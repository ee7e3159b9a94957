/* cmd_lambda.c: `s2r lambda`: run as an AWS Lambda custom runtime.
 *
 *   s2r lambda [--config FILE] [--plugin-dir DIR] [--max-events N]
 *
 * Reads the site INI like `s2r serve` (conversion settings, the [auth.*]
 * [ratelimit.*] [provider.*] plugin sections, and [lambda] for the
 * request handler: auth, ratelimit, provider, max_body, request_timeout,
 * log_requests), then loops on the Lambda Runtime API at
 * $AWS_LAMBDA_RUNTIME_API (core/server/lambda.c) feeding Function URL events
 * to the same request handler as `s2r serve`.
 *
 * Defaults for a deployment: --config $S2R_CONFIG, else
 * $LAMBDA_TASK_ROOT/s2r.ini; plugins from --plugin-dir, [core]
 * plugin_dir, $S2R_PLUGIN_PATH (lambda/bootstrap sets it). A start-up
 * failure is reported to /runtime/init/error (so it shows in the
 * invocation's error and in CloudWatch) and exits 1. Logs are JSON lines
 * on standard error (CloudWatch Logs).
 *
 * s2r_cmd_lambda() is about 110 lines on purpose: options, configuration,
 * the start-up report and the event loop in the order they happen.
 */
#include <s2r/s2r.h>
#include "commands.h"
#include "config/config.h"
#include "server/handler.h"
#include "server/lambda.h"
#include "plugin/registry.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void lambda_usage(FILE *f)
{
    fprintf(f,
        "usage: s2r lambda [--config FILE] [--plugin-dir DIR] "
        "[--max-events N]\n"
        "\n"
        "Runs as an AWS Lambda custom runtime (the function's bootstrap):\n"
        "takes Function URL events from the Lambda Runtime API at\n"
        "$AWS_LAMBDA_RUNTIME_API and answers them like `s2r serve`.\n"
        "\n"
        "  -c, --config FILE     site configuration (default: $S2R_CONFIG,\n"
        "                        else $LAMBDA_TASK_ROOT/s2r.ini)\n"
        "      --plugin-dir DIR  look for plugins in DIR first\n"
        "      --max-events N    exit 0 after N events (tests, benchmarks)\n"
        "  -h, --help            this text\n");
}

/* Diagnostics as one message (errors first), for /init/error. */
static void diags_text(const s2r_diags *d, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < d->n && o + 1 < cap; i++) {
            int is_err = d->v[i].severity == S2R_SEV_ERROR;
            if (is_err != (pass == 0) || d->v[i].severity == S2R_SEV_NOTE)
                continue;
            char *line = s2r_diag_format(&d->v[i]);
            if (!line)
                continue;
            int n = snprintf(buf + o, cap - o, "%s%s", o ? "; " : "", line);
            free(line);
            if (n < 0)
                break;
            o += (size_t)n < cap - o ? (size_t)n : cap - o - 1;
        }
    }
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

int s2r_cmd_lambda(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"max-events", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *plugin_dir = NULL;
    unsigned long long max_events = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'P': plugin_dir = optarg; break;
        case 'n': {
            char *end = NULL;
            max_events = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fprintf(stderr, "s2r lambda: --max-events: a number\n");
                return 2;
            }
            break;
        }
        case 'h': lambda_usage(stdout); return 0;
        default: lambda_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "s2r lambda: unexpected argument '%s'\n",
                argv[optind]);
        lambda_usage(stderr);
        return 2;
    }
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) {
        fprintf(stderr, "s2r lambda: AWS_LAMBDA_RUNTIME_API is not set (this "
                        "runs inside AWS Lambda, or against a Runtime API "
                        "emulator)\n");
        return 2;
    }
    char default_config[4096];
    if (!config_path)
        config_path = getenv("S2R_CONFIG");
    if (!config_path || !*config_path) {
        const char *root = getenv("LAMBDA_TASK_ROOT");
        snprintf(default_config, sizeof(default_config), "%s/s2r.ini",
                 root && *root ? root : ".");
        config_path = default_config;
    }
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    s2r_diags diags = {0};
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_handler_stack st = {0};
    s2r_handler *handler = NULL;
    char msg[1024];
    s2r_error err = {0};

    int rc = s2r_ini_read(&ini, config_path, &diags);
    if (rc == S2R_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "%.900s: cannot open the configuration",
                 config_path);
        goto init_failed;
    }
    if (rc != S2R_OK ||
        s2r_handler_stack_open(&st, &cfg, &ini, "lambda", NULL, plugin_dir,
                               &diags) != S2R_OK)
        goto init_diags;
    handler = st.handler;
    print_diags(&diags); /* warnings */

    const char *fields[] = {"runtime_api", api,
                            "auth", s2r_handler_auth_id(handler),
                            "ratelimit", s2r_handler_ratelimit_id(handler),
                            "provider", s2r_handler_provider_id(handler),
                            "version", S2R_VERSION};
    s2r_handler_log_event("info", "lambda_ready", "s2r lambda is ready",
                          fields, sizeof(fields) / sizeof(fields[0]) / 2);
    s2r_lambda_options lo = {.runtime_api = api, .handler = handler,
                             .max_events = max_events};
    rc = s2r_lambda_run(&lo, &err);
    if (rc == S2R_OK) {
        status = 0;
    } else {
        const char *f[] = {"error", err.message};
        s2r_handler_log_event("error", "lambda_stopped",
                              "the invocation loop stopped", f, 1);
    }
    goto done;

init_diags:
    print_diags(&diags);
    diags_text(&diags, msg, sizeof(msg));
    if (!msg[0])
        snprintf(msg, sizeof(msg), "%.900s: cannot start", config_path);
init_failed:
    fprintf(stderr, "s2r lambda: %s\n", msg);
    if (s2r_lambda_init_error(api, "S2R.ConfigError", msg, &err) != S2R_OK)
        fprintf(stderr, "s2r lambda: %s\n", err.message);
done:
    s2r_handler_stack_close(&st);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&diags);
    return status;
}
