/* migrate_walk.c: the folder walk of `s2r migrate`. Folders are read in
 * byte order of their names, depth first; symbolic links are followed, a
 * folder is walked once (by device and inode), and a link back to a folder
 * being walked is a "symlink-loop" row, not a hang. OUTDIR itself is not
 * walked. Files are handed to the workers with their folder open, so a
 * worker opens them by name (openat), and at most MG_LIVE_DIRS folders
 * with files in flight are open at a time. */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MG_LIVE_DIRS 256

typedef struct ancestor {
    dev_t dev;
    ino_t ino;
    const struct ancestor *up;
    int depth;
} ancestor;

typedef struct walk {
    mg_run *run;
    mg_map visited; /* "dev:ino" of every folder walked */
} walk;

static char *join(const char *a, const char *b)
{
    char *out = NULL;
    if (asprintf(&out, "%s%s%s", a, *a ? "/" : "", b) < 0)
        return NULL;
    return out;
}

static mg_dir *dir_new(mg_run *run, mg_dir *parent, char *rel, int fd)
{
    mg_dir *d = calloc(1, sizeof(*d));
    if (!d) {
        free(rel);
        close(fd);
        return NULL;
    }
    d->run = run;
    d->parent = parent;
    if (parent)
        atomic_fetch_add(&parent->refs, 1);
    d->rel = rel;
    d->rooted = parent && parent->rooted;
    d->src_fd = fd;
    char link[64], target[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        d->abs = strdup(target);
    }
    d->out_fd = -1;
    atomic_init(&d->refs, 1);
    atomic_fetch_add(&run->live_dirs, 1);
    return d;
}

void mg_dir_release(mg_dir *d)
{
    while (d && atomic_fetch_sub(&d->refs, 1) == 1) {
        mg_dir *up = d->parent;
        mg_run *run = d->run;
        close(d->src_fd);
        if (d->out_fd >= 0)
            close(d->out_fd);
        free(d->rel);
        free(d->abs);
        free(d);
        atomic_fetch_sub(&run->live_dirs, 1);
        pthread_mutex_lock(&run->lock);
        pthread_cond_broadcast(&run->can_push);
        pthread_mutex_unlock(&run->lock);
        d = up;
    }
}

static void push_file(mg_run *run, mg_dir *dir, const char *name, char *rel)
{
    mg_item *it = calloc(1, sizeof(*it));
    if (!it || !(it->name = strdup(name))) {
        free(it);
        free(rel);
        return;
    }
    atomic_fetch_add(&dir->refs, 1);
    it->dir = dir;
    it->rel = rel;
    mg_push(run, it);
}

static void push_problem(mg_run *run, char *rel, const char *reason,
                         const char *fmt, const char *detail)
{
    mg_item *it = calloc(1, sizeof(*it));
    if (!it || asprintf(&it->skip_message, fmt, detail) < 0) {
        free(it);
        free(rel);
        return;
    }
    it->rel = rel;
    it->skip_reason = reason;
    mg_push(run, it);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of @p fd, sorted; NULL-terminated, malloc'd. */
static char **read_names(int fd)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return NULL;
    }
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof(*v));
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n + 1 == cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (!v)
        return NULL;
    v[n] = NULL;
    qsort(v, n, sizeof(*v), by_name);
    return v;
}

/* Wait until fewer than MG_LIVE_DIRS folders besides the walker's own
 * chain of @p depth are open. */
static void wait_for_dirs(mg_run *run, int depth)
{
    pthread_mutex_lock(&run->lock);
    while (atomic_load(&run->live_dirs) - depth > MG_LIVE_DIRS)
        pthread_cond_wait(&run->can_push, &run->lock);
    pthread_mutex_unlock(&run->lock);
}

static void walk_dir(walk *w, mg_dir *dir, const ancestor *anc);

static bool on_chain(const ancestor *a, const struct stat *st)
{
    for (; a; a = a->up)
        if (a->dev == st->st_dev && a->ino == st->st_ino)
            return true;
    return false;
}

