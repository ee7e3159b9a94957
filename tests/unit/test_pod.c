/* test_pod.c: what every pod runs around the script's command (core/runai
 * pod_script.c, pod_env.c, logs.c): sbatch's filename patterns as shell
 * words, the folder of a log file, the SLURM variables of array tasks,
 * and the pod script run for real by bash: one SLURM_JOB_ID for all pods
 * of a workload, output and error copied to their files and the
 * container log, stdin, the exit status and every argv byte kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <s2r/s2r.h>

#include "runai/pod.h"

static void base(s2r_workload *wl)
{
    memset(wl, 0, sizeof(*wl));
    wl->kind = S2R_WL_STANDARD;
    wl->name = strdup("sweep");
    wl->image = strdup("img");
    wl->run_as_gid = -1;
}

static char *word(const char *pattern, const s2r_workload *wl)
{
    s2r_buf b = {0};
    s2r_pod__file_word(&b, pattern, wl);
    return s2r_buf_finish(&b);
}

static void assert_word(const char *pattern, const s2r_workload *wl,
                        const char *want)
{
    char *w = word(pattern, wl);
    if (strcmp(w, want))
        fail_msg("%s: want %s, got %s", pattern, want, w);
    free(w);
}

static void test_pod__filename_patterns(void **state)
{
    (void)state;
    s2r_workload wl;
    base(&wl);
    assert_word("slurm-%j.out", &wl, "\"slurm-${SLURM_JOB_ID}.out\"");
    assert_word("%x.%J.%s", &wl, "\"${SLURM_JOB_NAME}.${SLURM_JOB_ID}.batch\"");
    /* without --array: %A is the job id, %a Slurm's NO_VAL */
    assert_word("%A_%a_%b", &wl, "\"${SLURM_JOB_ID}_4294967294_4\"");
    assert_word("n%n-t%t-%N", &wl, "\"n0-t0-${HOSTNAME%%.*}\"");
    assert_word("%u/%r", &wl, "\"${USER:-$(id -un)}/${SLURM_RESTART_COUNT:-0}\"");
    wl.user = strdup("us$er");
    assert_word("%u", &wl, "\"us\\$er\"");
    /* zero padding (at most 10), %%, unknown symbols, a trailing % */
    assert_word("job%4j.out", &wl,
                "\"job$(printf %04d \"${SLURM_JOB_ID}\").out\"");
    assert_word("%12j", &wl, "\"$(printf %010d \"${SLURM_JOB_ID}\")\"");
    assert_word("100%%-%q-%3q-x%", &wl, "\"100%-%q-%3q-x%\"");
    /* a backslash turns every replacement off */
    assert_word("a\\%j_%x \"$q\"", &wl, "\"a%j_%x \\\"\\$q\\\"\"");
    wl.completions = 4;
    assert_word("logs/sweep_%A_%a.out", &wl,
                "\"logs/sweep_${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.out\"");
    assert_word("%2b", &wl,
                "\"$(printf %02d \"$((SLURM_ARRAY_TASK_ID % 10))\")\"");
    s2r_workload_free(&wl);
}

