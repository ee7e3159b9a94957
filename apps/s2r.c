/* s2r.c: the s2r program: convert a SLURM batch script into a Run:ai
 * workload, print what s2r reads in a script (parse), or run one of the
 * subcommands of the runtime library (plugins, help, check-config, serve,
 * lambda). */
#include "s2r.h"
#include "commands.h"
#include "config.h"
#include "model_json.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The subcommands and the provider path live in libs2r-runtime.so (libcurl,
 * OpenSSL, libmicrohttpd, SQLite, the plugin loader). The plain conversion
 * does not load it, so it starts in about a millisecond. */
typedef int (*cmd_fn)(int, char **);
typedef int (*provider_fn)(const char *file, const char *buf, size_t len,
                           const char *format, const char *config_path,
                           const char *plugin_dir, const char *submit_dir,
                           bool prompt_only, char **out, s2r_diags *diags);

/* Where libs2r-runtime.so is: $S2R_RUNTIME_LIB, beside the program (build
 * tree), <prefix>/<libdir>/s2r relative to it or as configured, else the
 * library search path (the Lambda package runs s2r through its own loader
 * with --library-path). */
static void *runtime_handle(void)
{
    static void *h;
    static bool tried;
    if (tried)
        return h;
    tried = true;
    const char *name = "libs2r-runtime.so";
    const char *env = getenv("S2R_RUNTIME_LIB");
    if (env && *env && (h = dlopen(env, RTLD_NOW | RTLD_LOCAL)))
        return h;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char path[8192];
            snprintf(path, sizeof(path), "%s/%s", exe, name);
            if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
                return h;
            snprintf(path, sizeof(path), "%s/../%s/%s", exe,
                     S2R_RUNTIME_RELDIR, name);
            if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
                return h;
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", S2R_RUNTIME_DIR, name);
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
        return h;
    h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "s2r: cannot load %s: %s\n", name, dlerror());
    return h;
}

static void *runtime_sym(const char *sym)
{
    void *h = runtime_handle();
    return h ? dlsym(h, sym) : NULL;
}

#define S2R_MAX_SCRIPT (4u << 20) /* slurmctld's default max_script_size */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: s2r [--config FILE] [--format cli|yaml|json] [-o FILE] [-q|-v]\n"
        "           [--submit-dir DIR] [--plugin-dir DIR] [--prompt] SCRIPT|-\n"
        "       s2r parse [--submit-dir DIR] SCRIPT|-\n"
        "       s2r plugins | help PLUGIN | check-config --config FILE\n"
        "       s2r serve [--listen ADDR:PORT] --config FILE\n"
        "       s2r lambda --config FILE\n"
        "\n"
        "Reads a SLURM batch script the way sbatch does and prints the Run:ai\n"
        "workload: a bash script calling 'runai training ... submit' (cli, the\n"
        "default), a Kubernetes manifest for 'runai workload submit --file'\n"
        "(yaml), or the body of POST /api/v1/workloads/... (json).\n"
        "'s2r parse' prints what s2r reads in the script instead, as JSON\n"
        "(the job facts: nodes, tasks, GPUs, CPUs and memory per node, time\n"
        "limit, array, every directive); it exits 1 when sbatch would refuse\n"
        "the script.\n"
        "\n"
        "  -c, --config FILE     site configuration (see s2r.ini.example)\n"
        "  -f, --format FMT      cli | yaml | json\n"
        "  -o, --output FILE     write the result to FILE instead of stdout\n"
        "      --submit-dir DIR  the directory sbatch would run in\n"
        "                        (SLURM_SUBMIT_DIR; default: this one)\n"
        "  -q, --quiet           print errors only\n"
        "  -v, --verbose         print notes too\n"
        "      --plugin-dir DIR  look for plugins in DIR first\n"
        "      --prompt          print the model prompt, call no model\n"
        "  -h, --help            this text\n"
        "  -V, --version         the version\n"
        "\n"
        "Exit status: 0 converted (parse: sbatch accepts the script), 1 the\n"
        "script or the conversion failed, 2 usage error.\n");
}

