/* pod_script.c: the one place that assembles what a pod's container runs
 * (see pod.h). Every emitter (CLI, YAML, REST JSON) and every pod of a
 * workload (PyTorch master and workers, the MPI launcher) gets the same
 * script, `bash -c SCRIPT [s2r-job ARGV...]`, built in this order:
 *
 *   1. the SLURM environment: the variables only the running pod knows
 *      (SLURM_JOB_ID, SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID,
 *      SLURM_NODEID, SLURM_PROCID; pod_env.c). The ones the directives
 *      fix are container variables already.
 *   2. the working directory: the container starts in it (CLI
 *      --working-dir, YAML and REST workingDir, set by every emitter from
 *      wl->workdir), so the script does not cd.
 *   3. the log redirection: stdout and stderr copied (tee) to the files
 *      of -o and -e (logs.c), so they stay in the container log that
 *      `runai ... logs` shows; stdin from -i. A comment line gives the
 *      patterns as sbatch read them.
 *   4. the srun stand-in: not added here. A body that runs srun steps
 *      starts with it already (rules' set_command puts s2r_srun_standin()
 *      in front of the bash body), so it is part of 5.
 *   5. the body: the script's own command, a bash body, or "$@" for one
 *      command given as arguments after the script (so every argv string
 *      reaches the program byte for byte).
 *
 * With output files, the body runs in a brace group at the head of a
 * pipeline into tee, and the script exits with the body's status
 * (${PIPESTATUS[0]}): bash waits for the tee, so the file is complete
 * when the pod ends. Without them, one command is exec'ed. */
#include "pod.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell/shell.h"

/* The name $0 has in the script for one command. */
#define ARGV0 "s2r-job"

static bool has_logs(const s2r_workload *wl)
{
    return wl->stdout_file || wl->stderr_file || wl->stdin_file;
}

bool s2r_pod_wraps(const s2r_workload *wl, const s2r_strv *cmd)
{
    return cmd->n > 0 && !(wl->command_is_args && wl->kind != S2R_WL_MPI);
}

/* The body: the bash text of `bash -c BODY`, or "$@" for an argv. */
static void put_body(s2r_buf *b, const s2r_strv *cmd, bool shell)
{
    if (shell) {
        s2r_buf_puts(b, cmd->v[2]);
        if (b->len && b->p[b->len - 1] != '\n')
            s2r_buf_putn(b, "\n", 1);
    } else {
        s2r_buf_puts(b, "\"$@\"\n");
    }
}

/* tee [-a] -- "FILE", deaf to SIGTERM so that it writes what the job
 * prints while it stops */
static void tee(s2r_buf *b, const s2r_workload *wl, const char *pattern,
                bool multi)
{
    s2r_buf_puts(b, wl->log_append || multi ? "{ trap '' TERM; exec tee -a -- "
                                            : "{ trap '' TERM; exec tee -- ");
    s2r_pod__file_word(b, pattern, wl);
    s2r_buf_puts(b, "; }");
}

/* The job runs in the background of the pod's first process, which
 * Kubernetes stops with SIGTERM: that process passes it on to every
 * process of the job, as scancel(1) signals them all (a bash in the
 * foreground of a pipeline would not run its trap before the pipeline
 * ends), then waits for the job and exits with its status. */
static void pass_on_sigterm(s2r_buf *b)
{
    s2r_buf_puts(b, ") &\n"
                    "s2r_job=$!\n"
                    "trap 's2r_term=1; trap \"\" TERM; kill -TERM 0 "
                    "2>/dev/null' TERM\n"
                    "wait \"$s2r_job\"; s2r_rc=$?\n"
                    "[ -z \"${s2r_term:-}\" ] || { wait \"$s2r_job\"; "
                    "s2r_rc=$?; }\n"
                    "exit \"$s2r_rc\"\n");
}

/* 3 and 5: the body, its input and its output files. The error file
 * takes fd 2 through a pipe while fd 3 carries stdout on. */
static void body_with_files(s2r_buf *b, const s2r_workload *wl,
                            const s2r_strv *cmd, bool shell)
{
    /* several pods write the batch output: each appends */
    bool multi = wl->kind == S2R_WL_PYTORCH;
    const char *out = wl->stdout_file, *err = wl->stderr_file;
    if (err && out && !strcmp(err, out))
        err = NULL;
    /* the patterns as sbatch read them, for the reader of the script */
    s2r_buf_puts(b, "# sbatch");
    const char *names[] = {" -o ", " -e ", " -i "};
    const char *pats[] = {out, err, wl->stdin_file};
    for (int i = 0; i < 3; i++)
        if (pats[i] && !strchr(pats[i], '\n')) {
            s2r_buf_puts(b, names[i]);
            s2r_buf_puts(b, pats[i]);
        }
    /* the wrappers outlive SIGTERM (a no-op trap, which the body's own
     * subshell does not inherit) so that the body finishes its trap */
    s2r_buf_puts(b, "\n(\ntrap : TERM\n");
    s2r_buf_puts(b, err ? "{ trap : TERM; { " : "{ ");
    put_body(b, cmd, shell);
    s2r_buf_puts(b, "}");
    if (wl->stdin_file) {
        s2r_buf_puts(b, " < ");
        s2r_pod__file_word(b, wl->stdin_file, wl);
    }
    if (err) {
        s2r_buf_puts(b, " 2>&1 1>&3 3>&- | ");
        tee(b, wl, err, multi);
        s2r_buf_puts(b, " >&2 3>&-; exit \"${PIPESTATUS[0]}\"; } 3>&1");
    }
    if (out) {
        s2r_buf_puts(b, err ? " | " : " 2>&1 | ");
        tee(b, wl, out, multi);
    }
    s2r_buf_puts(b, "\nexit \"${PIPESTATUS[0]}\"\n");
    pass_on_sigterm(b);
}