static void test_pod__file_folders(void **state)
{
    (void)state;
    struct {
        const char *pattern, *workdir, *want;
    } cases[] = {
        {"logs/%j.out", "/project/x", "/project/x/logs"},
        {"out.txt", "/project/x", "/project/x"},
        {"../shared/%j/o.log", "/project/x", "/project/shared"},
        {"/scratch/%u/logs/o", "/project/x", "/scratch"},
        {"/scratch/a/b.out", NULL, "/scratch/a"},
        {"/o.out", NULL, "/"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *f = s2r_pod__file_folder(cases[i].pattern, cases[i].workdir);
        assert_non_null(f);
        assert_string_equal(f, cases[i].want);
        free(f);
    }
    assert_null(s2r_pod__file_folder("logs/x", NULL));
    assert_null(s2r_pod__file_folder("/dev/null", "/x"));
}

/* ---- running the pod script --------------------------------------- */

/* Run @p argv in the folder @p dir (64 bytes; "" makes a fresh one, left
 * there) with @p env ("K=V" NULL-terminated, may be NULL) added; stdout
 * into *@p out (malloc'd). Returns the exit status. */
static int run_pod(const s2r_pod_args *argv, const char *const *env,
                   char **out, char *dir)
{
    if (!dir[0]) {
        strcpy(dir, "/tmp/s2r-pod-XXXXXX");
        assert_non_null(mkdtemp(dir));
    }
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        dup2(pipefd[1], 1);
        if (chdir(dir) != 0)
            _exit(126);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execvp(argv->v[0], (char *const *)argv->v);
        _exit(127);
    }
    close(pipefd[1]);
    s2r_buf b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0)
        s2r_buf_putn(&b, chunk, (size_t)n);
    close(pipefd[0]);
    int st;
    waitpid(pid, &st, 0);
    *out = s2r_buf_finish(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    s2r_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        s2r_buf_putn(&b, chunk, n);
    fclose(f);
    return s2r_buf_finish(&b);
}

