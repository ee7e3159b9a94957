/* cmd_migrate.c: `s2r migrate`: convert every batch script under the given
 * folders, in parallel, into OUTDIR, with reports for the administrator.
 *
 *   s2r migrate [--config FILE] [-o OUTDIR] [-j N] [--format cli,yaml,json]
 *               [--submit-dir DIR] [--force] [-q] PATH...
 *
 * One thread walks the folders (migrate_walk.c) and queues the files; N
 * workers convert them (migrate_script.c); each finished item is emitted
 * in walk order (rows to the spools, site tallies) by whichever worker
 * completes the next one. The main thread draws the progress line. */
#include "commands.h"
#include "config/config.h"
#include "migrate.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MG_QUEUE 4096

static void migrate_usage(FILE *f)
{
    fprintf(f,
        "usage: s2r migrate [--config FILE] [-o OUTDIR] [-j N]\n"
        "                   [--format cli,yaml,json] [--submit-dir DIR]\n"
        "                   [--force] [-q] PATH...\n"
        "\n"
        "Finds the SLURM batch scripts under each PATH (files with #SBATCH\n"
        "directives, whatever their name) and converts each as 's2r --config\n"
        "FILE SCRIPT' would, writing OUTDIR/PATH/NAME.sh (cli), .yaml and\n"
        ".json, and OUTDIR/report.json, report.md, report.html and\n"
        "suggested-site.ini (what the site file does not map yet).\n"
        "\n"
        "  -c, --config FILE     site configuration (default: looked up as\n"
        "                        for 's2r SCRIPT')\n"
        "      --no-config       the built-in defaults\n"
        "  -o, --output-dir DIR  where to write (default ./s2r-out)\n"
        "  -j, --jobs N          conversions at once (default: the cores)\n"
        "  -f, --format LIST     formats, comma-separated (default: [core]\n"
        "                        format, else cli)\n"
        "      --submit-dir DIR  SLURM_SUBMIT_DIR of every script (default:\n"
        "                        each script's own folder)\n"
        "      --plugin-dir DIR  look for plugins in DIR first\n"
        "      --force           overwrite files s2r migrate did not write\n"
        "  -q, --quiet           no progress line, no summary\n"
        "  -h, --help            this text\n"
        "\n"
        "Exit status: 0 every script converted, 1 a script was refused or an\n"
        "output could not be written (report.md says which and why), 2 usage.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_formats(const char *list, unsigned *bits)
{
    char *copy = strdup(list), *save = NULL;
    *bits = 0;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        int f = s2r_format_from_name(t);
        if (f < 0) {
            fprintf(stderr, "s2r migrate: --format: unknown format '%s' "
                            "(cli, yaml, json)\n", t);
            free(copy);
            return 2;
        }
        *bits |= S2R_FORMAT_BIT(f);
    }
    free(copy);
    return *bits ? 0 : 2;
}

static int cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

typedef struct mg_args {
    const char *config, *format, *submit_dir;
    bool no_config;
} mg_args;

/* Options into @p run and @p a. Returns -1 to go on, else the status. */
static int parse_args(int argc, char **argv, mg_run *run, mg_args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"no-config", no_argument, NULL, 'n'},
        {"output-dir", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"submit-dir", required_argument, NULL, 'S'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"force", no_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:j:f:qh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'n': a->no_config = true; break;
        case 'o': run->outdir = optarg; break;
        case 'j':
            run->jobs = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || run->jobs < 1 || run->jobs > 1024) {
                fprintf(stderr, "s2r migrate: -j: a number from 1 to 1024\n");
                return 2;
            }
            break;
        case 'f': a->format = optarg; break;
        case 'S': a->submit_dir = optarg; break;
        case 'P': run->plugin_dir = optarg; break;
        case 'F': run->force = true; break;
        case 'q': run->quiet = true; break;
        case 'h': migrate_usage(stdout); return 0;
        default: migrate_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "s2r migrate: no PATH given\n");
        migrate_usage(stderr);
        return 2;
    }
    run->roots = argv + optind;
    run->nroots = argc - optind;
    for (int i = 0; i < run->nroots; i++) {
        struct stat st;
        if (stat(run->roots[i], &st) != 0) {
            fprintf(stderr, "s2r migrate: %s: %s\n", run->roots[i],
                    strerror(errno));
            return 2;
        }
    }
    return -1;
}

/* ---- queue ------------------------------------------------------------- */

void mg_item_free(mg_item *it)
{
    if (!it)
        return;
    mg_dir_release(it->dir);
    free(it->name);
    free(it->rel);
    free(it->skip_message);
    free(it);
}

