/* s2r.c: the s2r program: convert a SLURM batch script into a Run:ai
 * workload, or run one of the subcommands (migrate, init, parse, plugins,
 * help, check-config, serve, lambda).
 *
 * s2r_cmd_convert() is about 120 lines on purpose: the converter's option
 * parsing, input and output in the order of its man page. */
#include <s2r/s2r.h>
#include "commands.h"
#include "config/config.h"
#include "config_path.h"
#include "conversion.h"
#include "runai/runai.h"
#include "script_detect.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Most subcommands and the provider path live in libs2r-runtime.so
 * (libcurl, OpenSSL, libmicrohttpd, SQLite, the plugin loader). A
 * conversion with the rules provider, with or without a site file, and
 * `s2r migrate` / `s2r init` with it, do not load it: a conversion starts
 * in about a millisecond. */
typedef int (*cmd_fn)(int, char **);

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

void *s2r_runtime_symbol(const char *name)
{
    return runtime_sym(name);
}

#define S2R_MAX_SCRIPT (4u << 20) /* slurmctld's default max_script_size */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: s2r [convert] [options] SCRIPT|- [OUTPUT]   convert one script\n"
        "       s2r migrate [options] PATH...         convert a tree, with reports\n"
        "       s2r init [-o FILE] [--force]          write a starting site file\n"
        "       s2r parse [--submit-dir DIR] SCRIPT   what sbatch makes of it, JSON\n"
        "       s2r check-config [FILE]               check the site file\n"
        "       s2r plugins | help PLUGIN|COMMAND     plugins and their options\n"
        "       s2r serve [--listen ADDR:PORT]        the conversion service\n"
        "       s2r lambda                            the AWS Lambda runtime\n"
        "\n"
        "Reads a SLURM batch script the way sbatch does and prints the Run:ai\n"
        "workload: a bash script calling 'runai training ... submit' (cli, the\n"
        "default), a Kubernetes manifest for 'runai workload submit --file'\n"
        "(yaml), or the body of POST /api/v1/workloads/... (json). With OUTPUT,\n"
        "writes there, in the format its extension names (.sh or none: cli,\n"
        ".yaml/.yml: yaml, .json: json).\n"
        "\n"
        "  -c, --config FILE     site configuration (see s2r.ini.example); else\n"
        "                        $S2R_CONFIG, ./s2r.ini, $XDG_CONFIG_HOME/s2r/\n"
        "                        s2r.ini, /etc/s2r/s2r.ini, built-in defaults\n"
        "      --no-config       the built-in defaults (as S2R_CONFIG=\"\")\n"
        "  -f, --format FMT      cli | yaml | json\n"
        "  -o, --output FILE     write the result to FILE instead of stdout;\n"
        "                        in the format its extension names (.sh,\n"
        "                        .yaml/.yml, .json; --format must agree)\n"
        "      --submit-dir DIR  the directory sbatch would run in\n"
        "                        (SLURM_SUBMIT_DIR; default: this one; '':\n"
        "                        unknown, the pod gets no working directory)\n"
        "  -q, --quiet           print errors only\n"
        "  -v, --verbose         print notes too\n"
        "      --plugin-dir DIR  look for plugins in DIR first\n"
        "      --prompt          print the model prompt, call no model\n"
        "  -h, --help            this text ('s2r help COMMAND' for a command's)\n"
        "  -V, --version         the version\n"
        "\n"
        "Exit status: 0 converted (parse: sbatch accepts the script), 1 the\n"
        "script or the conversion failed, 2 usage error. See s2r(1).\n");
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

char *s2r_submit_dir_path(const char *dir)
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

/* The format @p path's extension names, in any case: .yaml/.yml yaml,
 * .json json, .sh cli; @p none with no extension, -1 for another one. */
static int extension_format(const char *path, int none)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return none;
    if (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml"))
        return S2R_FMT_YAML;
    if (!strcasecmp(dot, ".json"))
        return S2R_FMT_JSON;
    if (!strcasecmp(dot, ".sh"))
        return S2R_FMT_CLI;
    return -1;
}

/* The format an OUTPUT file's name implies: its extension's, cli with
 * none; -1 for another extension. */
static int format_of_output(const char *path)
{
    return extension_format(path, S2R_FMT_CLI);
}

