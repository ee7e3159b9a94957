/* containers.c: container runtimes in front of the main program, read
 * with their grammars (launchers.c): singularity/apptainer exec|run,
 * podman-hpc run (and podman/docker run), enroot start (with the images
 * `enroot import` and `enroot create` made earlier in the script), and
 * pyxis' srun --container-* options. What they say becomes the image,
 * the binds (s2r_job.binds), the environment and the working directory.
 * See analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

bool s2r_body__is_local_image(const char *v)
{
    return v[0] == '/' || v[0] == '.' || v[0] == '~' || v[0] == '$' ||
           ends_with(v, ".sif") || ends_with(v, ".sqsh") ||
           ends_with(v, ".squashfs") || ends_with(v, ".simg") ||
           ends_with(v, ".img");
}

/* [USER@][REGISTRY#]IMAGE[:TAG] (enroot and pyxis) -> REGISTRY/IMAGE[:TAG] */
char *s2r_body__enroot_ref(const char *v)
{
    if (!strncmp(v, "docker://", 9))
        v += 9;
    const char *at = strchr(v, '@');
    const char *hash = strchr(v, '#');
    if (at && (!hash || at < hash))
        v = at + 1;
    char *out = strdup(v);
    if (out && (hash = strchr(out, '#')))
        out[hash - out] = '/';
    return out;
}

void s2r_body__set_image(unwrap *u, const char *v, bool enroot)
{
    free(u->image);
    u->image = NULL;
    if (s2r_body__is_local_image(v)) {
        u->local_image = true;
        free(u->local_image_name);
        u->local_image_name = strdup(v);
        return;
    }
    u->local_image = false;
    u->image = enroot ? s2r_body__enroot_ref(v) : strdup(v);
}

/* K=V entries of a comma list (srun --export, singularity --env); one
 * entry with @p one (podman -e K=V) */
static void add_env(unwrap *u, const char *list, bool one)
{
    char *dup = strdup(list), *save = NULL;
    for (char *t = dup ? (one ? dup : strtok_r(dup, ",", &save)) : NULL; t;
         t = one ? NULL : strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t)
            continue;
        *eq = '\0';
        s2r_envv_set(&u->c_env, t, eq + 1);
    }
    free(dup);
}

/* SRC[:DST[:OPTS]] binds, comma separated (@p list), at @p line */
static void add_binds(unwrap *u, const char *list, int line)
{
    char *dup = strdup(list), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *c1 = strchr(t, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1)
            *c1 = '\0';
        if (c2)
            *c2 = '\0';
        if (!*t)
            continue;
        s2r_bind *nb = realloc(u->binds, (u->n_binds + 1) * sizeof(*nb));
        if (!nb)
            break;
        u->binds = nb;
        nb[u->n_binds].source = strdup(t);
        nb[u->n_binds].target = strdup(c1 && c1[1] ? c1 + 1 : t);
        nb[u->n_binds].read_only = c2 && strstr(c2 + 1, "ro") != NULL;
        nb[u->n_binds].line = line;
        u->n_binds++;
    }
    free(dup);
}

static void set_workdir(unwrap *u, const char *v)
{
    free(u->c_workdir);
    u->c_workdir = strdup(v);
}

void s2r_body__container_option(unwrap *u, const s2r_launch_grammar *g,
                                const s2r_launch_matched *m, int line)
{
    const char *k = m->opt ? m->opt->key : NULL;
    const char *val = m->value ? m->value : "";
    if (!k) {
    } else if (!strcmp(k, "bind") || !strcmp(k, "volume") ||
               !strcmp(k, "mount") || !strcmp(k, "container-mounts")) {
        add_binds(u, val, line);
    } else if (!strcmp(k, "env") || !strcmp(k, "export")) {
        add_env(u, val, g != &s2r_launch_singularity &&
                            g != &s2r_launch_srun);
    } else if (!strcmp(k, "home")) {
        /* singularity --home SRC[:DST]: SRC mounted at DST, the HOME */
        add_binds(u, val, line);
        const char *c = strchr(val, ':');
        if (*val && (!c || c[1]))
            s2r_envv_set(&u->c_env, "HOME", c ? c + 1 : val);
    } else if (!strcmp(k, "pwd") || !strcmp(k, "workdir") ||
               !strcmp(k, "container-workdir")) {
        set_workdir(u, val);
    } else if (!strcmp(k, "container-image")) {
        s2r_body__set_image(u, val, true);
    } else if (!strcmp(k, "env-file") || !strcmp(k, "overlay") ||
               !strcmp(k, "container-env") || !strcmp(k, "entrypoint")) {
        s2r_body__note_dropped(u, m->opt->name);
    }
}

