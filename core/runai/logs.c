/* logs.c: sbatch's output, error and input files in the pod (see pod.h):
 * which files (-o, -e, -i, --open-mode, and the default slurm-%j.out),
 * their filename patterns as shell words, and the folder the pod must
 * have mounted for them.
 *
 * Filename patterns per sbatch(1) "filename pattern" and Slurm's
 * expand_stdio_fields(): %A %a %b %J %j %N %n %s %t %u %x %r, %% for a
 * '%', a number between '%' and the letter zero-pads numbers (at most
 * 10), any other %X stays as written, and a backslash anywhere turns the
 * replacement off (the backslashes are dropped). For the batch script %J
 * is the job id, %s is "batch", %n and %t are 0; without --array, %a is
 * 4294967294 (NO_VAL) and %A the job id. */
#include "pod.h"

#include <stdlib.h>
#include <string.h>

/* The batch step's array task id without --array (Slurm's NO_VAL). */
#define NO_ARRAY_TASK "4294967294"

static bool is_array(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_STANDARD && (wl->completions > 0 ||
                                           wl->n_array_indices > 0);
}

/* The @p n literal bytes at @p s inside double quotes: runs copied
 * whole, a backslash before each \ " $ and `. */
static void put_lits(s2r_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\\' || s[i] == '"' || s[i] == '$' || s[i] == '`') {
            s2r_buf_putn(b, s + run, i - run);
            s2r_buf_putn(b, "\\", 1);
            run = i;
        }
    s2r_buf_putn(b, s + run, n - run);
}

/* A number for %X: shell text (inside double quotes) of its value, or
 * NULL when %X is no number. */
static const char *number_of(char x, const s2r_workload *wl)
{
    bool arr = is_array(wl);
    switch (x) {
    case 'A':
        return arr ? "${SLURM_ARRAY_JOB_ID}" : "${SLURM_JOB_ID}";
    case 'a':
        return arr ? "${SLURM_ARRAY_TASK_ID}" : NO_ARRAY_TASK;
    case 'b':
        return arr ? "$((SLURM_ARRAY_TASK_ID % 10))" : "4";
    case 'J':
    case 'j':
        return "${SLURM_JOB_ID}";
    case 'n':
    case 't':
        return "0";
    case 'r':
        return "${SLURM_RESTART_COUNT:-0}";
    default:
        return NULL;
    }
}

/* One %X (padding @p pad, -1 = none) into @p b; false when X is no
 * replacement symbol. */
static bool put_symbol(s2r_buf *b, char x, int pad, const s2r_workload *wl)
{
    const char *num = number_of(x, wl);
    if (num && pad > 0) {
        s2r_buf_puts(b, "$(printf %0");
        s2r_buf_put_i64(b, pad);
        s2r_buf_puts(b, "d \"");
        s2r_buf_puts(b, num);
        s2r_buf_puts(b, "\")");
        return true;
    }
    if (num) {
        s2r_buf_puts(b, num);
        return true;
    }
    if (x == 'x') {
        s2r_buf_puts(b, "${SLURM_JOB_NAME}");
    } else if (x == 's') {
        s2r_buf_puts(b, "batch");
    } else if (x == 'N') {
        s2r_buf_puts(b, "${HOSTNAME%%.*}");
    } else if (x == 'u' && wl->user) {
        put_lits(b, wl->user, strlen(wl->user));
    } else if (x == 'u') {
        s2r_buf_puts(b, "${USER:-$(id -un)}");
    } else {
        return false;
    }
    return true;
}

void s2r_pod__file_word(s2r_buf *b, const char *pattern,
                        const s2r_workload *wl)
{
    s2r_buf_putn(b, "\"", 1);
    if (strchr(pattern, '\\')) {
        /* the bytes but the backslashes */
        for (const char *p = pattern; *p;) {
            size_t n = strcspn(p, "\\");
            put_lits(b, p, n);
            p += n;
            while (*p == '\\')
                p++;
        }
        s2r_buf_putn(b, "\"", 1);
        return;
    }
    for (const char *p = pattern;;) {
        /* the text up to a '%', then the symbol it starts */
        size_t n = strcspn(p, "%");
        put_lits(b, p, n);
        p += n;
        if (!*p)
            break;
        if (!p[1] || p[1] == '%') { /* a '%' at the end, or %% */
            s2r_buf_putn(b, "%", 1);
            p += p[1] ? 2 : 1;
            continue;
        }
        const char *q = p + 1;
        int pad = -1;
        if (*q >= '0' && *q <= '9') {
            char *e;
            long v = strtol(q, &e, 10);
            pad = v > 10 ? 10 : (int)v;
            q = e;
        }
        if (!*q || !put_symbol(b, *q, pad, wl))
            put_lits(b, p, (size_t)(q - p) + (*q ? 1 : 0));
        p = *q ? q + 1 : q;
    }
    s2r_buf_putn(b, "\"", 1);
}

char *s2r_pod__file_folder(const char *pattern, const char *workdir)
{
    if (!pattern || !strncmp(pattern, "/dev/", 5))
        return NULL;
    if (pattern[0] != '/' && (!workdir || workdir[0] != '/'))
        return NULL;
    /* the folder part, up to the folder that holds a replacement symbol */
    const char *slash = strrchr(pattern, '/');
    size_t n = slash ? (size_t)(slash - pattern) : 0;
    const char *pct = strchr(pattern, '%');
    if (pct && !strchr(pattern, '\\') && (size_t)(pct - pattern) < n) {
        const char *s = pct;
        while (s > pattern && *s != '/')
            s--;
        n = (size_t)(s - pattern);
    }
    /* "/FOLDER", or "WORKDIR/FOLDER" */
    size_t w = pattern[0] == '/' ? 0 : strlen(workdir);
    char *joined = malloc(w + 1 + n + 1);
    if (!joined)
        return NULL;
    memcpy(joined, workdir ? workdir : "", w);
    joined[w] = '/';
    memcpy(joined + w + 1, pattern, n);
    joined[w + 1 + n] = '\0';
    char *f = s2r_path_fold(joined);
    free(joined);
    return f;
}
