/* registry.c: plugin instances from s2r.ini: validate all sections, then
 * create instances; lookups and serialized op calls. */
#include "registry.h"
#include "config/config.h"
#include "base/base.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct instance {
    uint32_t kind;
    char *section;
    int32_t line;
    const s2r_loaded *plugin;
    s2r_binding *binding;
    s2r_instance_ctx ctx;
    void *instance;
    int32_t created;
    pthread_mutex_t lock;
} instance;

struct s2r_registry {
    s2r_registry_options opts;
    char *config_path;
    s2r_ini own_ini;
    const s2r_ini *ini;
    s2r_loader *loader;
    instance **v;
    size_t n, cap;
    char *default_provider;
    int32_t log_level;
    int32_t loaded;
};

int s2r_registry_new(s2r_registry **out, const s2r_registry_options *opts)
{
    *out = NULL;
    s2r_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return S2R_ENOMEM;
    s2r_registry_options def = S2R_REGISTRY_OPTIONS_INIT;
    r->opts = opts ? *opts : def;
    if (r->opts.config_path && !(r->config_path = strdup(r->opts.config_path))) {
        free(r);
        return S2R_ENOMEM;
    }
    r->opts.config_path = r->config_path;
    r->opts.builtins = NULL; /* borrowed only during open */
    r->ini = r->opts.ini;
    /* the directories are known after [core] is read: start empty */
    if (s2r_loader_new(&r->loader, NULL)) {
        free(r->config_path);
        free(r);
        return S2R_ENOMEM;
    }
    *out = r;
    return S2R_OK;
}

int s2r_registry_add_builtin(s2r_registry *reg, const s2r_plugin *desc,
                             s2r_diags *diags)
{
    s2r_error err = {0};
    int rc = s2r_loader_add_builtin(reg->loader, desc, &err);
    if (rc != S2R_OK && rc != S2R_ENOMEM)
        s2r_diags_add(diags, S2R_SEV_ERROR, "s2r", 0, NULL, "built-in %s",
                      err.message);
    return rc;
}

static void free_instance(instance *in)
{
    if (!in)
        return;
    if (in->created && in->plugin->desc.destroy)
        in->plugin->desc.destroy(in->instance);
    pthread_mutex_destroy(&in->lock);
    s2r_binding_free(in->binding);
    free(in->ctx.id);
    free(in->ctx.prefix);
    free(in->section);
    free(in);
}

void s2r_registry_close(s2r_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = reg->n; i-- > 0;)
        free_instance(reg->v[i]);
    free(reg->v);
    s2r_loader_free(reg->loader);
    s2r_ini_free(&reg->own_ini);
    free(reg->default_provider);
    free(reg->config_path);
    free(reg);
}

static instance *find_instance(const s2r_registry *reg, uint32_t kind,
                               const char *id)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->v[i]->kind == kind && strcmp(reg->v[i]->ctx.id, id) == 0)
            return reg->v[i];
    return NULL;
}

static int add_instance(s2r_registry *reg, uint32_t kind, const char *id,
                        const char *section, int32_t line,
                        const s2r_loaded *p, instance **out)
{
    instance *in = calloc(1, sizeof(*in));
    if (!in)
        return S2R_ENOMEM;
    pthread_mutex_init(&in->lock, NULL);
    in->kind = kind;
    in->line = line;
    in->plugin = p;
    in->section = strdup(section);
    in->ctx.kind = s2r_kind_name(kind);
    in->ctx.id = strdup(id);
    in->ctx.prefix = strdup(section);
    in->ctx.plugin = p->desc.name;
    in->ctx.log_fn = reg->opts.log_fn;
    in->ctx.log_payload = reg->opts.log_payload;
    in->ctx.log_level = reg->log_level;
    if (!in->section || !in->ctx.id || !in->ctx.prefix) {
        free_instance(in);
        return S2R_ENOMEM;
    }
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        instance **nv = realloc(reg->v, cap * sizeof(*nv));
        if (!nv) {
            free_instance(in);
            return S2R_ENOMEM;
        }
        reg->v = nv;
        reg->cap = cap;
    }
    reg->v[reg->n++] = in;
    *out = in;
    return S2R_OK;
}

static const char *const reserved_keys[] = {"plugin", NULL};

