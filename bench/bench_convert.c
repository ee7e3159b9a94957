/* bench_convert.c: conversions per second, in process, over a folder of
 * batch scripts (default ../shared/corpus). One thread = one core.
 * Usage: bench_convert [DIR] [SECONDS] [cli|yaml|json|LIST] [files|write]
 * A comma-separated LIST (cli,yaml,json) converts each script once into
 * every format with s2r_conversion_run(), the code `s2r migrate` runs.
 * SECONDS 0: one pass. "files": each conversion first reads its script
 * from the file (open(2), read(2), close(2)), as `s2r job.sh` does, where by
 * default the scripts are read once, before the loop. "write": each output
 * is written to /dev/null with write(2), as `s2r job.sh` writes it to
 * stdout (scripts read once). */
#include <s2r/s2r.h>
#include "conversion.h"

#include "bench_read.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct script {
    char *name;
    char *path;
    char *buf;
    size_t len;
} script;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/corpus";
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    const char *fmt_arg = argc > 3 ? argv[3] : "cli";
    bool from_files = argc > 4 && strcmp(argv[4], "files") == 0;
    int out_fd = argc > 4 && strcmp(argv[4], "write") == 0
                     ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                     : -1;
    unsigned formats = 0;
    char fl[64];
    snprintf(fl, sizeof(fl), "%s", fmt_arg);
    for (char *save = NULL, *t = strtok_r(fl, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        int f = s2r_format_from_name(t);
        if (f < 0) {
            fprintf(stderr, "bench_convert: unknown format %s\n", t);
            return 2;
        }
        formats |= S2R_FORMAT_BIT(f);
    }
    bool many = strchr(fmt_arg, ',') != NULL;
    int fmt = s2r_format_from_name(many ? "cli" : fmt_arg);
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    script s[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t l = strlen(e->d_name);
        if (l < 7 || strcmp(e->d_name + l - 7, ".sbatch"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        s[n].buf = malloc(MAX_FILE);
        s[n].len = s[n].buf ? bench_read_into(path, s[n].buf) : 0;
        if (!s[n].len) {
            free(s[n].buf);
            continue;
        }
        s[n].name = strdup(e->d_name);
        s[n].path = strdup(path);
        n++;
    }
    closedir(d);
    if (!n) {
        fprintf(stderr, "bench_convert: no .sbatch files in %s\n", dir);
        return 1;
    }
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    size_t conversions = 0, refused = 0;
    double t0 = now_s(), t;
    do {
        for (size_t i = 0; i < n; i++) {
            s2r_diags diags = {0};
            char *out = NULL;
            if (from_files)
                s[i].len = bench_read_into(s[i].path, s[i].buf);
            if (many) {
                s2r_conversion_request req = {
                    .file = s[i].name, .script = s[i].buf, .len = s[i].len,
                    .formats = formats, .cfg = &cfg, .keep_workload = true};
                s2r_conversion res;
                if (s2r_conversion_run(&res, &req) != S2R_OK)
                    refused++;
                s2r_conversion_free(&res);
            } else if (s2r_convert_buffer(&out, s[i].name, s[i].buf, s[i].len,
                                          (s2r_format)fmt, &cfg,
                                          &diags) != S2R_OK) {
                refused++;
            } else if (out_fd >= 0) {
                bench_write_all(out_fd, out, strlen(out));
            }
            free(out);
            s2r_diags_clear(&diags);
            conversions++;
        }
        t = now_s() - t0;
    } while (t < seconds);
    printf("bench_convert: %zu scripts, %zu conversions (%zu refused, as "
           "sbatch would) in %.2f s: %.0f conversions/s on one core "
           "(format %s%s)\n", n, conversions, refused, t, conversions / t,
           fmt_arg,
           from_files ? ", reading files"
                      : out_fd >= 0 ? ", writing the output" : "");
    if (out_fd >= 0)
        close(out_fd);
    for (size_t i = 0; i < n; i++) {
        free(s[i].buf);
        free(s[i].name);
        free(s[i].path);
    }
    s2r_config_free(&cfg);
    return 0;
}
