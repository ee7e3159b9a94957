/* loader.c: dlopen(RTLD_NOW | RTLD_LOCAL) of s2r-<name>.so from the
 * configured directories and the checks of plugin.h's descriptor. */
#include "loader.h"
#include "host.h"
#include "config/config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef S2R_DEFAULT_PLUGINDIR
#define S2R_DEFAULT_PLUGINDIR "/usr/local/lib/s2r/plugins"
#endif
#ifndef S2R_RELATIVE_PLUGINDIR
#define S2R_RELATIVE_PLUGINDIR "lib/s2r/plugins"
#endif

struct s2r_loader {
    s2r_strv dirs;
    s2r_loaded **v;
    size_t n, cap;
};

#define BUILTIN_PATH "(built in)"

/* minimal ops sizes of ABI 1.0 */
#define PROVIDER_OPS_MIN \
    (offsetof(s2r_provider_ops, convert) + sizeof(void (*)(void)))
#define RATELIMIT_OPS_MIN \
    (offsetof(s2r_ratelimit_ops, check) + sizeof(void (*)(void)))
#define AUTH_OPS_MIN (offsetof(s2r_auth_ops, sign) + sizeof(void (*)(void)))

static int push_dirs(s2r_strv *out, const char *list)
{
    if (!list)
        return S2R_OK;
    char *copy = strdup(list);
    if (!copy)
        return S2R_ENOMEM;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        int dup = 0;
        for (size_t i = 0; i < out->n; i++)
            dup |= strcmp(out->v[i], d) == 0;
        if (!dup && s2r_strv_push(out, d)) {
            free(copy);
            return S2R_ENOMEM;
        }
    }
    free(copy);
    return S2R_OK;
}

int s2r_loader_search_path(s2r_strv *out, const char *cli_dir,
                           const char *core_dir)
{
    if (push_dirs(out, cli_dir) || push_dirs(out, core_dir) ||
        push_dirs(out, getenv("S2R_PLUGIN_PATH")))
        return S2R_ENOMEM;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = NULL;
    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
    }
    if (slash) {
        /* a build tree: the plugins built beside the program */
        char built[PATH_MAX + 16];
        struct stat st;
        snprintf(built, sizeof(built), "%.*s/plugins", (int)(slash - exe),
                 exe);
        if (stat(built, &st) == 0 && S_ISDIR(st.st_mode) &&
            push_dirs(out, built))
            return S2R_ENOMEM;
    }
    if (slash) {
        /* the program's own installation (a relocated prefix, the Python
         * package) before the compiled-in one: an s2r never loads another
         * installation's plugins when its own has them */
        *slash = '\0';
        char rel[PATH_MAX + 64];
        snprintf(rel, sizeof(rel), "%s/../%s", exe, S2R_RELATIVE_PLUGINDIR);
        char real[PATH_MAX];
        if (realpath(rel, real) && push_dirs(out, real))
            return S2R_ENOMEM;
    }
    return push_dirs(out, S2R_DEFAULT_PLUGINDIR);
}

int s2r_loader_new(s2r_loader **out, const s2r_strv *dirs)
{
    *out = NULL;
    s2r_loader *l = calloc(1, sizeof(*l));
    if (!l)
        return S2R_ENOMEM;
    for (size_t i = 0; dirs && i < dirs->n; i++)
        if (s2r_strv_push(&l->dirs, dirs->v[i])) {
            s2r_loader_free(l);
            return S2R_ENOMEM;
        }
    *out = l;
    return S2R_OK;
}

int s2r_loader_set_dirs(s2r_loader *l, const s2r_strv *dirs)
{
    s2r_strv copy = {0};
    for (size_t i = 0; dirs && i < dirs->n; i++)
        if (s2r_strv_push(&copy, dirs->v[i])) {
            s2r_strv_clear(&copy);
            return S2R_ENOMEM;
        }
    s2r_strv_clear(&l->dirs);
    l->dirs = copy;
    return S2R_OK;
}

