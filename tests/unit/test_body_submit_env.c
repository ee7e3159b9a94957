/* test_body_submit_env.c: variables only the submitting shell gives
 * (core/body submit_env.c). Under sbatch's --export=ALL, its default, a
 * variable the script reads and never sets comes from the shell that ran
 * sbatch, which the pod does not have: a warning per variable at its
 * first read; none for a read that supplies its default or check, a name
 * the script sets anywhere, a variable the pod has, a name --export
 * gives, a script that can set variables s2r cannot see, or a job that
 * gets no submit environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>

#include "job_fixture.h"

static int setup(void **state)
{
    (void)state;
    fixture_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_free();
    return 0;
}

/* parse @p script afresh (the job and diagnostics emptied first, the
 * configuration kept) */
static void parse_afresh(const char *script)
{
    s2r_job_free(&F.job);
    s2r_diags_clear(&F.d);
    memset(&F.job, 0, sizeof(F.job));
    assert_int_equal(parse(script), 0);
}

/* the warnings about $NAME: how many, and the line of the last in *line */
static int warned(const char *name, int *line)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "$%s is not set in the script", name);
    int n = 0;
    for (size_t i = 0; i < F.d.n; i++)
        if (F.d.v[i].severity == S2R_SEV_WARNING &&
            strstr(F.d.v[i].message, needle)) {
            n++;
            if (line)
                *line = F.d.v[i].line;
        }
    return n;
}

/* the number of these warnings, about any name */
static int warnings(void)
{
    int n = 0;
    for (size_t i = 0; i < F.d.n; i++)
        if (F.d.v[i].severity == S2R_SEV_WARNING &&
            strstr(F.d.v[i].message, " is not set in the script: sbatch "))
            n++;
    return n;
}

/* @p body after a shebang: no warning about any name */
static void none(const char *body)
{
    char script[2048];
    snprintf(script, sizeof(script), "#!/bin/bash\n%s\npython t.py\n", body);
    parse_afresh(script);
    if (warnings()) {
        for (size_t i = 0; i < F.d.n; i++)
            print_message("  %s\n", F.d.v[i].message);
        fail_msg("a warning for: %s", body);
    }
}

/* @p body after a shebang: exactly one warning, about $X */
static void only_x(const char *body)
{
    char script[2048];
    snprintf(script, sizeof(script), "#!/bin/bash\n%s\npython t.py\n", body);
    parse_afresh(script);
    if (warned("X", NULL) != 1 || warnings() != 1) {
        for (size_t i = 0; i < F.d.n; i++)
            print_message("  %s\n", F.d.v[i].message);
        fail_msg("not one warning about $X for: %s", body);
    }
}

/* @p body reads nothing: with `cd $X` after it, one warning, about $X
 * (the scan went on, and saw no sourcing) */
static void reads_none(const char *body)
{
    char text[2048];
    snprintf(text, sizeof(text), "%s\ncd $X", body);
    only_x(text);
}

