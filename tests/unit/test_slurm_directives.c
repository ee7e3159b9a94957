/* Unit tests for the #SBATCH scan, tokenizer and option pass
 * (core/slurm/script.c, options.c, setters.c, checks.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "slurm/slurm.h"

typedef struct fx {
    s2r_job job;
    s2r_diags d;
    size_t body_off;
    int body_line;
    int rc;
} fx;

static fx *parse_n(const char *script, size_t len)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->rc = s2r_slurm__parse_directives(&f->job, "t.sbatch", script, len,
                                        &f->d, &f->body_off, &f->body_line);
    return f;
}

static fx *parse(const char *script)
{
    return parse_n(script, strlen(script));
}

static fx *ok(const char *script)
{
    fx *f = parse(script);
    if (f->rc != 0) {
        for (size_t i = 0; i < f->d.n; i++)
            print_error("diag: %s\n", f->d.v[i].message);
    }
    assert_int_equal(f->rc, 0);
    assert_true(f->job.valid);
    return f;
}

static void done(fx *f)
{
    s2r_job_free(&f->job);
    s2r_diags_clear(&f->d);
    free(f);
}

/* Is there a diagnostic of @p sev whose option equals @p opt (NULL: must be
 * NULL; "*": any) and whose message contains @p text? */
static bool has(const fx *f, s2r_severity sev, const char *opt,
                const char *text)
{
    for (size_t i = 0; i < f->d.n; i++) {
        const s2r_diag *g = &f->d.v[i];
        if (g->severity != sev)
            continue;
        if (opt && strcmp(opt, "*") != 0 &&
            (!g->option || strcmp(g->option, opt) != 0))
            continue;
        if (!opt && g->option)
            continue;
        if (text && !strstr(g->message, text))
            continue;
        return true;
    }
    return false;
}

/* refused, with an error naming @p opt (or "*") containing @p text */
static void refused(const char *script, const char *opt, const char *text)
{
    fx *f = parse(script);
    if (!has(f, S2R_SEV_ERROR, opt, text)) {
        for (size_t i = 0; i < f->d.n; i++)
            print_error("diag[%s]: %s\n",
                        f->d.v[i].option ? f->d.v[i].option : "-",
                        f->d.v[i].message);
    }
    assert_int_equal(f->rc, S2R_EINVAL);
    assert_false(f->job.valid);
    assert_true(has(f, S2R_SEV_ERROR, opt, text));
    done(f);
}

static const s2r_directive *dir(const fx *f, const char *name)
{
    for (size_t i = 0; i < f->job.n_directives; i++)
        if (strcmp(f->job.directives[i].name, name) == 0)
            return &f->job.directives[i];
    return NULL;
}

#define SH "#!/bin/bash\n"

/* ------------------------------------------------------------------ */
/* whole-script checks                                                 */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__crlf_refused(void **state)
{
    (void)state;
    refused("#!/bin/bash\r\n#SBATCH -J x\r\necho hi\r\n", NULL,
            "DOS line breaks");
}

static void test_slurm_directives__lone_cr_accepted(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -J x\r -c 2\necho\n"); /* \r is whitespace */
    assert_string_equal(f->job.job_name, "x");
    assert_int_equal(f->job.cpus_per_task, 2);
    done(f);
}

static void test_slurm_directives__missing_shebang_refused(void **state)
{
    (void)state;
    refused("# comment\n#!/bin/bash\n#SBATCH -J x\n", NULL, "#!");
    refused("\n#!/bin/bash\n", NULL, "#!");
    refused(" #!/bin/bash\n", NULL, "#!");
    refused("\xef\xbb\xbf#!/bin/bash\n", NULL, "#!"); /* UTF-8 BOM */
}

static void test_slurm_directives__empty_and_whitespace_refused(void **state)
{
    (void)state;
    refused("", NULL, "empty");
    refused("  \n\t\n", NULL, "whitespace");
}

static void test_slurm_directives__nul_refused(void **state)
{
    (void)state;
    static const char s[] = "#!/bin/bash\n#SBATCH -J x\necho \0 hi\n";
    fx *f = parse_n(s, sizeof(s) - 1);
    assert_int_equal(f->rc, S2R_EINVAL);
    assert_true(has(f, S2R_SEV_ERROR, NULL, "NUL"));
    done(f);
}

/* ------------------------------------------------------------------ */
/* directive scan                                                      */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__body_offset(void **state)
{
    (void)state;
    const char *s = SH "#SBATCH -J a\n\n# note\nset -e\n#SBATCH -J b\n";
    fx *f = ok(s);
    assert_string_equal(f->job.job_name, "a");
    assert_int_equal(f->body_line, 5);
    assert_int_equal(f->body_off, strstr(s, "set -e") - s);
    done(f);
    f = ok(SH "#SBATCH -J a\n");
    assert_int_equal(f->body_line, 3);
    assert_int_equal(f->body_off, strlen(SH "#SBATCH -J a\n"));
    done(f);
    f = ok(SH "#SBATCH -J a"); /* no final newline */
    assert_int_equal(f->body_line, 3);
    done(f);
}