/* Read all of @p path ("-" = stdin). Returns 0, or an errno. */
static int read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return errno;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (f != stdin)
            fclose(f);
        return EISDIR;
    }
    size_t cap = 8192, n = 0;
    char *p = malloc(cap);
    if (!p) {
        if (f != stdin)
            fclose(f);
        return ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            if (cap > S2R_MAX_SCRIPT) {
                free(p);
                if (f != stdin)
                    fclose(f);
                return EFBIG;
            }
            cap *= 2;
            char *np = realloc(p, cap);
            if (!np) {
                free(p);
                if (f != stdin)
                    fclose(f);
                return ENOMEM;
            }
            p = np;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f) ? EIO : 0;
    if (f != stdin)
        fclose(f);
    if (err) {
        free(p);
        return err;
    }
    if (n > S2R_MAX_SCRIPT) {
        free(p);
        return EFBIG;
    }
    *buf = p;
    *len = n;
    return 0;
}

/* --submit-dir as an absolute, normalised path (it need not exist here:
 * it names a directory of the SLURM cluster). malloc'd; NULL with errno. */
static char *submit_dir_path(const char *dir)
{
    if (!*dir) {
        errno = EINVAL;
        return NULL;
    }
    char *joined = NULL;
    if (dir[0] == '/') {
        joined = strdup(dir);
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd)) ||
            asprintf(&joined, "%s/%s", cwd, dir) < 0)
            return NULL;
    }
    if (!joined)
        return NULL;
    /* fold "//", "/./" and "/../" without touching the file system */
    char *out = joined, *w = joined;
    for (char *r = joined; *r;) {
        while (*r == '/')
            r++;
        char *e = strchr(r, '/');
        size_t n = e ? (size_t)(e - r) : strlen(r);
        if (n == 0)
            break;
        if (n == 1 && r[0] == '.') {
        } else if (n == 2 && r[0] == '.' && r[1] == '.') {
            while (w > out && *--w != '/')
                ;
        } else {
            *w++ = '/';
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    if (w == out)
        *w++ = '/';
    *w = '\0';
    return out;
}

static void print_diags(const s2r_diags *d, int verbosity)
{
    for (size_t i = 0; i < d->n; i++) {
        const s2r_diag *dg = &d->v[i];
        if (dg->severity == S2R_SEV_NOTE && verbosity < 2)
            continue;
        if (dg->severity == S2R_SEV_WARNING && verbosity < 1)
            continue;
        char *line = s2r_diag_format(dg);
        if (line) {
            fprintf(stderr, "%s\n", line);
            free(line);
        }
    }
}

static int write_out(const char *path, const char *text)
{
    if (!path || strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "s2r: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fputs(text, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "s2r: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int s2r_cmd_convert(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"submit-dir", required_argument, NULL, 'S'},
        {"prompt", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *format = NULL, *output = NULL;
    const char *plugin_dir = NULL, *submit_dir = NULL;
    int verbosity = 1;
    bool prompt_only = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:o:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': verbosity = 0; break;
        case 'v': verbosity = 2; break;
        case 'P': plugin_dir = optarg; break;
        case 'S': submit_dir = optarg; break;
        case 'p': prompt_only = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("s2r %s\n", S2R_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "s2r: %s\n", optind >= argc
                ? "no script given (use - for standard input)"
                : "one script at a time");
        usage(stderr);
        return 2;
    }
    const char *script = argv[optind];

    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags diags = {0};
    int status = 1;
    char *buf = NULL, *out = NULL;
    size_t len = 0;

    if (config_path && s2r_config_load(&cfg, config_path, &diags) != S2R_OK) {
        print_diags(&diags, 1);
        goto done;
    }
    if (submit_dir && !(cfg.submit_dir = submit_dir_path(submit_dir))) {
        fprintf(stderr, "s2r: --submit-dir %s: %s\n", submit_dir,
                strerror(errno));
        status = 2;
        goto done;
    }
    if (!format)
        format = cfg.format ? cfg.format : "cli";
    int fmt = s2r_format_from_name(format);
    if (fmt < 0) {
        fprintf(stderr, "s2r: unknown format '%s' (cli, yaml or json)\n",
                format);
        status = 2;
        goto done;
    }
    if (output && strcmp(output, "-") && strcmp(script, "-")) {
        struct stat in_st, out_st;
        if (stat(script, &in_st) == 0 && stat(output, &out_st) == 0 &&
            in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
            fprintf(stderr, "s2r: -o %s would overwrite the script itself\n",
                    output);
            status = 2;
            goto done;
        }
    }
    int err = read_all(script, &buf, &len);
    if (err) {
        fprintf(stderr, "s2r: %s: %s\n", script,
                err == EFBIG ? "larger than 4 MiB, slurmctld's default "
                               "max_script_size" : strerror(err));
        goto done;
    }
    int rc;
    /* with a configuration, the provider it names (rules by default)
     * runs through the plugin registry like any other */
    bool use_provider = prompt_only || config_path ||
                        getenv("S2R_API_ENDPOINT");
    provider_fn with_provider =
        use_provider ? (provider_fn)runtime_sym("s2r_cmd_convert_with_provider")
                     : NULL;
    if (with_provider) {
        rc = with_provider(script, buf, len, format, config_path, plugin_dir,
                           cfg.submit_dir, prompt_only, &out, &diags);
    } else if (use_provider) {
        fprintf(stderr, "s2r: the provider plugins are not available "
                        "(libs2r-runtime.so)\n");
        goto done;
    } else {
        rc = s2r_convert_buffer(&out, script, buf, len, (s2r_format)fmt, &cfg,
                                &diags);
    }
    print_diags(&diags, verbosity);
    if (rc == S2R_OK && out)
        status = write_out(output, out);
    else if (rc == S2R_ENOMEM)
        fprintf(stderr, "s2r: out of memory\n");
    else if (s2r_diags_count(&diags, S2R_SEV_ERROR) == 0)
        fprintf(stderr, "s2r: %s: conversion failed\n", script);
done:
    free(out);
    free(buf);
    s2r_diags_clear(&diags);
    s2r_config_free(&cfg);
    return status;
}

/* s2r parse [--submit-dir DIR] SCRIPT|-: the s2r_job of the script as
 * JSON on stdout (model_json.h's facts schema, "valid" false when sbatch
 * would refuse it), diagnostics on stderr. In-process: no runtime library.
 * Exit 0 when sbatch would accept the script, 1 when it would refuse it or
 * the script cannot be read, 2 on a usage error. */
static int cmd_parse(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"submit-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *submit_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'S': submit_dir = optarg; break;
        case 'h':
            printf("usage: s2r parse [--submit-dir DIR] SCRIPT|-\n"
                   "Prints what s2r reads in a SLURM batch script as JSON; "
                   "exit 1 when sbatch\nwould refuse it.\n");
            return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "s2r parse: one script (or - for standard input)\n");
        return 2;
    }
    const char *script = argv[optind];
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    if (submit_dir && !(cfg.submit_dir = submit_dir_path(submit_dir))) {
        fprintf(stderr, "s2r: --submit-dir %s: %s\n", submit_dir,
                strerror(errno));
        s2r_config_free(&cfg);
        return 2;
    }
    char *buf = NULL;
    size_t len = 0;
    int err = read_all(script, &buf, &len);
    if (err) {
        fprintf(stderr, "s2r: %s: %s\n", script, strerror(err));
        s2r_config_free(&cfg);
        return 1;
    }
    s2r_job job;
    memset(&job, 0, sizeof(job));
    s2r_diags diags = {0};
    int rc = s2r_job_parse(&job, script, buf, len, &cfg, &diags);
    print_diags(&diags, 1);
    int status = 1;
    json_object *o = rc == S2R_ENOMEM ? NULL : s2r_job_to_json(&job);
    if (o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        status = fflush(stdout) == 0 && rc == S2R_OK ? 0 : 1;
    } else {
        fprintf(stderr, "s2r: out of memory\n");
    }
    s2r_job_free(&job);
    s2r_diags_clear(&diags);
    free(buf);
    s2r_config_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        const char *symbol;
    } cmds[] = {{"plugins", "s2r_cmd_plugins"},
                {"help", "s2r_cmd_help_plugin"},
                {"check-config", "s2r_cmd_check_config"},
                {"serve", "s2r_cmd_serve"},
                {"lambda", "s2r_cmd_lambda"}};
    if (argc > 1 && strcmp(argv[1], "parse") == 0)
        return cmd_parse(argc - 1, argv + 1);
    if (argc > 1) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
            if (strcmp(argv[1], cmds[i].name) != 0)
                continue;
            cmd_fn fn = (cmd_fn)runtime_sym(cmds[i].symbol);
            if (!fn) {
                fprintf(stderr, "s2r: '%s' is not available in this build\n",
                        cmds[i].name);
                return 2;
            }
            return fn(argc - 1, argv + 1);
        }
    }
    return s2r_cmd_convert(argc, argv);
}