/* The options of grammar @p g from word @p j, each given to what the
 * runtime's option @p key means; the index after them. */
static size_t read_options(unwrap *u, size_t j, const s2r_launch_grammar *g)
{
    while (j < u->n) {
        const char *v = u->words[j].value ? u->words[j].value : "";
        const char *next = j + 1 < u->n ? u->words[j + 1].value : NULL;
        s2r_launch_matched m;
        size_t span = s2r_launch_match(g, v, next, &m);
        if (span == 0)
            break;
        s2r_body__container_option(u, g, &m, u->words[j].line);
        j = j + span < u->n ? j + span : u->n;
        if (m.end)
            break;
    }
    return j;
}

/* the image word at @p j of singularity/apptainer: docker:// gives an OCI
 * reference, anything else is a local image */
static size_t singularity_image(unwrap *u, size_t j)
{
    if (j >= u->n)
        return j;
    const char *img = u->words[j].value ? u->words[j].value : "";
    const char *ref = u->pulled ? s2r_envv_get(u->pulled, img) : NULL;
    if (ref) {
        free(u->image);
        u->image = strdup(ref);
        u->local_image = false;
    } else if (!strncmp(img, "docker://", 9)) {
        s2r_body__set_image(u, img + 9, false);
    } else {
        free(u->image);
        u->image = NULL;
        u->local_image = true;
        free(u->local_image_name);
        u->local_image_name = strdup(img);
    }
    return j + 1;
}

/* enroot start NAME: the image `enroot create` made NAME from, or a
 * registry reference */
static size_t enroot_image(unwrap *u, size_t j)
{
    if (j >= u->n)
        return j;
    const char *name = u->words[j].value ? u->words[j].value : "";
    const char *ref = u->pulled ? s2r_envv_get(u->pulled, name) : NULL;
    if (ref) {
        free(u->image);
        u->image = strdup(ref);
        u->local_image = false;
    } else {
        s2r_body__set_image(u, name, true);
        if (!u->image && !u->local_image_name)
            u->local_image = true;
        if (u->image && !strchr(name, '#') && !strchr(name, '/')) {
            /* a container name the script did not create */
            free(u->image);
            u->image = NULL;
            u->local_image = true;
            free(u->local_image_name);
            u->local_image_name = strdup(name);
        }
    }
    return j + 1;
}

size_t s2r_body__unwrap_container(unwrap *u, size_t i)
{
    const char *v = u->words[i].value ? u->words[i].value : "";
    const char *b = s2r_body__base_name(v);
    const char *sub = i + 1 < u->n && u->words[i + 1].value
                          ? u->words[i + 1].value : "";
    if ((!strcmp(b, "singularity") || !strcmp(b, "apptainer")) &&
        (!strcmp(sub, "exec") || !strcmp(sub, "run"))) {
        size_t j = read_options(u, i + 2, &s2r_launch_singularity);
        j = singularity_image(u, j);
        /* `run` starts the image's runscript with these arguments */
        u->run_args = !strcmp(sub, "run");
        return j;
    }
    if ((!strcmp(b, "podman-hpc") || !strcmp(b, "podman") ||
         !strcmp(b, "docker")) && !strcmp(sub, "run")) {
        size_t j = read_options(u, i + 2, &s2r_launch_podman);
        if (j < u->n && u->words[j].value) {
            s2r_body__set_image(u, u->words[j].value, false);
            j++;
        }
        return j;
    }
    if (!strcmp(b, "enroot") && !strcmp(sub, "start")) {
        size_t j = read_options(u, i + 2, &s2r_launch_enroot_start);
        return enroot_image(u, j);
    }
    return i;
}

/* ------------------------------------------------------------------ */
/* enroot import / enroot create earlier in the script                  */
/* ------------------------------------------------------------------ */

/* `enroot import [-o FILE] URI`: FILE (default: the image name with '/'
 * and ':' as '+', per enroot(1)) -> the OCI reference */
