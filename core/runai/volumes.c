/* volumes.c: which [storage] entries the pods mount (see site_rules.h).
 *
 * On SLURM every node mounts the site's shared file systems and a job
 * starts in its submit directory on one of them; a pod sees only what it
 * mounts. Every path the job uses (the working directory, the folders of
 * its -o/-e files, the absolute paths of its directives and body, its
 * home when it reads ~ or $HOME) is looked up in [storage], and each entry
 * that covers one is mounted once, at its own path.
 *
 * Folders every image has are no site storage and never warned about:
 * /bin /boot /dev /etc /lib* /proc /root /run /sbin /sys /tmp /usr /var,
 * and /opt, where images install their own software (/opt/conda,
 * /opt/nvidia); a [storage] entry covering one of them is mounted all
 * the same. */
#include "site_rules.h"
#include "runai.h"
#include "base/base.h"

#include "pod.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool image_folder(const char *p)
{
    /* each name with its length, so that only a name as long as the
     * first component is compared */
    static const struct {
        char name[8];
        size_t len;
    } sys[] = {{"bin", 3}, {"boot", 4}, {"dev", 3}, {"etc", 3},
               {"lib", 3}, {"lib32", 5}, {"lib64", 5}, {"libx32", 6},
               {"opt", 3}, {"proc", 4}, {"root", 4}, {"run", 3},
               {"sbin", 4}, {"sys", 3}, {"tmp", 3}, {"usr", 3},
               {"var", 3}};
    /* under /NAME (s2r_path_under): its first component is NAME */
    if (p[0] == '/') {
        size_t n = strcspn(p + 1, "/");
        for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
            if (sys[i].len == n && !memcmp(p + 1, sys[i].name, n))
                return true;
    }
    return !p[0] || !p[1]; /* "/" (or no path at all) */
}

/* the state of one decision */
typedef struct mounts {
    s2r_workload *wl;
    const s2r_job *job;
    const s2r_rules__asked *asked; /* the job's directives by slot */
    const s2r_config *cfg;
    s2r_diags *d;
    s2r_strv unmapped;  /* "PATH\tLINE" of used paths under no entry */
    int rc;
} mounts;

/* Mount the entry @p v once. */
static void mount(mounts *m, const s2r_volume *v)
{
    for (size_t i = 0; i < m->wl->n_volumes; i++)
        if (!strcmp(m->wl->volumes[i].path, v->path))
            return;
    if (s2r_volumes_push(&m->wl->volumes, &m->wl->n_volumes, v))
        m->rc = S2R_ENOMEM;
}

/* A warning at @p line of the script, naming option @p opt (or NULL). */
static void say(mounts *m, int line, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(mounts *m, int line, const char *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s2r_diags_vadd(m->d, S2R_SEV_WARNING, m->job->file, line, opt, 0,
                       fmt, ap))
        m->rc = S2R_ENOMEM;
    va_end(ap);
}

/* One used path: mounted when an entry covers it, else remembered for
 * the warning. @return the entry, or NULL. */
static const s2r_volume *use(mounts *m, const char *path, int line,
                             bool written, bool quiet)
{
    const s2r_volume *v = m->cfg ? s2r_volume_for(m->cfg->volumes,
                                                  m->cfg->n_volumes, path)
                                 : NULL;
    if (v) {
        mount(m, v);
        if (written && v->read_only)
            say(m, line, NULL, "the script writes to %s, but [storage] %s "
                "is read-only (,ro): the pod cannot write there", path,
                v->path);
        return v;
    }
    if (quiet || image_folder(path))
        return NULL;
    /* "PATH\tLINE" */
    s2r_buf row = {0};
    s2r_buf_puts(&row, path);
    s2r_buf_putn(&row, "\t", 1);
    s2r_buf_put_i64(&row, line);
    char *r = s2r_buf_finish(&row);
    if (!r || s2r_strv_take(&m->unmapped, r))
        m->rc = S2R_ENOMEM;
    return NULL;
}

/* The length of the "/top" folder of unmapped row @p r ("PATH\tLINE";
 * the path may hold a tab itself, the line does not), and in *@p tab
 * the tab before its line. */
static size_t row_top(const char *r, const char **tab)
{
    *tab = strrchr(r, '\t');
    const char *slash = memchr(r + 1, '/', (size_t)(*tab - r) - 1);
    return (size_t)((slash ? slash : *tab) - r);
}

/* The warning for one top folder: its rows @p first, @p next[first] ...
 * (SIZE_MAX ends them), in the order they were used. @return false when
 * out of memory before the warning was made (m->rc says so). */
