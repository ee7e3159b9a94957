/* cmd_init.c: `s2r init`: write a starting site file for this cluster.
 *
 *   s2r init [-o FILE] [--force] [--mountinfo FILE]
 *
 * Default FILE: $XDG_CONFIG_HOME/s2r/s2r.ini (~/.config/s2r/s2r.ini), the
 * file the converter finds by itself; "-" prints it. It detects the shared
 * file systems mounted here, the SLURM partitions with their GPU types
 * (sinfo), and the Run:ai project, node pools and data sources (a
 * logged-in runai CLI), comments every guess with where it came from, and
 * says on standard error what it found. */
#include "strv_has.h"
#include "commands.h"
#include "config_path.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void init_usage(FILE *f)
{
    fprintf(f,
        "usage: s2r init [-o FILE] [--force] [--mountinfo FILE]\n"
        "\n"
        "Writes a starting site file for this cluster, with what it can\n"
        "detect: the shared file systems mounted here ([storage]), the SLURM\n"
        "partitions and GPU types (sinfo: [partitions], [constraints]), the\n"
        "Run:ai project, node pools and data sources (a logged-in runai CLI),\n"
        "and [site] home. Every guess says where it came from.\n"
        "\n"
        "  -o, --output FILE    where (default $XDG_CONFIG_HOME/s2r/s2r.ini,\n"
        "                       ~/.config/s2r/s2r.ini; - for standard output)\n"
        "      --force          replace FILE when it exists\n"
        "      --mountinfo FILE read the mounts from FILE (default\n"
        "                       /proc/self/mountinfo)\n"
        "  -h, --help           this text\n");
}

typedef struct found {
    init_mounts mounts;
    int mounts_err;
    const char *mountinfo;
    init_slurm slurm;
    init_runai runai;
} found;

static void list(FILE *f, const s2r_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        fprintf(f, "%s%s", i ? ", " : "", sv->v[i]);
}

static void runai_section(FILE *f, const found *d)
{
    const init_runai *r = &d->runai;
    fputs("\n[runai]\n", f);
    if (r->projects.n == 1) {
        fprintf(f, "; from `runai project list --json`: your only project\n"
                   "project = %s\n", r->projects.v[0]);
    } else if (r->projects.n > 1) {
        fputs("; from `runai project list --json`: your projects are ", f);
        list(f, &r->projects);
        fprintf(f, "; pick the one the\n; scripts submit to (empty: "
                   "$RUNAI_PROJECT when the workload is submitted)\n"
                   ";project = %s\n", r->projects.v[0]);
    } else {
        fprintf(f, "; no Run:ai project found (%s); empty: $RUNAI_PROJECT "
                   "when the\n; workload is submitted\n;project =\n",
                !r->found ? "runai is not on PATH"
                : r->error ? r->error : "the list is empty");
    }
    fputs("; image for scripts that name no container\n"
          "default_image = nvcr.io/nvidia/pytorch:24.05-py3\n", f);
}

static void site_section(FILE *f)
{
    struct passwd *pw = getpwuid(getuid());
    const char *home = getenv("HOME");
    if ((!home || !*home) && pw)
        home = pw->pw_dir;
    const char *user = pw ? pw->pw_name : NULL;
    fputs("\n[site]\n", f);
    size_t hl = home ? strlen(home) : 0, ul = user ? strlen(user) : 0;
    if (home && user && hl > ul + 1 && !strcmp(home + hl - ul, user) &&
        home[hl - ul - 1] == '/')
        fprintf(f, "; guessed from your home folder %s: users' homes are "
                   "%.*s/<user>\nhome = %.*s/%%u\n", home,
                (int)(hl - ul - 1), home, (int)(hl - ul - 1), home);
    else
        fputs("; users' home folders on the SLURM cluster (%u = the user "
              "name): a guess\nhome = /home/%u\n", f);
}

static bool is_pool(const found *d, const char *name)
{
    return s2r_strv_has(&d->runai.nodepools, name);
}