void s2r_loader_free(s2r_loader *l)
{
    if (!l)
        return;
    const char *dl = getenv("S2R_PLUGIN_DLCLOSE");
    int do_close = dl && strcmp(dl, "1") == 0;
    for (size_t i = l->n; i-- > 0;) {
        s2r_loaded *p = l->v[i];
        if (p->load_called && p->desc.unload)
            p->desc.unload();
        if (p->handle && do_close)
            dlclose(p->handle);
        free(p->path);
        free(p);
    }
    free(l->v);
    s2r_strv_clear(&l->dirs);
    free(l);
}

size_t s2r_loader_count(const s2r_loader *l)
{
    return l ? l->n : 0;
}

const s2r_loaded *s2r_loader_at(const s2r_loader *l, size_t i)
{
    return l && i < l->n ? l->v[i] : NULL;
}

const s2r_strv *s2r_loader_dirs(const s2r_loader *l)
{
    return &l->dirs;
}

static const s2r_loaded *find_name(const s2r_loader *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i]->desc.name, name) == 0)
            return l->v[i];
    return NULL;
}

static int valid_name(const char *n)
{
    if (!*n)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return 0;
    return n[0] != '-' && n[strlen(n) - 1] != '-';
}

/* A refusal naming the file, the entry symbol and what was expected. */
#define REFUSE(code, ...) \
    return s2r_host_table()->error_set(NULL, err, code, __VA_ARGS__)

/* The ABI major and the descriptor size; what both sides know of @p d is
 * copied into @p out (zeroed first). */
static int check_abi(const s2r_plugin *d, const char *file, s2r_loaded *out,
                     s2r_error *err)
{
    const char *sym = S2R_PLUGIN_ENTRY_NAME;
    uint32_t major = S2R_PLUGIN_ABI_MAJOR_OF(d->abi);
    uint32_t minor = S2R_PLUGIN_ABI_MINOR_OF(d->abi);
    if (major != S2R_PLUGIN_ABI_MAJOR)
        REFUSE(S2R_EABI, "%s: %s: plugin ABI %u.%u (abi 0x%08x), expected "
               "major %u (host ABI %u.%u); rebuild it against this s2r SDK",
               file, sym, major, minor, d->abi, S2R_PLUGIN_ABI_MAJOR,
               S2R_PLUGIN_ABI_MAJOR, S2R_PLUGIN_ABI_MINOR);
    if (d->struct_size < S2R_PLUGIN_SIZE_V1_0)
        REFUSE(S2R_EABI, "%s: %s: descriptor struct_size %u, expected at "
               "least %zu (ABI %u.0)", file, sym, d->struct_size,
               (size_t)S2R_PLUGIN_SIZE_V1_0, S2R_PLUGIN_ABI_MAJOR);
    /* read only what both sides know, into zeroed memory */
    memset(out, 0, sizeof(*out));
    size_t n = d->struct_size < sizeof(s2r_plugin) ? d->struct_size
                                                   : sizeof(s2r_plugin);
    memcpy(&out->desc, d, n);
    return S2R_OK;
}

/* Kind, name (lower-kebab-case, the file's, not known yet), create and
 * destroy. */
static int check_identity(s2r_loader *l, const s2r_plugin *c,
                          const char *file, const char *expected_name,
                          s2r_error *err)
{
    const char *sym = S2R_PLUGIN_ENTRY_NAME;
    if (c->kind < S2R_KIND_PROVIDER || c->kind > S2R_KIND_AUTH)
        REFUSE(S2R_EINVAL, "%s: %s: descriptor kind %u, expected 1 "
               "(provider), 2 (ratelimit) or 3 (auth)", file, sym, c->kind);
    if (!c->name || !valid_name(c->name))
        REFUSE(S2R_EINVAL, "%s: %s: descriptor name %s%s%s, expected "
               "lower-kebab-case", file, sym, c->name ? "'" : "",
               c->name ? c->name : "NULL", c->name ? "'" : "");
    if (expected_name && strcmp(c->name, expected_name) != 0)
        REFUSE(S2R_EINVAL, "%s: %s: descriptor name '%s', expected '%s' "
               "(the file name s2r-%s.so)", file, sym, c->name,
               expected_name, expected_name);
    const s2r_loaded *prev = find_name(l, c->name);
    if (prev)
        REFUSE(S2R_EINVAL, "%s: %s: duplicate plugin name '%s', already "
               "loaded from %s", file, sym, c->name, prev->path);
    if (!c->create)
        REFUSE(S2R_EINVAL, "%s: %s: descriptor create is NULL, expected a "
               "function", file, sym);
    if (!c->destroy)
        REFUSE(S2R_EINVAL, "%s: %s: descriptor destroy is NULL, expected a "
               "function", file, sym);
    return S2R_OK;
}

