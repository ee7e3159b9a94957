/* fuzz_common.c: the site configuration and the checks the harnesses
 * share (see fuzz_common.h). */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "config/config.h"

const char FUZZ_SITE_INI[] =
    "[runai]\n"
    "project = team-vision\n"
    "default_image = nvcr.io/nvidia/pytorch:24.05-py3\n"
    "priority = medium-high\n"
    "preemptibility = preemptible\n"
    "time_limit = timeout\n"
    "[site]\n"
    "home = /home/%u\n"
    "[storage]\n"
    "/home = nfs:nfs.example.org:/export/home\n"
    "/project = pvc:project\n"
    "/scratch = pvc:scratch\n"
    "/datasets = hostpath:/mnt/datasets,ro\n"
    "/data/imagenet = datasource:imagenet\n"
    "/shared = nfs:nfs.example.org:/export/shared,ro\n"
    "[partitions]\n"
    "gpu = a100-pool\n"
    "debug = \n"
    "[constraints]\n"
    "a100 = dgx-a100\n"
    "h100 = dgx-h100\n"
    "[accounts]\n"
    "physics = team-physics\n"
    "[qos]\n"
    "high = high\n"
    "[modules]\n"
    "cuda/12.1 = nvcr.io/nvidia/cuda:12.1.0-devel-ubuntu22.04\n"
    "pytorch = nvcr.io/nvidia/pytorch:24.05-py3\n";

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz check failed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        fuzz_fail("out of memory copying %zu bytes", size);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_expect_rc(const char *what, int rc, int ok1, int ok2)
{
    if (rc != ok1 && rc != ok2)
        fuzz_fail("%s returned %d", what, rc);
}

static void print_diags(const s2r_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  %s\n", d->v[i].message);
}

const s2r_config *fuzz_site_config(void)
{
    static s2r_config cfg;
    static int ready;
    if (ready)
        return &cfg;
    s2r_ini ini = {0};
    s2r_diags d = {0};
    s2r_config_defaults(&cfg);
    if (s2r_ini_read_string(&ini, "fuzz-site.ini", FUZZ_SITE_INI, &d) !=
            S2R_OK ||
        s2r_config_apply(&cfg, &ini, &d) != S2R_OK) {
        print_diags(&d);
        fuzz_fail("the harness's site configuration does not apply");
    }
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
    ready = 1;
    return &cfg;
}

static char site_path[64];

static void remove_site_file(void)
{
    if (site_path[0])
        unlink(site_path);
}

const char *fuzz_site_ini_path(void)
{
    char *path = site_path;
    if (path[0])
        return path;
    snprintf(site_path, sizeof(site_path), "/tmp/s2r-fuzz-site-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        fuzz_fail("mkstemp %s", path);
    size_t n = strlen(FUZZ_SITE_INI);
    if (write(fd, FUZZ_SITE_INI, n) != (ssize_t)n)
        fuzz_fail("write %s", path);
    close(fd);
    atexit(remove_site_file);
    return path;
}

void fuzz_format_diags(const s2r_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char *line = s2r_diag_format(&d->v[i]);
        if (!line || !d->v[i].message)
            fuzz_fail("diagnostic %zu cannot be formatted", i);
        free(line);
    }
}

void fuzz_check_json(const char *what, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    if (!tok)
        fuzz_fail("out of memory");
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || je != json_tokener_success)
        fuzz_fail("%s is not JSON (%s):\n%s", what,
                  json_tokener_error_desc(je), text);
    while (used < len && (text[used] == '\n' || text[used] == ' '))
        used++;
    if (used != len)
        fuzz_fail("%s: text after the JSON value:\n%s", what, text);
    json_object_put(o);
}

void fuzz_check_yaml(const char *what, const char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        fuzz_fail("out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            fuzz_fail("%s is not YAML (%s at line %zu):\n%s", what,
                      p.problem ? p.problem : "?", p.problem_mark.line + 1,
                      text);
        int end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (end)
            break;
    }
    yaml_parser_delete(&p);
}

void fuzz_emit_all(const s2r_workload *wl, const s2r_config *cfg,
                   s2r_diags *d)
{
    static const s2r_format formats[] = {S2R_FMT_CLI, S2R_FMT_YAML,
                                         S2R_FMT_JSON};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char *out = NULL;
        size_t errors = s2r_diags_count(d, S2R_SEV_ERROR);
        int rc = s2r_emit(&out, wl, formats[i], cfg, d);
        fuzz_expect_rc("s2r_emit", rc, S2R_OK, S2R_EINVAL);
        if (rc == S2R_OK && !out)
            fuzz_fail("s2r_emit format %d: S2R_OK without a text",
                      (int)formats[i]);
        if (rc == S2R_EINVAL && s2r_diags_count(d, S2R_SEV_ERROR) == errors)
            fuzz_fail("s2r_emit format %d refused without an error",
                      (int)formats[i]);
        if (rc == S2R_OK && formats[i] == S2R_FMT_YAML)
            fuzz_check_yaml("the YAML output", out, strlen(out));
        if (rc == S2R_OK && formats[i] == S2R_FMT_JSON)
            fuzz_check_json("the JSON output", out, strlen(out));
        free(out);
    }
}