/* validate one [kind.id] section; adds an instance when it is usable */
static int check_plugin_section(s2r_registry *reg,
                                const s2r_ini_section *sec, uint32_t kind,
                                const char *id, s2r_diags *diags)
{
    const char *file = reg->ini->path;
    const s2r_ini_entry *pe = s2r_ini_entry_find(sec, "plugin");
    if (!pe || !pe->value[0]) {
        s2r_diags_add(diags, S2R_SEV_ERROR, file, pe ? pe->line : sec->line,
                      "plugin", "[%s] missing required key 'plugin' (the "
                      "name of a %s plugin; see `s2r plugins`)", sec->name,
                      s2r_kind_name(kind));
        return S2R_OK;
    }
    const s2r_loaded *p = NULL;
    s2r_error err = {0};
    int rc = s2r_loader_find(reg->loader, pe->value, &p, &err);
    if (rc == S2R_ENOMEM)
        return rc;
    if (rc != S2R_OK) {
        s2r_diags_add(diags, S2R_SEV_ERROR, file, pe->line, "plugin",
                      "[%s] plugin: %s", sec->name, err.message);
        return S2R_OK;
    }
    if (p->desc.kind != kind) {
        s2r_diags_add(diags, S2R_SEV_ERROR, file, pe->line, "plugin",
                      "[%s] plugin: '%s' is a %s plugin, expected a %s "
                      "plugin", sec->name, p->desc.name,
                      s2r_kind_name(p->desc.kind), s2r_kind_name(kind));
        return S2R_OK;
    }
    s2r_binding *b = NULL;
    char owner[128];
    snprintf(owner, sizeof(owner), "plugin '%s'", p->desc.name);
    rc = s2r_options_apply(p->desc.options, p->desc.config_size, sec, file,
                           owner, reserved_keys, diags,
                           reg->opts.check_only ? NULL : &b);
    if (rc == S2R_ENOMEM)
        return rc;
    instance *in = NULL;
    if (add_instance(reg, kind, id, sec->name, sec->line, p, &in)) {
        s2r_binding_free(b);
        return S2R_ENOMEM;
    }
    in->binding = b;
    if (b) {
        in->ctx.secrets = b->secrets;
        in->ctx.n_secrets = b->n_secrets;
    }
    return S2R_OK;
}

/* built-in providers without a section get an instance named after them */
static int add_implicit(s2r_registry *reg, s2r_diags *diags)
{
    s2r_loader *l = reg->loader;
    for (size_t i = 0; i < s2r_loader_count(l); i++) {
        const s2r_loaded *p = s2r_loader_at(l, i);
        if (!p->builtin || find_instance(reg, p->desc.kind, p->desc.name))
            continue;
        char section[128];
        snprintf(section, sizeof(section), "%s.%s",
                 s2r_kind_name(p->desc.kind), p->desc.name);
        s2r_ini_section empty = {0};
        empty.name = section;
        s2r_binding *b = NULL;
        int rc = s2r_options_apply(p->desc.options, p->desc.config_size,
                                   &empty, "(defaults)", p->desc.name, NULL,
                                   diags, reg->opts.check_only ? NULL : &b);
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc != S2R_OK)
            continue; /* reported: a built-in that needs settings */
        instance *in = NULL;
        if (add_instance(reg, p->desc.kind, p->desc.name, section, 0, p,
                         &in)) {
            s2r_binding_free(b);
            return S2R_ENOMEM;
        }
        in->binding = b;
        if (b) {
            in->ctx.secrets = b->secrets;
            in->ctx.n_secrets = b->n_secrets;
        }
    }
    return S2R_OK;
}

static int create_all(s2r_registry *reg, s2r_diags *diags)
{
    static const uint32_t order[] = {S2R_KIND_AUTH, S2R_KIND_RATELIMIT,
                                     S2R_KIND_PROVIDER};
    const char *file = reg->ini ? reg->ini->path : "s2r";
    for (size_t o = 0; o < 3; o++) {
        for (size_t i = 0; i < reg->n; i++) {
            instance *in = reg->v[i];
            if (in->kind != order[o])
                continue;
            s2r_error err = {0};
            int rc = s2r_loader_call_load(reg->loader, in->plugin, &err);
            if (rc != S2R_OK) {
                s2r_diags_add(diags, S2R_SEV_ERROR, file, in->line, NULL,
                              "[%s] plugin '%s' failed to load: %s",
                              in->section, in->plugin->desc.name,
                              err.message[0] ? err.message : "no message");
                return rc == S2R_ENOMEM ? rc : S2R_EINVAL;
            }
            void *obj = NULL;
            memset(&err, 0, sizeof(err));
            rc = in->plugin->desc.create(&obj, s2r_host_table(), &in->ctx,
                                         in->binding ? in->binding->config
                                                     : NULL,
                                         &err);
            if (rc != S2R_OK) {
                /* the plugin's message may hold a secret: redact it */
                char msg[S2R_ERROR_MSG_MAX];
                s2r_redact(msg, sizeof(msg), err.message, in->ctx.secrets,
                           in->ctx.n_secrets);
                s2r_diags_add(diags, S2R_SEV_ERROR, file, in->line, NULL,
                              "[%s] %s: create failed: %s", in->section,
                              in->plugin->desc.name,
                              msg[0] ? msg : "no message");
                return rc == S2R_ENOMEM ? rc : S2R_EINVAL;
            }
            in->instance = obj;
            in->created = 1;
        }
    }
    return S2R_OK;
}

