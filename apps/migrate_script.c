/* migrate_script.c: one file of the tree: read it, tell whether it is a
 * batch script, convert it as `s2r --config FILE SCRIPT` would (the same
 * s2r_conversion_run()), write one output per format beside its mirrored
 * path, and make its report row. Runs on any worker thread. */
#include "migrate.h"
#include "script_detect.h"
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MG_MAX_SCRIPT (4u << 20) /* slurmctld's default max_script_size */

static const char *const ext[S2R_N_FORMATS] = {".sh", ".yaml", ".json"};
/* OUTDIR's own files: a script's output never takes their place */
static const char *const reserved[] = {"report.json", "report.md",
    "report.html", "suggested-site.ini", ".s2r-manifest", NULL};

void mg_row_free(mg_row *r)
{
    free(r->path);
    free(r->job_name);
    free(r->workload);
    free(r->kind);
    free(r->image);
    free(r->partition);
    free(r->account);
    free(r->qos);
    free(r->constraint);
    free(r->gpu_type);
    for (int f = 0; f < S2R_N_FORMATS; f++)
        free(r->outputs[f]);
    for (size_t i = 0; i < r->nw; i++) {
        free(r->w[i].option);
        free(r->w[i].message);
    }
    free(r->w);
    s2r_strv_clear(&r->paths);
    s2r_strv_clear(&r->software);
    memset(r, 0, sizeof(*r));
}

const char *mg_status_name(mg_status s)
{
    static const char *const names[] = {"converted",
        "converted-with-warnings", "refused", "failed"};
    return names[s];
}

void mg_result_free(mg_result *res)
{
    mg_row_free(&res->row);
    free(res->json);
    free(res->md);
    free(res->html);
    free(res->skip_json);
    free(res->skip_md);
    free(res->skip_html);
    free(res->md_problem);
    free(res->message);
    memset(res, 0, sizeof(*res));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int add_entry(mg_row *r, int line, const char *category,
                     const char *option, const char *message,
                     unsigned formats, bool error)
{
    mg_warning *nw = realloc(r->w, (r->nw + 1) * sizeof(*nw));
    if (!nw)
        return S2R_ENOMEM;
    r->w = nw;
    mg_warning *w = &r->w[r->nw];
    memset(w, 0, sizeof(*w));
    w->line = line;
    w->category = category;
    w->formats = formats;
    w->error = error;
    w->option = dup_or_null(option);
    w->message = strdup(message);
    if (!w->message)
        return S2R_ENOMEM;
    r->nw++;
    return S2R_OK;
}

static const char *kind_name(s2r_workload_kind k)
{
    static const char *const names[] = {"standard", "pytorch", "mpi",
                                        "workspace", "inference"};
    return (unsigned)k < 5 ? names[k] : "standard";
}

static const char *directive_value(const s2r_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, name))
            return job->directives[i].value;
    return NULL;
}

static char *join_list(char **l)
{
    size_t n = 0;
    for (size_t i = 0; l && l[i]; i++)
        n += strlen(l[i]) + 1;
    if (!n)
        return NULL;
    char *out = malloc(n), *o = out;
    for (size_t i = 0; out && l[i]; i++)
        o += sprintf(o, "%s%s", i ? "," : "", l[i]);
    return out;
}

/* Kind, resources and site names of a converted script. */
static void fill_workload(mg_row *r, const s2r_conversion *c,
                          const s2r_config *cfg)
{
    const s2r_workload *wl = &c->workload;
    const s2r_job *job = &c->job;
    r->job_name = dup_or_null(job->job_name);
    r->workload = dup_or_null(wl->name);
    r->kind = strdup(kind_name(wl->kind));
    r->image = dup_or_null(wl->image);
    r->image_default = !job->image && !job->container_image;
    r->pods = wl->pods;
    r->gpus_per_pod = wl->gpus;
    r->cpus_per_pod = wl->cpus;
    r->memory_mib = wl->memory_mib;
    r->time_limit_s = wl->time_limit_s > 0 ? wl->time_limit_s : 0;
    r->array_size = job->array ? (long)job->array->count : 0;
    r->array_parallel = job->array ? (long)wl->parallelism : 0;
    long at_once = !r->array_size ? 1
                   : r->array_parallel > 0 && r->array_parallel < r->array_size
                       ? r->array_parallel
                       : r->array_size;
    r->pods_total = r->pods * at_once;
    r->gpus = r->gpus_per_pod * r->pods_total;
    r->partition = join_list(job->partitions);
    r->account = dup_or_null(job->account);
    r->qos = dup_or_null(directive_value(job, "qos"));
    r->constraint = dup_or_null(directive_value(job, "constraint"));
    r->gpu_type = dup_or_null(job->gpu_type);
    (void)cfg;
}