static void partitions_section(FILE *f, const found *d)
{
    const init_slurm *s = &d->slurm;
    fputs("\n[partitions]\n; SLURM partition = Run:ai node pool (a "
          "partition not listed is used as a\n; node pool of the same "
          "name; an empty value drops it)\n", f);
    if (!s->found || s->error || !s->n)
        fprintf(f, "; no partitions found: %s\n", !s->found
                ? "sinfo is not on PATH" : s->error ? s->error
                : "sinfo listed none");
    for (size_t i = 0; i < s->n; i++) {
        const init_partition *p = &s->v[i];
        fprintf(f, "; from sinfo: partition %s", p->name);
        if (p->gpu_types.n) {
            fprintf(f, ", GPUs ");
            list(f, &p->gpu_types);
            fprintf(f, " (up to %ld per node)", p->gpus);
        }
        if (is_pool(d, p->name))
            fprintf(f, "; Run:ai has a node pool %s\n%s = %s\n", p->name,
                    p->name, p->name);
        else
            fprintf(f, "\n;%s = \n", p->name);
    }
    if (d->runai.nodepools.n) {
        fputs("; Run:ai node pools (runai nodepool list --json): ", f);
        list(f, &d->runai.nodepools);
        fputc('\n', f);
    }
}

static void constraints_section(FILE *f, const found *d)
{
    s2r_strv seen = {0};
    fputs("\n[constraints]\n; --constraint value = Run:ai node type (node "
          "label run.ai/type)\n", f);
    for (size_t i = 0; i < d->slurm.n; i++) {
        const init_partition *p = &d->slurm.v[i];
        const s2r_strv *lists[] = {&p->gpu_types, &p->features};
        for (int l = 0; l < 2; l++)
            for (size_t k = 0; k < lists[l]->n; k++) {
                const char *v = lists[l]->v[k];
                if (s2r_strv_has(&seen, v) || s2r_strv_push(&seen, v))
                    continue;
                fprintf(f, "; from sinfo: %s %s of partition %s\n;%s = \n",
                        l ? "node feature" : "GPU type", v, p->name, v);
            }
    }
    if (!seen.n)
        fputs("; none found\n", f);
    s2r_strv_clear(&seen);
}

static const init_datasource *datasource_at(const found *d, const char *p)
{
    for (size_t i = 0; i < d->runai.nds; i++)
        if (d->runai.ds[i].path && !strcmp(d->runai.ds[i].path, p))
            return &d->runai.ds[i];
    return NULL;
}

static void storage_section(FILE *f, const found *d)
{
    fputs("\n[storage]\n; path as scripts see it (and mount path in the "
          "pod) = pvc:CLAIM |\n; nfs:SERVER:EXPORT | hostpath:PATH | "
          "datasource:NAME, with \",ro\" for read-only\n", f);
    if (d->mounts_err)
        fprintf(f, "; %s: %s\n", d->mountinfo, strerror(d->mounts_err));
    for (size_t i = 0; i < d->mounts.n; i++) {
        const init_mount *m = &d->mounts.v[i];
        const init_datasource *ds = datasource_at(d, m->path);
        fprintf(f, "; from %s: %s %s mounted at %s%s\n", d->mountinfo,
                m->fstype, m->source, m->path, m->ro ? " (read-only)" : "");
        if (ds) {
            fprintf(f, "; (the Run:ai data source %s below mounts it)\n",
                    ds->name);
            continue;
        }
        if (m->value)
            fprintf(f, "%s = %s\n", m->path, m->value);
        else
            fprintf(f, "; name the PVC that mounts it on the Run:ai "
                       "cluster:\n;%s = pvc:CLAIM%s\n", m->path,
                    m->ro ? ",ro" : "");
    }
    for (size_t i = 0; i < d->runai.nds; i++) {
        const init_datasource *ds = &d->runai.ds[i];
        fprintf(f, "; from runai datasource list --json: %s data source %s",
                ds->type ? ds->type : "a", ds->name);
        if (ds->path)
            fprintf(f, " mounted at %s\n%s = datasource:%s\n", ds->path,
                    ds->path, ds->name);
        else
            fprintf(f, " (its mount path is not listed)\n;/PATH = "
                       "datasource:%s\n", ds->name);
    }
    if (!d->mounts.n && !d->runai.nds)
        fputs("; no shared file system found\n", f);
}