int s2r_registry_load(s2r_registry *reg, s2r_diags *diags)
{
    if (reg->loaded)
        return S2R_EINVAL;
    reg->loaded = 1;
    const size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    int rc;
    if (!reg->ini && reg->config_path) {
        rc = s2r_ini_read(&reg->own_ini, reg->config_path, diags);
        if (rc == S2R_ENOTFOUND || rc == S2R_ENOMEM)
            return rc;
        reg->ini = &reg->own_ini;
    }
    const char *core_dir = s2r_ini_get(reg->ini, "core", "plugin_dir");
    const char *lvl = s2r_ini_get(reg->ini, "core", "log_level");
    reg->log_level = reg->opts.log_level >= 0 ? reg->opts.log_level
                     : lvl && s2r_log_level_from_name(lvl) >= 0
                         ? s2r_log_level_from_name(lvl)
                         : S2R_LOG_WARN;
    s2r_strv dirs = {0};
    rc = s2r_loader_search_path(&dirs, reg->opts.plugin_dir,
                                core_dir && *core_dir ? core_dir : NULL);
    if (rc == S2R_OK)
        rc = s2r_loader_set_dirs(reg->loader, &dirs);
    s2r_strv_clear(&dirs);
    if (rc)
        return rc;

    if (s2r_host_global_init() != S2R_OK) {
        s2r_diags_add(diags, S2R_SEV_ERROR, "s2r", 0, NULL,
                      "libcurl global initialization failed");
        return S2R_ERROR;
    }
    for (size_t i = 0; reg->ini && i < reg->ini->n; i++) {
        const s2r_ini_section *sec = &reg->ini->v[i];
        uint32_t kind = 0;
        const char *id = NULL;
        if (s2r_config_section_kind(sec->name, &kind, &id) !=
            S2R_SECTION_PLUGIN)
            continue;
        if ((rc = check_plugin_section(reg, sec, kind, id, diags)))
            return rc;
    }
    if ((rc = add_implicit(reg, diags)))
        return rc;
    const char *prov = s2r_ini_get(reg->ini, "core", "provider");
    reg->default_provider = strdup(prov && *prov ? prov : "rules");
    if (!reg->default_provider)
        return S2R_ENOMEM;
    char psec[160];
    snprintf(psec, sizeof(psec), "provider.%s", prov ? prov : "");
    if (prov && *prov && !find_instance(reg, S2R_KIND_PROVIDER, prov) &&
        !s2r_ini_section_find(reg->ini, psec)) {
        const s2r_ini_section *core = s2r_ini_section_find(reg->ini, "core");
        const s2r_ini_entry *e = s2r_ini_entry_find(core, "provider");
        s2r_diags_add(diags, S2R_SEV_ERROR, reg->ini->path, e ? e->line : 0,
                      "provider", "[core] provider: no [provider.%s] section "
                      "and no built-in provider '%s'", prov, prov);
    }
    if (s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before)
        return S2R_EINVAL;
    if (reg->opts.check_only)
        return S2R_OK;
    return create_all(reg, diags);
}

