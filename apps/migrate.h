/* migrate.h: `s2r migrate`, converting a tree of batch scripts (private to
 * apps/migrate_*.c and apps/cmd_migrate.c).
 *
 *   cmd_migrate.c     options, threads, progress, exit status
 *   migrate_walk.c    the folder walk (one thread): which files, in order
 *   migrate_script.c  one file: read, detect, convert (conversion.c, as
 *                     `s2r SCRIPT`), write its outputs, make its row
 *   migrate_facts.c   what a script needs from the site: storage paths,
 *                     software, warning categories
 *   migrate_output.c  OUTDIR: writes beneath it only, the manifest
 *   migrate_map.c     string-keyed tallies
 *   migrate_report.c  report.json and report.md, streamed
 *   migrate_html.c    report.html, streamed
 *   migrate_site.c    the site tallies and suggested-site.ini
 *
 * Memory: a row is formatted by the worker that converted the script and
 * appended to spool files in walk order; only the tallies (one entry per
 * distinct partition, account, path prefix, module ...) stay in memory.
 */
#ifndef S2R_APPS_MIGRATE_H
#define S2R_APPS_MIGRATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config_path.h"
#include "conversion.h"
#include <s2r/s2r.h>

/* ---- string-keyed tallies (migrate_map.c) ----------------------------- */

typedef struct mg_count {
    char *key;
    long scripts;      /* scripts that use it */
    long gpus, pods;   /* what those scripts ask for (see mg_row) */
    struct mg_map *sub;/* finer keys (storage: second path component) */
} mg_count;

typedef struct mg_map {
    mg_count *v;       /* entries in insertion order */
    size_t n, cap;
    size_t *slots;     /* open addressing: index + 1, 0 = empty */
    size_t nslots;
} mg_map;

/** The entry for @p key, added with zero counts when new; NULL on ENOMEM. */
mg_count *mg_map_get(mg_map *m, const char *key);
/** The entry for @p key, or NULL. */
mg_count *mg_map_find(const mg_map *m, const char *key);
void mg_map_free(mg_map *m);
/** Entries sorted by scripts (most first), then key; malloc'd array of
 *  pointers into @p m, NULL when empty or on ENOMEM. */
mg_count **mg_map_sorted(const mg_map *m);

/* ---- text buffers (migrate_buf.c) ------------------------------------- */

typedef struct mg_buf {
    char *s;
    size_t n, cap;
    bool oom;            /* an append failed: mg_buf_take() gives NULL */
} mg_buf;