static bool enroot_import(ctx *c, const sh_cmd *cm, size_t i)
{
    const char *out = NULL, *uri = NULL;
    for (size_t k = i + 2; k < cm->nwords; k++) {
        const char *v = cm->words[k].value ? cm->words[k].value : "";
        if ((!strcmp(v, "-o") || !strcmp(v, "--output")) && k + 1 < cm->nwords)
            out = cm->words[++k].value;
        else if (!strncmp(v, "--output=", 9))
            out = v + 9;
        else if (!strncmp(v, "docker://", 9) || !strncmp(v, "dockerd://", 10))
            uri = v + (v[6] == 'd' ? 10 : 9);
    }
    if (!uri)
        return false;
    char *ref = s2r_body__enroot_ref(uri);
    char *file = out ? strdup(out) : NULL;
    if (!file && ref) {
        const char *slash = strrchr(ref, '/');
        const char *from = strchr(uri, '#') ? strchr(uri, '#') + 1
                           : slash ? slash + 1 : ref;
        if (asprintf(&file, "%s.sqsh", from) < 0)
            file = NULL;
        for (char *p = file; p && *p; p++)
            if (*p == '/' || *p == ':')
                *p = '+';
    }
    bool ok = ref && file && !s2r_envv_set(&c->pulled, file, ref);
    free(ref);
    free(file);
    return ok;
}

/* `enroot create [-n NAME] FILE`: NAME (default: FILE's name without
 * .sqsh) -> the reference FILE was imported from */
static bool enroot_create(ctx *c, const sh_cmd *cm, size_t i)
{
    const char *name = NULL, *file = NULL;
    for (size_t k = i + 2; k < cm->nwords; k++) {
        const char *v = cm->words[k].value ? cm->words[k].value : "";
        if ((!strcmp(v, "-n") || !strcmp(v, "--name")) && k + 1 < cm->nwords)
            name = cm->words[++k].value;
        else if (!strncmp(v, "--name=", 7))
            name = v + 7;
        else if (v[0] != '-')
            file = v;
    }
    const char *ref = file ? s2r_envv_get(&c->pulled, file) : NULL;
    if (!ref && file && !s2r_body__is_local_image(file))
        return false;
    char *dflt = NULL;
    if (!name && file) {
        const char *b = s2r_body__base_name(file);
        dflt = strndup(b, ends_with(b, ".sqsh") ? strlen(b) - 5 : strlen(b));
        name = dflt;
    }
    bool ok = name && ref && !s2r_envv_set(&c->pulled, name, ref);
    free(dflt);
    return ok;
}

/* `singularity|apptainer pull [--force ...] [FILE] docker://URI`: FILE
 * (default: the image name and tag, '_' for ':', with .sif, per
 * singularity pull) -> URI */
static bool singularity_pull(ctx *c, const sh_cmd *cm, size_t i)
{
    const char *file = NULL, *uri = NULL;
    for (size_t k = i + 2; k < cm->nwords; k++) {
        const char *v = cm->words[k].value ? cm->words[k].value : "";
        if (!strncmp(v, "docker://", 9))
            uri = v + 9;
        else if (v[0] != '-')
            file = v;
        else if (!strcmp(v, "--name") && k + 1 < cm->nwords)
            file = cm->words[++k].value;
    }
    if (!uri)
        return false;
    char *dflt = NULL;
    if (!file) {
        const char *b = s2r_body__base_name(uri);
        if (asprintf(&dflt, "%s%s.sif", b, strchr(b, ':') ? "" : "_latest") < 0)
            return false;
        for (char *p = dflt; *p; p++)
            if (*p == ':')
                *p = '_';
        file = dflt;
    }
    bool ok = !s2r_envv_set(&c->pulled, file, uri);
    free(dflt);
    return ok;
}

/* True when the @p len bytes at @p t hold NAME= (@p name, @p n bytes)
 * as a whole name: a compound statement may assign it. */
static bool assigns_in(const char *t, size_t len, const char *name, size_t n)
{
    for (size_t p = 0; p + n < len; p++)
        if (t[p + n] == '=' && !memcmp(t + p, name, n) &&
            (p == 0 || !sh_name_byte(t[p - 1])))
            return true;
    return false;
}

/* True when a statement of @p a other than @p i assigns @p name (n
 * bytes) with a plain NAME=... word. */