/* The SCRIPT of bash -c. */
static char *script_text(const s2r_workload *wl, const s2r_strv *cmd,
                         bool shell)
{
    s2r_buf b = {0};
    s2r_buf_reserve(&b, 2048); /* the SLURM variables alone are 0.5-1 KB */
    s2r_pod__slurm_env(&b, wl);  /* 1 (2: the container's workingDir) */
    if (has_logs(wl))
        body_with_files(&b, wl, cmd, shell); /* 3 and 5 */
    else if (shell)
        put_body(&b, cmd, true);              /* 5 */
    else
        s2r_buf_puts(&b, "exec \"$@\"\n");    /* 5 */
    return s2r_buf_finish(&b);
}

/* a bash body (bash -c BODY) is run in place, anything else as "$@" */
static bool is_shell_body(const s2r_strv *cmd)
{
    return cmd->n == 3 && !strcmp(cmd->v[0], "bash") &&
           !strcmp(cmd->v[1], "-c");
}

static size_t longest(const s2r_strv *sv)
{
    size_t m = 0;
    for (size_t i = 0; i < sv->n; i++) {
        size_t n = strlen(sv->v[i]);
        m = n > m ? n : m;
    }
    return m;
}

size_t s2r_pod_longest_arg(const s2r_workload *wl, const s2r_strv *cmd)
{
    if (!s2r_pod_wraps(wl, cmd))
        return longest(cmd);
    bool shell = is_shell_body(cmd);
    char *script = script_text(wl, cmd, shell);
    size_t m = script ? strlen(script) : 0;
    free(script);
    /* the rest: "bash" and "-c"; for one command, ARGV0 and its words */
    size_t rest = shell ? strlen("bash") : sizeof(ARGV0) - 1;
    if (!shell && longest(cmd) > rest)
        rest = longest(cmd);
    return m > rest ? m : rest;
}

/* Bytes of the script's own text, which holds none of the workload's
 * strings (the SLURM variables, the log wrappers, the SIGTERM relay): at
 * most about 1.3 KB, counted here with room to spare. */
#define SCRIPT_TEXT_MAX 4096
/* Bytes one character of a filename pattern becomes at most, the user
 * name of %u aside: a %NX symbol, $(printf %0Nd "...") around the longest
 * number, or a quoted byte. */
#define PATTERN_CHAR_MAX 64

/* A + B, or SIZE_MAX when that does not fit. */
static size_t add_or_max(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* A pattern's share of the script: in the comment line as it is, and as
 * a shell word (pod__file_word) once; SIZE_MAX for one too long to
 * count on. */
static size_t pattern_bound(const char *pattern, const s2r_workload *wl)
{
    if (!pattern)
        return 0;
    size_t n = strlen(pattern), user = wl->user ? strlen(wl->user) : 0;
    if (n > 4096 || user > 4096)
        return SIZE_MAX;
    return n * (1 + PATTERN_CHAR_MAX + 2 * user);
}

size_t s2r_pod_longest_arg_bound(const s2r_workload *wl, const s2r_strv *cmd)
{
    size_t words = longest(cmd);
    if (!s2r_pod_wraps(wl, cmd))
        return words;
    size_t m = SCRIPT_TEXT_MAX + 2 * (wl->name ? strlen(wl->name) : 0);
    m = add_or_max(m, S2R_I64_TEXT * wl->n_array_indices);
    m = add_or_max(m, pattern_bound(wl->stdout_file, wl));
    m = add_or_max(m, pattern_bound(wl->stderr_file, wl));
    m = add_or_max(m, pattern_bound(wl->stdin_file, wl));
    if (is_shell_body(cmd))
        return add_or_max(m, words);
    return m > words ? m : words;
}

int s2r_pod_args_make(s2r_pod_args *out, const s2r_workload *wl,
                      const s2r_strv *cmd)
{
    memset(out, 0, sizeof(*out));
    bool wraps = s2r_pod_wraps(wl, cmd), shell = wraps && is_shell_body(cmd);
    /* bash -c SCRIPT [ARGV0 WORDS...], or the words alone; a NULL last */
    size_t n = !wraps ? cmd->n : shell ? 3 : 4 + cmd->n;
    if (!(out->v = malloc((n + 1) * sizeof(*out->v))))
        return S2R_ENOMEM;
    size_t k = 0;
    if (wraps) {
        if (!(out->script = script_text(wl, cmd, shell))) {
            s2r_pod_args_free(out);
            return S2R_ENOMEM;
        }
        out->v[k++] = "bash";
        out->v[k++] = "-c";
        out->v[k++] = out->script;
        if (!shell)
            out->v[k++] = ARGV0;
    }
    for (size_t i = 0; !shell && i < cmd->n; i++)
        out->v[k++] = cmd->v[i];
    out->v[k] = NULL;
    out->n = k;
    return S2R_OK;
}

void s2r_pod_args_free(s2r_pod_args *a)
{
    free(a->v);
    free(a->script);
    memset(a, 0, sizeof(*a));
}