static bool warn_folder(mounts *m, const size_t *next, size_t first)
{
    const char *top = m->unmapped.v[first], *t;
    size_t tl = row_top(top, &t);
    s2r_buf list = {0};
    size_t n = 0;
    int line = 0;
    for (size_t k = first; k != SIZE_MAX; k = next[k]) {
        const char *p = m->unmapped.v[k];
        row_top(p, &t);
        int ln = atoi(t + 1);
        line = line ? line : ln;
        if (n++ < 3) {
            if (n > 1)
                s2r_buf_putn(&list, ", ", 2);
            s2r_buf_putn(&list, p, (size_t)(t - p));
            if (ln) {
                s2r_buf_puts(&list, " (line ");
                s2r_buf_put_i64(&list, ln);
                s2r_buf_putn(&list, ")", 1);
            }
        }
    }
    if (n > 3) {
        s2r_buf_puts(&list, " and ");
        s2r_buf_put_i64(&list, (int64_t)(n - 3));
        s2r_buf_puts(&list, " more");
    }
    char *l = s2r_buf_finish(&list);
    if (!l) {
        m->rc = S2R_ENOMEM;
        return false;
    }
    if (s2r_diags_add(m->d, S2R_SEV_WARNING, m->job->file, line, NULL,
                      "%s %s on no storage the pod mounts: add to "
                      "[storage]: %.*s = pvc:CLAIM (or nfs:SERVER:EXPORT, "
                      "hostpath:PATH)", l, n > 1 ? "are" : "is",
                      (int)tl, top))
        m->rc = S2R_ENOMEM;
    free(l);
    return true;
}

/* One warning per top folder of the unmapped paths, in the order of each
 * folder's first path: the paths (up to three, with lines) and the
 * [storage] line that would mount them. The rows are grouped by their
 * top folder in one pass, each folder looked up in a set of the folders
 * (numbered in the order they came), each row chained to the next of
 * its folder. */
static void warn_unmapped(mounts *m)
{
    size_t n = m->unmapped.n;
    if (!n)
        return;
    s2r_strset tops;
    s2r_strset_init(&tops);
    /* next[k]: the next row of row k's folder; then for each folder
     * (numbered as in tops) its first and its last row; on the stack for
     * the few rows of most scripts */
    size_t room[3 * 16];
    size_t *next = n <= 16 ? room
                   : n <= SIZE_MAX / (3 * sizeof(*next))
                       ? malloc(3 * n * sizeof(*next)) : NULL;
    if (!next) {
        m->rc = S2R_ENOMEM;
        return;
    }
    size_t *first = next + n, *last = first + n, folders = 0;
    for (size_t k = 0; k < n; k++) {
        const char *r = m->unmapped.v[k], *t;
        size_t tl = row_top(r, &t);
        size_t f = s2r_strset_find(&tops, r, tl);
        next[k] = SIZE_MAX;
        if (f != S2R_STRSET_NONE) {
            next[last[f]] = k;
            last[f] = k;
        } else if (s2r_strset_add(&tops, r, tl) == S2R_OK) {
            first[folders] = last[folders] = k;
            folders++;
        } else {
            m->rc = S2R_ENOMEM;
            folders = 0; /* no warnings from half the rows */
            break;
        }
    }
    for (size_t f = 0; f < folders; f++)
        if (!warn_folder(m, next, first[f]))
            break;
    s2r_strset_clear(&tops);
    if (next != room)
        free(next);
}

/* "/top" of an absolute path (malloc'd). */
static char *top_of(const char *path)
{
    const char *slash = strchr(path + 1, '/');
    return strndup(path, slash ? (size_t)(slash - path) : strlen(path));
}

/* The working directory: mounted, or a warning naming the relative files
 * that will not be found there. */
static void workdir(mounts *m)
{
    const s2r_workload *wl = m->wl;
    const s2r_job *job = m->job;
    int line = s2r_rules__asked_line(m->asked, S2R_ASK_CHDIR);
    if (!wl->workdir) {
        say(m, line, NULL, "the submit directory is not known, so the pod "
            "starts in the image's working directory: pass --submit-dir");
        return;
    }
    if (use(m, wl->workdir, line, false, true))
        return;
    s2r_buf files = {0};
    for (size_t i = 0; i < job->relative_files.n && i < 4; i++) {
        if (i)
            s2r_buf_putn(&files, ", ", 2);
        s2r_buf_puts(&files, job->relative_files.v[i]);
    }
    if (job->relative_files.n > 4) {
        s2r_buf_puts(&files, " and ");
        s2r_buf_put_i64(&files, (int64_t)(job->relative_files.n - 4));
        s2r_buf_puts(&files, " more");
    }
    char *f = s2r_buf_finish(&files);
    char *top = top_of(wl->workdir);
    if (!f || !top)
        m->rc = S2R_ENOMEM;
    else
        say(m, line, NULL, "the working directory %s is on no storage the "
            "pod mounts: %s will not be found there; add to [storage]: %s "
            "= pvc:CLAIM (or nfs:SERVER:EXPORT, hostpath:PATH)", wl->workdir,
            *f ? f : "the files the script reads from it", top);
    free(f);
    free(top);
}

/* The folders of -o/-e: mounted, or a warning that the file stays in the
 * pod. */