static void test_slurm_directives__after_first_command_ignored(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --mem=8G\nset -euo pipefail\n#SBATCH --mem=64G\n"
                  "#SBATCH --gres=gpu:1\n");
    assert_int_equal(f->job.mem_per_node_mib, 8192);
    assert_int_equal(f->job.gpus_per_node, 0);
    assert_null(dir(f, "gres"));
    assert_int_equal(f->job.n_directives, 1);
    /* warned, without naming the option */
    assert_true(has(f, S2R_SEV_WARNING, NULL,
                    "ignored: #SBATCH after the first command at line 3"));
    assert_false(s2r_diags_has_option(&f->d, "mem"));
    assert_false(s2r_diags_has_option(&f->d, "gres"));
    done(f);
}

static void test_slurm_directives__even_colon_is_a_command(void **state)
{
    (void)state;
    fx *f = ok(SH ":\n#SBATCH -J late\n");
    assert_null(f->job.job_name);
    done(f);
    f = ok(SH "  export X=1\n#SBATCH -J late\n");
    assert_null(f->job.job_name);
    done(f);
}

static void test_slurm_directives__blank_and_comments_continue(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -J a\n\n   \n# text\n  # indented comment\n"
                  "#SBATCH -c 4\n");
    assert_string_equal(f->job.job_name, "a");
    assert_int_equal(f->job.cpus_per_task, 4);
    done(f);
}

/* an unquoted '#' ends the directive as in sbatch; glued to a word it is
 * said, since a pyxis image (nvcr.io#nvidia/...) loses its path */
static void test_slurm_directives__glued_hash_is_warned(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --container-image=nvcr.io#nvidia/pytorch:24.05\n"
                  "#SBATCH -J run # a comment\n");
    assert_true(has(f, S2R_SEV_WARNING, NULL,
                    "the unquoted '#' in '--container-image=nvcr.io#nvidia/"
                    "pytorch:24.05' ends the directive"));
    assert_int_equal(f->d.n, 1); /* a comment after a blank is not said */
    done(f);
}

static void test_slurm_directives__near_misses_are_comments(void **state)
{
    (void)state;
    fx *f = ok(SH "# SBATCH --gres=gpu:1\n##SBATCH --partition=gpu\n"
                  "#sbatch --mem=256G\n  #SBATCH --time=48:00:00\n"
                  "#S BATCH --qos=high\n#SBATCH -c 12\n");
    assert_int_equal(f->job.n_directives, 1);
    assert_int_equal(f->job.cpus_per_task, 12);
    assert_int_equal(f->job.gpus_per_node, 0);
    assert_int_equal(f->job.time_limit_s, S2R_TIME_UNSET);
    assert_true(has(f, S2R_SEV_NOTE, NULL, "not a directive"));
    assert_false(s2r_diags_has_option(&f->d, "gres"));
    done(f);
}

static void test_slurm_directives__legacy_slurm_prefix(void **state)
{
    (void)state;
    fx *f = ok(SH "#SLURM -J old\n");
    assert_string_equal(f->job.job_name, "old");
    assert_true(has(f, S2R_SEV_WARNING, NULL, "#SLURM"));
    done(f);
}

static void test_slurm_directives__no_separator_after_magic(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH--time=5\n");
    assert_int_equal(f->job.time_limit_s, 300);
    done(f);
    refused(SH "#SBATCHES here\n", "*", "Invalid directive found in batch "
                                        "script: ES");
}

static void test_slurm_directives__case_sensitive_magic(void **state)
{
    (void)state;
    fx *f = ok(SH "#Sbatch -J x\n");
    assert_null(f->job.job_name);
    done(f);
}

static void test_slurm_directives__hetjob_warns(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -J a -c 2\n#SBATCH hetjob\n#SBATCH -c 8\n");
    assert_int_equal(f->job.cpus_per_task, 2);
    assert_true(has(f, S2R_SEV_WARNING, NULL, "heterogeneous"));
    done(f);
}

/* ------------------------------------------------------------------ */
/* tokenizer                                                           */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__hash_ends_line_mid_token(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --job-name=run#3\n");
    assert_string_equal(f->job.job_name, "run");
    done(f);
    f = ok(SH "#SBATCH --job-name=xgb-churn        # gradient boosted\n");
    assert_string_equal(f->job.job_name, "xgb-churn");
    done(f);
    f = ok(SH "#SBATCH -t 1:30 # 1.5 h (not really) --mem=1\n");
    assert_int_equal(f->job.time_limit_s, 120);
    assert_null(dir(f, "mem"));
    done(f);
}

static void test_slurm_directives__quotes_group_and_are_removed(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --job-name=\"big run\"\n"
                  "#SBATCH --output='logs/a b %j.out'\n");
    assert_string_equal(f->job.job_name, "big run");
    assert_string_equal(dir(f, "output")->value, "logs/a b %j.out");
    done(f);
    f = ok(SH "#SBATCH --job-name=a\"#\"b'c d'\n");
    assert_string_equal(f->job.job_name, "a#bc d");
    done(f);
}

static void test_slurm_directives__backslash_escapes(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --job-name=run\\#3\\\"y\\'z\n");
    assert_string_equal(f->job.job_name, "run#3\"y'z");
    done(f);
    f = ok(SH "#SBATCH --job-name=\"a\\\"b c\"\n");
    assert_string_equal(f->job.job_name, "a\"b c");
    done(f);
    f = ok(SH "#SBATCH --job-name=\"a\\ b\"\n");
    assert_string_equal(f->job.job_name, "a b");
    done(f);
    /* outside quotes, get_argument() tests for whitespace before the
     * escape, so "\ " does not keep the space: the token ends there */
    refused(SH "#SBATCH --job-name=a\\ b\n", "job-name",
            "Invalid directive found in batch script: b");
}

