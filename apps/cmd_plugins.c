/* cmd_plugins.c: `s2r plugins`, `s2r help PLUGIN`, `s2r check-config` and
 * the glue that runs a conversion through the provider the INI names. */
#include <s2r/s2r.h>
#include "commands.h"
#include "config/config.h"
#include "config_path.h"
#include "server/handler.h"
#include "llm/llm.h"
#include "plugin/registry.h"
#include "base/base.h"
#include "server/server.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static void print_diags(const s2r_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        s2r_diag one = d->v[i];
        if (!one.file)
            one.file = (char *)"s2r";
        char *line = s2r_diag_format(&one);
        if (line) {
            fprintf(stderr, "%s\n", line);
            free(line);
        }
    }
}

struct common_opts {
    const char *config;
    const char *plugin_dir;
    const char *positional;
};

/* --config FILE, --plugin-dir DIR, one optional positional argument */
static int parse_common(int argc, char **argv, struct common_opts *o,
                        const char *usage)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof(*o));
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:P:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'P': o->plugin_dir = optarg; break;
        case 'h': printf("usage: %s\n", usage); return 0;
        default: fprintf(stderr, "usage: %s\n", usage); return 2;
        }
    }
    if (optind < argc)
        o->positional = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    return -1;
}

/* A loader over the search path, with the built-ins and ([core]
 * plugin_dir of) the config. */
static int make_loader(const struct common_opts *o, s2r_loader **out,
                       s2r_diags *diags)
{
    s2r_ini ini = {0};
    const char *core_dir = NULL;
    s2r_config_choice choice;
    if (s2r_config_path_find(&choice, o->config, false))
        return S2R_ENOMEM;
    if (choice.path) {
        int rc = s2r_ini_read(&ini, choice.path, diags);
        if (rc == S2R_ENOTFOUND || rc == S2R_ENOMEM) {
            s2r_config_choice_free(&choice);
            s2r_ini_free(&ini);
            return rc;
        }
        core_dir = s2r_ini_get(&ini, "core", "plugin_dir");
    }
    s2r_config_choice_free(&choice);
    s2r_strv dirs = {0};
    int rc = s2r_loader_search_path(&dirs, o->plugin_dir,
                                    core_dir && *core_dir ? core_dir : NULL);
    if (rc == S2R_OK)
        rc = s2r_loader_new(out, &dirs);
    s2r_strv_clear(&dirs);
    s2r_ini_free(&ini);
    if (rc)
        return rc;
    s2r_error err = {0};
    if (s2r_loader_add_builtin(*out, &s2r_rules_plugin, &err))
        s2r_diags_add(diags, S2R_SEV_ERROR, "s2r", 0, NULL, "built-in %s",
                      err.message);
    return S2R_OK;
}

int s2r_cmd_plugins(int argc, char **argv)
{
    struct common_opts o;
    int st = parse_common(argc, argv, &o,
                          "s2r plugins [--plugin-dir DIR] [--config FILE]");
    if (st >= 0)
        return st;
    if (o.positional) {
        fprintf(stderr, "usage: s2r plugins [--plugin-dir DIR] "
                        "[--config FILE]\n");
        return 2;
    }
    s2r_diags diags = {0};
    s2r_loader *l = NULL;
    if (make_loader(&o, &l, &diags) || s2r_loader_scan(l, &diags)) {
        print_diags(&diags);
        s2r_diags_clear(&diags);
        s2r_loader_free(l);
        return 1;
    }
    printf("%-20s %-10s %-10s %s\n", "NAME", "KIND", "VERSION", "FILE");
    for (size_t i = 0; i < s2r_loader_count(l); i++) {
        const s2r_loaded *p = s2r_loader_at(l, i);
        printf("%-20s %-10s %-10s %s\n", p->desc.name,
               s2r_kind_name(p->desc.kind), p->desc.version, p->path);
        if (p->desc.description[0])
            printf("    %s\n", p->desc.description);
    }
    const s2r_strv *dirs = s2r_loader_dirs(l);
    printf("\nplugin directories, in search order:\n");
    for (size_t i = 0; i < dirs->n; i++)
        printf("  %s\n", dirs->v[i]);
    print_diags(&diags);
    s2r_diags_clear(&diags);
    s2r_loader_free(l);
    return 0;
}

