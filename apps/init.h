/* init.h: `s2r init`, a starting site file for this cluster (private to
 * apps/cmd_init.c and apps/init_*.c).
 *
 *   init_mounts.c  shared file systems from /proc/self/mountinfo
 *   init_probe.c   running sinfo and runai; their answers
 *   cmd_init.c     the options and the file
 *
 * Every guess is a line (or a commented line) with a comment saying where
 * it came from. */
#ifndef S2R_APPS_INIT_H
#define S2R_APPS_INIT_H

#include <stdbool.h>
#include <stdio.h>

#include <s2r/s2r.h>

/** A shared file system, from one line of mountinfo (proc(5)). */
typedef struct init_mount {
    char *path;    /* mount point: the path as scripts see it */
    char *fstype;  /* "nfs4", "lustre", ... */
    char *source;  /* "server:/export", "10.0.0.1@o2ib:/fs", ... */
    char *value;   /* "nfs:SERVER:EXPORT[,ro]", or NULL: a PVC to name */
    bool ro;
} init_mount;

typedef struct init_mounts {
    init_mount *v;
    size_t n, cap;
} init_mounts;

/**
 * Read the shared file systems of a mountinfo file (@p path, normally
 * /proc/self/mountinfo): nfs and nfs4 with their server and export,
 * lustre, gpfs, beegfs, cephfs/ceph, glusterfs, cifs and the like with
 * their source. Pseudo file systems and local disks are left out. Mount
 * points are unescaped (\040 is a space). Returns 0 or an errno.
 */
int init_mounts_read(init_mounts *out, const char *path);
void init_mounts_free(init_mounts *m);

/** One SLURM partition, from `sinfo`. */
typedef struct init_partition {
    char *name;
    s2r_strv gpu_types;  /* from its nodes' GRES (gpu:TYPE:N) */
    s2r_strv features;   /* its nodes' features (--constraint values) */
    long gpus;           /* most GPUs on one of its nodes */
} init_partition;

typedef struct init_slurm {
    init_partition *v;
    size_t n;
    char *error;         /* why sinfo said nothing, or NULL */
    bool found;          /* sinfo is on PATH */
} init_slurm;

/** `sinfo --noheader --format=%R|%G|%f`. Returns 0 or ENOMEM. */
int init_slurm_probe(init_slurm *out);
void init_slurm_free(init_slurm *s);

typedef struct init_datasource {
    char *name, *type, *path; /* path: where it mounts, or NULL */
} init_datasource;

typedef struct init_runai {
    bool found;               /* runai is on PATH */
    char *error;              /* not logged in, ...: or NULL */
    s2r_strv projects, nodepools;
    init_datasource *ds;
    size_t nds;
} init_runai;

/** `runai project list --json`, `runai nodepool list --json`,
 *  `runai datasource list --json`. Returns 0 or ENOMEM. */
int init_runai_probe(init_runai *out);
void init_runai_free(init_runai *r);

/**
 * Run @p argv (searched in PATH) with standard input from /dev/null, for
 * at most @p timeout_s seconds (then SIGKILL); its standard output (at
 * most 4 MiB) into *@p out (malloc'd, NUL-terminated), the first line of
 * its standard error into *@p err_line (or NULL).
 * @return the exit status (0-255), -1 when it could not run (errno
 *         ENOENT: not on PATH), -2 on timeout.
 */
int init_run(char *const argv[], int timeout_s, char **out, char **err_line);

#endif
