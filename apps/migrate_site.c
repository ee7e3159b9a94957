/* migrate_site.c: what the tree asks of the site, tallied as the rows
 * arrive, and suggested-site.ini: every partition, constraint, account,
 * QoS and storage path prefix the scripts use that the site file does not
 * map, with the number of scripts that need it, as commented lines ready
 * to fill in; and the software the images must provide. */
#include "migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mg_site_free(mg_site *s)
{
    mg_map *maps[] = {&s->partitions, &s->accounts, &s->qos, &s->constraints,
        &s->storage, &s->gpu_types, &s->modules, &s->conda, &s->venvs,
        &s->categories, &s->kinds, &s->chart_partition, &s->chart_account};
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
        mg_map_free(maps[i]);
}

static int bump(mg_map *m, const char *key, long gpus, long pods)
{
    mg_count *c = mg_map_get(m, key);
    if (!c)
        return S2R_ENOMEM;
    c->scripts++;
    c->gpus += gpus;
    c->pods += pods;
    return S2R_OK;
}

static bool unmapped(const s2r_map_entry *m, size_t n, const char *key)
{
    return key && *key && !s2r_config_map(m, n, key);
}

/* "/project/lab-a/x" -> "/project" and "/project/lab-a" (NULL when the
 * path has no deeper folder). */
static void prefixes(const char *path, char **one, char **two)
{
    const char *a = strchr(path + 1, '/');
    *one = strndup(path, a ? (size_t)(a - path) : strlen(path));
    const char *b = a ? strchr(a + 1, '/') : NULL;
    *two = b && b > a + 1 ? strndup(path, (size_t)(b - path)) : NULL;
}

/* One script's paths: each first-level prefix counts once, and within it
 * each second-level one (or the prefix itself) once. */
static int add_storage(mg_site *s, const mg_row *r)
{
    mg_map seen = {0};
    int rc = S2R_OK;
    for (size_t i = 0; i < r->paths.n && rc == S2R_OK; i++) {
        char *one, *two;
        prefixes(r->paths.v[i], &one, &two);
        const char *sub = two ? two : one;
        char *both = NULL;
        if (!one || asprintf(&both, "%s\t%s", one, sub) < 0) {
            rc = S2R_ENOMEM;
        } else {
            mg_count *c1 = mg_map_get(&seen, one), *c2 = mg_map_get(&seen, both);
            if (!c1 || !c2)
                rc = S2R_ENOMEM;
            else if (!c1->scripts++ && bump(&s->storage, one, 0, 0))
                rc = S2R_ENOMEM;
            mg_count *top = mg_map_find(&s->storage, one);
            if (rc == S2R_OK && !c2->scripts++ && top) {
                if (!top->sub && !(top->sub = calloc(1, sizeof(*top->sub))))
                    rc = S2R_ENOMEM;
                else if (bump(top->sub, sub, 0, 0))
                    rc = S2R_ENOMEM;
            }
        }
        free(both);
        free(one);
        free(two);
    }
    mg_map_free(&seen);
    return rc;
}

static int add_software(mg_site *s, const mg_row *r)
{
    for (size_t i = 0; i < r->software.n; i++) {
        const char *v = r->software.v[i], *tab = strchr(v, '\t');
        mg_map *m = !strncmp(v, "module\t", 7) ? &s->modules
                    : !strncmp(v, "conda\t", 6) ? &s->conda
                                                : &s->venvs;
        if (tab && bump(m, tab + 1, 0, 0))
            return S2R_ENOMEM;
    }
    return S2R_OK;
}

