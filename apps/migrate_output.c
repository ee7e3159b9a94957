/* migrate_output.c: OUTDIR of `s2r migrate`.
 *
 * Every output is created beneath OUTDIR only: folders one component at a
 * time with mkdirat() and openat(O_NOFOLLOW), files with
 * O_CREAT|O_EXCL|O_NOFOLLOW, so no symbolic link planted in OUTDIR leads
 * out of it. A file that exists is overwritten only when the manifest
 * (OUTDIR/.s2r-manifest, one path per line, '\' and newline escaped) says
 * s2r migrate wrote it, or with --force. */
#include "migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST ".s2r-manifest"

/* "a\b\nc" -> "a\\b\\nc": one manifest line. malloc'd. */
static char *escape(const char *s)
{
    char *out = malloc(strlen(s) * 2 + 1), *o = out;
    for (; out && *s; s++) {
        if (*s == '\\' || *s == '\n')
            *o++ = '\\';
        *o++ = *s == '\n' ? 'n' : *s;
    }
    if (out)
        *o = '\0';
    return out;
}

static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static int load_manifest(mg_run *run)
{
    int fd = openat(run->out_fd, MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : errno;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return errno;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        unescape(line);
        if (*line && !mg_map_get(&run->old_manifest, line)) {
            rc = ENOMEM;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static int mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return e;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? errno : 0;
    free(p);
    return rc;
}

int mg_outdir_open(mg_run *run, char **err)
{
    int rc = mkdir_p(run->outdir);
    if (rc == 0 && (run->out_fd = open(run->outdir, O_RDONLY | O_DIRECTORY |
                                       O_CLOEXEC)) < 0)
        rc = errno;
    struct stat st;
    if (rc == 0 && fstat(run->out_fd, &st) != 0)
        rc = errno;
    if (rc == 0) {
        run->out_dev = st.st_dev;
        run->out_ino = st.st_ino;
        rc = load_manifest(run);
    }
    if (rc == 0) {
        int fd = openat(run->out_fd, MANIFEST, O_WRONLY | O_APPEND | O_CREAT |
                        O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || !(run->manifest = fdopen(fd, "a"))) {
            rc = errno;
            if (fd >= 0)
                close(fd);
        }
    }
    if (rc && asprintf(err, "%s: %s", run->outdir, strerror(rc)) < 0)
        *err = NULL;
    return rc;
}

/* Open (creating) folder @p rel beneath OUTDIR, one component at a time,
 * never through a symbolic link. Returns an fd or -1 with errno. */
static int open_folder(mg_run *run, const char *rel, bool create)
{
    int cur = dup(run->out_fd);
    char name[NAME_MAX + 1];
    for (const char *p = rel; cur >= 0 && *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > NAME_MAX) {
            close(cur);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n + (e ? 1 : 0);
        if (!n)
            continue;
        if (create && mkdirat(cur, name, 0755) != 0 && errno != EEXIST) {
            int err = errno;
            close(cur);
            errno = err;
            return -1;
        }
        int next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                          O_CLOEXEC);
        int err = errno == ELOOP ? ENOTDIR : errno;
        close(cur);
        cur = next;
        errno = err;
    }
    return cur;
}

static int dir_fd(mg_run *run, mg_dir *dir)
{
    if (dir->out_fd >= 0)
        return dir->out_fd;
    pthread_mutex_lock(&run->out_lock);
    if (dir->out_fd < 0)
        dir->out_fd = open_folder(run, dir->rel, true);
    int fd = dir->out_fd, e = errno;
    pthread_mutex_unlock(&run->out_lock);
    errno = e;
    return fd;
}

static void record(mg_run *run, const char *rel)
{
    char *line = escape(rel);
    pthread_mutex_lock(&run->out_lock);
    if (line)
        fprintf(run->manifest, "%s\n", line);
    pthread_mutex_unlock(&run->out_lock);
    free(line);
}

/* Create @p name in @p fd for writing, by the manifest's rule. */
static int create_file(mg_run *run, int fd, const char *rel,
                       const char *name, bool *was_known, char **err)
{
    *was_known = false;
    int out = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                     O_CLOEXEC, 0644);
    if (out >= 0 || errno != EEXIST)
        goto done;
    pthread_mutex_lock(&run->out_lock);
    *was_known = mg_map_find(&run->old_manifest, rel) != NULL;
    pthread_mutex_unlock(&run->out_lock);
    if (!*was_known && !run->force) {
        if (asprintf(err, "%s exists and s2r migrate did not write it "
                     "(--force overwrites it)", rel) < 0)
            *err = NULL;
        errno = EEXIST;
        return -1;
    }
    out = openat(fd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
done:
    if (out < 0 && asprintf(err, "%s: %s", rel, strerror(errno)) < 0)
        *err = NULL;
    return out;
}

int mg_output_write(mg_run *run, mg_dir *dir, const char *rel,
                    const char *name, const char *text, char **err)
{
    *err = NULL;
    int fd = dir_fd(run, dir);
    if (fd < 0) {
        int e = errno;
        if (asprintf(err, "%s: cannot make its folder: %s", rel,
                     strerror(e)) < 0)
            *err = NULL;
        return e;
    }
    bool known;
    int out = create_file(run, fd, rel, name, &known, err);
    if (out < 0)
        return errno;
    size_t len = strlen(text), off = 0;
    int e = 0;
    while (off < len) {
        ssize_t w = write(out, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = errno ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (close(out) != 0 && !e)
        e = errno;
    if (!known)
        record(run, rel);
    if (e && asprintf(err, "%s: %s", rel, strerror(e)) < 0)
        *err = NULL;
    return e;
}

void mg_output_remove_stale(mg_run *run, mg_dir *dir, const char *rel,
                            const char *name)
{
    pthread_mutex_lock(&run->out_lock);
    bool known = mg_map_find(&run->old_manifest, rel) != NULL;
    pthread_mutex_unlock(&run->out_lock);
    if (!known)
        return;
    int fd = dir->out_fd >= 0 ? dup(dir->out_fd)
                              : open_folder(run, dir->rel, false);
    if (fd < 0)
        return;
    unlinkat(fd, name, 0);
    close(fd);
}

FILE *mg_report_open(mg_run *run, const char *name, char **err)
{
    *err = NULL;
    bool known;
    int fd = create_file(run, run->out_fd, name, name, &known, err);
    if (fd < 0)
        return NULL;
    if (!known)
        record(run, name);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        if (asprintf(err, "%s: %s", name, strerror(errno)) < 0)
            *err = NULL;
    }
    return f;
}

int mg_manifest_close(mg_run *run)
{
    int rc = 0;
    if (run->manifest && fclose(run->manifest) != 0)
        rc = errno;
    run->manifest = NULL;
    return rc;
}