static void test_slurm_directives__no_expansion(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -o $HOME/${USER}_$(date).out -J ~x\n");
    assert_string_equal(dir(f, "output")->value, "$HOME/${USER}_$(date).out");
    assert_string_equal(f->job.job_name, "~x");
    done(f);
}

static void test_slurm_directives__unquoted_space_is_fatal(void **state)
{
    (void)state;
    refused(SH "#SBATCH --job-name=big run\n", "job-name",
            "Invalid directive found in batch script: run");
    refused(SH "#SBATCH --mem=4G (memory per node)\n", "mem",
            "Invalid directive found in batch script: (memory");
}

static void test_slurm_directives__unmatched_quote_fatal(void **state)
{
    (void)state;
    refused(SH "#SBATCH --job-name=\"oops\n", NULL, "Unmatched");
    refused(SH "#SBATCH --job-name='oops\n", NULL, "Unmatched");
}

static void test_slurm_directives__leading_colon_fatal(void **state)
{
    (void)state;
    refused(SH "#SBATCH :x\n", NULL, "Unexpected `:`");
}

static void test_slurm_directives__nbsp_not_whitespace(void **state)
{
    (void)state;
    refused(SH "#SBATCH --partition\xc2\xa0gpu\n", "*", "non-breaking space");
    refused(SH "#SBATCH -J x\xc2\xa0 y\n", "*", "non-breaking space");
}

static void test_slurm_directives__empty_token_ends_line(void **state)
{
    (void)state;
    /* "" yields no argument: the rest of the line is dropped and -J takes
     * the first token of the next directive line, as in sbatch */
    fx *f = ok(SH "#SBATCH -J \"\" -c 4\n#SBATCH --time=5\n");
    assert_string_equal(f->job.job_name, "--time=5");
    assert_int_equal(f->job.cpus_per_task, 0);
    done(f);
}

/* ------------------------------------------------------------------ */
/* getopt_long rules                                                   */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__long_forms(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --nodes=2 --ntasks-per-node 4\n"
                  "#SBATCH --cpus-per-task 10\n");
    assert_int_equal(f->job.nodes, 2);
    assert_int_equal(f->job.tasks_per_node, 4);
    assert_int_equal(f->job.cpus_per_task, 10);
    done(f);
}

static void test_slurm_directives__short_forms(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -Jlbm -N2\n#SBATCH -n8 -c8 -G8 -t2:00:00 -pgpu\n"
                  "#SBATCH -A lab-b -D /scratch/x -w gn[05-06]\n");
    assert_string_equal(f->job.job_name, "lbm");
    assert_int_equal(f->job.nodes, 2);
    assert_int_equal(f->job.ntasks, 8);
    assert_int_equal(f->job.tasks_per_node, 4);
    assert_int_equal(f->job.cpus_per_node, 32);
    assert_int_equal(f->job.gpus_per_node, 4);
    assert_int_equal(f->job.time_limit_s, 7200);
    assert_string_equal(f->job.partitions[0], "gpu");
    assert_string_equal(f->job.account, "lab-b");
    assert_string_equal(f->job.chdir, "/scratch/x");
    assert_string_equal(dir(f, "nodelist")->value, "gn[05-06]");
    done(f);
}

static void test_slurm_directives__short_equals_is_value(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -J=train\n");
    assert_string_equal(f->job.job_name, "=train");
    done(f);
    refused(SH "#SBATCH -N=2\n", "nodes", "=2");
}

static void test_slurm_directives__short_cluster(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -HN3\n");
    assert_non_null(dir(f, "hold"));
    assert_int_equal(f->job.nodes, 3);
    done(f);
    refused(SH "#SBATCH -Hy\n", NULL, "invalid option -- 'y'");
}

static void test_slurm_directives__value_from_next_line(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --job-name\n#SBATCH train\n");
    assert_string_equal(f->job.job_name, "train");
    done(f);
    /* -J swallows "-N", then "2" is a stray token */
    refused(SH "#SBATCH -J\n#SBATCH -N 2\n", "*",
            "Invalid directive found in batch script: 2");
}

static void test_slurm_directives__unique_prefix_accepted(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --part=gpu --job=x --ntasks-per-n=2 --cpus-per-t=3\n");
    assert_string_equal(f->job.partitions[0], "gpu");
    assert_string_equal(f->job.job_name, "x");
    assert_int_equal(f->job.ntasks_per_node, 2);
    assert_int_equal(f->job.cpus_per_task, 3);
    /* canonical names are recorded */
    assert_non_null(dir(f, "partition"));
    assert_non_null(dir(f, "cpus-per-task"));
    done(f);
}

static void test_slurm_directives__ambiguous_prefix_refused(void **state)
{
    (void)state;
    refused(SH "#SBATCH --cpus=4\n", NULL, "ambiguous");
    refused(SH "#SBATCH --gpu=2\n", NULL, "ambiguous");
    refused(SH "#SBATCH --mail=a@b\n", NULL, "ambiguous");
    refused(SH "#SBATCH --mem-per=1G\n", NULL, "ambiguous");
    refused(SH "#SBATCH --container-mount=/a:/b\n", NULL, "ambiguous");
}

