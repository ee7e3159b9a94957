/* init_probe.c: what `sinfo` and a logged-in `runai` CLI say about the
 * clusters, for `s2r init`. Each command runs with no input, a time limit
 * and its own output only; a command that is missing, fails or answers
 * garbage is said, never fatal. */
#include "strv_has.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INIT_MAX_OUT (4u << 20)
#define INIT_TIMEOUT 20 /* seconds: a CLI asking for a login never ends */

extern char **environ;

static long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read both pipes until they close or the deadline passes. */
static int drain(int out_fd, int err_fd, char **out, size_t *len,
                 char *err, size_t err_cap, long deadline)
{
    size_t cap = 4096, elen = 0;
    *out = malloc(cap);
    *len = 0;
    if (!*out)
        return ENOMEM;
    struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        long left = deadline - ms_now();
        if (left <= 0)
            return ETIMEDOUT;
        if (poll(p, 2, (int)left) < 0 && errno != EINTR)
            return errno;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            char buf[8192];
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                p[i].fd = -1;
                continue;
            }
            if (i == 1) {
                size_t k = (size_t)n < err_cap - 1 - elen ? (size_t)n
                                                           : err_cap - 1 - elen;
                memcpy(err + elen, buf, k);
                elen += k;
                err[elen] = '\0';
                continue;
            }
            if (*len + (size_t)n + 1 > cap) {
                if (cap >= INIT_MAX_OUT)
                    continue;
                char *no = realloc(*out, cap *= 4);
                if (!no)
                    return ENOMEM;
                *out = no;
            }
            memcpy(*out + *len, buf, (size_t)n);
            *len += (size_t)n;
        }
    }
    (*out)[*len] = '\0';
    return 0;
}

int init_run(char *const argv[], int timeout_s, char **out, char **err_line)
{
    int po[2], pe[2];
    *out = NULL;
    *err_line = NULL;
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc) {
        close(po[0]);
        close(pe[0]);
        errno = rc;
        return -1;
    }
    char err[512] = "";
    size_t len;
    int d = drain(po[0], pe[0], out, &len, err, sizeof(err),
                  ms_now() + timeout_s * 1000L);
    close(po[0]);
    close(pe[0]);
    if (d == ETIMEDOUT)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *nl = strchr(err, '\n');
    if (nl)
        *nl = '\0';
    if (err[0])
        *err_line = strdup(err);
    if (d == ETIMEDOUT)
        return -2;
    if (d) {
        errno = d;
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Why a command said nothing useful; malloc'd. */
static char *failure(const char *cmd, int rc, const char *err_line)
{
    char *out = NULL;
    if (rc == -2)
        rc = asprintf(&out, "`%s` did not answer within %d s", cmd,
                      INIT_TIMEOUT);
    else if (rc == -1)
        rc = asprintf(&out, "`%s` could not run: %s", cmd, strerror(errno));
    else
        rc = asprintf(&out, "`%s` exited %d%s%s", cmd, rc,
                      err_line ? ": " : "", err_line ? err_line : "");
    return rc < 0 ? NULL : out;
}

static bool on_path(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    bool found = false;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char *f = NULL;
        if (asprintf(&f, "%s/%s", d, name) >= 0)
            found = access(f, X_OK) == 0;
        free(f);
    }
    free(copy);
    return found;
}

/* ---- sinfo ------------------------------------------------------------- */

static init_partition *partition(init_slurm *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].name, name))
            return &s->v[i];
    init_partition *v = realloc(s->v, (s->n + 1) * sizeof(*v));
    if (!v)
        return NULL;
    s->v = v;
    memset(&v[s->n], 0, sizeof(*v));
    if (!(v[s->n].name = strdup(name)))
        return NULL;
    return &v[s->n++];
}

/* "gpu:a100:4(S:0-1),gpu:v100:2" -> types a100, v100; most GPUs 4. */
static int gres_types(init_partition *p, char *gres)
{
    char *save = NULL;
    for (char *g = strtok_r(gres, ",", &save); g; g = strtok_r(NULL, ",",
                                                               &save)) {
        if (strncmp(g, "gpu", 3) || (g[3] && g[3] != ':'))
            continue;
        char *paren = strchr(g, '(');
        if (paren)
            *paren = '\0';
        char *a = strchr(g, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        long count = strtol(b ? b + 1 : a ? a + 1 : "0", NULL, 10);
        p->gpus = count > p->gpus ? count : p->gpus;
        if (b && (*b = '\0', a[1]) && !s2r_strv_has(&p->gpu_types, a + 1) &&
            s2r_strv_push(&p->gpu_types, a + 1))
            return ENOMEM;
    }
    return 0;
}

static int sinfo_line(init_slurm *s, char *line)
{
    char *f[3] = {line, NULL, NULL};
    for (int i = 1; i < 3 && f[i - 1]; i++)
        if ((f[i] = strchr(f[i - 1], '|')))
            *f[i]++ = '\0';
    if (!f[2] || !*f[0])
        return 0;
    init_partition *p = partition(s, f[0]);
    if (!p)
        return ENOMEM;
    if (strcmp(f[1], "(null)") && gres_types(p, f[1]))
        return ENOMEM;
    char *save = NULL;
    for (char *t = strtok_r(f[2], ",", &save); t && strcmp(t, "(null)");
         t = strtok_r(NULL, ",", &save))
        if (!s2r_strv_has(&p->features, t) && s2r_strv_push(&p->features, t))
            return ENOMEM;
    return 0;
}

int init_slurm_probe(init_slurm *out)
{
    memset(out, 0, sizeof(*out));
    if (!(out->found = on_path("sinfo")))
        return 0;
    char *argv[] = {(char *)"sinfo", (char *)"--noheader",
                    (char *)"--format=%R|%G|%f", NULL};
    char *text = NULL, *err = NULL;
    int rc = init_run(argv, INIT_TIMEOUT, &text, &err);
    int st = 0;
    if (rc != 0) {
        out->error = failure("sinfo --noheader --format=%R|%G|%f", rc, err);
    } else {
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l && !st;
             l = strtok_r(NULL, "\n", &save))
            st = sinfo_line(out, l);
    }
    free(text);
    free(err);
    return st;
}