void mg_push(mg_run *run, mg_item *it)
{
    pthread_mutex_lock(&run->lock);
    /* a full queue, or a walk too far ahead of the emitted rows */
    while (run->qlen == run->qcap ||
           run->next_seq - run->next_emit >= run->ring_cap)
        pthread_cond_wait(&run->can_push, &run->lock);
    it->seq = run->next_seq++;
    run->queue[(run->qhead + run->qlen++) % run->qcap] = it;
    pthread_cond_signal(&run->can_pop);
    pthread_mutex_unlock(&run->lock);
}

static mg_item *pop(mg_run *run)
{
    pthread_mutex_lock(&run->lock);
    while (!run->qlen && !run->walk_done)
        pthread_cond_wait(&run->can_pop, &run->lock);
    mg_item *it = NULL;
    if (run->qlen) {
        it = run->queue[run->qhead];
        run->qhead = (run->qhead + 1) % run->qcap;
        run->qlen--;
        pthread_cond_broadcast(&run->can_push);
    }
    pthread_mutex_unlock(&run->lock);
    return it;
}

/* ---- in-order emission ------------------------------------------------- */

static void spool(FILE *f, const char *text, bool *first)
{
    if (!text)
        return;
    if (first) {
        if (!*first)
            fputs(",\n", f);
        *first = false;
    }
    fputs(text, f);
}

static void clear_progress(mg_run *run)
{
    if (run->progress_shown) {
        fputs("\r\033[K", stderr);
        run->progress_shown = false;
    }
}

static void emit_one(mg_run *run, mg_result *res)
{
    mg_totals *t = &run->totals;
    t->files++;
    if (res->kind == MG_NOT_SCRIPT) {
        t->not_scripts++;
        return;
    }
    if (res->kind == MG_SKIPPED) {
        t->skipped++;
        spool(run->spool_skip_json, res->skip_json, &run->first_skip);
        spool(run->spool_skip_md, res->skip_md, NULL);
        spool(run->spool_skip_html, res->skip_html, NULL);
        return;
    }
    const mg_row *r = &res->row;
    t->scripts++;
    t->by_status[r->status]++;
    for (size_t i = 0; i < r->nw; i++)
        t->warnings += !r->w[i].error;
    t->gpus += r->gpus;
    t->pods += r->pods_total;
    spool(run->spool_json, res->json, &run->first_row);
    spool(run->spool_md, res->md, NULL);
    spool(run->spool_html, res->html, NULL);
    spool(run->spool_problem_md, res->md_problem, NULL);
    if (mg_site_add(&run->site, r, &run->cfg))
        fprintf(stderr, "s2r migrate: out of memory\n");
    if (res->message) {
        pthread_mutex_lock(&run->lock);
        clear_progress(run);
        fprintf(stderr, "%s\n", res->message);
        pthread_mutex_unlock(&run->lock);
    }
}

/* Store @p res for item @p seq and emit every result now in order. */
static void finish(mg_run *run, size_t seq, mg_result *res)
{
    pthread_mutex_lock(&run->emit_lock);
    res->ready = true;
    run->ring[seq % run->ring_cap] = *res;
    size_t emitted = 0;
    for (;;) {
        mg_result *slot = &run->ring[run->next_emit % run->ring_cap];
        if (!slot->ready)
            break;
        emit_one(run, slot);
        mg_result_free(slot);
        run->next_emit++;
        emitted++;
    }
    pthread_mutex_unlock(&run->emit_lock);
    if (emitted) {
        pthread_mutex_lock(&run->lock);
        pthread_cond_broadcast(&run->can_push);
        pthread_cond_signal(&run->progress_cv);
        pthread_mutex_unlock(&run->lock);
    }
}

static void *worker_main(void *arg)
{
    mg_run *run = arg;
    mg_item *it;
    while ((it = pop(run))) {
        mg_result res;
        mg_process(run, it, &res);
        size_t seq = it->seq;
        mg_item_free(it);
        finish(run, seq, &res);
    }
    return NULL;
}

/* ---- progress ---------------------------------------------------------- */

static void draw_progress(mg_run *run)
{
    pthread_mutex_lock(&run->emit_lock);
    long files = run->totals.files, scripts = run->totals.scripts;
    long refused = run->totals.by_status[MG_REFUSED] +
                   run->totals.by_status[MG_FAILED];
    pthread_mutex_unlock(&run->emit_lock);
    pthread_mutex_lock(&run->lock);
    bool walked = run->walk_done;
    size_t total = run->next_seq;
    double dt = now_s() - run->started;
    double rate = dt > 0 ? (double)files / dt : 0;
    char eta[32] = "walking";
    if (walked && rate > 0) {
        long left = (long)(((double)total - (double)files) / rate + 0.5);
        snprintf(eta, sizeof(eta), "ETA %ld:%02ld", left / 60, left % 60);
    }
    fprintf(stderr, "\r\033[Ks2r migrate: %ld/%zu%s files, %ld scripts, "
            "%ld refused, %.0f files/s, %s", files, total, walked ? "" : "+",
            scripts, refused, rate, eta);
    run->progress_shown = true;
    pthread_mutex_unlock(&run->lock);
}