static void test_slurm_directives__exact_name_wins(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --mem=1G --time=5 --gpus=1 --gres=mps:1\n");
    assert_int_equal(f->job.mem_per_node_mib, 1024);
    assert_int_equal(f->job.time_limit_s, 300);
    assert_int_equal(f->job.gpus_per_node, 1);
    done(f);
}

static void test_slurm_directives__unknown_option_refused(void **state)
{
    (void)state;
    refused(SH "#SBATCH --frobnicate=1\n", NULL,
            "unrecognized option '--frobnicate=1'");
    refused(SH "#SBATCH --Time=5\n", NULL, "unrecognized"); /* case */
    refused(SH "#SBATCH -y\n", NULL, "invalid option -- 'y'");
}

static void test_slurm_directives__arg_rules(void **state)
{
    (void)state;
    refused(SH "#SBATCH --hold=yes\n", "hold", "doesn't allow an argument");
    refused(SH "#SBATCH --time\n", "time", "requires an argument");
    refused(SH "#SBATCH -t\n", "time", "requires an argument");
}

static void test_slurm_directives__optional_args_need_equals(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --exclusive\n#SBATCH --requeue --nice -k\n");
    assert_non_null(dir(f, "exclusive"));
    assert_null(dir(f, "exclusive")->value);
    assert_non_null(dir(f, "requeue"));
    assert_non_null(dir(f, "no-kill"));
    done(f);
    f = ok(SH "#SBATCH --exclusive=user --nice=10 --propagate=STACK\n");
    assert_string_equal(dir(f, "exclusive")->value, "user");
    assert_string_equal(dir(f, "nice")->value, "10");
    done(f);
    refused(SH "#SBATCH --exclusive user\n", "exclusive",
            "Invalid directive found in batch script: user");
    refused(SH "#SBATCH --nice 5\n", "nice",
            "Invalid directive found in batch script: 5");
    refused(SH "#SBATCH --exclusive=bogus\n", "exclusive", "bogus");
}

static void test_slurm_directives__double_dash_ends_options(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -J a --\n");
    assert_string_equal(f->job.job_name, "a");
    done(f);
    refused(SH "#SBATCH -J a -- --time=5\n", "*",
            "Invalid directive found in batch script: --time=5");
}

static void test_slurm_directives__last_occurrence_wins(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --job-name=draft --time=01:00:00\n"
                  "#SBATCH --mem=16G\n#SBATCH --gres=gpu:2\n"
                  "#SBATCH --time=08:00:00\n#SBATCH -J final\n"
                  "#SBATCH --gres=mps:10\n#SBATCH --mem 40G\n");
    assert_string_equal(f->job.job_name, "final");
    assert_int_equal(f->job.time_limit_s, 28800);
    assert_int_equal(f->job.mem_per_node_mib, 40960);
    assert_int_equal(f->job.gpus_per_node, 0); /* gres replaced */
    /* first-seen order, last value and line */
    assert_int_equal(f->job.n_directives, 4);
    assert_string_equal(f->job.directives[0].name, "job-name");
    assert_string_equal(f->job.directives[0].value, "final");
    assert_int_equal(f->job.directives[0].line, 6);
    assert_string_equal(f->job.directives[1].name, "time");
    assert_int_equal(f->job.directives[1].line, 5);
    assert_string_equal(f->job.directives[3].name, "gres");
    assert_string_equal(f->job.directives[3].value, "mps:10");
    done(f);
}

static void test_slurm_directives__every_occurrence_validated(void **state)
{
    (void)state;
    refused(SH "#SBATCH --time=abc\n#SBATCH --time=5\n", "time", "abc");
}

static void test_slurm_directives__short_names_canonical(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -C ib -x gn01 -q high -d afterok:1 -e e.txt\n");
    assert_string_equal(dir(f, "constraint")->value, "ib");
    assert_string_equal(dir(f, "exclude")->value, "gn01");
    assert_string_equal(dir(f, "qos")->value, "high");
    assert_string_equal(dir(f, "dependency")->value, "afterok:1");
    assert_string_equal(dir(f, "error")->value, "e.txt");
    done(f);
}

static void test_slurm_directives__script_ignored_options(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --verbose -Q --wrap=\"echo hi\" --usage -J x\n");
    assert_null(dir(f, "verbose"));
    assert_null(dir(f, "quiet"));
    assert_null(dir(f, "wrap"));
    assert_int_equal(f->job.n_directives, 1);
    assert_true(has(f, S2R_SEV_NOTE, NULL, "ignored: --wrap"));
    done(f);
}

static void test_slurm_directives__pyxis_options(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --container-image=nvcr.io\\#nvidia/pytorch:24.01-py3"
                  "\n#SBATCH --container-mounts=/data:/data "
                  "--no-container-mount-home --container-writable\n");
    assert_string_equal(f->job.container_image,
                        "nvcr.io/nvidia/pytorch:24.01-py3");
    assert_string_equal(dir(f, "container-mounts")->value, "/data:/data");
    assert_non_null(dir(f, "no-container-mount-home"));
    done(f);
    /* an unescaped '#' cuts the image, as in sbatch */
    f = ok(SH "#SBATCH --container-image=nvcr.io#nvidia/pytorch:24.01-py3\n");
    assert_string_equal(f->job.container_image, "nvcr.io");
    done(f);
    f = ok(SH "#SBATCH --container-image='nvcr.io#nvidia/pytorch:24.01-py3'\n");
    assert_string_equal(f->job.container_image,
                        "nvcr.io/nvidia/pytorch:24.01-py3");
    done(f);
}