static bool assigned_elsewhere(const analysis *a, size_t i, const char *name,
                               size_t n)
{
    for (size_t j = 0; j < a->body.n; j++) {
        const sh_stmt *st = &a->body.stmts[j];
        for (size_t k = 0; j != i && k < st->ncmds; k++) {
            const sh_cmd *cm = &st->cmds[k];
            for (size_t w = 0; w < cm->nwords; w++) { /* export X= too */
                const char *v = cm->words[w].value;
                if (v && !strncmp(v, name, n) && v[n] == '=')
                    return true;
            }
        }
        if (j != i && st->compound && assigns_in(a->body.src + st->start,
                                                 st->end - st->start, name, n))
            return true; /* a loop or block may assign it */
    }
    return false;
}

/* `NAME=docker://URI` alone on its line, and NAME assigned nowhere else:
 * $NAME and ${NAME} as a container image are URI (in c->pulled), as the
 * static value the pod would expand. True when it was recorded. */
static bool image_assignment(ctx *c, analysis *a, size_t i)
{
    const sh_cmd *cm = &a->body.stmts[i].cmds[0];
    /* NAME=URI, or export/declare/readonly NAME=URI */
    size_t at = 0;
    if (cm->nwords == 2 && sh_cmd_first_arg(cm) == 0 && cm->words[0].value &&
        (!strcmp(cm->words[0].value, "export") ||
         !strcmp(cm->words[0].value, "declare") ||
         !strcmp(cm->words[0].value, "readonly")))
        at = 1;
    else if (cm->nwords != 1 || sh_cmd_first_arg(cm) != 1)
        return false;
    if (!cm->words[at].literal || !cm->words[at].value)
        return false;
    const char *v = cm->words[at].value, *eq = strchr(v, '=');
    if (!eq || strncmp(eq + 1, "docker://", 9) || !eq[10])
        return false;
    size_t n = (size_t)(eq - v);
    char name[128];
    if (n + 4 > sizeof(name) || assigned_elsewhere(a, i, v, n))
        return false;
    snprintf(name, sizeof(name), "$%.*s", (int)n, v);
    bool ok = !s2r_envv_set(&c->pulled, name, eq + 10);
    snprintf(name, sizeof(name), "${%.*s}", (int)n, v);
    ok = ok && !s2r_envv_set(&c->pulled, name, eq + 10);
    if (!ok)
        c->oom = true;
    s2r_body__forget_unwraps(a); /* they read the images known before */
    return ok;
}

bool s2r_body__image_setup(ctx *c, analysis *a, size_t i)
{
    const sh_stmt *st = &a->body.stmts[i];
    if (st->compound || st->ncmds != 1)
        return false;
    if (image_assignment(c, a, i))
        return false; /* the assignment stays: the script may read it */
    const sh_cmd *cm = &st->cmds[0];
    const sh_word *w = s2r_body__cmd_word(cm);
    size_t k = w ? (size_t)(w - cm->words) : 0;
    if (!w || !w->value || k + 1 >= cm->nwords)
        return false;
    const char *p = s2r_body__base_name(w->value);
    const sh_word *sub = &cm->words[k + 1];
    bool ok = false;
    if (!strcmp(p, "enroot") && s2r_body__word_is(sub, "import"))
        ok = enroot_import(c, cm, k);
    else if (!strcmp(p, "enroot") && s2r_body__word_is(sub, "create"))
        ok = enroot_create(c, cm, k);
    else if ((!strcmp(p, "singularity") || !strcmp(p, "apptainer")) &&
             s2r_body__word_is(sub, "pull"))
        ok = singularity_pull(c, cm, k);
    if (!ok)
        return false;
    s2r_body__forget_unwraps(a); /* they read the images pulled before */
    char snip[160];
    s2r_body__stmt_snippet(&a->body, st, snip, sizeof(snip));
    a->kind[i] = ST_LIFTED;
    s2r_body__note(c, st->line, "'%s' left out: Run:ai pulls the image "
                   "itself (the workload's image)", snip);
    return true;
}

/* What becomes of a bind: the site's storage map mounts its source at
 * the same path (a note), at its own path but not at the bind's target,
 * or not at all (warnings). */