void mg_buf_put(mg_buf *b, const char *s, size_t n);
void mg_buf_puts(mg_buf *b, const char *s);
void mg_buf_printf(mg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @p s as a JSON string ("null" for NULL). */
void mg_buf_json(mg_buf *b, const char *s);
/** @p s with & < > " ' as HTML entities. */
void mg_buf_html(mg_buf *b, const char *s);
/** @p s as a Markdown table cell ('|' escaped, line breaks as spaces). */
void mg_buf_md(mg_buf *b, const char *s);
/** The text (malloc'd; "" when empty), NULL after a failed append; the
 *  buffer is empty again. */
char *mg_buf_take(mg_buf *b);

/* ---- one script's row -------------------------------------------------- */

typedef enum mg_status {
    MG_CONVERTED = 0,    /* converted, no warning */
    MG_WARNINGS = 1,     /* converted with warnings */
    MG_REFUSED = 2,      /* refused, as sbatch would (or too large) */
    MG_FAILED = 3        /* converted, but an output could not be written */
} mg_status;

typedef struct mg_warning {
    int line;            /* 1-based, 0 when not tied to a line */
    const char *category;/* static: mg_category() */
    char *option;        /* sbatch long option, or NULL */
    char *message;
    unsigned formats;    /* S2R_FORMAT_BIT()s whose conversion gave it */
    bool error;          /* an error (refused/failed), not a warning */
} mg_warning;

typedef struct mg_row {
    char *path;          /* as mirrored under OUTDIR ("lab/train.sbatch") */
    mg_status status;
    char *job_name, *workload, *kind, *image;
    bool image_default;  /* [runai] default_image: the script names none */
    long pods, gpus_per_pod, cpus_per_pod, memory_mib; /* memory 0: unset */
    long time_limit_s;   /* 0: none */
    long array_size, array_parallel; /* 0: no array */
    long gpus, pods_total; /* per mg_row_totals() */
    char *partition, *account, *qos, *constraint, *gpu_type;
    char *outputs[S2R_N_FORMATS]; /* relative output paths, or NULL */
    mg_warning *w;       /* warnings, then errors */
    size_t nw;
    /* what the site must provide (migrate_facts.c) */
    s2r_strv paths;      /* absolute paths the script uses, unmapped */
    s2r_strv software;   /* "module\tNAME", "conda\tENV", "venv\tPATH" */
    bool uses_home;      /* ~ or $HOME with no [site] home */
} mg_row;

/** Free what @p r holds and zero it. */
void mg_row_free(mg_row *r);
/** "converted", "converted-with-warnings", "refused", "failed" (static). */
const char *mg_status_name(mg_status s);

/* ---- the run ----------------------------------------------------------- */

typedef struct mg_dir {  /* a folder being walked */
    struct mg_run *run;
    struct mg_dir *parent;
    char *rel;           /* mirrored path under OUTDIR, "" at the top */
    char *abs;           /* its absolute physical path (SLURM_SUBMIT_DIR
                            of its scripts), or NULL */
    bool rooted;         /* rel mirrors an absolute path (an absolute root,
                            or one with ".."): "/" + rel is the file */
    int src_fd;          /* the folder (O_RDONLY|O_DIRECTORY) */
    int out_fd;          /* its OUTDIR counterpart, -1 until needed */
    atomic_int refs;     /* items, child folders and the walker */
} mg_dir;

typedef struct mg_item { /* one file for a worker, or one walk problem */
    size_t seq;          /* walk order */
    mg_dir *dir;         /* NULL for a walk problem */
    char *name;          /* file name in dir */
    char *rel;           /* mirrored path ("lab/train.sbatch") */
    const char *skip_reason; /* walk problem: "symlink-loop", "unreadable" */
    char *skip_message;
} mg_item;

typedef enum mg_kind { MG_NOT_SCRIPT = 0, MG_SKIPPED = 1, MG_SCRIPT = 2 }
    mg_kind;

typedef struct mg_result { /* one item's outcome, emitted in walk order */
    mg_kind kind;
    bool ready;
    mg_row row;          /* MG_SCRIPT */
    char *json, *md, *html; /* the row, formatted */
    char *md_problem;    /* refused / failed: its report.md line */
    char *skip_json;     /* MG_SKIPPED: its report.json entry */
    char *skip_md;       /* MG_SKIPPED: its report.md line */
    char *skip_html;     /* MG_SKIPPED: its report.html item */
    char *message;       /* shown on standard error (refused, failed) */
} mg_result;

typedef struct mg_totals {
    long files, scripts, not_scripts, skipped;
    long by_status[4];
    long warnings, gpus, pods;
} mg_totals;

typedef struct mg_site {  /* tallies for suggested-site.ini and charts */
    mg_map partitions, accounts, qos, constraints, storage, gpu_types;
    mg_map modules, conda, venvs, categories, kinds;
    mg_map chart_partition, chart_account; /* GPUs and pods */
    long uses_home;
} mg_site;

typedef struct mg_run {
    /* options */
    unsigned formats;
    const char *outdir;
    int jobs;
    bool force, quiet, progress;
    bool owners;             /* run by root with no [site] uid: each
                                script runs as its owner (local.c) */
    char *submit_dir;        /* --submit-dir, absolute, or NULL */
    s2r_config cfg;
    s2r_config_choice choice;
    s2r_provider_glue provider; /* NULL: rules in process */
    const char *plugin_dir;
    char **roots;
    int nroots;

    /* OUTDIR (migrate_output.c) */
    int out_fd;
    dev_t out_dev;
    ino_t out_ino;
    mg_map old_manifest;     /* paths the previous runs wrote */
    FILE *manifest;          /* appended as files are written */
    pthread_mutex_t out_lock;

    /* the walk -> workers queue */
    pthread_mutex_t lock;
    pthread_cond_t can_push, can_pop, progress_cv;
    mg_item **queue;
    size_t qcap, qhead, qlen;
    bool walk_done;
    size_t next_seq;         /* next item number the walker gives */
    atomic_int live_dirs;

    /* in-order emission */
    pthread_mutex_t emit_lock;
    mg_result *ring;         /* slot seq % ring_cap */
    size_t ring_cap;
    atomic_size_t next_emit; /* items emitted so far */
    FILE *spool_json, *spool_md, *spool_html, *spool_skip_json,
        *spool_skip_md, *spool_problem_md, *spool_skip_html;
    mg_totals totals;
    mg_site site;
    bool first_row, first_skip;
    double started;          /* seconds, CLOCK_MONOTONIC */
    bool progress_shown;
} mg_run;

/* ---- migrate_walk.c ---------------------------------------------------- */

/** Thread body: walk run->roots in order, mg_push() one item per regular
 *  file and per walk problem, then set run->walk_done. @p run is the
 *  mg_run; returns NULL. */
void *mg_walk_main(void *run);
/** Drop one reference to @p d (NULL is fine); the last one closes its
 *  descriptors, frees it and releases its parent. Any thread. */
void mg_dir_release(mg_dir *d);

/* ---- cmd_migrate.c ----------------------------------------------------- */

/** Give @p it (owned by the queue from now on) its walk number and queue
 *  it; blocks while the queue is full or the walk is run->ring_cap items
 *  ahead of the emitted rows. */
void mg_push(mg_run *run, mg_item *it);
/** Free an item and release its folder. */
void mg_item_free(mg_item *it);

/* ---- migrate_script.c -------------------------------------------------- */

/** One item into @p res (zeroed here; the caller owns it and frees it with
 *  mg_result_free()). Never fails: what goes wrong is the result (a
 *  skipped row, a refused or failed script). Any thread. */
void mg_process(mg_run *run, mg_item *it, mg_result *res);
void mg_result_free(mg_result *res);

/* ---- migrate_facts.c --------------------------------------------------- */

/** The category of a warning or error (docs/migrate.md): by its sbatch
 *  option when it names one, else by its message. Static text. */
const char *mg_category(const s2r_diag *d);
/** Fill r->paths, r->uses_home and r->software from the script bytes,
 *  its parsed job (@p conv) and its warnings (r->w, categorised); @p cfg
 *  gives [storage] and [site] home. Returns 0 or S2R_ENOMEM. */
int mg_facts(mg_row *r, const char *buf, size_t len, const s2r_config *cfg,
             const s2r_conversion *conv);

/* ---- migrate_output.c -------------------------------------------------- */

/** Make and open run->outdir (mkdir -p, 0755), read its manifest, open it
 *  for appending. Returns 0, or an errno with *@p err a malloc'd reason. */
int mg_outdir_open(mg_run *run, char **err);
/** Write @p text as @p name in @p dir's OUTDIR folder (made on first use)
 *  and record @p rel, its path under OUTDIR, in the manifest. Returns 0,
 *  or an errno (EEXIST: a file s2r did not write) with *@p err a malloc'd
 *  reason. Any thread. */
int mg_output_write(mg_run *run, mg_dir *dir, const char *rel,
                    const char *name, const char *text, char **err);
/** Remove @p rel when the manifest says an earlier run wrote it (the
 *  output of a script now refused). Errors are ignored. */
void mg_output_remove_stale(mg_run *run, mg_dir *dir, const char *rel,
                            const char *name);
/** Open the OUTDIR file @p name (report.json ...) for writing, by the
 *  same rules. Returns a FILE the caller closes, or NULL with *@p err a
 *  malloc'd reason. */
FILE *mg_report_open(mg_run *run, const char *name, char **err);
/** Flush and close the manifest. Returns 0 or an errno. */
int mg_manifest_close(mg_run *run);

/* ---- migrate_report.c -------------------------------------------------- */

/** Format res->row as its report.json element, report.md line(s) and
 *  report.html row (malloc'd, in @p res). Returns 0 or S2R_ENOMEM. */
int mg_row_format(const mg_run *run, mg_result *res);
/** The same for a skipped file. Returns 0 or S2R_ENOMEM. */
int mg_skip_format(mg_result *res, const char *path, const char *reason,
                   const char *message);
/** Write report.json and report.md from the spools and tallies. Returns 0,
 *  or 1 with *@p err a malloc'd reason. */
int mg_report_write(mg_run *run, char **err);
/** Copy all of @p spool (rewound first) to @p to. Returns 0 or an errno. */
int mg_spool_copy(FILE *spool, FILE *to);

/* ---- migrate_html.c ---------------------------------------------------- */

/** The report.html table row of @p r; malloc'd, NULL on ENOMEM. */
char *mg_html_row(const mg_row *r);
/** The report.html list item of a skipped file; malloc'd, NULL on ENOMEM. */
char *mg_html_skip(const char *path, const char *reason, const char *message);
/** @p s with & < > " ' as entities; malloc'd, NULL on ENOMEM. */
char *mg_html_escape(const char *s);
/** Write report.html. Returns 0, or 1 with *@p err a malloc'd reason. */
int mg_html_write(mg_run *run, char **err);

/* ---- migrate_site.c ---------------------------------------------------- */

/** Tally one row: its warning categories, and for a converted script its
 *  kind, GPUs and pods by partition and account, and what @p cfg does not
 *  map (partitions, accounts, QoS, constraints, storage prefixes), its GPU
 *  type and software. Returns 0 or S2R_ENOMEM. */
int mg_site_add(mg_site *s, const mg_row *r, const s2r_config *cfg);
/** Write suggested-site.ini. Returns 0, or 1 with *@p err a malloc'd
 *  reason. */
int mg_site_write(mg_run *run, char **err);
void mg_site_free(mg_site *s);

#endif