/* ------------------------------------------------------------------ */
/* values through the option pass                                      */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__value_errors(void **state)
{
    (void)state;
    refused(SH "#SBATCH --time=2h\n", "time", "Invalid --time");
    refused(SH "#SBATCH --mem=1.5G\n", "mem", "1.5G");
    refused(SH "#SBATCH --mem-per-cpu=2Gi\n", "mem-per-cpu", "2Gi");
    refused(SH "#SBATCH -c 0\n", "cpus-per-task", "cpus per task");
    refused(SH "#SBATCH -n x\n", "ntasks", "Invalid numeric value");
    refused(SH "#SBATCH --array=5-1\n", "array", "array");
    refused(SH "#SBATCH --array=0-1001\n", "array", "array");
    refused(SH "#SBATCH --gres=gpu:\n", "gres", "gpu:");
    refused(SH "#SBATCH --gpus=a100:\n", "gpus", "a100:");
    refused(SH "#SBATCH -N two\n", "nodes", "node count");
    refused(SH "#SBATCH --open-mode=x\n", "open-mode", "open-mode");
    refused(SH "#SBATCH --time-min=x\n", "time-min", "time-min");
}

static void test_slurm_directives__array_fact(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -a 1,3,5-7,10-20:5\n");
    assert_int_equal(f->job.array->count, 8);
    assert_int_equal(f->job.array->indices[5], 10);
    assert_int_equal(f->job.array->max_parallel, 0);
    done(f);
    f = ok(SH "#SBATCH --array=0-29%6\n#SBATCH --array=[1-3]%2\n");
    assert_int_equal(f->job.array->count, 3);
    assert_int_equal(f->job.array->max_parallel, 2);
    done(f);
}

static void test_slurm_directives__export_chdir_partition(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --chdir=/data/x\n"
                  "#SBATCH --export=ALL,STAGE=compact,THREADS=8\n"
                  "#SBATCH -p cpu,cpu-long --account=lab-a\n");
    assert_string_equal(f->job.chdir, "/data/x");
    assert_string_equal(f->job.export_mode, "ALL");
    assert_string_equal(s2r_envv_get(&f->job.export_env, "STAGE"), "compact");
    assert_string_equal(s2r_envv_get(&f->job.export_env, "THREADS"), "8");
    assert_string_equal(f->job.partitions[0], "cpu");
    assert_string_equal(f->job.partitions[1], "cpu-long");
    assert_null(f->job.partitions[2]);
    assert_string_equal(f->job.account, "lab-a");
    done(f);
}

/* ------------------------------------------------------------------ */
/* cross-option rules                                                  */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__mem_options_exclusive(void **state)
{
    (void)state;
    refused(SH "#SBATCH --mem=8G --mem-per-gpu=4G\n", "mem-per-gpu",
            "mutually exclusive");
    refused(SH "#SBATCH --mem-per-cpu=1G\n#SBATCH --mem=8G\n", "mem",
            "mutually exclusive");
    refused(SH "#SBATCH --mem-per-cpu=1G --mem-per-gpu=1G\n", "*",
            "mutually exclusive");
}