int mg_site_add(mg_site *s, const mg_row *r, const s2r_config *cfg)
{
    for (size_t i = 0; i < r->nw; i++)
        if (!r->w[i].error && bump(&s->categories, r->w[i].category, 0, 0))
            return S2R_ENOMEM;
    if (!r->kind)
        return S2R_OK; /* refused: nothing was converted */
    int rc = bump(&s->kinds, r->kind, 0, 0);
    rc = rc ? rc : bump(&s->chart_partition,
                        r->partition ? r->partition : "(none)", r->gpus,
                        r->pods_total);
    rc = rc ? rc : bump(&s->chart_account, r->account ? r->account
                        : "(none)", r->gpus, r->pods_total);
    char *parts = r->partition ? strdup(r->partition) : NULL, *save = NULL;
    for (char *p = parts ? strtok_r(parts, ",", &save) : NULL; p && !rc;
         p = strtok_r(NULL, ",", &save))
        if (unmapped(cfg->partitions, cfg->n_partitions, p))
            rc = bump(&s->partitions, p, 0, 0);
    free(parts);
    if (!rc && unmapped(cfg->accounts, cfg->n_accounts, r->account))
        rc = bump(&s->accounts, r->account, 0, 0);
    if (!rc && unmapped(cfg->qos, cfg->n_qos, r->qos))
        rc = bump(&s->qos, r->qos, 0, 0);
    if (!rc && unmapped(cfg->constraints, cfg->n_constraints, r->constraint))
        rc = bump(&s->constraints, r->constraint, 0, 0);
    if (!rc && r->gpu_type)
        rc = bump(&s->gpu_types, r->gpu_type, 0, 0);
    if (!rc)
        rc = add_storage(s, r);
    if (!rc)
        rc = add_software(s, r);
    if (!rc && r->uses_home)
        s->uses_home++;
    return rc;
}

/* ---- suggested-site.ini ------------------------------------------------ */

static const char *plural(long n)
{
    return n == 1 ? "script" : "scripts";
}

/* INI keys cannot hold '=', ':', ';', '#', '[' or line breaks (inih). */
static bool ini_key_ok(const char *k)
{
    return *k && !strpbrk(k, "=:;#[]\n\r") && k[0] != ' ' &&
           k[strlen(k) - 1] != ' ';
}

static void entries(FILE *f, const char *section, const mg_map *m,
                    const char *about, const char *none)
{
    fprintf(f, "\n[%s]\n; %s\n", section, about);
    mg_count **v = mg_map_sorted(m);
    if (!v)
        fprintf(f, "; %s\n", none);
    for (size_t i = 0; v && i < m->n; i++) {
        if (ini_key_ok(v[i]->key))
            fprintf(f, "; %s: %ld %s\n;%s = \n", v[i]->key, v[i]->scripts,
                    plural(v[i]->scripts), v[i]->key);
        else
            fprintf(f, "; \"%s\": %ld %s (not a possible key in s2r.ini)\n",
                    v[i]->key, v[i]->scripts, plural(v[i]->scripts));
    }
    free(v);
}

static void storage(FILE *f, const mg_run *run)
{
    const mg_map *m = &run->site.storage;
    fputs("\n[storage]\n; path as the scripts see it (and mount path in the "
          "pod) = pvc:CLAIM | nfs:SERVER:EXPORT | hostpath:PATH |\n"
          "; datasource:NAME, with \",ro\" for read-only. Absolute paths the "
          "scripts use, by\n; their first folder (and the second one when "
          "all of them share it).\n", f);
    mg_count **v = mg_map_sorted(m);
    if (!v)
        fputs("; (none: every absolute path the scripts use is mapped)\n", f);
    for (size_t i = 0; v && i < m->n; i++) {
        const mg_count *c = v[i];
        mg_count **sub = c->sub ? mg_map_sorted(c->sub) : NULL;
        bool one = c->sub && c->sub->n == 1 && strcmp(sub[0]->key, c->key);
        const char *key = one ? sub[0]->key : c->key;
        if (c->sub && c->sub->n == 1)
            one = true; /* nothing finer to say */
        fprintf(f, "; %s: %ld %s", key, c->scripts, plural(c->scripts));
        for (size_t k = 0; !one && sub && k < c->sub->n && k < 12; k++)
            fprintf(f, "%s%s %ld", k ? ", " : " (", sub[k]->key,
                    sub[k]->scripts);
        if (!one && sub)
            fputs(c->sub->n > 12 ? ", ...)" : ")", f);
        fputc('\n', f);
        if (ini_key_ok(key))
            fprintf(f, ";%s = \n", key);
        free(sub);
    }
    free(v);
}