/* The ops table of the kind: present, its struct_size at least that of
 * ABI x.0, its required callbacks; copied into out->ops, which the
 * descriptor copy then points at. */
static int check_ops(s2r_loaded *out, const char *file, s2r_error *err)
{
    const char *sym = S2R_PLUGIN_ENTRY_NAME;
    s2r_plugin *c = &out->desc;
    if (!c->ops)
        REFUSE(S2R_EINVAL, "%s: %s: descriptor ops is NULL, expected "
               "s2r_%s_ops", file, sym, s2r_kind_name(c->kind));
    uint32_t ops_size = *(const uint32_t *)c->ops;
    size_t min = c->kind == S2R_KIND_PROVIDER    ? PROVIDER_OPS_MIN
                 : c->kind == S2R_KIND_RATELIMIT ? RATELIMIT_OPS_MIN
                                                 : AUTH_OPS_MIN;
    if (ops_size < min)
        REFUSE(S2R_EABI, "%s: %s: %s ops struct_size %u, expected at least "
               "%zu (ABI %u.0)", file, sym, s2r_kind_name(c->kind), ops_size,
               min, S2R_PLUGIN_ABI_MAJOR);
    size_t ocap = sizeof(out->ops);
    memcpy(&out->ops, c->ops, ops_size < ocap ? ops_size : ocap);
    c->ops = &out->ops;
    if (c->kind == S2R_KIND_PROVIDER && !out->ops.provider.convert)
        REFUSE(S2R_EINVAL, "%s: %s: provider ops convert is NULL, expected "
               "a function", file, sym);
    if (c->kind == S2R_KIND_RATELIMIT && !out->ops.ratelimit.check)
        REFUSE(S2R_EINVAL, "%s: %s: ratelimit ops check is NULL, expected "
               "a function", file, sym);
    if (c->kind == S2R_KIND_AUTH && !out->ops.auth.verify &&
        !out->ops.auth.sign)
        REFUSE(S2R_EINVAL, "%s: %s: auth ops verify and sign are both NULL, "
               "expected at least one", file, sym);
    return S2R_OK;
}

/* Check @p d (from @p file, entry symbol context) and fill @p out. */
static int check_descriptor(s2r_loader *l, const s2r_plugin *d,
                            const char *file, const char *expected_name,
                            s2r_loaded *out, s2r_error *err)
{
    int rc = check_abi(d, file, out, err);
    if (rc == S2R_OK)
        rc = check_identity(l, &out->desc, file, expected_name, err);
    if (rc == S2R_OK)
        rc = check_ops(out, file, err);
    if (rc != S2R_OK)
        return rc;
    s2r_plugin *c = &out->desc;
    char why[200];
    if (s2r_options_check_table(c->options, c->config_size, why,
                                sizeof(why)) != S2R_OK)
        REFUSE(S2R_EINVAL, "%s: %s: option table of '%s': %s", file,
               S2R_PLUGIN_ENTRY_NAME, c->name, why);
    if (!c->version)
        c->version = "?";
    if (!c->description)
        c->description = "";
    return S2R_OK;
}

#undef REFUSE

static int append(s2r_loader *l, s2r_loaded *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        s2r_loaded **nv = realloc(l->v, cap * sizeof(*nv));
        if (!nv)
            return S2R_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return S2R_OK;
}