static void say_bind(ctx *c, const s2r_bind *b)
{
    const s2r_volume *v =
        c->cfg && b->source && b->source[0] == '/'
            ? s2r_volume_for(c->cfg->volumes, c->cfg->n_volumes, b->source)
            : NULL;
    char *src = v ? s2r_path_fold(b->source) : NULL;
    char *dst = v && b->target ? s2r_path_fold(b->target) : NULL;
    if (v && (!src || !dst))
        c->oom = true;
    else if (v && !strcmp(src, dst))
        s2r_body__note(c, b->line, "container bind %s -> %s: [storage] %s "
                       "mounts it in the pod at the same path", b->source,
                       b->target, v->path);
    else if (v) {
        /* the target may be a [storage] entry of its own: other files */
        const s2r_volume *t = dst ? s2r_volume_for(c->cfg->volumes,
                                                   c->cfg->n_volumes, dst)
                                  : NULL;
        s2r_body__warn(c, b->line, NULL, "container bind %s -> %s: [storage] "
                       "%s mounts %s in the pod at its own path, not at %s; "
                       "the program must read %s instead%s%s%s", b->source,
                       b->target, v->path, b->source, b->target, src,
                       t ? " (at " : "", t ? dst : "",
                       t ? " the pod sees the site's own storage, not "
                           "the bind's files)" : "");
    }
    else
        s2r_body__warn(c, b->line, NULL, "container bind %s -> %s%s is not "
                       "carried by itself: the pod sees a cluster path only "
                       "on a Run:ai data source (PVC, NFS or host path)",
                       b->source, b->target, b->read_only ? " (read-only)"
                                                          : "");
    free(src);
    free(dst);
}

void s2r_body__apply_binds(ctx *c, const unwrap *u)
{
    s2r_job *job = c->job;
    for (size_t i = 0; i < u->n_binds; i++) {
        const s2r_bind *b = &u->binds[i];
        s2r_bind *nb = realloc(job->binds, (job->n_binds + 1) * sizeof(*nb));
        if (!nb) {
            c->oom = true;
            return;
        }
        job->binds = nb;
        nb[job->n_binds] = (s2r_bind){strdup(b->source ? b->source : ""),
                                      strdup(b->target ? b->target : ""),
                                      b->read_only, b->line};
        if (!nb[job->n_binds].source || !nb[job->n_binds].target)
            c->oom = true;
        job->n_binds++;
        say_bind(c, b);
    }
}

/* ------------------------------------------------------------------ */
/* container runtimes on other lines than the main command              */
/* ------------------------------------------------------------------ */

void s2r_body__put_value(s2r_buf *b, const char *value)
{
    if (!strpbrk(value, "$`")) {
        s2r_shell_put_quoted(b, value);
        return;
    }
    /* as the script's double quotes: only " and \ escaped */
    s2r_buf_putn(b, "\"", 1);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            s2r_buf_putn(b, "\\", 1);
        s2r_buf_putn(b, p, 1);
    }
    s2r_buf_putn(b, "\"", 1);
}

void s2r_body__put_assignment(s2r_buf *b, const char *name,
                              const char *value)
{
    s2r_buf_puts(b, name);
    s2r_buf_putn(b, "=", 1);
    s2r_body__put_value(b, value);
}

/* True when @p b already holds a bind of @p source to @p target. */
static bool has_bind(const s2r_job *job, const s2r_bind *b)
{
    for (size_t i = 0; i < job->n_binds; i++)
        if (!strcmp(job->binds[i].source, b->source ? b->source : "") &&
            !strcmp(job->binds[i].target, b->target ? b->target : ""))
            return true;
    return false;
}

/* The binds of @p u the job does not have yet, each with its note or
 * warning (s2r_body__apply_binds()). */
static void apply_new_binds(ctx *c, const unwrap *u)
{
    unwrap one = *u;
    for (size_t i = 0; i < u->n_binds; i++) {
        if (has_bind(c->job, &u->binds[i]))
            continue;
        one.binds = &u->binds[i];
        one.n_binds = 1;
        s2r_body__apply_binds(c, &one);
    }
}

/* The container runtime of command @p k of statement @p i, a kept line
 * that is not the main command: the pod runs in one image, which has no
 * apptainer, singularity, podman or enroot, so the runtime and its
 * options are removed and the command runs in the pod's image, as the
 * main command does (its --env as assignments in front); a different
 * image, a runscript, and options with no equivalent are warned. */