static void write_ini(FILE *f, const found *d)
{
    char host[256] = "this machine";
    gethostname(host, sizeof(host) - 1);
    fprintf(f, "; s2r.ini: the site configuration of s2r, written by `s2r "
               "init` on %s.\n; Lines starting with ';' are suggestions: "
               "check them, fill in the values,\n; remove the ';'. `s2r "
               "check-config` says which file s2r reads and whether\n; it "
               "accepts it. See s2r.ini.example for every key.\n\n[core]\n"
               "provider = rules\n", host);
    runai_section(f, d);
    site_section(f);
    partitions_section(f, d);
    constraints_section(f, d);
    storage_section(f, d);
}

/* What was found, on standard error. */
static void tell(const found *d, const char *dest)
{
    fprintf(stderr, "s2r init: %zu shared file system%s (%s)\n",
            d->mounts.n, d->mounts.n == 1 ? "" : "s", d->mountinfo);
    if (d->slurm.found && !d->slurm.error)
        fprintf(stderr, "s2r init: %zu SLURM partition%s (sinfo)\n",
                d->slurm.n, d->slurm.n == 1 ? "" : "s");
    else
        fprintf(stderr, "s2r init: no SLURM partitions: %s\n",
                d->slurm.found ? d->slurm.error : "sinfo is not on PATH");
    if (d->runai.found && !d->runai.error)
        fprintf(stderr, "s2r init: Run:ai: %zu project%s, %zu node pool%s, "
                "%zu data source%s (runai)\n", d->runai.projects.n,
                d->runai.projects.n == 1 ? "" : "s", d->runai.nodepools.n,
                d->runai.nodepools.n == 1 ? "" : "s", d->runai.nds,
                d->runai.nds == 1 ? "" : "s");
    else
        fprintf(stderr, "s2r init: no Run:ai details: %s\n",
                d->runai.found ? d->runai.error : "runai is not on PATH");
    if (strcmp(dest, "-"))
        fprintf(stderr, "s2r init: wrote %s\n", dest);
}

static int mkdir_parents(const char *file)
{
    char *p = strdup(file);
    if (!p)
        return ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        /* XDG Base Directory Specification: created with 0700 */
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return e;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static FILE *open_dest(const char *dest, bool force)
{
    if (!strcmp(dest, "-"))
        return stdout;
    int e = mkdir_parents(dest);
    if (e) {
        fprintf(stderr, "s2r init: %s: %s\n", dest, strerror(e));
        return NULL;
    }
    int fd = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC |
                  (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "s2r init: %s exists: kept as it is (--force "
                            "replaces it)\n", dest);
        else
            fprintf(stderr, "s2r init: %s: %s\n", dest, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    return f;
}

int s2r_cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'F'},
        {"mountinfo", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dest = NULL;
    bool force = false;
    found d;
    memset(&d, 0, sizeof(d));
    d.mountinfo = "/proc/self/mountinfo";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': dest = optarg; break;
        case 'F': force = true; break;
        case 'm': d.mountinfo = optarg; break;
        case 'h': init_usage(stdout); return 0;
        default: init_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "s2r init: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char *user_file = dest ? NULL : s2r_config_user_file();
    if (!dest && !(dest = user_file)) {
        fprintf(stderr, "s2r init: no home folder: give -o FILE\n");
        return 2;
    }
    int status = 1;
    FILE *f = open_dest(dest, force);
    if (f) {
        d.mounts_err = init_mounts_read(&d.mounts, d.mountinfo);
        if (init_slurm_probe(&d.slurm) || init_runai_probe(&d.runai)) {
            fprintf(stderr, "s2r init: out of memory\n");
        } else {
            write_ini(f, &d);
            status = ferror(f) ? 1 : 0;
        }
        bool to_stdout = f == stdout;
        if (to_stdout ? fflush(f) != 0 : fclose(f) != 0)
            status = 1;
        if (!status)
            tell(&d, dest);
    }
    init_mounts_free(&d.mounts);
    init_slurm_free(&d.slurm);
    init_runai_free(&d.runai);
    free(user_file);
    return status;
}
