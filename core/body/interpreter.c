/* interpreter.c: a batch script for an interpreter other than a shell
 * (#!/usr/bin/perl, #!/usr/bin/env python3, Rscript, node, julia ...).
 *
 * Per sbatch(1), the batch script is copied and that copy is executed:
 * the kernel runs the interpreter of its #! line with, per execve(2)
 * "Interpreter scripts", the line's one optional argument, the copy's
 * path and the script's arguments. The pod does the same: bash writes the
 * script's text, given as an argument of its own (so every byte reaches
 * the file as it is), to a new file under $TMPDIR, makes it executable and
 * execs the #! line on it:
 *
 *   bash -c LAUNCHER s2r-job SCRIPT_TEXT
 *
 * so the program's own name for its file works (perl's $0, Python's
 * __file__ and sys.argv[0], R's --file=, node's __filename) as under
 * sbatch, and `perl -c` or `node -c` (a syntax check) are never run. */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

/* The #! line as Linux reads it (fs/binfmt_script.c): after "#!", blanks,
 * the interpreter up to a blank, blanks, then the rest of the line, its
 * trailing blanks cut, as one optional argument. @p interp and @p arg are
 * malloc'd (arg NULL when the line has none; interp NULL for a line that
 * names none, which core/slurm refuses before); false on ENOMEM. */
static bool hashbang_line(const char *buf, size_t len, char **interp,
                          char **arg)
{
    *interp = *arg = NULL;
    const char *nl = memchr(buf, '\n', len);
    const char *e = nl ? nl : buf + len, *p = buf + 2;
    if (len < 2 || memcmp(buf, "#!", 2))
        return true;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    const char *q = p;
    while (q < e && *q != ' ' && *q != '\t')
        q++;
    if (q == p)
        return true;
    const char *a = q;
    while (a < e && (*a == ' ' || *a == '\t'))
        a++;
    while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *interp = strndup(p, (size_t)(q - p));
    if (e > a)
        *arg = strndup(a, (size_t)(e - a));
    if (!*interp || (e > a && !*arg)) {
        free(*interp);
        free(*arg);
        *interp = *arg = NULL;
        return false;
    }
    return true;
}

/* The bash text that writes "$1" to a file and execs the #! line on it
 * with the rest of its arguments. An absolute interpreter the image
 * lacks (#!/usr/bin/Rscript, where the image has /usr/local/bin/Rscript)
 * is the one of that name on PATH, as the program of an `INTERPRETER
 * FILE` command line would be. */
static void put_launcher(s2r_buf *b, const char *interp, const char *arg)
{
    bool fallback =
        interp[0] == '/' && strcmp(s2r_body__base_name(interp), "env");
    s2r_buf_puts(b, "s2r_script=$(mktemp \"${TMPDIR:-/tmp}/s2r-job."
                    "XXXXXX\") &&\n"
                    "printf %s \"$1\" >\"$s2r_script\" && "
                    "chmod +x \"$s2r_script\" || exit\n"
                    "shift\n");
    if (fallback) {
        s2r_buf_puts(b, "s2r_interp=");
        s2r_shell_put_quoted(b, interp);
        s2r_buf_puts(b, "\n[ -x \"$s2r_interp\" ] || s2r_interp=");
        s2r_shell_put_quoted(b, s2r_body__base_name(interp));
        s2r_buf_puts(b, "\nexec \"$s2r_interp\"");
    } else {
        s2r_buf_puts(b, "exec ");
        s2r_shell_put_quoted(b, interp);
    }
    if (arg) {
        s2r_buf_puts(b, " ");
        s2r_shell_put_quoted(b, arg);
    }
    s2r_buf_puts(b, " \"$s2r_script\" \"$@\"\n");
}

int s2r_body__run_interpreted(ctx *c, const char *buf, size_t len)
{
    s2r_job *job = c->job;
    char *interp = NULL, *arg = NULL, *text = strndup(buf, len);
    if (!text || !hashbang_line(buf, len, &interp, &arg) ||
        (!interp && !(interp = strdup(job->shebang_shell)))) {
        free(text);
        free(arg);
        return S2R_ENOMEM;
    }
    s2r_buf b = {0};
    put_launcher(&b, interp, arg);
    char *lt = s2r_buf_finish(&b);
    int rc = S2R_OK;
    if (!lt || s2r_strv_push(&job->run_argv, "bash") ||
        s2r_strv_push(&job->run_argv, "-c") ||
        s2r_strv_push(&job->run_argv, lt) ||
        s2r_strv_push(&job->run_argv, "s2r-job") ||
        s2r_strv_push(&job->run_argv, text) ||
        s2r_strv_push(&job->command_tokens, job->shebang_shell))
        rc = S2R_ENOMEM;
    if (rc == S2R_OK)
        s2r_body__note(c, 1,
                       "the script is a %s program: as sbatch runs a "
                       "copy of the script, the pod writes it to a file "
                       "under $TMPDIR and runs its #! line on that file "
                       "('%s%s%s FILE')",
                       job->shebang_shell, interp, arg ? " " : "",
                       arg ? arg : "");
    free(lt);
    free(interp);
    free(arg);
    free(text);
    return rc;
}