int s2r_loader_add_builtin(s2r_loader *l, const s2r_plugin *desc,
                           s2r_error *err)
{
    s2r_loaded *p = calloc(1, sizeof(*p));
    if (!p)
        return S2R_ENOMEM;
    int rc = check_descriptor(l, desc, BUILTIN_PATH, NULL, p, err);
    if (rc == S2R_OK) {
        p->builtin = 1;
        p->path = strdup(BUILTIN_PATH);
        rc = p->path ? append(l, p) : S2R_ENOMEM;
    }
    if (rc != S2R_OK) {
        free(p->path);
        free(p);
    }
    return rc;
}

/* "s2r-<name>.so" -> name (malloc'd), or NULL when the pattern differs */
static char *name_from_file(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n <= 7 || strncmp(base, "s2r-", 4) != 0 ||
        strcmp(base + n - 3, ".so") != 0)
        return NULL;
    return strndup(base + 4, n - 7);
}

/* dlopen @p path (RTLD_NOW | RTLD_LOCAL) once it is a file nobody else
 * may write; a path without '/' is opened as "./path" (dlopen would
 * search the library path). *@p full_out: the path opened (malloc'd). */
static int open_object(const char *path, void **dh_out, char **full_out,
                       s2r_error *err)
{
    const s2r_host *h = s2r_host_table();
    struct stat st;
    if (stat(path, &st) != 0)
        return h->error_set(NULL, err, S2R_ENOTFOUND, "%s: no such file",
                            path);
    if (st.st_mode & S_IWOTH)
        return h->error_set(NULL, err, S2R_EINVAL, "%s: refused: the file is "
                            "world-writable", path);
    char *full = NULL;
    if (!strchr(path, '/')) {
        size_t len = strlen(path) + 3;
        full = malloc(len);
        if (full)
            snprintf(full, len, "./%s", path);
    } else {
        full = strdup(path);
    }
    if (!full)
        return S2R_ENOMEM;
    dlerror();
    void *dh = dlopen(full, RTLD_NOW | RTLD_LOCAL);
    if (!dh) {
        const char *why = dlerror();
        free(full);
        return h->error_set(NULL, err, S2R_ENOTFOUND,
                            "%s: dlopen failed: %s (a missing library? "
                            "check with ldd)", path, why ? why : "?");
    }
    *dh_out = dh;
    *full_out = full;
    return S2R_OK;
}

/* The descriptor the entry symbol of @p dh returns for the host ABI.
 * @return S2R_OK, S2R_ENOTFOUND (no entry symbol), S2R_EABI (declined). */
static int entry_descriptor(void *dh, const char *path,
                            const s2r_plugin **d_out, s2r_error *err)
{
    const s2r_host *h = s2r_host_table();
    const char *sym = S2R_PLUGIN_ENTRY_NAME;
    dlerror();
    s2r_plugin_entry_fn entry;
    void *fp = dlsym(dh, sym);
    memcpy(&entry, &fp, sizeof(entry));
    if (!fp)
        return h->error_set(NULL, err, S2R_ENOTFOUND,
                            "%s: no symbol %s, expected the entry point "
                            "of an s2r plugin (S2R_PLUGIN_DECLARE, ABI "
                            "%u.%u)", path, sym, S2R_PLUGIN_ABI_MAJOR,
                            S2R_PLUGIN_ABI_MINOR);
    *d_out = entry(S2R_PLUGIN_ABI);
    if (!*d_out)
        return h->error_set(NULL, err, S2R_EABI,
                            "%s: %s(0x%08x) returned NULL: the plugin "
                            "declined host ABI %u.%u", path, sym,
                            S2R_PLUGIN_ABI, S2R_PLUGIN_ABI_MAJOR,
                            S2R_PLUGIN_ABI_MINOR);
    return S2R_OK;
}