void init_slurm_free(init_slurm *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        s2r_strv_clear(&s->v[i].gpu_types);
        s2r_strv_clear(&s->v[i].features);
    }
    free(s->v);
    free(s->error);
    memset(s, 0, sizeof(*s));
}

/* ---- runai ------------------------------------------------------------- */

/* The list in a `runai ... list --json` answer: the answer itself, or the
 * first array among its members ("projects", "items", ...). */
static json_object *list_of(json_object *o)
{
    if (json_object_is_type(o, json_type_array))
        return o;
    if (!json_object_is_type(o, json_type_object))
        return NULL;
    json_object_object_foreach(o, k, v) {
        (void)k;
        if (json_object_is_type(v, json_type_array))
            return v;
    }
    return NULL;
}

/* A string member by one of several names, also under "meta"/"spec". */
static const char *member(json_object *o, const char *const *names)
{
    static const char *const nests[] = {NULL, "meta", "spec", "metadata"};
    for (size_t n = 0; n < 4; n++) {
        json_object *in = o, *v;
        if (nests[n] && !json_object_object_get_ex(o, nests[n], &in))
            continue;
        for (size_t i = 0; names[i]; i++)
            if (json_object_object_get_ex(in, names[i], &v) &&
                json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
    }
    return NULL;
}

static const char *const name_keys[] = {"name", "Name", NULL};

/* Run `runai WHAT list --json` and parse it; NULL with *@p error set. */
static json_object *runai_list(const char *what, char **error)
{
    char *argv[] = {(char *)"runai", (char *)what, (char *)"list",
                    (char *)"--json", NULL};
    char *text = NULL, *err = NULL, cmd[64];
    snprintf(cmd, sizeof(cmd), "runai %s list --json", what);
    int rc = init_run(argv, INIT_TIMEOUT, &text, &err);
    json_object *o = rc == 0 ? json_tokener_parse(text) : NULL;
    if (rc != 0)
        *error = failure(cmd, rc, err);
    else if (!o && asprintf(error, "`%s` did not answer JSON", cmd) < 0)
        *error = NULL;
    free(text);
    free(err);
    return o;
}

static int names(json_object *o, s2r_strv *out)
{
    json_object *l = list_of(o);
    for (size_t i = 0; l && i < json_object_array_length(l); i++) {
        const char *n = member(json_object_array_get_idx(l, i), name_keys);
        if (n && s2r_strv_push(out, n))
            return ENOMEM;
    }
    return 0;
}

static int datasources(json_object *o, init_runai *r)
{
    static const char *const type_keys[] = {"type", "kind", "Type", NULL};
    static const char *const path_keys[] = {"path", "containerPath",
                                            "mountPath", "Path", NULL};
    json_object *l = list_of(o);
    size_t n = l ? json_object_array_length(l) : 0;
    if (!n)
        return 0;
    if (!(r->ds = calloc(n, sizeof(*r->ds))))
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(l, i);
        const char *name = member(e, name_keys);
        if (!name)
            continue;
        const char *t = member(e, type_keys), *p = member(e, path_keys);
        init_datasource *d = &r->ds[r->nds++];
        d->name = strdup(name);
        d->type = t ? strdup(t) : NULL;
        d->path = p && p[0] == '/' ? strdup(p) : NULL;
    }
    return 0;
}

int init_runai_probe(init_runai *out)
{
    memset(out, 0, sizeof(*out));
    if (!(out->found = on_path("runai")))
        return 0;
    json_object *o = runai_list("project", &out->error);
    if (!o)
        return 0; /* not logged in, or not this CLI */
    int rc = names(o, &out->projects);
    json_object_put(o);
    char *ignored = NULL;
    if (!rc && (o = runai_list("nodepool", &ignored)))
        rc = names(o, &out->nodepools);
    json_object_put(o);
    free(ignored);
    ignored = NULL;
    o = NULL;
    if (!rc && (o = runai_list("datasource", &ignored)))
        rc = datasources(o, out);
    json_object_put(o);
    free(ignored);
    return rc;
}

void init_runai_free(init_runai *r)
{
    s2r_strv_clear(&r->projects);
    s2r_strv_clear(&r->nodepools);
    for (size_t i = 0; i < r->nds; i++) {
        free(r->ds[i].name);
        free(r->ds[i].type);
        free(r->ds[i].path);
    }
    free(r->ds);
    free(r->error);
    memset(r, 0, sizeof(*r));
}