int s2r_cmd_help_plugin(int argc, char **argv)
{
    struct common_opts o;
    const char *usage =
        "s2r help PLUGIN [--plugin-dir DIR] [--config FILE]";
    int st = parse_common(argc, argv, &o, usage);
    if (st >= 0)
        return st;
    if (!o.positional) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    s2r_diags diags = {0};
    s2r_loader *l = NULL;
    const s2r_loaded *p = NULL;
    s2r_error err = {0};
    int rc = make_loader(&o, &l, &diags);
    if (rc == S2R_OK)
        rc = s2r_loader_find(l, o.positional, &p, &err);
    print_diags(&diags);
    s2r_diags_clear(&diags);
    if (rc != S2R_OK) {
        fprintf(stderr, "s2r: %s\n",
                err.message[0] ? err.message : "cannot list plugins");
        s2r_loader_free(l);
        return 1;
    }
    const s2r_plugin *d = &p->desc;
    printf("%s %s (%s plugin, ABI %u.%u)\n", d->name, d->version,
           s2r_kind_name(d->kind), S2R_PLUGIN_ABI_MAJOR_OF(d->abi),
           S2R_PLUGIN_ABI_MINOR_OF(d->abi));
    printf("file: %s\n", p->path);
    if (d->description[0])
        printf("%s\n", d->description);
    printf("\nUse it from s2r.ini:\n\n  [%s.<id>]\n  plugin = %s\n\n"
           "Options:\n",
           s2r_kind_name(d->kind), d->name);
    s2r_options_help(stdout, d->options);
    s2r_loader_free(l);
    return 0;
}

/* free-form sections have no table: hide anything that looks secret */
static int looks_secret(const char *key)
{
    static const char *const words[] = {"secret", "token", "password",
                                        "passwd", "key", "credential", NULL};
    for (size_t i = 0; words[i]; i++)
        if (strstr(key, words[i]))
            return 1;
    return 0;
}

/* [server] and [lambda] with the tables `s2r serve` and `s2r lambda`
 * read them with: the transport's keys, then the handler's. */
static int check_transport_sections(const s2r_ini *ini, s2r_diags *diags)
{
    int rc = S2R_OK;
    if (s2r_ini_section_find(ini, "server")) {
        s2r_server_settings ss;
        s2r_binding *b = NULL;
        if (s2r_server_settings_read(&ss, &b, ini, diags) == S2R_ENOMEM)
            rc = S2R_ENOMEM;
        s2r_binding_free(b);
        const char **skip = s2r_server_skip_keys(ini);
        if (!skip)
            return S2R_ENOMEM;
        s2r_handler_settings hs;
        b = NULL;
        if (s2r_handler_settings_read(&hs, &b, ini, "server", skip,
                                      diags) == S2R_ENOMEM)
            rc = S2R_ENOMEM;
        s2r_binding_free(b);
        free(skip);
    }
    if (s2r_ini_section_find(ini, "lambda")) {
        s2r_handler_settings hs;
        s2r_binding *b = NULL;
        if (s2r_handler_settings_read(&hs, &b, ini, "lambda", NULL,
                                      diags) == S2R_ENOMEM)
            rc = S2R_ENOMEM;
        s2r_binding_free(b);
    }
    return rc;
}

/* The option of key @p key of section @p name, for display. */
static const s2r_option *transport_option(const char *name, const char *key)
{
    const s2r_option *o = NULL;
    if (strcmp(name, "server") == 0)
        o = s2r_options_find(s2r_server_option_table(), key);
    if (!o && (strcmp(name, "server") == 0 || strcmp(name, "lambda") == 0))
        o = s2r_options_find(s2r_handler_option_table(), key);
    return o;
}