static void side_container(ctx *c, analysis *a, size_t i, size_t k)
{
    const unwrap *u = s2r_body__unwrapped(c, a, i, k);
    if (!u->container || u->shell_string)
        return;
    int line = u->words[u->container_at].line;
    const char *rt = s2r_body__base_name(u->words[u->container_at].value);
    if (u->run_args || u->prog >= u->n) {
        s2r_body__warn(c, line, NULL, "'%s run' starts the image's own "
                       "runscript, which s2r cannot read: the line is kept, "
                       "and the pod's image has no %s; run the program the "
                       "runscript runs instead", rt, rt);
        return;
    }
    size_t from = u->words[u->container_at].start, to = u->words[u->prog].start;
    if (s2r_body__edited(a, from, to))
        return;
    s2r_buf env = {0};
    for (size_t e = 0; e < u->c_env.n; e++) {
        s2r_body__put_assignment(&env, u->c_env.v[e].name,
                                 u->c_env.v[e].value);
        s2r_buf_putn(&env, " ", 1);
    }
    if (env.oom)
        c->oom = true;
    else
        s2r_body__add_edit(c, a, from, to, env.p);
    free(env.p);
    const char *pod = c->job->image;
    if (u->image && (!pod || strcmp(u->image, pod)))
        s2r_body__warn(c, line, NULL, "%s runs this line in %s, but a "
                       "workload has one image (%s): the line runs in it, "
                       "without %s", rt, u->image,
                       pod ? pod : "the default image", rt);
    else if (!u->image)
        s2r_body__warn(c, line, NULL, "%s runs this line in the image "
                       "'%s', %s: the line runs in the pod's image, without "
                       "%s", rt, u->local_image_name ? u->local_image_name : "",
                       u->local_image_name && strchr(u->local_image_name, '$')
                           ? "a variable with no OCI reference s2r can read"
                           : "a local image with no OCI equivalent", rt);
    else
        s2r_body__note(c, line, "%s removed: the line runs in the pod's "
                       "image, %s", rt, pod);
    if (u->c_workdir)
        s2r_body__warn(c, line, NULL, "%s's working directory '%s' is not "
                       "carried for this line: it runs in the pod's working "
                       "directory", rt, u->c_workdir);
    if (u->dropped[0])
        s2r_body__warn(c, line, NULL, "%s: container options with no "
                       "Run:ai equivalent; not carried", u->dropped);
    apply_new_binds(c, u);
}

void s2r_body__side_containers(ctx *c, analysis *a)
{
    const sh_body *b = &a->body;
    for (size_t i = 0; i < b->n; i++) {
        const sh_stmt *st = &b->stmts[i];
        if (i == a->main || a->kind[i] != ST_KEEP || st->compound)
            continue;
        for (size_t k = 0; k < st->ncmds; k++)
            side_container(c, a, i, k);
    }
}

/* ------------------------------------------------------------------ */
/* pyxis' container options as #SBATCH directives                      */
/* ------------------------------------------------------------------ */

/* @p path in the container as the pod sees it: under a bind's target,
 * the same place under its source (the pod mounts the source's storage
 * at its own path, not the bind); else @p path. malloc'd, NULL on OOM. */
static char *unbound_path(const s2r_job *job, const char *path)
{
    for (size_t i = job->n_binds; i-- > 0;) {
        const s2r_bind *b = &job->binds[i];
        size_t n = strlen(b->target);
        if (n > 1 && !strncmp(path, b->target, n) &&
            (path[n] == '/' || path[n] == '\0') && b->source[0] == '/') {
            char *out = NULL;
            return asprintf(&out, "%s%s", b->source, path + n) < 0 ? NULL
                                                                    : out;
        }
    }
    return strdup(path);
}

void s2r_body__directive_containers(ctx *c)
{
    s2r_job *job = c->job;
    /* the last --container-mounts and --container-workdir, in one pass */
    const s2r_directive *mounts = NULL, *wd = NULL;
    for (size_t i = 0; i < job->n_directives; i++) {
        const s2r_directive *d = &job->directives[i];
        if (d->name[0] != 'c' || strncmp(d->name, "container-", 10))
            continue;
        if (!strcmp(d->name + 10, "mounts"))
            mounts = d;
        else if (!strcmp(d->name + 10, "workdir"))
            wd = d;
    }
    int line = mounts ? mounts->line : 0;
    const char *v = mounts && mounts->value ? mounts->value : NULL;
    if (v && *v) {
        unwrap u;
        memset(&u, 0, sizeof(u));
        add_binds(&u, v, line);
        s2r_body__apply_binds(c, &u);
        s2r_body__unwrap_free(&u);
    }
    line = wd ? wd->line : 0;
    v = wd ? (wd->value ? wd->value : "") : NULL;
    if (v && v[0] == '/') {
        free(job->workdir);
        if (!(job->workdir = unbound_path(job, v)))
            c->oom = true;
    } else if (v) {
        s2r_body__warn(c, line, "container-workdir", "container working "
                       "directory '%s' is not absolute: not used", v);
    }
}