/* A folder entry that is a folder: walk it once. */
static void walk_child(walk *w, mg_dir *dir, const ancestor *anc,
                       const char *name, char *rel, const struct stat *st)
{
    mg_run *run = w->run;
    if (st->st_dev == run->out_dev && st->st_ino == run->out_ino) {
        free(rel); /* our own OUTDIR */
        return;
    }
    if (on_chain(anc, st)) {
        push_problem(run, rel, "symlink-loop", "%s", "a symbolic link to a "
                     "folder it is in: not walked again");
        return;
    }
    char key[64];
    snprintf(key, sizeof(key), "%llx:%llx", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
    mg_count *seen = mg_map_get(&w->visited, key);
    if (!seen || seen->scripts++) {
        free(rel); /* reached before through another link */
        return;
    }
    int fd = openat(dir->src_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        push_problem(run, rel, "unreadable", "%s", strerror(errno));
        return;
    }
    wait_for_dirs(run, anc->depth + 1);
    mg_dir *child = dir_new(run, dir, rel, fd);
    if (!child)
        return;
    ancestor me = {st->st_dev, st->st_ino, anc, anc->depth + 1};
    walk_dir(w, child, &me);
    mg_dir_release(child);
}

static void walk_dir(walk *w, mg_dir *dir, const ancestor *anc)
{
    char **names = read_names(dir->src_fd);
    if (!names) {
        push_problem(w->run, strdup(*dir->rel ? dir->rel : "."),
                     "unreadable", "%s", strerror(errno ? errno : ENOMEM));
        return;
    }
    for (size_t i = 0; names[i]; i++) {
        char *rel = join(dir->rel, names[i]);
        struct stat st;
        if (!rel)
            continue;
        if (fstatat(dir->src_fd, names[i], &st, 0) != 0) {
            int e = errno;
            push_problem(w->run, rel, e == ELOOP ? "symlink-loop"
                         : "unreadable", "%s", e == ENOENT
                         ? "a symbolic link to nothing" : strerror(e));
        } else if (S_ISDIR(st.st_mode)) {
            walk_child(w, dir, anc, names[i], rel, &st);
        } else if (S_ISREG(st.st_mode)) {
            push_file(w->run, dir, names[i], rel);
        } else {
            free(rel); /* FIFOs, sockets, devices: never scripts */
        }
        free(names[i]);
    }
    free(names);
}

/* @p path with its empty and "." components dropped and no leading '/':
 * "./lab//a/" -> "lab/a". malloc'd. */
static char *fold(const char *path)
{
    char *out = malloc(strlen(path) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && !(n == 1 && p[0] == '.')) {
            if (o != out)
                *o++ = '/';
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
            return true;
    return false;
}

/* The path of @p root as mirrored under OUTDIR: relative and folded
 * ("./lab//a" -> "lab/a"); an absolute root by its path without the
 * leading '/'; one with ".." components by its real absolute path.
 * *@p rooted: the mirror is an absolute path without its '/'. */
static char *mirror_of(const char *root, bool *rooted)
{
    *rooted = root[0] == '/';
    if (!has_dotdot(root))
        return fold(root);
    *rooted = true;
    char *abs = realpath(root, NULL);
    if (!abs)
        return NULL;
    char *out = fold(abs);
    free(abs);
    return out;
}

static void walk_root(walk *w, const char *root)
{
    mg_run *run = w->run;
    bool rooted;
    char *mirror = mirror_of(root, &rooted);
    struct stat st;
    if (!mirror || stat(root, &st) != 0) {
        push_problem(run, mirror ? mirror : strdup(root), "unreadable", "%s",
                     strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        char key[64];
        snprintf(key, sizeof(key), "%llx:%llx", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        mg_count *seen = mg_map_get(&w->visited, key);
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!seen || seen->scripts++ || fd < 0) {
            if (fd < 0)
                push_problem(run, mirror, "unreadable", "%s", strerror(errno));
            else {
                close(fd);
                free(mirror);
            }
            return;
        }
        mg_dir *d = dir_new(run, NULL, mirror, fd);
        ancestor me = {st.st_dev, st.st_ino, NULL, 1};
        if (d) {
            d->rooted = rooted;
            walk_dir(w, d, &me);
        }
        mg_dir_release(d);
        return;
    }
    /* a file named on the command line: its folder, then the file */
    char *slash = strrchr(mirror, '/');
    char *dir_rel = strndup(mirror, slash ? (size_t)(slash - mirror) : 0);
    char *dir_path = strdup(root), *ds = strrchr(dir_path ? dir_path : "", '/');
    const char *name = strrchr(root, '/') ? strrchr(root, '/') + 1 : root;
    if (ds)
        ds[ds == dir_path ? 1 : 0] = '\0';
    int fd = open(ds ? dir_path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir_path);
    if (!dir_rel || fd < 0) {
        free(dir_rel);
        if (fd >= 0)
            close(fd);
        push_problem(run, mirror, "unreadable", "%s", strerror(errno));
        return;
    }
    mg_dir *d = dir_new(run, NULL, dir_rel, fd);
    if (d) {
        d->rooted = rooted;
        push_file(run, d, name, mirror);
    } else {
        free(mirror);
    }
    mg_dir_release(d);
}

void *mg_walk_main(void *arg)
{
    walk w = {.run = arg};
    for (int i = 0; i < w.run->nroots; i++)
        walk_root(&w, w.run->roots[i]);
    mg_map_free(&w.visited);
    pthread_mutex_lock(&w.run->lock);
    w.run->walk_done = true;
    pthread_cond_broadcast(&w.run->can_pop);
    pthread_mutex_unlock(&w.run->lock);
    return NULL;
}