static void wait_with_progress(mg_run *run, pthread_t *workers, int n)
{
    if (run->progress) {
        draw_progress(run); /* at once: even a short run shows its line */
        pthread_mutex_lock(&run->lock);
        for (;;) {
            bool done = run->walk_done && !run->qlen &&
                        run->next_emit == run->next_seq;
            if (done)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&run->progress_cv, &run->lock, &ts);
            pthread_mutex_unlock(&run->lock);
            draw_progress(run);
            pthread_mutex_lock(&run->lock);
        }
        pthread_mutex_unlock(&run->lock);
    }
    for (int i = 0; i < n; i++)
        pthread_join(workers[i], NULL);
    clear_progress(run);
}

/* ---- set-up and the end ------------------------------------------------ */

/* The site file, the formats and the provider. Returns -1 or a status. */
static int configure(mg_run *run, const mg_args *a)
{
    s2r_diags diags = {0};
    if (s2r_config_path_find(&run->choice, a->config, a->no_config))
        return 1;
    /* as `s2r SCRIPT`: S2R_API_ENDPOINT beats the files found by looking */
    const char *ep = getenv("S2R_API_ENDPOINT");
    bool remote = ep && *ep && !s2r_config_origin_explicit(run->choice.origin);
    if (remote) {
        free(run->choice.path);
        run->choice.path = NULL;
        run->choice.origin = S2R_CONFIG_NONE;
    }
    if (run->choice.path &&
        s2r_config_load(&run->cfg, run->choice.path, &diags) != S2R_OK) {
        for (size_t i = 0; i < diags.n; i++) {
            char *line = s2r_diag_format(&diags.v[i]);
            fprintf(stderr, "%s\n", line ? line : "s2r migrate: bad site "
                                                  "file");
            free(line);
        }
        if (!diags.n)
            fprintf(stderr, "s2r migrate: %s: cannot open the site file\n",
                    run->choice.path);
        s2r_diags_clear(&diags);
        return 1;
    }
    s2r_diags_clear(&diags);
    /* the local user submits: their identity (each script's folder is
     * its submit directory); root converting other users' scripts, when
     * the site file names no UID: each script's owner, as SLURM runs a
     * job as the user who submitted it, never as root unasked */
    run->owners = run->cfg.uid < 0 && getuid() == 0;
    if (s2r_config_local_defaults(&run->cfg)) {
        fprintf(stderr, "s2r migrate: out of memory\n");
        return 1;
    }
    const char *fmt = a->format ? a->format
                      : run->cfg.format ? run->cfg.format : "cli";
    if (parse_formats(fmt, &run->formats))
        return 2;
    if (a->submit_dir && !(run->submit_dir = s2r_submit_dir_path(a->submit_dir))) {
        fprintf(stderr, "s2r migrate: --submit-dir %s: %s\n", a->submit_dir,
                strerror(errno));
        return 2;
    }
    if ((remote || (run->cfg.provider &&
                    strcmp(run->cfg.provider, "rules") != 0)) &&
        !(run->provider = (s2r_provider_glue)s2r_runtime_symbol(
              "s2r_cmd_convert_with_provider"))) {
        fprintf(stderr, "s2r migrate: the provider %s needs the provider "
                        "plugins (libs2r-runtime.so)\n",
                remote ? "S2R_API_ENDPOINT names" : run->cfg.provider);
        return 1;
    }
    return -1;
}

static int open_spools(mg_run *run)
{
    FILE **spools[] = {&run->spool_json, &run->spool_md, &run->spool_html,
        &run->spool_skip_json, &run->spool_skip_md, &run->spool_problem_md,
        &run->spool_skip_html};
    for (size_t i = 0; i < sizeof(spools) / sizeof(spools[0]); i++)
        if (!(*spools[i] = tmpfile()))
            return errno;
    return 0;
}

static void close_spools(mg_run *run)
{
    FILE *spools[] = {run->spool_json, run->spool_md, run->spool_html,
        run->spool_skip_json, run->spool_skip_md, run->spool_problem_md,
        run->spool_skip_html};
    for (size_t i = 0; i < sizeof(spools) / sizeof(spools[0]); i++)
        if (spools[i])
            fclose(spools[i]);
}