static bool is_reserved(const mg_item *it, const char *name)
{
    for (size_t i = 0; !*it->dir->rel && reserved[i]; i++)
        if (!strcmp(name, reserved[i]))
            return true;
    return false;
}

/* Write every output of a converted script; a failure makes it "failed". */
static int write_outputs(mg_run *run, mg_item *it, mg_result *res,
                         const s2r_conversion *c)
{
    mg_row *r = &res->row;
    for (int f = 0; f < S2R_N_FORMATS; f++) {
        if (!c->output[f])
            continue;
        char *name = NULL, *rel = NULL, *err = NULL;
        if (asprintf(&name, "%s%s", it->name, ext[f]) < 0 ||
            asprintf(&rel, "%s%s", it->rel, ext[f]) < 0) {
            free(name);
            return S2R_ENOMEM;
        }
        int e = 0;
        if (is_reserved(it, name)) {
            e = EEXIST;
            if (asprintf(&err, "%s would take the place of OUTDIR's own "
                         "%s", rel, name) < 0)
                err = NULL;
        } else {
            e = mg_output_write(run, it->dir, rel, name, c->output[f], &err);
        }
        free(name);
        if (e) {
            r->status = MG_FAILED;
            int rc = add_entry(r, 0, "output", NULL,
                               err ? err : strerror(e), S2R_FORMAT_BIT(f),
                               true);
            free(err);
            free(rel);
            if (rc)
                return rc;
            continue;
        }
        r->outputs[f] = rel;
    }
    return S2R_OK;
}

/* The diagnostics a single conversion prints (warnings and errors). */
static int add_diags(mg_row *r, const s2r_conversion *c)
{
    for (size_t i = 0; i < c->diags.n; i++) {
        const s2r_diag *d = &c->diags.v[i];
        if (d->severity == S2R_SEV_NOTE)
            continue;
        if (add_entry(r, d->line, mg_category(d), d->option, d->message,
                      c->diag_formats[i], d->severity == S2R_SEV_ERROR))
            return S2R_ENOMEM;
    }
    return S2R_OK;
}

static int convert(mg_run *run, mg_item *it, mg_result *res, const char *buf,
                   size_t len)
{
    mg_row *r = &res->row;
    s2r_config cfg = run->cfg; /* shallow: submit_dir and the owner differ */
    cfg.submit_dir = run->submit_dir ? run->submit_dir : it->dir->abs;
    struct stat file;
    bool owner = run->owners &&
                 fstatat(it->dir->src_fd, it->name, &file, 0) == 0 &&
                 file.st_uid != 0;
    if (owner && s2r_config_owner(&cfg, file.st_uid, file.st_gid)) {
        free(cfg.user);
        free(cfg.groups);
        return S2R_ENOMEM;
    }
    s2r_conversion_request req = {
        .file = it->rel, .script = buf, .len = len, .formats = run->formats,
        .cfg = &cfg, .keep_workload = true, .provider = run->provider,
        .config_path = run->choice.path, .plugin_dir = run->plugin_dir};
    s2r_conversion c;
    int rc = s2r_conversion_run(&c, &req);
    int st = add_diags(r, &c);
    if (rc == S2R_OK) {
        r->status = s2r_diags_count(&c.diags, S2R_SEV_WARNING) ? MG_WARNINGS
                                                               : MG_CONVERTED;
        if (c.have_workload)
            fill_workload(r, &c, &run->cfg);
        if (st == S2R_OK)
            st = write_outputs(run, it, res, &c);
        if (st == S2R_OK)
            st = mg_facts(r, buf, len, &cfg, &c);
    } else {
        r->status = rc == S2R_EINVAL ? MG_REFUSED : MG_FAILED;
        if (!s2r_diags_count(&c.diags, S2R_SEV_ERROR) && st == S2R_OK)
            st = add_entry(r, 0, "conversion", NULL, rc == S2R_ENOMEM
                           ? "out of memory" : "the conversion failed", 0,
                           true);
        /* every output an earlier run wrote for it (the manifest says
         * which), whatever formats this run asks for */
        for (int f = 0; f < S2R_N_FORMATS; f++) {
            char *name = NULL, *rel = NULL;
            if (asprintf(&name, "%s%s", it->name, ext[f]) >= 0 &&
                asprintf(&rel, "%s%s", it->rel, ext[f]) >= 0)
                mg_output_remove_stale(run, it->dir, rel, name);
            free(name);
            free(rel);
        }
    }
    s2r_conversion_free(&c);
    if (owner) {
        free(cfg.user);
        free(cfg.groups);
    }
    return st;
}

