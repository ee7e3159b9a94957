/* test_body_lines.c: never a lost line. For every script of the shared
 * corpus (../shared/corpus beside the source tree) and of tests/corpus,
 * each statement of the body either reaches the pod's command (every
 * word of it appears in what the pod runs: the command, the MPI launcher
 * or the MPI workers) or a warning or note names one of its lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>

#include "base/base.h"
#include "shell/shell.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, (1 << 20) + 1);
    *len = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

/* where the body starts: the first line that is neither blank nor a
 * comment (sbatch stops reading directives there) */
static size_t body_start(const char *buf, int *line)
{
    size_t off = 0;
    *line = 1;
    for (;;) {
        const char *nl = strchr(buf + off, '\n');
        size_t end = nl ? (size_t)(nl - buf) : strlen(buf);
        size_t i = off + strspn(buf + off, " \t\r");
        if (*line > 1 && i < end && buf[i] != '#')
            return off;
        if (!nl)
            return end;
        off = end + 1;
        (*line)++;
    }
}

static void put_strv(s2r_buf *b, const s2r_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        s2r_buf_puts(b, sv->v[i]);
        s2r_buf_putn(b, "\n", 1);
    }
}

static bool named(const s2r_diags *d, int from, int to)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].line >= from && d->v[i].line <= to)
            return true;
    return false;
}

static bool reaches(const sh_stmt *st, const char *pod)
{
    for (size_t k = 0; k < st->ncmds; k++)
        for (size_t j = 0; j < st->cmds[k].nwords; j++) {
            const char *v = st->cmds[k].words[j].value;
            if (v && *v && !strstr(pod, v))
                return false;
        }
    return true;
}

/* one script: every statement accounted for; returns the statements */
static int check_script(const char *path, const char *name)
{
    size_t len = 0;
    char *buf = read_file(path, &len);
    assert_non_null(buf);
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags d = {0};
    s2r_job job;
    s2r_workload wl;
    memset(&wl, 0, sizeof(wl));
    int n = 0;
    if (s2r_job_parse(&job, path, buf, len, &cfg, &d) == S2R_OK &&
        s2r_rules_convert(&wl, &job, &cfg, &d) == S2R_OK) {
        s2r_buf pod = {0};
        put_strv(&pod, &wl.command);
        put_strv(&pod, &wl.launcher_command);
        put_strv(&pod, &wl.worker_command);
        for (size_t i = 0; i < wl.env.n; i++)
            s2r_buf_printf(&pod, "%s=%s\n", wl.env.v[i].name,
                           wl.env.v[i].value);
        if (wl.workdir)
            s2r_buf_puts(&pod, wl.workdir);
        int line;
        size_t off = body_start(buf, &line);
        sh_body b;
        assert_int_equal(sh_lex(&b, buf + off, len - off, line), 0);
        for (size_t i = 0; i < b.n; i++, n++) {
            const sh_stmt *st = &b.stmts[i];
            if (!named(&d, st->line, st->end_line) &&
                !reaches(st, pod.p ? pod.p : ""))
                fail_msg("%s: lines %d-%d reach neither the pod's command "
                         "nor a warning or note", name, st->line,
                         st->end_line);
        }
        sh_body_free(&b);
        s2r_buf_free(&pod);
    }
    s2r_workload_free(&wl);
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
    free(buf);
    return n;
}

static int check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int statements = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 7 || strcmp(e->d_name + l - 7, ".sbatch"))
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        statements += check_script(path, e->d_name);
    }
    closedir(d);
    return statements;
}

static void test_body_lines__shared_corpus(void **state)
{
    (void)state;
    const char *src = getenv("S2R_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/../shared/corpus", src ? src : ".");
    int n = check_dir(dir);
    if (n < 0)
        skip();
    assert_true(n > 100);
}

static void test_body_lines__tests_corpus(void **state)
{
    (void)state;
    const char *src = getenv("S2R_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/corpus", src ? src : ".");
    assert_true(check_dir(dir) > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_lines__shared_corpus),
        cmocka_unit_test(test_body_lines__tests_corpus),
    };
    return cmocka_run_group_tests_name("body_lines", tests, NULL, NULL);
}
