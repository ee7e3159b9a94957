/* init_mounts.c: the shared file systems mounted here, from mountinfo
 * (proc(5): "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root
 * rw,errors=continue": mount ID, parent, major:minor, root, mount point,
 * mount options, optional fields, "-", type, source, super options). */
#include "init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Network and cluster file systems: what a batch job shares with others. */
static const char *const shared_fs[] = {"nfs", "nfs4", "lustre", "gpfs",
    "beegfs", "ceph", "cephfs", "fuse.ceph-fuse", "glusterfs",
    "fuse.glusterfs", "cifs", "smb3", "panfs", "wekafs", "fuse.weka",
    "orangefs", "pvfs2", "fuse.sshfs", "9p", "virtiofs", NULL};

/* "\040" -> " " (mountinfo escapes space, tab, newline and backslash). */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
            s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static bool is_shared(const char *type)
{
    for (size_t i = 0; shared_fs[i]; i++)
        if (!strcmp(type, shared_fs[i]))
            return true;
    return false;
}

static bool has_option(const char *opts, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1
                                                          : NULL)
        if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
            return true;
    return false;
}

/* nfs:SERVER:EXPORT from "SERVER:/EXPORT" and the mount's root within it. */
static char *nfs_value(const char *source, const char *root, bool ro)
{
    const char *colon = strchr(source, ':');
    if (source[0] == '[') /* [IPv6]:/export */
        colon = strstr(source, "]:") ? strstr(source, "]:") + 1 : NULL;
    if (!colon || colon[1] != '/')
        return NULL;
    char *out = NULL;
    bool sub = root && strcmp(root, "/") != 0;
    if (asprintf(&out, "nfs:%.*s:%s%s%s", (int)(colon - source), source,
                 colon + 1, sub ? root : "", ro ? ",ro" : "") < 0)
        return NULL;
    return out;
}

static int add(init_mounts *m, char **f, char *type, char *source, bool ro)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        init_mount *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return ENOMEM;
        m->v = v;
        m->cap = cap;
    }
    init_mount *e = &m->v[m->n];
    memset(e, 0, sizeof(*e));
    unescape(source);
    e->path = strdup(f[4]);
    e->fstype = strdup(type);
    e->source = strdup(source);
    e->ro = ro;
    if (!strncmp(type, "nfs", 3))
        e->value = nfs_value(source, f[3], ro);
    if (!e->path || !e->fstype || !e->source) {
        free(e->path);
        free(e->fstype);
        free(e->source);
        free(e->value);
        return ENOMEM;
    }
    m->n++;
    return 0;
}

/* One mountinfo line. */
static int parse_line(init_mounts *m, char *line)
{
    char *f[64], *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(line, " \n", &save); t && n < 64;
         t = strtok_r(NULL, " \n", &save))
        f[n++] = t;
    size_t dash = 6;
    while (dash < n && strcmp(f[dash], "-") != 0)
        dash++;
    if (n < 7 || dash + 2 >= n)
        return 0; /* not a mountinfo line */
    char *type = f[dash + 1], *source = f[dash + 2];
    if (!is_shared(type))
        return 0;
    unescape(f[4]);
    for (size_t i = 0; i < m->n; i++) /* mounted twice: once is enough */
        if (!strcmp(m->v[i].path, f[4]))
            return 0;
    return add(m, f, type, source, has_option(f[5], "ro"));
}

int init_mounts_read(init_mounts *out, const char *path)
{
    memset(out, 0, sizeof(*out));
    FILE *fp = fopen(path, "r");
    if (!fp)
        return errno;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!rc && getline(&line, &cap, fp) > 0)
        rc = parse_line(out, line);
    free(line);
    fclose(fp);
    return rc;
}

void init_mounts_free(init_mounts *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].path);
        free(m->v[i].fstype);
        free(m->v[i].source);
        free(m->v[i].value);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}