static void test_slurm_directives__gres_gpu_with_gpus_per_node(void **state)
{
    (void)state;
    /* both land in TresPerNode; per GPU type the last count wins, and
     * --gres comes after --gpus-per-node there whatever the order given */
    fx *f = ok(SH "#SBATCH --gres=gpu:2 --gpus-per-node=4\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    done(f);
    f = ok(SH "#SBATCH --gres=mps:50 --gpus-per-node=2\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    done(f);
}

static void test_slurm_directives__gpus_per_task_needs_tasks(void **state)
{
    (void)state;
    refused(SH "#SBATCH --gpus-per-task=1\n", "gpus-per-task",
            "without either --gpus or -n/--ntasks");
    refused(SH "#SBATCH -N 2 -c 4 --gpus-per-task=1\n", "gpus-per-task",
            "without either --gpus or -n/--ntasks");
    /* a fixed node count without -c sets one task per node */
    fx *f = ok(SH "#SBATCH -N 2 --gpus-per-task=1\n");
    assert_int_equal(f->job.ntasks, 2);
    assert_int_equal(f->job.gpus_per_node, 1);
    done(f);
    f = ok(SH "#SBATCH -n 2 --gpus-per-task=1\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    done(f);
    f = ok(SH "#SBATCH -N 2 --ntasks-per-node=8 --gpus-per-task=1\n");
    assert_int_equal(f->job.gpus_per_node, 8);
    done(f);
    f = ok(SH "#SBATCH -G 4 --gpus-per-task=1\n");
    assert_int_equal(f->job.gpus_per_node, 4);
    done(f);
}

static void test_slurm_directives__cpus_per_gpu_with_cpus_per_task(void **state)
{
    (void)state;
    refused(SH "#SBATCH --gres=gpu:1 --cpus-per-gpu=4 -c 4\n", "cpus-per-gpu",
            "mutually exclusive");
}

static void test_slurm_directives__nodes_zero_invalid(void **state)
{
    (void)state;
    refused(SH "#SBATCH --nodes=0\n", "nodes", "Node count");
}

static void test_slurm_directives__exclusive_oversubscribe(void **state)
{
    (void)state;
    refused(SH "#SBATCH --exclusive -s\n", "exclusive", "mutually exclusive");
}

/* ------------------------------------------------------------------ */
/* derived facts (shared/corpus/README.md)                             */
/* ------------------------------------------------------------------ */

static void test_slurm_directives__defaults(void **state)
{
    (void)state;
    fx *f = ok(SH "echo hi\n");
    assert_null(f->job.job_name);
    assert_int_equal(f->job.nodes, 1);
    assert_false(f->job.nodes_set);
    assert_int_equal(f->job.tasks_per_node, 1);
    assert_int_equal(f->job.gpus_per_node, 0);
    assert_null(f->job.gpu_type);
    assert_int_equal(f->job.cpus_per_node, 1);
    assert_int_equal(f->job.mem_per_node_mib, S2R_MEM_UNSET);
    assert_int_equal(f->job.time_limit_s, S2R_TIME_UNSET);
    assert_null(f->job.array);
    assert_int_equal(f->job.n_directives, 0);
    done(f);
}

static void test_slurm_directives__tasks_per_node(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -n 96\n");
    assert_int_equal(f->job.nodes, 1);
    assert_int_equal(f->job.tasks_per_node, 96);
    done(f);
    f = ok(SH "#SBATCH -N 3 -n 8\n"); /* ceil(8/3) */
    assert_int_equal(f->job.tasks_per_node, 3);
    done(f);
    f = ok(SH "#SBATCH -N 2 -n 8 --ntasks-per-node=4\n");
    assert_int_equal(f->job.tasks_per_node, 4);
    done(f);
    f = ok(SH "#SBATCH -N 2-4\n");
    assert_int_equal(f->job.nodes, 2);
    assert_int_equal(f->job.nodes_max, 4);
    assert_true(f->job.nodes_set);
    done(f);
}

static void test_slurm_directives__gpus_per_node_sources(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --gres=gpu:a100:4\n");
    assert_int_equal(f->job.gpus_per_node, 4);
    assert_string_equal(f->job.gpu_type, "a100");
    done(f);
    f = ok(SH "#SBATCH -N 2 --gpus=h100:16\n");
    assert_int_equal(f->job.gpus_per_node, 8);
    assert_string_equal(f->job.gpu_type, "h100");
    done(f);
    f = ok(SH "#SBATCH --gpus-per-node=v100:2\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    assert_string_equal(f->job.gpu_type, "v100");
    done(f);
    f = ok(SH "#SBATCH -N 2 -n 8 --ntasks-per-node=4 --gpus-per-task=1\n");
    assert_int_equal(f->job.gpus_per_node, 4);
    done(f);
    f = ok(SH "#SBATCH --gres=gpu:tesla:1,gpu:k80:1\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    assert_string_equal(f->job.gpu_type, "tesla");
    done(f);
}

static void test_slurm_directives__cpus_per_node(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --gres=gpu:v100:2 --cpus-per-gpu=6\n");
    assert_int_equal(f->job.cpus_per_node, 12);
    assert_int_equal(f->job.cpus_per_gpu, 6);
    done(f);
    f = ok(SH "#SBATCH -N 4 --ntasks-per-node=32 -c 1\n");
    assert_int_equal(f->job.cpus_per_node, 32);
    done(f);
}

static void test_slurm_directives__mem_per_node(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --mem=0\n");
    assert_int_equal(f->job.mem_per_node_mib, S2R_MEM_ALL);
    done(f);
    f = ok(SH "#SBATCH -N 4 --ntasks-per-node=32 --mem-per-cpu=2G\n");
    assert_int_equal(f->job.mem_per_node_mib, 65536);
    done(f);
    f = ok(SH "#SBATCH -n 96 --mem-per-cpu=1500\n");
    assert_int_equal(f->job.mem_per_node_mib, 144000);
    done(f);
    f = ok(SH "#SBATCH -N 2 -n 8 --ntasks-per-node=4 --gpus-per-task=1 "
              "--mem-per-gpu=60G\n");
    assert_int_equal(f->job.mem_per_node_mib, 245760);
    done(f);
    f = ok(SH "#SBATCH --mem=48000\n");
    assert_int_equal(f->job.mem_per_node_mib, 48000);
    done(f);
}

static void test_slurm_directives__time_fact(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --time=UNLIMITED\n");
    assert_int_equal(f->job.time_limit_s, S2R_TIME_UNLIMITED);
    done(f);
    f = ok(SH "#SBATCH -t 2-00\n");
    assert_int_equal(f->job.time_limit_s, 172800);
    done(f);
}

static void test_slurm_directives__option_table_sorted(void **state)
{
    (void)state;
    size_t n;
    const s2r_slurm_option *o = s2r_slurm__options(&n);
    assert_true(n > 100);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(o[i - 1].name, o[i].name) < 0);
    /* every short letter maps back to its option */
    for (size_t i = 0; i < n; i++)
        if (o[i].short_name)
            assert_ptr_equal(s2r_slurm__find_short(o[i].short_name), &o[i]);
    int st;
    assert_non_null(s2r_slurm__find_long("container", 9, &st));
    assert_int_equal(st, S2R_SLURM_FOUND);
    assert_null(s2r_slurm__find_long("container-i", 11, &st));
    assert_int_equal(st, S2R_SLURM_AMBIGUOUS);
    assert_null(s2r_slurm__find_long("zzz", 3, &st));
    assert_int_equal(st, S2R_SLURM_UNKNOWN);
}

/* an alias records under its option's name, the very pointer (directive
 * names are compared by pointer): both spellings make one directive */
static void test_slurm_directives__alias_is_its_option(void **state)
{
    (void)state;
    size_t n;
    const s2r_slurm_option *o = s2r_slurm__options(&n);
    int st;
    for (size_t i = 0; i < n; i++) {
        if (!o[i].alias_of)
            continue;
        const s2r_slurm_option *t =
            s2r_slurm__find_long(o[i].alias_of, strlen(o[i].alias_of), &st);
        assert_non_null(t);
        assert_ptr_equal(t->name, o[i].alias_of);
    }
    fx *f = ok(SH "#SBATCH --ntasks-per-node=2 --nodes=1\n"
                  "#SBATCH --tasks-per-node=3\n");
    assert_int_equal(f->job.n_directives, 2);
    assert_string_equal(f->job.directives[0].name, "ntasks-per-node");
    assert_string_equal(f->job.directives[0].value, "3");
    assert_int_equal(f->job.directives[0].line, 3);
    assert_string_equal(f->job.directives[1].name, "nodes");
    done(f);
}

/* one token of short letters records an option each: more directives
 * than tokens */
static void test_slurm_directives__short_cluster_records_each(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH -HOs\n#SBATCH -HOsk --wait\n");
    static const char *const names[] = {"hold", "overcommit",
                                        "oversubscribe", "no-kill", "wait"};
    assert_int_equal(f->job.n_directives, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(f->job.directives[i].name, names[i]);
    assert_int_equal(f->job.directives[0].line, 3);
    assert_int_equal(f->job.directives[3].line, 3);
    done(f);
}

/* getopt_long's lookup, the slow way: an exact name, else the one name
 * it is a prefix of; two or more are ambiguous */
static const s2r_slurm_option *find_long_linear(const char *name, size_t len,
                                                int *status)
{
    size_t n;
    const s2r_slurm_option *o = s2r_slurm__options(&n), *hit = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < n && len; i++) {
        if (strlen(o[i].name) == len && !memcmp(o[i].name, name, len)) {
            *status = S2R_SLURM_FOUND;
            return &o[i];
        }
        if (strlen(o[i].name) >= len && !memcmp(o[i].name, name, len) &&
            hits++ == 0)
            hit = &o[i];
    }
    *status = hits == 1   ? S2R_SLURM_FOUND
              : hits > 1 ? S2R_SLURM_AMBIGUOUS
                         : S2R_SLURM_UNKNOWN;
    return hits == 1 ? hit : NULL;
}

static void expect_find_long(const char *name, size_t len)
{
    int st, want_st;
    const s2r_slurm_option *want = find_long_linear(name, len, &want_st);
    assert_ptr_equal(s2r_slurm__find_long(name, len, &st), want);
    assert_int_equal(st, want_st);
}

/* the bisection finds what a linear scan finds: every name, each of its
 * prefixes, the name with a byte more or changed (not NUL: a name
 * holds none), and strangers */
static void test_slurm_directives__find_long_as_linear(void **state)
{
    (void)state;
    size_t n;
    const s2r_slurm_option *o = s2r_slurm__options(&n);
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(o[i].name);
        assert_true(len + 2 < sizeof(buf));
        for (size_t k = 0; k <= len; k++)
            expect_find_long(o[i].name, k);
        memcpy(buf, o[i].name, len);
        for (int c = 1; c < 256; c++) {
            buf[len] = (char)c; /* one byte more */
            expect_find_long(buf, len + 1);
            buf[len - 1] = (char)c; /* the last byte changed */
            expect_find_long(buf, len);
            buf[len - 1] = o[i].name[len - 1];
        }
    }
    static const char *const strangers[] = {"", "-", "--", "zzz", "a", "z",
                                            "Time", "~", "\x7f"};
    for (size_t i = 0; i < sizeof(strangers) / sizeof(*strangers); i++)
        expect_find_long(strangers[i], strlen(strangers[i]));
}

/* the first #PBS or #BSUB line, before or after the first command, is
 * named (sbatch would translate them all); --ignore-pbs keeps it quiet;
 * a heterogeneous job's separator is found in any case */
static void test_slurm_directives__foreign_and_het(void **state)
{
    (void)state;
    fx *f = ok("#!/bin/bash\n#SBATCH -n 1\n#PBS -l nodes=2\necho hi\n"
               "#BSUB -n 4\n");
    size_t n = 0;
    for (size_t i = 0; i < f->d.n; i++)
        if (strstr(f->d.v[i].message, "directives are not converted")) {
            assert_int_equal(f->d.v[i].line, 3);
            n++;
        }
    assert_int_equal(n, 1);
    assert_true(has(f, S2R_SEV_WARNING, NULL, "#PBS directives"));
    done(f);
    static const struct {
        const char *script, *warning;
        bool warned;
    } cases[] = {
        {"#!/bin/bash\n#SBATCH -n 1\necho hi\n#BSUB -n 4", "#BSUB directives",
         true},
        {"#!/bin/bash\n#SBATCH --ignore-pbs\n#PBS -l nodes=2\necho\n",
         "not converted", false},
        {"#!/bin/bash\n#SBATCH -n 1\necho #PBS\n#PBSX\n", "#PBS directives",
         true},
        {"#!/bin/bash\n#SBATCH -n 1\necho '\n#PB'\n", "not converted", false},
        {"#!/bin/bash\n#SBATCH -n 2\n#SBATCH PackJob\n#SBATCH -n 9\n",
         "heterogeneous job", true},
        {"#!/bin/bash\n#SBATCH -J hetjo\n#SBATCH -J p\n", "heterogeneous job",
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f = ok(cases[i].script);
        assert_int_equal(has(f, S2R_SEV_WARNING, NULL, cases[i].warning),
                         cases[i].warned);
        done(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slurm_directives__crlf_refused),
        cmocka_unit_test(test_slurm_directives__lone_cr_accepted),
        cmocka_unit_test(test_slurm_directives__missing_shebang_refused),
        cmocka_unit_test(test_slurm_directives__empty_and_whitespace_refused),
        cmocka_unit_test(test_slurm_directives__nul_refused),
        cmocka_unit_test(test_slurm_directives__body_offset),
        cmocka_unit_test(test_slurm_directives__after_first_command_ignored),
        cmocka_unit_test(test_slurm_directives__even_colon_is_a_command),
        cmocka_unit_test(test_slurm_directives__blank_and_comments_continue),
        cmocka_unit_test(test_slurm_directives__near_misses_are_comments),
        cmocka_unit_test(test_slurm_directives__glued_hash_is_warned),
        cmocka_unit_test(test_slurm_directives__legacy_slurm_prefix),
        cmocka_unit_test(test_slurm_directives__no_separator_after_magic),
        cmocka_unit_test(test_slurm_directives__case_sensitive_magic),
        cmocka_unit_test(test_slurm_directives__hetjob_warns),
        cmocka_unit_test(test_slurm_directives__hash_ends_line_mid_token),
        cmocka_unit_test(test_slurm_directives__quotes_group_and_are_removed),
        cmocka_unit_test(test_slurm_directives__backslash_escapes),
        cmocka_unit_test(test_slurm_directives__no_expansion),
        cmocka_unit_test(test_slurm_directives__unquoted_space_is_fatal),
        cmocka_unit_test(test_slurm_directives__unmatched_quote_fatal),
        cmocka_unit_test(test_slurm_directives__leading_colon_fatal),
        cmocka_unit_test(test_slurm_directives__nbsp_not_whitespace),
        cmocka_unit_test(test_slurm_directives__empty_token_ends_line),
        cmocka_unit_test(test_slurm_directives__long_forms),
        cmocka_unit_test(test_slurm_directives__short_forms),
        cmocka_unit_test(test_slurm_directives__short_equals_is_value),
        cmocka_unit_test(test_slurm_directives__short_cluster),
        cmocka_unit_test(test_slurm_directives__value_from_next_line),
        cmocka_unit_test(test_slurm_directives__unique_prefix_accepted),
        cmocka_unit_test(test_slurm_directives__ambiguous_prefix_refused),
        cmocka_unit_test(test_slurm_directives__exact_name_wins),
        cmocka_unit_test(test_slurm_directives__unknown_option_refused),
        cmocka_unit_test(test_slurm_directives__arg_rules),
        cmocka_unit_test(test_slurm_directives__optional_args_need_equals),
        cmocka_unit_test(test_slurm_directives__double_dash_ends_options),
        cmocka_unit_test(test_slurm_directives__last_occurrence_wins),
        cmocka_unit_test(test_slurm_directives__every_occurrence_validated),
        cmocka_unit_test(test_slurm_directives__short_names_canonical),
        cmocka_unit_test(test_slurm_directives__script_ignored_options),
        cmocka_unit_test(test_slurm_directives__pyxis_options),
        cmocka_unit_test(test_slurm_directives__value_errors),
        cmocka_unit_test(test_slurm_directives__array_fact),
        cmocka_unit_test(test_slurm_directives__export_chdir_partition),
        cmocka_unit_test(test_slurm_directives__mem_options_exclusive),
        cmocka_unit_test(test_slurm_directives__gres_gpu_with_gpus_per_node),
        cmocka_unit_test(test_slurm_directives__gpus_per_task_needs_tasks),
        cmocka_unit_test(test_slurm_directives__cpus_per_gpu_with_cpus_per_task),
        cmocka_unit_test(test_slurm_directives__nodes_zero_invalid),
        cmocka_unit_test(test_slurm_directives__exclusive_oversubscribe),
        cmocka_unit_test(test_slurm_directives__defaults),
        cmocka_unit_test(test_slurm_directives__tasks_per_node),
        cmocka_unit_test(test_slurm_directives__gpus_per_node_sources),
        cmocka_unit_test(test_slurm_directives__cpus_per_node),
        cmocka_unit_test(test_slurm_directives__mem_per_node),
        cmocka_unit_test(test_slurm_directives__time_fact),
        cmocka_unit_test(test_slurm_directives__option_table_sorted),
        cmocka_unit_test(test_slurm_directives__find_long_as_linear),
        cmocka_unit_test(test_slurm_directives__alias_is_its_option),
        cmocka_unit_test(test_slurm_directives__short_cluster_records_each),
        cmocka_unit_test(test_slurm_directives__foreign_and_het),
    };
    return cmocka_run_group_tests_name("slurm_directives", tests, NULL, NULL);
}