/* Room for the open folders of the walk (MG_LIVE_DIRS, two each). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 &&
        rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int start(mg_run *run)
{
    run->qcap = MG_QUEUE;
    run->ring_cap = 2 * MG_QUEUE;
    run->queue = calloc(run->qcap, sizeof(*run->queue));
    run->ring = calloc(run->ring_cap, sizeof(*run->ring));
    if (!run->queue || !run->ring)
        return ENOMEM;
    pthread_mutex_init(&run->lock, NULL);
    pthread_mutex_init(&run->emit_lock, NULL);
    pthread_mutex_init(&run->out_lock, NULL);
    pthread_cond_init(&run->can_push, NULL);
    pthread_cond_init(&run->can_pop, NULL);
    pthread_cond_init(&run->progress_cv, NULL);
    run->first_row = run->first_skip = true;
    run->started = now_s();
    return open_spools(run);
}

static int run_all(mg_run *run)
{
    pthread_t walker;
    pthread_t *workers = calloc((size_t)run->jobs, sizeof(*workers));
    if (!workers || pthread_create(&walker, NULL, mg_walk_main, run)) {
        free(workers);
        return ENOMEM;
    }
    int n = 0;
    while (n < run->jobs &&
           pthread_create(&workers[n], NULL, worker_main, run) == 0)
        n++;
    if (n == 0)
        worker_main(run); /* no thread could start: work here */
    pthread_join(walker, NULL);
    wait_with_progress(run, workers, n);
    free(workers);
    return 0;
}

static int finish_reports(mg_run *run)
{
    char *err = NULL;
    int bad = mg_report_write(run, &err) || mg_html_write(run, &err) ||
              mg_site_write(run, &err);
    if (bad)
        fprintf(stderr, "s2r migrate: %s\n", err ? err : "cannot write the "
                                                         "reports");
    free(err);
    if (mg_manifest_close(run)) {
        fprintf(stderr, "s2r migrate: %s/.s2r-manifest: %s\n", run->outdir,
                strerror(errno));
        bad = 1;
    }
    return bad;
}

static void summary(const mg_run *run)
{
    const mg_totals *t = &run->totals;
    printf("s2r migrate: %ld batch script%s in %ld files: %ld converted, "
           "%ld with warnings, %ld refused, %ld failed; %ld skipped.\n"
           "Reports: %s/report.html, report.md, report.json; site: "
           "%s/suggested-site.ini\n", t->scripts, t->scripts == 1 ? "" : "s",
           t->files, t->by_status[MG_CONVERTED], t->by_status[MG_WARNINGS],
           t->by_status[MG_REFUSED], t->by_status[MG_FAILED], t->skipped,
           run->outdir, run->outdir);
}

static void cleanup(mg_run *run)
{
    close_spools(run);
    mg_site_free(&run->site);
    mg_map_free(&run->old_manifest);
    if (run->manifest)
        fclose(run->manifest);
    if (run->out_fd > 0)
        close(run->out_fd);
    free(run->queue);
    free(run->ring);
    free(run->submit_dir);
    s2r_config_free(&run->cfg);
    s2r_config_choice_free(&run->choice);
}

int s2r_cmd_migrate(int argc, char **argv)
{
    mg_run run;
    memset(&run, 0, sizeof(run));
    s2r_config_defaults(&run.cfg);
    run.outdir = "s2r-out";
    run.jobs = cores();
    run.out_fd = -1;
    mg_args a = {0};
    int st = parse_args(argc, argv, &run, &a);
    if (st < 0)
        st = configure(&run, &a);
    if (st >= 0) {
        cleanup(&run);
        return st;
    }
    run.progress = !run.quiet && isatty(STDERR_FILENO);
    raise_fd_limit();
    char *err = NULL;
    int status = 1;
    if (mg_outdir_open(&run, &err)) {
        fprintf(stderr, "s2r migrate: %s\n", err ? err : "OUTDIR");
        free(err);
    } else if (start(&run) || run_all(&run)) {
        fprintf(stderr, "s2r migrate: %s\n", strerror(errno ? errno : ENOMEM));
    } else if (!finish_reports(&run)) {
        if (!run.quiet)
            summary(&run);
        if (!run.totals.scripts && !run.quiet)
            fprintf(stderr, "s2r migrate: no batch script (a file with "
                            "#SBATCH lines) found\n");
        status = run.totals.by_status[MG_REFUSED] ||
                 run.totals.by_status[MG_FAILED];
    }
    cleanup(&run);
    return status;
}