/* The format -o FILE's extension names; NULL for no FILE, "-" (stdout),
 * no extension or another one: then --format, the site file's format or
 * cli decide. */
static const char *format_named_by_output(const char *path)
{
    int fmt = path && strcmp(path, "-") ? extension_format(path, -1) : -1;
    return fmt < 0 ? NULL : s2r_format_name((s2r_format)fmt);
}

/* True when @p path exists and holds #SBATCH directives: a batch script
 * that an OUTPUT argument must not overwrite. */
static bool is_batch_script(const char *path)
{
    /* only a regular file: reading a pipe, a FIFO or a terminal named as
     * OUTPUT (/dev/stdout) would wait for bytes that never come */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char head[8192];
    size_t n = fread(head, 1, sizeof(head), f);
    fclose(f);
    return s2r_script_has_directives(head, n);
}

typedef struct convert_opts {
    const char *config, *format, *output, *plugin_dir, *submit_dir;
    const char *script;
    int verbosity;
    bool prompt_only, no_config;
} convert_opts;

static bool names_command(const char *name);

/* getopt and the positional arguments: SCRIPT [OUTPUT]. Returns -1 to go
 * on, else the exit status. */
static int parse_convert_args(int argc, char **argv, convert_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"no-config", no_argument, NULL, 'n'},
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
    memset(o, 0, sizeof(*o));
    o->verbosity = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:o:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'n': o->no_config = true; break;
        case 'f': o->format = optarg; break;
        case 'o': o->output = optarg; break;
        case 'q': o->verbosity = 0; break;
        case 'v': o->verbosity = 2; break;
        case 'P': o->plugin_dir = optarg; break;
        case 'S': o->submit_dir = optarg; break;
        case 'p': o->prompt_only = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("s2r %s\n", S2R_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    int npos = argc - optind;
    if (npos < 1) {
        fprintf(stderr, "s2r: no script given (use - for standard input)\n");
        usage(stderr);
        return 2;
    }
    if (npos > 2) {
        fprintf(stderr, "s2r: %d arguments: s2r converts one script "
                        "(s2r SCRIPT [OUTPUT]); for many, use 's2r migrate "
                        "PATH...'\n", npos);
        return 2;
    }
    o->script = argv[optind];
    if (optind > 1 && names_command(o->script) && access(o->script, F_OK)) {
        fprintf(stderr, "s2r: '%s' is a command, and the options before it "
                        "are the conversion's: write the command first "
                        "(s2r %s [options] ...)\n", o->script, o->script);
        return 2;
    }
    return npos == 2 ? -2 : -1;
}

/* The classic form `s2r SCRIPT OUTPUT`: the format from OUTPUT's name. */
static int classic_output(convert_opts *o, const char *output)
{
    if (o->output) {
        fprintf(stderr, "s2r: both -o %s and an OUTPUT argument (%s)\n",
                o->output, output);
        return 2;
    }
    int fmt = format_of_output(output);
    if (fmt < 0) {
        fprintf(stderr, "s2r: %s: the output's extension names no format "
                        "(.sh or none: cli, .yaml/.yml: yaml, .json: json); "
                        "to convert several scripts, use 's2r migrate "
                        "PATH...'\n", output);
        return 2;
    }
    const char *named = s2r_format_name((s2r_format)fmt);
    if (o->format && s2r_format_from_name(o->format) != fmt) {
        fprintf(stderr, "s2r: --format %s contradicts %s, whose name asks "
                        "for %s\n", o->format, output, named);
        return 2;
    }
    if (is_batch_script(output)) {
        fprintf(stderr, "s2r: %s is a batch script itself and stays as it "
                        "is; to convert several scripts, use 's2r migrate "
                        "PATH...'\n", output);
        return 2;
    }
    o->format = named;
    o->output = output;
    return -1;
}

/* Load the site file the lookup chose into @p cfg. Returns 0 or 1. */
static int load_site(const s2r_config_choice *choice, s2r_config *cfg,
                     s2r_diags *diags)
{
    if (!choice->path)
        return 0;
    int rc = s2r_config_load(cfg, choice->path, diags);
    if (rc == S2R_ENOTFOUND && !s2r_diags_count(diags, S2R_SEV_ERROR))
        s2r_diags_add(diags, S2R_SEV_ERROR, choice->path, 0, NULL,
                      "cannot open configuration file (%s)",
                      s2r_config_origin_text(choice->origin));
    return rc == S2R_OK ? 0 : 1;
}