static void software(FILE *f, const mg_run *run)
{
    entries(f, "modules", &run->site.modules,
            "software the images must provide: module[/version] = the "
            "image that has it\n; (from the `module load` lines the "
            "conversion dropped)",
            "(none: no script loads environment modules)");
    const mg_map *lists[] = {&run->site.conda, &run->site.venvs};
    const char *what[] = {"conda environments", "Python virtual "
                          "environments"};
    for (int l = 0; l < 2; l++) {
        mg_count **v = mg_map_sorted(lists[l]);
        fprintf(f, "; %s the images must provide (or a mounted volume): "
                "%s\n", what[l], v ? "" : "none");
        for (size_t i = 0; v && i < lists[l]->n; i++)
            fprintf(f, ";   %s: %ld %s\n", v[i]->key, v[i]->scripts,
                    plural(v[i]->scripts));
        free(v);
    }
}

static int write_site(mg_run *run, FILE *f)
{
    const mg_site *s = &run->site;
    long converted = run->totals.by_status[MG_CONVERTED] +
                     run->totals.by_status[MG_WARNINGS];
    fprintf(f, "; suggested-site.ini: what the %ld converted batch %s use "
            "that the site\n; configuration (%s) does not map. Written by "
            "s2r migrate %s.\n; Fill in a value, remove the ';' and merge "
            "the line into the site file;\n; `s2r check-config FILE` checks "
            "it.\n", converted, plural(converted),
            run->choice.path ? run->choice.path : "built-in defaults",
            S2R_VERSION);
    entries(f, "partitions", &s->partitions,
            "SLURM partition = Run:ai node pool (unmapped, a partition is "
            "used as a node pool\n; of the same name; an empty value drops "
            "it)", "(none: every partition is mapped)");
    mg_count **g = mg_map_sorted(&s->gpu_types);
    for (size_t i = 0; g && i < s->gpu_types.n; i++)
        fprintf(f, "%s%s (%ld)", i ? ", " : "; GPU types the scripts ask for "
                "(Run:ai requests GPUs by count: choose\n; the type with the "
                "node pool of a partition): ", g[i]->key, g[i]->scripts);
    if (g)
        fputc('\n', f);
    free(g);
    entries(f, "constraints", &s->constraints,
            "--constraint value = Run:ai node type (node label run.ai/type)",
            "(none: every --constraint is mapped)");
    entries(f, "accounts", &s->accounts, "--account = Run:ai project",
            "(none: every --account is mapped)");
    entries(f, "qos", &s->qos, "--qos = Run:ai priority class (very-low, "
            "low, medium-low, medium,\n; medium-high, high, very-high)",
            "(none: every --qos is mapped)");
    storage(f, run);
    if (s->uses_home)
        fprintf(f, "\n[site]\n; %ld %s use ~ or $HOME: where are users' home "
                "folders on the SLURM\n; cluster (%%u = the user name)? Map "
                "that folder in [storage] too.\n;home = /home/%%u\n",
                s->uses_home, plural(s->uses_home));
    software(f, run);
    return ferror(f) ? EIO : 0;
}

int mg_site_write(mg_run *run, char **err)
{
    FILE *f = mg_report_open(run, "suggested-site.ini", err);
    if (!f)
        return 1;
    int rc = write_site(run, f);
    if (fclose(f) != 0 && !rc)
        rc = errno;
    if (rc && asprintf(err, "suggested-site.ini: %s", strerror(rc)) < 0)
        *err = NULL;
    return rc ? 1 : 0;
}