int s2r_registry_open(s2r_registry **out, const s2r_registry_options *opts,
                      s2r_diags *diags)
{
    *out = NULL;
    s2r_registry *reg = NULL;
    int rc = s2r_registry_new(&reg, opts);
    if (rc)
        return rc;
    bool have_rules = false;
    for (size_t i = 0; opts && opts->builtins && opts->builtins[i]; i++) {
        if (opts->builtins[i]->name &&
            !strcmp(opts->builtins[i]->name, s2r_rules_plugin.name))
            have_rules = true;
        if ((rc = s2r_registry_add_builtin(reg, opts->builtins[i], diags))) {
            s2r_registry_close(reg);
            return rc;
        }
    }
    /* the core's own provider is always there */
    if (!have_rules &&
        (rc = s2r_registry_add_builtin(reg, &s2r_rules_plugin, diags))) {
        s2r_registry_close(reg);
        return rc;
    }
    rc = s2r_registry_load(reg, diags);
    if (rc != S2R_OK) {
        s2r_registry_close(reg);
        return rc;
    }
    *out = reg;
    return S2R_OK;
}

int s2r_registry_find(s2r_registry *reg, uint32_t kind, const char *id,
                      const s2r_plugin **desc_out, void **instance_out)
{
    instance *in = id ? find_instance(reg, kind, id) : NULL;
    if (desc_out)
        *desc_out = in ? &in->plugin->desc : NULL;
    if (instance_out)
        *instance_out = in ? in->instance : NULL;
    return in ? S2R_OK : S2R_ENOTFOUND;
}

const char *s2r_registry_default_provider(const s2r_registry *reg)
{
    return reg->default_provider ? reg->default_provider : "rules";
}

int s2r_registry_provider(s2r_registry *reg, const char *id,
                          const s2r_plugin **desc_out, void **instance_out)
{
    return s2r_registry_find(reg, S2R_KIND_PROVIDER,
                             id ? id : s2r_registry_default_provider(reg),
                             desc_out, instance_out);
}

size_t s2r_registry_count(const s2r_registry *reg)
{
    return reg ? reg->n : 0;
}

int s2r_registry_at(const s2r_registry *reg, size_t i, uint32_t *kind_out,
                    const char **id_out, const s2r_plugin **desc_out)
{
    if (!reg || i >= reg->n)
        return S2R_ENOTFOUND;
    if (kind_out)
        *kind_out = reg->v[i]->kind;
    if (id_out)
        *id_out = reg->v[i]->ctx.id;
    if (desc_out)
        *desc_out = &reg->v[i]->plugin->desc;
    return S2R_OK;
}

const s2r_instance_ctx *s2r_registry_ctx(s2r_registry *reg, uint32_t kind,
                                         const char *id)
{
    instance *in = find_instance(reg, kind, id);
    return in ? &in->ctx : NULL;
}

s2r_loader *s2r_registry_loader(s2r_registry *reg)
{
    return reg->loader;
}

const s2r_ini *s2r_registry_ini(const s2r_registry *reg)
{
    return reg->ini;
}

/* ---- serialized calls ---- */

static instance *callable(s2r_registry *reg, uint32_t kind, const char *id,
                          s2r_error *err)
{
    instance *in = id ? find_instance(reg, kind, id) : NULL;
    if (!in || !in->created) {
        s2r_host_table()->error_set(NULL, err, S2R_ENOTFOUND,
                                    "no %s instance '%s'",
                                    s2r_kind_name(kind), id ? id : "(null)");
        return NULL;
    }
    return in;
}

#define LOCK(in)                                                  \
    int serial_ = !((in)->plugin->desc.flags & S2R_PLUGIN_F_THREADSAFE); \
    if (serial_)                                                  \
        pthread_mutex_lock(&(in)->lock)
#define UNLOCK(in)                          \
    if (serial_)                            \
    pthread_mutex_unlock(&(in)->lock)

/* Replace the instance's secret values in every string of @p o (object
 * values, array items; keys are left alone) by S2R_REDACTED. A model can
 * echo the key it was called with (a note "your key is Bearer sk-..."):
 * notes, warnings, a remote output and the command all reach the user. */
static int redact_json(json_object *o, const char *const *secrets, size_t n)
{
    if (!o || !n)
        return S2R_OK;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            if (redact_json(v, secrets, n) != S2R_OK)
                return S2R_ENOMEM;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (redact_json(json_object_array_get_idx(o, i), secrets, n) !=
                S2R_OK)
                return S2R_ENOMEM;
    } else if (json_object_is_type(o, json_type_string)) {
        const char *s = json_object_get_string(o);
        int hit = 0;
        for (size_t i = 0; i < n && !hit; i++)
            hit = secrets[i] && secrets[i][0] && strstr(s, secrets[i]);
        if (!hit)
            return S2R_OK;
        /* worst case: every byte a one-byte secret */
        size_t cap = (size_t)json_object_get_string_len(o) *
                         (sizeof(S2R_REDACTED) - 1) + 1;
        char *buf = malloc(cap);
        if (!buf)
            return S2R_ENOMEM;
        s2r_redact(buf, cap, s, secrets, n);
        int rc = json_object_set_string(o, buf) ? S2R_OK : S2R_ENOMEM;
        free(buf);
        return rc;
    }
    return S2R_OK;
}