int s2r_cmd_check_config(int argc, char **argv)
{
    struct common_opts o;
    const char *usage =
        "s2r check-config [--config FILE | FILE] [--plugin-dir DIR]\n"
        "Checks the site file (with no FILE: the one s2r would read, looked\n"
        "up as --config, $S2R_CONFIG, ./s2r.ini, $XDG_CONFIG_HOME/s2r/s2r.ini,\n"
        "/etc/s2r/s2r.ini) and says which file it is.";
    int st = parse_common(argc, argv, &o, usage);
    if (st >= 0)
        return st;
    if (!o.config && o.positional)
        o.config = o.positional;
    else if (o.positional) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    s2r_config_choice choice;
    if (s2r_config_path_find(&choice, o.config, false)) {
        fprintf(stderr, "s2r: out of memory\n");
        return 1;
    }
    if (!choice.path) {
        printf("no site file: s2r uses its built-in defaults (%s)\n",
               choice.origin == S2R_CONFIG_DISABLED
                   ? "S2R_CONFIG is set and empty"
                   : "none of ./s2r.ini, $XDG_CONFIG_HOME/s2r/s2r.ini, "
                     S2R_CONFIG_SYSTEM_FILE " exists");
        return 0;
    }
    if (choice.origin != S2R_CONFIG_OPTION)
        printf("site file: %s (%s)\n", choice.path,
               s2r_config_origin_text(choice.origin));
    o.config = choice.path;
    s2r_diags diags = {0};
    s2r_ini ini = {0};
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_registry *reg = NULL;
    int rc = s2r_ini_read(&ini, o.config, &diags);
    if (rc != S2R_ENOTFOUND && rc != S2R_ENOMEM) {
        s2r_config_apply(&cfg, &ini, &diags);
        s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
        ro.ini = &ini;
        ro.plugin_dir = o.plugin_dir;
        ro.check_only = 1;
        s2r_registry_open(&reg, &ro, &diags);
        if (check_transport_sections(&ini, &diags) == S2R_ENOMEM)
            s2r_diags_add(&diags, S2R_SEV_ERROR, "s2r", 0, NULL,
                          "out of memory");
    }
    print_diags(&diags);
    size_t errors = s2r_diags_count(&diags, S2R_SEV_ERROR);
    if (errors == 0 && reg) {
        printf("%s: OK\n", o.config);
        for (size_t i = 0; i < ini.n; i++) {
            const s2r_ini_section *sec = &ini.v[i];
            uint32_t kind = 0;
            const char *id = NULL;
            const s2r_option *opts = s2r_config_core_options(sec->name);
            const s2r_plugin *d = NULL;
            if (s2r_config_section_kind(sec->name, &kind, &id) ==
                    S2R_SECTION_PLUGIN &&
                s2r_registry_find(reg, kind, id, &d, NULL) == S2R_OK)
                opts = d->options;
            printf("[%s]\n", sec->name);
            for (size_t k = 0; k < sec->n; k++) {
                const s2r_ini_entry *e = &sec->v[k];
                const s2r_option *op = s2r_options_find(opts, e->key);
                if (!op && !opts)
                    op = transport_option(sec->name, e->key);
                const char *shown =
                    op ? s2r_options_display_value(op, e->value)
                    : (!opts && looks_secret(e->key) &&
                       !s2r_secret_is_ref(e->value))
                        ? S2R_REDACTED
                        : e->value;
                printf("%s = %s\n", e->key, shown);
            }
        }
    } else {
        fprintf(stderr, "%s: %zu error%s\n", o.config, errors,
                errors == 1 ? "" : "s");
    }
    s2r_registry_close(reg);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&diags);
    s2r_config_choice_free(&choice);
    return errors ? 1 : 0;
}