int s2r_loader_open(s2r_loader *l, const char *path, const s2r_loaded **out,
                    s2r_error *err)
{
    if (out)
        *out = NULL;
    char *expected = name_from_file(path);
    if (!expected)
        return s2r_host_table()->error_set(NULL, err, S2R_EINVAL,
                                           "%s: not a plugin file name, "
                                           "expected s2r-<name>.so", path);
    void *dh = NULL;
    char *full = NULL;
    int rc = open_object(path, &dh, &full, err);
    if (rc != S2R_OK) {
        free(expected);
        return rc;
    }
    const s2r_plugin *d = NULL;
    s2r_loaded *p = NULL;
    rc = entry_descriptor(dh, path, &d, err);
    if (rc == S2R_OK && !(p = calloc(1, sizeof(*p))))
        rc = S2R_ENOMEM;
    if (rc == S2R_OK)
        rc = check_descriptor(l, d, path, expected, p, err);
    if (rc == S2R_OK) {
        p->path = full;
        full = NULL;
        p->handle = dh;
        rc = append(l, p);
        if (rc == S2R_OK && out)
            *out = p;
    }
    if (rc != S2R_OK) {
        if (p)
            free(p->path);
        free(p);
        dlclose(dh);
    }
    free(full);
    free(expected);
    return rc;
}

int s2r_loader_find(s2r_loader *l, const char *name, const s2r_loaded **out,
                    s2r_error *err)
{
    const s2r_host *h = s2r_host_table();
    *out = find_name(l, name);
    if (*out)
        return S2R_OK;
    if (!valid_name(name))
        return h->error_set(NULL, err, S2R_EINVAL,
                            "plugin name '%s' is not lower-kebab-case", name);
    char searched[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < l->dirs.n; i++) {
        size_t len = strlen(l->dirs.v[i]) + strlen(name) + 16;
        char *path = malloc(len);
        if (!path)
            return S2R_ENOMEM;
        snprintf(path, len, "%s/s2r-%s.so", l->dirs.v[i], name);
        if (access(path, F_OK) == 0) {
            int rc = s2r_loader_open(l, path, out, err);
            free(path);
            return rc;
        }
        free(path);
        int k = snprintf(searched + used, sizeof(searched) - used, "%s%s",
                         i ? ":" : "", l->dirs.v[i]);
        if (k > 0 && (size_t)k < sizeof(searched) - used)
            used += (size_t)k;
    }
    return h->error_set(NULL, err, S2R_ENOTFOUND,
                        "no plugin '%s': s2r-%s.so is not in %s", name, name,
                        l->dirs.n ? searched : "any plugin directory");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int s2r_loader_scan(s2r_loader *l, s2r_diags *diags)
{
    for (size_t i = 0; i < l->dirs.n; i++) {
        DIR *dir = opendir(l->dirs.v[i]);
        if (!dir)
            continue;
        s2r_strv files = {0};
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t n = strlen(de->d_name);
            if (n > 7 && strncmp(de->d_name, "s2r-", 4) == 0 &&
                strcmp(de->d_name + n - 3, ".so") == 0 &&
                s2r_strv_push(&files, de->d_name)) {
                closedir(dir);
                s2r_strv_clear(&files);
                return S2R_ENOMEM;
            }
        }
        closedir(dir);
        if (files.n)
            qsort(files.v, files.n, sizeof(char *), cmp_str);
        for (size_t k = 0; k < files.n; k++) {
            size_t len = strlen(l->dirs.v[i]) + strlen(files.v[k]) + 2;
            char *path = malloc(len);
            if (!path) {
                s2r_strv_clear(&files);
                return S2R_ENOMEM;
            }
            snprintf(path, len, "%s/%s", l->dirs.v[i], files.v[k]);
            s2r_error err = {0};
            int rc = s2r_loader_open(l, path, NULL, &err);
            if (rc == S2R_ENOMEM) {
                free(path);
                s2r_strv_clear(&files);
                return rc;
            }
            if (rc != S2R_OK)
                s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL, "%s",
                              err.message);
            free(path);
        }
        s2r_strv_clear(&files);
    }
    return S2R_OK;
}

int s2r_loader_call_load(s2r_loader *l, const s2r_loaded *p, s2r_error *err)
{
    (void)l;
    s2r_loaded *m = (s2r_loaded *)p;
    if (m->load_called)
        return S2R_OK;
    if (m->desc.load) {
        int rc = m->desc.load(s2r_host_table(), err);
        if (rc != S2R_OK)
            return rc;
    }
    m->load_called = 1;
    return S2R_OK;
}