/* The provider glue when the rules do not convert in this process:
 * --prompt, a [core] provider other than rules, or S2R_API_ENDPOINT with no
 * site file. *@p glue stays NULL for the in-process rules. Returns 0 or 1. */
static int choose_provider(const convert_opts *o,
                           const s2r_config_choice *choice,
                           const s2r_config *cfg, s2r_provider_glue *glue)
{
    *glue = NULL;
    const char *ep = getenv("S2R_API_ENDPOINT");
    bool remote = !choice->path && ep && *ep;
    bool plugin = cfg->provider && strcmp(cfg->provider, "rules") != 0;
    if (!o->prompt_only && !remote && !plugin)
        return 0;
    *glue = (s2r_provider_glue)runtime_sym("s2r_cmd_convert_with_provider");
    if (*glue)
        return 0;
    fprintf(stderr, "s2r: the provider plugins are not available "
                    "(libs2r-runtime.so)\n");
    return 1;
}

int s2r_cmd_convert(int argc, char **argv)
{
    convert_opts o;
    int st = parse_convert_args(argc, argv, &o);
    if (st == -2)
        st = classic_output(&o, argv[argc - 1]);
    if (st >= 0)
        return st;
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_config_choice choice;
    s2r_diags diags = {0};
    s2r_conversion res;
    memset(&res, 0, sizeof(res));
    int status = 1;
    char *buf = NULL;
    size_t len = 0;
    if (s2r_config_path_find(&choice, o.config, o.no_config)) {
        fprintf(stderr, "s2r: out of memory\n");
        goto done;
    }
    const char *ep = getenv("S2R_API_ENDPOINT");
    if (ep && *ep && !s2r_config_origin_explicit(choice.origin)) {
        /* the environment names the remote server: it beats the files
         * found by looking (./s2r.ini, XDG, /etc) */
        free(choice.path);
        choice.path = NULL;
        choice.origin = S2R_CONFIG_NONE;
    }
    if (load_site(&choice, &cfg, &diags)) {
        print_diags(&diags, 1);
        goto done;
    }
    if (o.submit_dir && !*o.submit_dir) {
        cfg.submit_dir = strdup(""); /* unknown: not the current one */
    } else if (o.submit_dir &&
               !(cfg.submit_dir = s2r_submit_dir_path(o.submit_dir))) {
        fprintf(stderr, "s2r: --submit-dir %s: %s\n", o.submit_dir,
                strerror(errno));
        status = 2;
        goto done;
    }
    /* the local user submits: sbatch's submit directory and identity */
    if (s2r_config_local_defaults(&cfg)) {
        fprintf(stderr, "s2r: out of memory\n");
        goto done;
    }
    /* --format, else the format -o FILE's name asks for, else the site
     * file's, else cli; --format and a name that asks for another one
     * contradict each other, as for an OUTPUT argument */
    const char *named = format_named_by_output(o.output);
    if (o.format && named && s2r_format_from_name(o.format) >= 0 &&
        s2r_format_from_name(o.format) != s2r_format_from_name(named)) {
        fprintf(stderr, "s2r: --format %s contradicts -o %s, whose name asks "
                        "for %s\n", o.format, o.output, named);
        status = 2;
        goto done;
    }
    const char *format = o.format ? o.format : named;
    if (!format)
        format = cfg.format ? cfg.format : "cli";
    int fmt = s2r_format_from_name(format);
    if (fmt < 0) {
        fprintf(stderr, "s2r: unknown format '%s' (cli, yaml or json)\n",
                format);
        status = 2;
        goto done;
    }
    if (o.output && strcmp(o.output, "-") && strcmp(o.script, "-")) {
        struct stat in_st, out_st;
        if (stat(o.script, &in_st) == 0 && stat(o.output, &out_st) == 0 &&
            in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
            fprintf(stderr, "s2r: -o %s would overwrite the script itself\n",
                    o.output);
            status = 2;
            goto done;
        }
    }
    int err = read_all(o.script, &buf, &len);
    if (err) {
        fprintf(stderr, "s2r: %s: %s\n", o.script,
                err == EFBIG ? "larger than 4 MiB, slurmctld's default "
                               "max_script_size" : strerror(err));
        goto done;
    }
    s2r_conversion_request req = {
        .file = o.script, .script = buf, .len = len,
        .formats = S2R_FORMAT_BIT(fmt), .cfg = &cfg,
        .config_path = choice.path, .plugin_dir = o.plugin_dir,
        .prompt_only = o.prompt_only};
    if (choose_provider(&o, &choice, &cfg, &req.provider))
        goto done;
    int rc = s2r_conversion_run(&res, &req);
    print_diags(&res.diags, o.verbosity);
    if (rc == S2R_OK && res.output[fmt])
        status = write_out(o.output, res.output[fmt]);
    else if (rc == S2R_ENOMEM)
        fprintf(stderr, "s2r: out of memory\n");
    else if (s2r_diags_count(&res.diags, S2R_SEV_ERROR) == 0)
        fprintf(stderr, "s2r: %s: conversion failed\n", o.script);
done:
    s2r_conversion_free(&res);
    free(buf);
    s2r_diags_clear(&diags);
    s2r_config_free(&cfg);
    s2r_config_choice_free(&choice);
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
    static const char usage_line[] =
        "usage: s2r parse [--submit-dir DIR] SCRIPT|-\n";
    const char *submit_dir = NULL;
    int c;
    static char name[] = "s2r parse"; /* getopt's messages name it */
    argv[0] = name;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'S': submit_dir = optarg; break;
        case 'h':
            printf("%sPrints what s2r reads in a SLURM batch script as "
                   "JSON; exit 1 when sbatch\nwould refuse it.\n",
                   usage_line);
            return 0;
        default: fputs(usage_line, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "s2r parse: one script (or - for standard input)\n");
        return 2;
    }
    const char *script = argv[optind];
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    if (submit_dir && !(cfg.submit_dir = s2r_submit_dir_path(submit_dir))) {
        fprintf(stderr, "s2r: --submit-dir %s: %s\n", submit_dir,
                strerror(errno));
        s2r_config_free(&cfg);
        return 2;
    }
    if (s2r_config_local_defaults(&cfg)) {
        fprintf(stderr, "s2r: out of memory\n");
        s2r_config_free(&cfg);
        return 1;
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

/* The subcommands: in the program (fn), or in libs2r-runtime.so (symbol). */
static const struct {
    const char *name;
    cmd_fn fn;
    const char *symbol;
} commands[] = {{"convert", s2r_cmd_convert, NULL},
                {"migrate", s2r_cmd_migrate, NULL},
                {"init", s2r_cmd_init, NULL},
                {"plugins", NULL, "s2r_cmd_plugins"},
                {"help", NULL, "s2r_cmd_help_plugin"},
                {"check-config", NULL, "s2r_cmd_check_config"},
                {"serve", NULL, "s2r_cmd_serve"},
                {"lambda", NULL, "s2r_cmd_lambda"},
                {"parse", cmd_parse, NULL}};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* True when @p name is one of the subcommands. */
static bool names_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return true;
    return false;
}

/* Run subcommand @p i with argv[0] its name. */
static int run_command(size_t i, int argc, char **argv)
{
    cmd_fn fn = commands[i].fn ? commands[i].fn
                               : (cmd_fn)runtime_sym(commands[i].symbol);
    if (!fn) {
        fprintf(stderr, "s2r: '%s' is not available in this build\n",
                commands[i].name);
        return 2;
    }
    return fn(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "help")) {
        /* `s2r help`, `s2r help COMMAND` (its --help), `s2r help PLUGIN` */
        if (argc < 3 || !strcmp(argv[2], "help")) {
            usage(stdout);
            return 0;
        }
        for (size_t i = 0; i < N_COMMANDS; i++) {
            if (strcmp(argv[2], commands[i].name) != 0)
                continue;
            char *hargv[] = {argv[2], (char *)"--help", NULL};
            return run_command(i, 2, hargv);
        }
    }
    for (size_t i = 0; argc > 1 && i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return run_command(i, argc - 1, argv + 1);
    return s2r_cmd_convert(argc, argv);
}