static void rm_rf(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_pod__one_job_id_for_every_pod(void **state)
{
    (void)state;
    s2r_workload wl;
    base(&wl);
    s2r_strv cmd = {0};
    s2r_pod_args argv = {0};
    const char *c[] = {"bash", "-c",
                       "echo \"$SLURM_JOB_ID $SLURM_JOBID $SLURM_NODEID "
                       "$SLURM_PROCID $SLURM_SUBMIT_DIR\"", NULL};
    for (size_t i = 0; c[i]; i++)
        s2r_strv_push(&cmd, c[i]);
    assert_int_equal(s2r_pod_args_make(&argv, &wl, &cmd), S2R_OK);
    const char *env[] = {"RUNAI_JOB_UUID=6f9619ff-8b86-d011-b42d-00cf4fc964ff",
                         NULL};
    char dir[64] = "", *a = NULL, *b = NULL;
    assert_int_equal(run_pod(&argv, env, &a, dir), 0);
    /* another pod of the same workload */
    assert_int_equal(run_pod(&argv, env, &b, dir), 0);
    /* a number, the same in both pods, and the batch task's ranks */
    assert_string_equal(a, b);
    unsigned long id = strtoul(a, NULL, 10);
    assert_true(id > 0);
    char want[128];
    snprintf(want, sizeof(want), "%lu %lu 0 0 %s\n", id, id, dir);
    assert_string_equal(b, want);
    free(a);
    free(b);
    rm_rf(dir);
    s2r_strv_clear(&cmd);
    s2r_pod_args_free(&argv);
    s2r_workload_free(&wl);
}

/* --array=1,3,5-7,10-20:5: the task ids and job ids of the tasks */
static void test_pod__array_tasks(void **state)
{
    (void)state;
    s2r_workload wl;
    base(&wl);
    int32_t ix[] = {1, 3, 5, 6, 7, 10, 15, 20};
    wl.completions = 8;
    wl.array_indices = malloc(sizeof(ix));
    memcpy(wl.array_indices, ix, sizeof(ix));
    wl.n_array_indices = 8;
    s2r_strv cmd = {0};
    s2r_pod_args argv = {0};
    s2r_strv_push(&cmd, "sh");
    s2r_strv_push(&cmd, "-c");
    s2r_strv_push(&cmd, "echo $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_JOB_ID "
                        "$SLURM_JOB_ID");
    s2r_strv_push(&cmd, "sh");
    assert_int_equal(s2r_pod_args_make(&argv, &wl, &cmd), S2R_OK);
    unsigned long first_job = 0;
    for (int k = 0; k < 8; k++) {
        char idx[40];
        snprintf(idx, sizeof(idx), "JOB_COMPLETION_INDEX=%d", k);
        const char *env[] = {idx, "RUNAI_JOB_UUID=u-1", NULL};
        char dir[64] = "", *out = NULL;
        assert_int_equal(run_pod(&argv, env, &out, dir), 0);
        unsigned long task, array_job, job;
        assert_int_equal(sscanf(out, "%lu %lu %lu", &task, &array_job, &job),
                         3);
        assert_int_equal(task, (unsigned long)ix[k]);
        if (k == 0)
            first_job = array_job;
        assert_int_equal(array_job, first_job);
        assert_int_equal(job, array_job + (unsigned long)k);
        free(out);
        rm_rf(dir);
    }
    s2r_strv_clear(&cmd);
    s2r_pod_args_free(&argv);
    s2r_workload_free(&wl);
}

/* s2r_pod_longest_arg_bound() is never below the exact length: every
 * kind, shell bodies and argvs, patterns with every symbol, padding and
 * a user name to quote, listed arrays, names that need quoting */
static void test_pod__longest_arg_bound(void **state)
{
    (void)state;
    static const char *const patterns[] = {
        NULL, "slurm-%j.out", "%10a%10b%10A%10r%10j%10n%10t",
        "%u%u%u%u/%x.%N.%s.%%\\\"$`", "/dev/null"};
    static const char *const users[] = {NULL, "al$\"ce`\\"};
    static const char *const names[] = {"sweep", "a\"b$c`d\\e"};
    int32_t ix[] = {1, 3, 5, 6, 7, 10, 15, 2000000000};
    for (int kind = 0; kind <= S2R_WL_INFERENCE; kind++)
        for (size_t p = 0; p < 5 * 5 * 5; p++)
            for (int v = 0; v < 8; v++) {
                s2r_workload wl;
                base(&wl);
                wl.kind = (s2r_workload_kind)kind;
                free(wl.name);
                wl.name = strdup(names[v & 1]);
                wl.user = users[(v >> 1) & 1]
                              ? strdup(users[(v >> 1) & 1]) : NULL;
                if (v & 4) {
                    wl.completions = 8;
                    wl.array_indices = malloc(sizeof(ix));
                    memcpy(wl.array_indices, ix, sizeof(ix));
                    wl.n_array_indices = 8;
                }
                const char *o = patterns[p % 5], *e = patterns[p / 5 % 5],
                           *i = patterns[p / 25];
                wl.stdout_file = o ? strdup(o) : NULL;
                wl.stderr_file = e ? strdup(e) : NULL;
                wl.stdin_file = i ? strdup(i) : NULL;
                wl.log_append = p & 1;
                s2r_strv shell = {0}, argv = {0};
                s2r_strv_push(&shell, "bash");
                s2r_strv_push(&shell, "-c");
                s2r_strv_push(&shell, "echo one\necho two");
                s2r_strv_push(&argv, "python");
                s2r_strv_push(&argv, "train.py --epochs 3");
                const s2r_strv *cmds[] = {&shell, &argv};
                for (int c = 0; c < 2; c++)
                    assert_true(s2r_pod_longest_arg_bound(&wl, cmds[c]) >=
                                s2r_pod_longest_arg(&wl, cmds[c]));
                s2r_strv_clear(&shell);
                s2r_strv_clear(&argv);
                s2r_workload_free(&wl);
            }
}

static void test_pod__output_error_input_and_status(void **state)
{
    (void)state;
    s2r_workload wl;
    base(&wl);
    wl.stdout_file = strdup("o-%j.out");
    wl.stderr_file = strdup("e-%x.err");
    wl.stdin_file = strdup("in.txt");
    s2r_envv_set(&wl.env, "SLURM_JOB_NAME", "my job");
    s2r_strv cmd = {0};
    s2r_pod_args argv = {0};
    s2r_strv_push(&cmd, "bash");
    s2r_strv_push(&cmd, "-c");
    s2r_strv_push(&cmd, "read -r line\necho \"out:$line\"\n"
                        "echo err >&2\nexit 3");
    assert_int_equal(s2r_pod_args_make(&argv, &wl, &cmd), S2R_OK);
    const char *env[] = {"RUNAI_JOB_UUID=x", "SLURM_JOB_NAME=my job", NULL};
    char dir[64] = "", *out = NULL;
    /* no in.txt: the shell cannot open stdin and the body never runs */
    assert_int_not_equal(run_pod(&argv, env, &out, dir), 0);
    free(out);
    char path[128];
    snprintf(path, sizeof(path), "%s/in.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    int st = run_pod(&argv, env, &out, dir);
    assert_int_equal(st, 3);                 /* the body's status */
    assert_string_equal(out, "out:hello\n"); /* the container log */
    free(out);
    char *e = slurp(dir, "e-my job.err");
    assert_non_null(e);
    assert_string_equal(e, "err\n");
    free(e);
    /* o-<id>.out holds stdout only */
    char cmdline[200];
    snprintf(cmdline, sizeof(cmdline), "cat %s/o-*.out", dir);
    FILE *p = popen(cmdline, "r");
    char buf[64] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    pclose(p);
    assert_string_equal(buf, "out:hello\n");
    rm_rf(dir);
    s2r_strv_clear(&cmd);
    s2r_pod_args_free(&argv);
    s2r_workload_free(&wl);
}

/* one command: every argv byte reaches it, after the SLURM variables */
static void test_pod__argv_reaches_the_program(void **state)
{
    (void)state;
    static const char nasty[] = "it's $(touch pwned) `x` \"q\" \\ * ?\nl2";
    s2r_workload wl;
    base(&wl);
    wl.stdout_file = strdup("slurm-%j.out");
    s2r_strv cmd = {0};
    s2r_pod_args argv = {0};
    const char *c[] = {"printf", "%s|", nasty, "", "-x", NULL};
    for (size_t i = 0; c[i]; i++)
        s2r_strv_push(&cmd, c[i]);
    assert_int_equal(s2r_pod_args_make(&argv, &wl, &cmd), S2R_OK);
    assert_string_equal(argv.v[3], "s2r-job");
    char dir[64] = "", *out = NULL;
    assert_int_equal(run_pod(&argv, NULL, &out, dir), 0);
    char want[128];
    snprintf(want, sizeof(want), "%s||-x|", nasty);
    assert_string_equal(out, want);
    char cmdline[128];
    snprintf(cmdline, sizeof(cmdline), "ls %s | grep -c '^slurm-[0-9]*\\.out$'",
             dir);
    FILE *p = popen(cmdline, "r");
    char buf[16] = "";
    assert_non_null(fgets(buf, sizeof(buf), p));
    pclose(p);
    assert_string_equal(buf, "1\n");
    assert_int_not_equal(access("pwned", F_OK), 0);
    free(out);
    rm_rf(dir);
    s2r_pod_args_free(&argv);
    /* entrypoint arguments cannot be wrapped: unchanged */
    wl.command_is_args = true;
    assert_int_equal(s2r_pod_args_make(&argv, &wl, &cmd), S2R_OK);
    assert_int_equal(argv.n, cmd.n);
    assert_string_equal(argv.v[0], "printf");
    s2r_strv_clear(&cmd);
    s2r_pod_args_free(&argv);
    s2r_workload_free(&wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod__filename_patterns),
        cmocka_unit_test(test_pod__file_folders),
        cmocka_unit_test(test_pod__one_job_id_for_every_pod),
        cmocka_unit_test(test_pod__array_tasks),
        cmocka_unit_test(test_pod__longest_arg_bound),
        cmocka_unit_test(test_pod__output_error_input_and_status),
        cmocka_unit_test(test_pod__argv_reaches_the_program),
    };
    return cmocka_run_group_tests_name("pod", tests, NULL, NULL);
}