/* The first error of a refused or failed script, for standard error,
 * naming the script by a path that opens it (an absolute root's mirror
 * lost its leading '/': @p rooted). */
static char *error_line(const mg_row *r, bool rooted)
{
    char *out = NULL;
    const char *slash = rooted ? "/" : "";
    for (size_t i = 0; i < r->nw; i++) {
        if (!r->w[i].error)
            continue;
        int n = r->w[i].line
                    ? asprintf(&out, "%s%s:%d: error: %s", slash, r->path,
                               r->w[i].line, r->w[i].message)
                    : asprintf(&out, "%s%s: error: %s", slash, r->path,
                               r->w[i].message);
        return n < 0 ? NULL : out;
    }
    return NULL;
}

/* Read @p fd: the head (detection), then all of a batch script. */
static int read_file(int fd, size_t size, char **buf, size_t *len,
                     bool *script, bool *binary)
{
    size_t want = size < S2R_DETECT_HEAD ? size : S2R_DETECT_HEAD;
    *buf = malloc(want + 1);
    *len = 0;
    if (!*buf)
        return ENOMEM;
    while (*len < want) {
        ssize_t n = read(fd, *buf + *len, want - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            break;
        *len += (size_t)n;
    }
    *script = s2r_script_has_directives(*buf, *len);
    *binary = !*script && s2r_bytes_look_binary(*buf, *len);
    if (!*script || size <= want || size > MG_MAX_SCRIPT)
        return 0;
    char *all = realloc(*buf, size + 1);
    if (!all)
        return ENOMEM;
    *buf = all;
    while (*len < size) {
        ssize_t n = read(fd, *buf + *len, size - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : 0;
        *len += (size_t)n;
    }
    return 0;
}

static void skipped(mg_result *res, const char *rel, const char *reason,
                    const char *message)
{
    res->kind = MG_SKIPPED;
    mg_skip_format(res, rel, reason, message);
}

void mg_process(mg_run *run, mg_item *it, mg_result *res)
{
    memset(res, 0, sizeof(*res));
    if (!it->dir) {
        skipped(res, it->rel, it->skip_reason, it->skip_message);
        return;
    }
    int fd = openat(it->dir->src_fd, it->name,
                    O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        skipped(res, it->rel, "unreadable", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    bool script = false, binary = false;
    int e = S_ISREG(st.st_mode)
                ? read_file(fd, (size_t)st.st_size, &buf, &len, &script,
                            &binary)
                : 0;
    close(fd);
    if (e) {
        skipped(res, it->rel, "unreadable", strerror(e));
    } else if (binary) {
        skipped(res, it->rel, "binary", "a binary file (it holds NUL bytes)");
    } else if (script) {
        res->kind = MG_SCRIPT;
        mg_row *r = &res->row;
        r->path = strdup(it->rel);
        if ((size_t)st.st_size > MG_MAX_SCRIPT) {
            r->status = MG_REFUSED;
            add_entry(r, 0, "size", NULL, "larger than 4 MiB, slurmctld's "
                      "default max_script_size", 0, true);
        } else {
            convert(run, it, res, buf, len);
        }
        if (r->status >= MG_REFUSED)
            res->message = error_line(r, it->dir->rooted);
        mg_row_format(run, res);
    }
    free(buf);
}
