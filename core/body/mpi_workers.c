/* mpi_workers.c: what the worker pods of an MPIJob run before sshd. The
 * launcher pod runs the script; the ranks run on the workers, so set-up
 * lines before the launch that make files the ranks read (a here-document
 * that writes the input, mkdir, cp, tar, wget, exports and assignments
 * they use) run on every worker too (job->worker_setup). Programs, srun
 * steps and lines that remove files run on the launcher only. See
 * analysis.h. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* commands that make or place files, or set what later ones read */
static bool makes_files(const sh_cmd *cm)
{
    static const char *const always[] = {
        "cd", "mkdir", "cp", "ln", "tar", "unzip", "gunzip", "bunzip2",
        "xz", "rsync", "wget", "curl", "touch", "mv", "install", "chmod",
        "export", "set", "ulimit", "umask", "source", ".", "declare",
        "readonly", "tee", "sed", NULL};
    static const char *const redirected[] = {"cat", "echo", "printf",
                                             "envsubst", NULL};
    const sh_word *w = s2r_body__cmd_word(cm);
    if (!w)
        return cm->nwords > 0; /* assignments only */
    if (!w->value)
        return false;
    const char *p = s2r_body__base_name(w->value);
    if (s2r_body__list_has(always, p))
        return strcmp(p, "sed") || cm->has_redir ||
               (w + 1 < cm->words + cm->nwords && w[1].value &&
                !strncmp(w[1].value, "-i", 2));
    return cm->has_redir && s2r_body__list_has(redirected, p);
}

static bool stmt_makes_files(const sh_stmt *st)
{
    if (st->background || st->ncmds == 0)
        return false;
    for (size_t k = 0; k < st->ncmds; k++)
        if (!makes_files(&st->cmds[k]))
            return false;
    return true;
}

void s2r_body__worker_setup(ctx *c, const analysis *a)
{
    s2r_job *job = c->job;
    if (job->distributed != S2R_DIST_MPI || job->nodes <= 1 ||
        a->main == (size_t)-1)
        return;
    s2r_buf t = {0};
    char lines[128] = "";
    size_t ll = 0;
    for (size_t i = 0; i < a->main; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if (a->kind[i] != ST_KEEP || !stmt_makes_files(st) ||
            s2r_body__stmt_text_has(&a->body, st, "srun"))
            continue;
        s2r_buf_putn(&t, a->body.src + st->start, st->end - st->start);
        s2r_buf_putn(&t, "\n", 1);
        if (ll + 16 < sizeof(lines))
            ll += (size_t)snprintf(lines + ll, sizeof(lines) - ll, "%s%d",
                                   ll ? ", " : "", st->line);
    }
    if (t.oom)
        c->oom = true;
    if (!t.p) {
        s2r_body__note(c, job->main_line, "the MPIJob's workers start sshd "
                       "only; the script runs on the launcher pod");
        return;
    }
    job->worker_setup = s2r_buf_finish(&t);
    if (!job->worker_setup)
        c->oom = true;
    s2r_body__note(c, job->main_line, "the MPIJob's worker pods run line(s) "
                   "%s (set-up that makes files the ranks read) before sshd; "
                   "the rest of the script runs on the launcher pod", lines);
}