int s2r_registry_convert(s2r_registry *reg, const char *id,
                         const s2r_provider_request *req,
                         json_object **answer_out, s2r_error *err)
{
    instance *in = callable(reg, S2R_KIND_PROVIDER,
                            id ? id : s2r_registry_default_provider(reg), err);
    if (!in)
        return S2R_ENOTFOUND;
    *answer_out = NULL;
    LOCK(in);
    int rc = in->plugin->ops.provider.convert(in->instance, req, answer_out,
                                              err);
    UNLOCK(in);
    if (rc == S2R_OK && !*answer_out)
        rc = s2r_host_table()->error_set(&in->ctx, err, S2R_EUPSTREAM,
                                         "%s returned no answer",
                                         in->plugin->desc.name);
    if (in->ctx.n_secrets) {
        if (err && err->message[0]) {
            char msg[S2R_ERROR_MSG_MAX];
            s2r_redact(msg, sizeof(msg), err->message, in->ctx.secrets,
                       in->ctx.n_secrets);
            memcpy(err->message, msg, sizeof(err->message));
        }
        if (rc == S2R_OK &&
            redact_json(*answer_out, in->ctx.secrets, in->ctx.n_secrets) !=
                S2R_OK) {
            json_object_put(*answer_out);
            *answer_out = NULL;
            rc = S2R_ENOMEM;
        }
    }
    return rc;
}

int s2r_registry_ratelimit_check(s2r_registry *reg, const char *id,
                                 const char *client_key, int64_t now_unix_s,
                                 s2r_ratelimit_result *out, s2r_error *err)
{
    instance *in = callable(reg, S2R_KIND_RATELIMIT, id, err);
    if (!in)
        return S2R_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    out->struct_size = sizeof(*out);
    LOCK(in);
    int rc = in->plugin->ops.ratelimit.check(in->instance, client_key,
                                             now_unix_s, out, err);
    UNLOCK(in);
    return rc;
}

int s2r_registry_auth_verify(s2r_registry *reg, const char *id,
                             const s2r_auth_request *req,
                             s2r_auth_result *out, s2r_error *err)
{
    instance *in = callable(reg, S2R_KIND_AUTH, id, err);
    if (!in)
        return S2R_ENOTFOUND;
    if (!in->plugin->ops.auth.verify)
        return s2r_host_table()->error_set(&in->ctx, err, S2R_EUNSUPPORTED,
                                           "%s cannot verify requests",
                                           in->plugin->desc.name);
    if (out) {
        memset(out, 0, sizeof(*out));
        out->struct_size = sizeof(*out);
    }
    LOCK(in);
    int rc = in->plugin->ops.auth.verify(in->instance, req, out, err);
    UNLOCK(in);
    return rc;
}

void s2r_registry_auth_forget(s2r_registry *reg, const char *id,
                              const s2r_auth_request *req)
{
    s2r_error err;
    instance *in = callable(reg, S2R_KIND_AUTH, id, &err);
    if (!in)
        return;
    const s2r_auth_ops *ops = &in->plugin->ops.auth;
    if (ops->struct_size < offsetof(s2r_auth_ops, forget) +
                               sizeof(ops->forget) ||
        !ops->forget)
        return;
    LOCK(in);
    ops->forget(in->instance, req);
    UNLOCK(in);
}

int s2r_registry_auth_sign(s2r_registry *reg, const char *id,
                           const s2r_auth_sign_request *req,
                           s2r_header_out *headers_out, uint32_t max_headers,
                           uint32_t *n_out, s2r_error *err)
{
    instance *in = callable(reg, S2R_KIND_AUTH, id, err);
    if (!in)
        return S2R_ENOTFOUND;
    if (!in->plugin->ops.auth.sign)
        return s2r_host_table()->error_set(&in->ctx, err, S2R_EUNSUPPORTED,
                                           "%s cannot sign requests",
                                           in->plugin->desc.name);
    *n_out = 0;
    LOCK(in);
    int rc = in->plugin->ops.auth.sign(in->instance, req, headers_out,
                                       max_headers, n_out, err);
    UNLOCK(in);
    return rc;
}
