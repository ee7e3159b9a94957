/* loader.h: finding, opening and checking plugin shared objects
 * (private). */
#ifndef S2R_LOADER_H
#define S2R_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>

/** A plugin accepted by the loader (or registered as built in). */
typedef struct s2r_loaded {
    s2r_plugin desc;   /**< zeroed copy of min(struct_size, sizeof) bytes;
                            desc.ops points at ops below */
    union {
        s2r_provider_ops provider;
        s2r_ratelimit_ops ratelimit;
        s2r_auth_ops auth;
    } ops;             /**< zeroed copy of the plugin's ops */
    char *path;        /**< file, or "(built in)" */
    void *handle;      /**< dlopen handle; NULL for built-ins */
    int32_t builtin;
    int32_t load_called; /**< load() returned S2R_OK */
} s2r_loaded;

typedef struct s2r_loader s2r_loader;

/**
 * Search path in order: @p cli_dir (--plugin-dir), @p core_dir ([core]
 * plugin_dir), $S2R_PLUGIN_PATH, the install default
 * S2R_DEFAULT_PLUGINDIR and <exe>/../lib/s2r/plugins. Each may hold
 * several ':'-separated directories; empty entries are skipped.
 */
int s2r_loader_search_path(s2r_strv *out, const char *cli_dir,
                           const char *core_dir);

/** New loader over the directories of @p dirs (copied). */
int s2r_loader_new(s2r_loader **out, const s2r_strv *dirs);
/** Replace the search directories with a copy of @p dirs. */
int s2r_loader_set_dirs(s2r_loader *l, const s2r_strv *dirs);
/** Call unload() of every plugin whose load() ran; no dlclose() unless
 *  the environment sets S2R_PLUGIN_DLCLOSE=1 (leak checking in tests). */
void s2r_loader_free(s2r_loader *l);

/** Register a built-in descriptor (same checks as a file, no file name
 *  rule). @return S2R_OK, S2R_EABI or S2R_EINVAL with @p err. */
int s2r_loader_add_builtin(s2r_loader *l, const s2r_plugin *desc,
                           s2r_error *err);

/**
 * Open @p path and check it (ABI major, descriptor size, kind, name
 * against the file name s2r-<name>.so, duplicate names, required
 * callbacks, ops size, option table). Every refusal names the file, the
 * symbol and the numbers found and expected.
 * @return S2R_OK (*@p out may be NULL); S2R_ENOTFOUND (dlopen failed, no
 *         entry symbol); S2R_EABI; S2R_EINVAL; S2R_ENOMEM.
 */
int s2r_loader_open(s2r_loader *l, const char *path, const s2r_loaded **out,
                    s2r_error *err);

/**
 * The plugin @p name: already known (built in or loaded), else the first
 * s2r-<name>.so in the search path. @return S2R_OK, S2R_ENOTFOUND (the
 * message lists the directories searched) or a refusal of
 * s2r_loader_open().
 */
int s2r_loader_find(s2r_loader *l, const char *name, const s2r_loaded **out,
                    s2r_error *err);

/** Open every s2r-*.so of every directory (for `s2r plugins`); refusals
 *  go to @p diags as errors (a later file with a known name is refused
 *  as a duplicate). @return S2R_OK or S2R_ENOMEM. */
int s2r_loader_scan(s2r_loader *l, s2r_diags *diags);

size_t s2r_loader_count(const s2r_loader *l);
const s2r_loaded *s2r_loader_at(const s2r_loader *l, size_t i);
const s2r_strv *s2r_loader_dirs(const s2r_loader *l);

/** Call load(host) once for @p p (no-op for later calls). */
int s2r_loader_call_load(s2r_loader *l, const s2r_loaded *p, s2r_error *err);

#endif