static void log_folders(mounts *m)
{
    const char *files[] = {m->wl->stdout_file, m->wl->stderr_file};
    const char *opts[] = {"output", "error"};
    const s2r_rules__ask slots[] = {S2R_ASK_OUTPUT, S2R_ASK_ERROR};
    for (int i = 0; i < 2; i++) {
        char *dir = files[i] ? s2r_pod__file_folder(files[i], m->wl->workdir)
                             : NULL;
        if (!dir)
            continue;
        int line = s2r_rules__asked_line(m->asked, slots[i]);
        if (!use(m, dir, line, true, true) && !image_folder(dir))
            say(m, line, opts[i], "the %s file %s is written to %s, which "
                "is on no storage the pod mounts: it stays in the pod (the "
                "container log keeps the text); map the folder in [storage]",
                opts[i], files[i], dir);
        free(dir);
    }
}

/* HOME in the pod when the script reads ~ or $HOME and the site says
 * where the user's home is. */
static void home(mounts *m)
{
    const s2r_config *cfg = m->cfg;
    if (!m->job->uses_home || !cfg || !cfg->home || !cfg->user ||
        !s2r_rules__site_user_runs(m->job, cfg) ||
        s2r_envv_get(&m->wl->env, "HOME"))
        return;
    const char *u = strstr(cfg->home, "%u");
    char *h = NULL;
    if ((u ? asprintf(&h, "%.*s%s%s", (int)(u - cfg->home), cfg->home,
                      cfg->user, u + 2)
           : asprintf(&h, "%s", cfg->home)) < 0) {
        m->rc = S2R_ENOMEM;
        return;
    }
    use(m, h, 0, false, false);
    if (s2r_envv_set(&m->wl->env, "HOME", h))
        m->rc = S2R_ENOMEM;
    free(h);
}

/* Bytes [p, p + n) of a path. */
typedef struct span {
    const char *p;
    size_t n;
} span;

/* The container bind targets of a job (its paths in the image), each
 * without its trailing slashes, sorted: a path lies under one when one of
 * its own prefixes that ends before a '/' (or the whole path) is there,
 * which is looked up once per such prefix instead of walking the targets
 * for every path. */
typedef struct image_dirs {
    span *v;
    size_t n;
    bool root; /* "/" is one: every absolute path is under it */
} image_dirs;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The bind targets of @p job into @p t. Returns S2R_OK or S2R_ENOMEM. */
static int image_dirs_of(const s2r_job *job, image_dirs *t)
{
    memset(t, 0, sizeof(*t));
    size_t k = 0;
    for (size_t i = 0; i < job->n_paths; i++)
        k += job->paths[i].in_image;
    if (!k)
        return S2R_OK;
    if (!(t->v = malloc(k * sizeof(*t->v))))
        return S2R_ENOMEM;
    for (size_t i = 0; i < job->n_paths; i++) {
        if (!job->paths[i].in_image)
            continue;
        const char *p = job->paths[i].path;
        size_t n = s2r_path_prefix_len(p);
        if (n == 1 && p[0] == '/')
            t->root = true;
        t->v[t->n++] = (span){p, n};
    }
    qsort(t->v, t->n, sizeof(*t->v), span_cmp);
    return S2R_OK;
}

/* @p path lies inside a container's bind target (/refs of `--bind
 * /work/refs:/refs`, a path of the job in the image): the image's,
 * mounted when an entry covers it but never warned about. As
 * s2r_path_under() against each target. */
static bool in_container(const image_dirs *t, const char *path)
{
    if (!t->n)
        return false;
    if (t->root && path[0] == '/')
        return true;
    for (size_t i = 0;; i++)
        if (path[i] == '/' || !path[i]) {
            span key = {path, i};
            if (bsearch(&key, t->v, t->n, sizeof(*t->v), span_cmp))
                return true;
            if (!path[i])
                return false;
        }
}

/* The sources of the job's container binds the body does not name (a
 * pyxis #SBATCH --container-mounts): mounted when an entry covers them,
 * else in the warning, as the body's paths are. */
static void bind_sources(mounts *m)
{
    const s2r_job *job = m->job;
    for (size_t i = 0; i < job->n_binds; i++) {
        const s2r_bind *b = &job->binds[i];
        bool named = false;
        for (size_t k = 0; k < job->n_paths && !named; k++)
            named = !strcmp(job->paths[k].path, b->source);
        if (!named && b->source[0] == '/')
            use(m, b->source, b->line, false, false);
    }
}

int s2r_rules__storage(s2r_workload *wl, const s2r_job *job,
                       const s2r_rules__asked *a, const s2r_config *cfg,
                       s2r_diags *d)
{
    mounts m = {wl, job, a, cfg, d, {0}, S2R_OK};
    image_dirs binds;
    if (image_dirs_of(job, &binds))
        return S2R_ENOMEM;
    workdir(&m);
    log_folders(&m);
    for (size_t i = 0; i < job->n_paths; i++) {
        const s2r_path_use *u = &job->paths[i];
        if (!u->in_image)
            use(&m, u->path, u->line, u->written,
                u->mention || in_container(&binds, u->path));
    }
    free(binds.v);
    bind_sources(&m);
    home(&m);
    warn_unmapped(&m);
    s2r_strv_clear(&m.unmapped);
    /* DataLoader workers and NCCL need more than a pod's 64 MiB /dev/shm;
     * a SLURM job sees the node's */
    wl->large_shm = wl->gpus > 0 || job->tasks_per_node > 1;
    return m.rc;
}