static void
test_submit_env__one_warning_per_variable_at_its_first_read(void **state)
{
    (void)state;
    parse_afresh("#!/bin/bash\n"
          "#SBATCH --gres=gpu:1\n"
          "cd $PROJECT_DIR\n"
          "python train.py --data \"$DATA_DIR/x\" --user $USER "
          "--out ${PROJECT_DIR}/out\n"
          "echo \"${DATA_DIR%/}\" $HOME\n");
    int line = 0;
    assert_int_equal(warned("PROJECT_DIR", &line), 1);
    assert_int_equal(line, 3);
    assert_int_equal(warned("DATA_DIR", &line), 1);
    assert_int_equal(line, 4);
    assert_int_equal(warnings(), 2);
    for (size_t i = 0; i < F.d.n; i++)
        if (strstr(F.d.v[i].message, "$PROJECT_DIR is"))
            assert_string_equal(
                F.d.v[i].message,
                "$PROJECT_DIR is not set in the script: sbatch takes it "
                "from the environment it ran in (--export=ALL, the "
                "default), which the pod does not have; set it in the "
                "script or give it (--export=ALL,PROJECT_DIR=VALUE)");
    /* a read in an unquoted here-document, where quotes are text */
    only_x("cat <<EOF > cfg.yaml\ndata: '$X'\nEOF");
    /* in a command substitution inside double quotes, and after one */
    only_x("echo \"$(cd $X && pwd)\"");
    only_x("echo \"${A:-it's}\"; echo '$B'; ls $X");
    /* an operator word (a suffix removed, a replacement, a substring, an
     * element) reads X */
    only_x("echo ${X%/*}");
    only_x("echo ${X/a/b} ${X:1:2} ${X[0]}");
    /* export as an option's word sets nothing: "$@" after it is no
     * name computed at run time */
    only_x("srun --export=ALL,A=1 python t.py \"$@\"\ncd $X");
    /* a setter's value may be computed: its name is not */
    only_x("export PATH=\"$HOME/bin:$PATH\"; local v=$1; read -r a b\n"
           "echo $v $a $b\ncd $X");
    /* read -n counts bytes: no name reference */
    only_x("read -n 1 k\necho $k\ncd $X");
    /* find . is no sourcing */
    only_x("find . -name '*.py'\ncd $X");
    /* a here-document inside $( ), and the text after it */
    only_x("v=$(cat <<EOF\n$X\nEOF\n)\necho '$Y'");
    /* a quote or $( left open: bash stops there, and no warning */
    parse_afresh("#!/bin/bash\ncd $X\necho \"$(ls\n");
    assert_int_equal(warnings(), 0);
    /* --export=ALL given: the same warning, not called the default */
    parse_afresh("#!/bin/bash\n#SBATCH --export=ALL\ncd $X\n");
    assert_int_equal(warned("X", NULL), 1);
    assert_null(strstr(F.d.v[0].message, "the default"));
}

static void test_submit_env__not_a_read(void **state)
{
    (void)state;
    reads_none("echo '$V' \\$V # $V");
    reads_none("cat <<'EOF' > a.py\nprint('$V')\nEOF");
    reads_none("cat <<\"EOF\"\n$V\nEOF");
    reads_none("cat <<-\\EOF\n\t$V\n\tEOF");
    reads_none("echo ${V:-d} ${V-d} ${V:=d} ${V=d}");
    reads_none("echo ${V:?unset} ${V?unset} ${V:+s} ${V+s}");
    /* a length is 0 when unset, most often an emptiness check */
    reads_none("[ ${#V} -gt 0 ] && echo set");
    reads_none("echo ${!V}");
    /* read only when A is unset, which the script decides */
    reads_none("A=1\necho ${A:-$V}");
    reads_none("echo $'$V'");
    /* a shift is no here-document: the rest is read as usual */
    reads_none("echo $((1 << 2)) '$V'");
    reads_none("python - <<EOF\nprint(\"$(echo '$V')\")\nEOF");
    /* a case pattern's ) closes no $( */
    reads_none("m=\"$(case $1 in a) echo '$V';; esac)\"");
    reads_none("echo \"$(cat <<'EOF'\n$V\nEOF\n)\"");
    reads_none("trap 'echo $V' EXIT");
    reads_none("[[ $1 =~ ^(a|b)$ ]] && echo \"it's\"");
}

static void test_submit_env__set_anywhere(void **state)
{
    (void)state;
    none("cd $X\nX=/data");
    none("for f in a; do echo $X; X=$f; done");
    none("export X\ncd $X");
    none("declare -x X\ncd $X");
    none("typeset X\ncd $X");
    none("f() { local X=1; echo $X; }\nf; echo $X");
    none("readonly X=1\necho $X");
    none("read -r X < f\necho $X");
    none("if read -r X < f; then echo $X; fi");
    none("for X in a b; do echo $X; done");
    none("select X in a b; do echo $X; break; done");
    none("while getopts ab: X; do echo $X; done");
    none("mapfile -t X < f\necho $X");
    none("readarray X < f\necho $X");
    none("printf -v X '%s' 1\necho $X");
    none("let X=1\necho $X");
    none("((X = 1))\necho $X");
    none("unset X\necho $X");
    none("echo \"X is $X\"");
}

static void test_submit_env__the_script_can_set_unseen_variables(void **state)
{
    (void)state;
    none("source env.sh\ncd $X");
    none(". ./env.sh\ncd $X");
    none("if true; then . env.sh; fi\ncd $X");
    none("eval \"$(cat vars)\"\ncd $X");
    none("module load cuda\ncd $X");
    none("ml cuda\ncd $X");
    none("conda activate env\ncd $X");
    none("mamba activate env\ncd $X");
    none("micromamba activate env\ncd $X");
    none("spack load gcc\ncd $X");
    none("spack env activate e\ncd $X");
    none("set -a\nA=1\ncd $X");
    none("set -ea\ncd $X");
    none("set -o allexport\ncd $X");
    none("export $(cat .env | xargs)\ncd $X");
    none("export \"$@\"\ncd $X");
    none("declare \"$k=$v\"\ncd $X");
    none("f() { local \"$1\"; }\ncd $X");
    none("while read -r \"$n\"; do :; done < f\ncd $X");
    none("printf -v \"$n\" 1\ncd $X");
    none("for i in 1 2; do printf -v \"X$i\" %s a; done\ncd $X1");
    none("declare \"X_$i=1\"\ncd $X_1");
    none("f() { local -n r=$1; r=/data; }\ncd $X");
    none("for v in A B; do unset \"$v\"; done\ncd $A");
    none("let \"n$i=1\"\necho $n1");
    none("BASH_ENV=vars.sh bash -c true\ncd $X");
}

static void test_submit_env__the_pod_has_it(void **state)
{
    (void)state;
    reads_none("echo $SLURM_JOB_ID $SLURM_SUBMIT_DIR ${SLURM_CPUS_PER_TASK}");
    reads_none("echo $RUNAI_JOB_NAME $HOME $PATH $PWD $OLDPWD $USER $LOGNAME");
    reads_none(
        "echo $HOSTNAME $SHELL $TERM $LANG $LC_ALL $TZ $TMPDIR $IFS $PS1");
    reads_none(
        "echo $PPID $UID $EUID $GROUPS $RANDOM $SECONDS $LINENO $REPLY");
    reads_none("echo $OPTARG $OPTIND $PIPESTATUS $FUNCNAME $BASH_SOURCE");
    reads_none("echo $BASHPID $HOSTTYPE $OSTYPE $MACHTYPE $SHLVL $COLUMNS");
    reads_none("coproc cat; echo ${COPROC[1]} $COPROC_PID $MAPFILE");
    reads_none("echo $1 ${2} $@ $* $# $? $$ $! $- $0 $_");
    reads_none(
        "echo $CUDA_HOME $CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES");
    reads_none("echo $LD_LIBRARY_PATH $PYTHONPATH $MASTER_ADDR $WORLD_SIZE");
}

static void test_submit_env__what_export_gives(void **state)
{
    (void)state;
    parse_afresh("#!/bin/bash\n#SBATCH --export=ALL,X=/data\ncd $X\n");
    assert_int_equal(warnings(), 0);
    /* a name without a value: the --export warning, not a second one */
    parse_afresh("#!/bin/bash\n#SBATCH --export=ALL,X\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash\n#SBATCH --export=NONE\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash\n#SBATCH --export=NIL\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash\n#SBATCH --export=A=1\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash\n#SBATCH --export-file=vars\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash\n#SBATCH --get-user-env\ncd $X\n");
    assert_int_equal(warnings(), 0);
    /* a login shell's start-up files may set it */
    parse_afresh("#!/bin/bash -l\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/usr/bin/env -S bash --login\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/zsh\ncd $X\n");
    assert_int_equal(warnings(), 0);
    parse_afresh("#!/bin/bash -eu\ncd $X\n");
    assert_int_equal(warnings(), 1);
    /* another interpreter's program: its $X is its own */
    parse_afresh("#!/usr/bin/perl\nprint \"$X\\n\";\n");
    assert_int_equal(warnings(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_submit_env__one_warning_per_variable_at_its_first_read, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_submit_env__not_a_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_submit_env__set_anywhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_submit_env__the_script_can_set_unseen_variables, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_submit_env__the_pod_has_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_submit_env__what_export_gives,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("body_submit_env", tests, NULL, NULL);
}
