/* test_body_paths.c: the files and software a script uses (core/body
 * paths.c, software.c): absolute paths in directives, words, quoted
 * strings, ${VAR:-/x} defaults and here-documents, but not in comments;
 * ~ and $HOME through [site] home; what the script writes; bind targets;
 * relative files; $0; modules, conda and venvs, and the set-up on mapped
 * storage that stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>

#include "base/base.h"

#include "job_fixture.h"

static int setup(void **state)
{
    (void)state;
    fixture_reset();
    F.cfg.submit_dir = strdup("/project/lab/exp1");
    F.cfg.home = strdup("/home/%u");
    F.cfg.user = strdup("user1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_free();
    return 0;
}

static const s2r_path_use *use_of(const char *path)
{
    for (size_t i = 0; i < F.job.n_paths; i++)
        if (!strcmp(F.job.paths[i].path, path))
            return &F.job.paths[i];
    return NULL;
}

static const s2r_path_use *must(const char *path)
{
    const s2r_path_use *u = use_of(path);
    if (!u) {
        for (size_t i = 0; i < F.job.n_paths; i++)
            print_message("  found %s\n", F.job.paths[i].path);
        fail_msg("%s was not found", path);
    }
    return u;
}

static bool strv_has(const s2r_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return true;
    return false;
}

static void test_paths__words_quotes_defaults_heredocs(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "#SBATCH -o /scratch/logs/%j.out\n"
        "#SBATCH --chdir=/project/lab-a/run\n"
        "#SBATCH --export=ALL,REF=/refs/hg38\n"
        "DATA=${DATA:-/datasets/imagenet}\n"
        "export CKPT=/scratch/ckpt\n"
        "cat <<EOF > cfg.yaml\n"
        "train: /gpfs/corpus/train\n"
        "EOF\n"
        "python train.py --data '/datasets/coco/' --ckpt \"$CKPT/run1\" "
        "--cfg=/work/cfg.yaml\n"), 0);
    assert_true(must("/scratch/logs/%j.out")->written);
    assert_int_equal(must("/scratch/logs/%j.out")->line, 2);
    assert_int_equal(must("/project/lab-a/run")->line, 3);
    must("/refs/hg38");
    assert_int_equal(must("/datasets/imagenet")->line, 5);
    must("/scratch/ckpt");
    must("/scratch/ckpt/run1");
    assert_int_equal(must("/gpfs/corpus/train")->line, 8);
    must("/datasets/coco");
    must("/work/cfg.yaml");
    assert_false(must("/work/cfg.yaml")->mention);
}

static void test_paths__comments_urls_and_not_paths(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "# the old data lived in /old/data\n"
        "   # /indented/comment\n"
        "wget https://example.org/files/x.tar  # from /mirror/x\n"
        "echo \"a # b /quoted/hash\"\n"
        "sed 's/foo/bar/' in.txt > out.txt\n"
        "x=$((a/2)); ls //net/share\n"
        "python run.py\n"), 0);
    assert_null(use_of("/old/data"));
    assert_null(use_of("/indented/comment"));
    assert_null(use_of("/files/x.tar"));
    assert_null(use_of("/foo/bar"));
    assert_null(use_of("//net/share"));
    /* a trailing comment only mentions */
    assert_true(must("/mirror/x")->mention);
    /* '#' inside quotes starts no comment */
    assert_false(must("/quoted/hash")->mention);
}

static void test_paths__home_submit_dir_and_exports(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "source ~/miniforge3/etc/profile.d/conda.sh\n"
        "cp $HOME/.netrc \"${HOME}/keys\" .\n"
        "ls $SLURM_SUBMIT_DIR/inputs ~\n"
        "export OUT=/scratch/u1\n"
        "python run.py --out ${OUT}/a\n"), 0);
    assert_true(F.job.uses_home);
    must("/home/user1/miniforge3/etc/profile.d/conda.sh");
    must("/home/user1/.netrc");
    must("/home/user1/keys");
    must("/home/user1");
    must("/project/lab/exp1/inputs");
    assert_true(must("/scratch/u1/a")->written);
    assert_string_equal(F.job.submit_dir, "/project/lab/exp1");
}

/* a prefix as the last bytes of a text that has no NUL after it: nothing
 * is read past the end (a fuzz finding: fuzz_script/home-at-end-of-text) */
static void test_paths__home_at_the_end_of_the_text(void **state)
{
    (void)state;
    static const char text[] = "#!/bin/bash\nls $HOME";
    assert_int_equal(parse_exact(text, sizeof(text) - 1), 0);
    must("/home/user1");
}

/* a path or a prefix at every offset of a line, before, across and after
 * each 8 bytes the scan reads at once, with bytes of every value around */
static void test_paths__starts_at_every_offset(void **state)
{
    (void)state;
    for (size_t k = 0; k < 20; k++) {
        char script[128] = "#!/bin/bash\necho ";
        size_t o = strlen(script);
        for (size_t i = 0; i < k; i++)
            script[o++] = (char)(i % 2 ? 0xAF : 'x'); /* '/' | 0x80 */
        memcpy(script + o, " /data/d", 8);
        o += 8;
        for (size_t i = 0; i < k % 9; i++)
            script[o++] = 'y';
        memcpy(script + o, " ~/h $HOME/e\n", 14);
        assert_int_equal(parse(script), 0);
        char want[32];
        snprintf(want, sizeof(want), "/data/d%.*s", (int)(k % 9),
                 "yyyyyyyy");
        must(want);
        must("/home/user1/h");
        must("/home/user1/e");
        s2r_job_free(&F.job);
        s2r_diags_clear(&F.d);
        memset(&F.job, 0, sizeof(F.job));
    }
}

static void test_paths__what_the_script_writes(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "mkdir -p /scratch/out\n"
        "echo x >> /scratch/log.txt\n"
        "date | tee -a /scratch/tee.txt\n"
        "cp /project/in.csv /scratch/copy.csv\n"
        "rsync -a /project/src/ /scratch/dst\n"
        "fastqc --outdir /scratch/qc -t 4 /project/r.fq\n"
        "tool --output-dir=/scratch/o1 -o /scratch/o2 --in /project/x\n"
        "python run.py 2>/scratch/err.txt\n"), 0);
    const char *wrote[] = {"/scratch/out", "/scratch/log.txt",
                           "/scratch/tee.txt", "/scratch/copy.csv",
                           "/scratch/dst", "/scratch/qc", "/scratch/o1",
                           "/scratch/o2", "/scratch/err.txt", NULL};
    for (size_t i = 0; wrote[i]; i++)
        if (!must(wrote[i])->written)
            fail_msg("%s: not seen as written", wrote[i]);
    const char *read[] = {"/project/in.csv", "/project/src",
                          "/project/r.fq", "/project/x", NULL};
    for (size_t i = 0; read[i]; i++)
        if (must(read[i])->written)
            fail_msg("%s: seen as written", read[i]);
}

static void test_paths__bind_targets_are_in_the_image(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "singularity exec --bind /scratch/vol:/data:ro,/project/code:/code "
        "docker://nvcr.io/nvidia/pytorch:23.10-py3 python /code/t.py\n"
        "export PYTHONPATH=/shared/lib:/project/lib\n"), 0);
    assert_true(must("/data")->in_image);
    assert_true(must("/code")->in_image);
    assert_false(must("/scratch/vol")->in_image);
    assert_false(must("/project/code")->in_image);
    /* a path list is no bind */
    assert_false(must("/project/lib")->in_image);
}

static void test_paths__relative_files_and_self(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "source ./env.sh\n"
        "module load cuda/12.1\n"
        "conda activate envs/torch\n"
        "cd \"$(dirname \"$0\")\"\n"
        "python train.py --config=configs/a.yaml --lr 1e-3 out/\n"), 0);
    assert_true(strv_has(&F.job.relative_files, "./env.sh"));
    assert_true(strv_has(&F.job.relative_files, "train.py"));
    assert_true(strv_has(&F.job.relative_files, "configs/a.yaml"));
    assert_true(strv_has(&F.job.relative_files, "out/"));
    assert_false(strv_has(&F.job.relative_files, "1e-3"));
    /* module and conda names are software, not files */
    assert_false(strv_has(&F.job.relative_files, "cuda/12.1"));
    assert_false(strv_has(&F.job.relative_files, "envs/torch"));
    assert_int_equal(F.job.self_line, 5);
    bool warned = false;
    for (size_t i = 0; i < F.d.n; i++)
        warned |= F.d.v[i].line == 5 &&
                  strstr(F.d.v[i].message, "spool copy") != NULL;
    assert_true(warned);
}

/* files the script makes before it reads them are no files to find in
 * the working directory */
static void test_paths__files_the_script_makes(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "cat > inner.sh <<EOF\necho hi > not-a-target.txt\nEOF\n"
        "./inner.sh\n"
        "python gen.py >| cfg.yaml 2>&1\n"
        "mkdir -p results/run1\n"
        "cp base.yaml results/run1/\n"
        "wget -O data.csv http://example.org/d\n"
        "python train.py --config cfg.yaml --out results/run1/m.pt data.csv\n"
        "cat later.txt\ntouch later.txt\n"), 0);
    const s2r_strv *r = &F.job.relative_files;
    assert_true(strv_has(r, "gen.py"));
    assert_true(strv_has(r, "base.yaml"));
    assert_true(strv_has(r, "train.py"));
    assert_true(strv_has(r, "later.txt")); /* read before it is made */
    assert_false(strv_has(r, "./inner.sh"));
    assert_false(strv_has(r, "cfg.yaml"));
    assert_false(strv_has(r, "results/run1/m.pt"));
    assert_false(strv_has(r, "data.csv"));
}

/* $0, ${0} and BASH_SOURCE are found wherever they sit on a line (its
 * last bytes too, with no NUL after the text), never in a comment, in
 * single quotes or as $0 followed by a digit; a path longer than the scan's stack room is
 * recorded whole */
static void test_paths__self_at_line_ends_and_long_paths(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {"#!/bin/bash\necho x\ncd $(dirname $BASH_SOURCE)", 3},
        {"#!/bin/bash\necho x\necho ${0}", 3},
        {"#!/bin/bash\necho $01 # BASH_SOURCE $0\necho $0", 3},
        {"#!/bin/bash\necho BASH_SOURC\necho x BASH_SOURCE", 3},
        {"#!/bin/bash\necho '$1' \"$10\"\n", 0},
        /* an inner shell's $0, in single quotes: not the script's */
        {"#!/bin/bash\nfind . -exec sh -c 'gzip \"$0\"' {} \\;\n"
         "bash -c 'echo ${0} $BASH_SOURCE' x\n", 0},
        {"#!/bin/bash\necho \"it's $0\"\n", 2},
        {"#!/bin/bash\necho 'a' $0 'b\n", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        char *exact = malloc(len);
        assert_non_null(exact);
        memcpy(exact, cases[i].text, len);
        s2r_job_free(&F.job);
        s2r_diags_clear(&F.d);
        memset(&F.job, 0, sizeof(F.job));
        assert_int_equal(s2r_job_parse(&F.job, "job.sh", exact, len,
                                       &F.cfg, &F.d), 0);
        free(exact);
        if (F.job.self_line != cases[i].line)
            fail_msg("case %zu: self_line %d, not %d", i, F.job.self_line,
                     cases[i].line);
    }
    char script[1024], want[700];
    strcpy(want, "/home/user1");
    size_t o = strlen(want);
    for (int k = 0; k < 40; k++)
        o += (size_t)sprintf(want + o, "/folder%02d", k);
    snprintf(script, sizeof(script), "#!/bin/bash\nls $HOME%s\nls %s\n",
             want + strlen("/home/user1"), want);
    s2r_job_free(&F.job);
    s2r_diags_clear(&F.d);
    memset(&F.job, 0, sizeof(F.job));
    assert_int_equal(parse(script), 0);
    assert_true(strlen(want) > 256);
    must(want);
}

/* which words name relative files: a '/' or a known extension, no
 * character a file name in a script seldom has (a URL's "://" either) */
static void test_paths__relative_file_words(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "run x.tar data/ --cfg=conf/x.yaml http://h/a.py s3://b/c.py a:b.py\n"
        "run .hidden.py ../up.sh ./ ./x a*.py a,b.py noext.xyz R.R e@x.py\n"
        "run x.tar m.in.gz ~/h.py $D/x.py 'q r.py' -o out.csv\n"), 0);
    const char *yes[] = {"x.tar", "data/", "conf/x.yaml", "../up.sh", "./",
                         "./x", "R.R", "m.in.gz", "out.csv", NULL};
    const char *no[] = {"http://h/a.py", "s3://b/c.py", "a:b.py",
                        ".hidden.py", "a*.py", "a,b.py", "noext.xyz",
                        "e@x.py", "~/h.py", "$D/x.py", "q r.py", "-o",
                        NULL};
    for (size_t i = 0; yes[i]; i++)
        if (!strv_has(&F.job.relative_files, yes[i]))
            fail_msg("%s: not a relative file", yes[i]);
    for (size_t i = 0; no[i]; i++)
        if (strv_has(&F.job.relative_files, no[i]))
            fail_msg("%s: a relative file", no[i]);
    size_t tars = 0;
    for (size_t i = 0; i < F.job.relative_files.n; i++)
        tars += !strcmp(F.job.relative_files.v[i], "x.tar");
    assert_int_equal(tars, 1);
}

/* a model hub id (org/name) after --model and its kin, or as `vllm
 * serve`'s model, is no file of the working directory; a path is */
static void test_paths__model_ids_are_no_files(void **state)
{
    (void)state;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "vllm serve meta-llama/Llama-3-8B --tokenizer org/tok &\n"
        "python b.py --model=Qwen/Qwen2.5-7B --model_name_or_path a/b "
        "--data d/x.csv --model ./m/x --model-id ../up/m\n"), 0);
    const char *no[] = {"meta-llama/Llama-3-8B", "org/tok", "Qwen/Qwen2.5-7B",
                        "a/b", NULL};
    const char *yes[] = {"b.py", "d/x.csv", "./m/x", "../up/m", NULL};
    for (size_t i = 0; no[i]; i++)
        if (strv_has(&F.job.relative_files, no[i]))
            fail_msg("%s: a relative file", no[i]);
    for (size_t i = 0; yes[i]; i++)
        if (!strv_has(&F.job.relative_files, yes[i]))
            fail_msg("%s: not a relative file", yes[i]);
}

static void test_software__lists_and_storage(void **state)
{
    (void)state;
    F.cfg.volumes = calloc(2, sizeof(s2r_volume));
    F.cfg.volumes[0] = (s2r_volume){S2R_VOL_NFS, strdup("/shared"),
                                    strdup("/export/shared"),
                                    strdup("nfs"), false, 1};
    F.cfg.volumes[1] = (s2r_volume){S2R_VOL_NFS, strdup("/home"),
                                    strdup("/export/home"), strdup("nfs"),
                                    false, 2};
    F.cfg.n_volumes = 2;
    assert_int_equal(parse(
        "#!/bin/bash\n"
        "module purge\n"
        "module load cuda/12.1 cudnn/8.9\n"
        "ml gcc\n"
        "source /shared/miniforge3/etc/profile.d/conda.sh\n"
        "conda activate detect\n"
        "source ~/venvs/tools/bin/activate\n"
        "source /opt/venv/bin/activate\n"
        "python detect.py\n"), 0);
    const char *mods[] = {"cuda/12.1", "cudnn/8.9", "gcc", NULL};
    for (size_t i = 0; mods[i]; i++)
        assert_true(strv_has(&F.job.modules, mods[i]));
    assert_int_equal(F.job.modules.n, 3);
    assert_true(strv_has(&F.job.conda_envs, "detect"));
    assert_true(strv_has(&F.job.venvs, "~/venvs/tools"));
    assert_true(strv_has(&F.job.venvs, "/opt/venv"));
    /* on mapped storage: kept; elsewhere: dropped */
    const char *body = F.job.run_shell;
    assert_non_null(body);
    assert_non_null(strstr(body, "source /shared/miniforge3/etc/profile.d/"
                                 "conda.sh\n"));
    assert_non_null(strstr(body, "conda activate detect\n"));
    assert_non_null(strstr(body, "source ~/venvs/tools/bin/activate\n"));
    assert_null(strstr(body, "/opt/venv"));
    assert_null(strstr(body, "module"));
    bool venv_warned = false;
    for (size_t i = 0; i < F.d.n; i++)
        venv_warned |= F.d.v[i].line == 7 &&
                       strstr(F.d.v[i].message, "base interpreter") != NULL;
    assert_true(venv_warned);
    /* conda.sh on mounted storage: `conda` is there too */
    for (size_t i = 0; i < F.d.n; i++)
        assert_null(strstr(F.d.v[i].message, "`conda` command"));
}

/* [storage] /shared = nfs:nfs:/export/shared, the only entry */
static void shared_volume(void)
{
    F.cfg.volumes = calloc(1, sizeof(s2r_volume));
    F.cfg.volumes[0] = (s2r_volume){S2R_VOL_NFS, strdup("/shared"),
                                    strdup("/export/shared"),
                                    strdup("nfs"), false, 1};
    F.cfg.n_volumes = 1;
}

/* an environment on mounted storage activated with no conda.sh from it:
 * the image must have conda */
static void test_software__conda_env_needs_conda(void **state)
{
    (void)state;
    shared_volume();
    assert_int_equal(parse("#!/bin/bash\nconda activate /shared/envs/x\n"
                           "python t.py\n"), 0);
    bool warned = false;
    for (size_t i = 0; i < F.d.n; i++)
        warned |= F.d.v[i].line == 2 &&
                  F.d.v[i].severity == S2R_SEV_WARNING &&
                  strstr(F.d.v[i].message, "`conda` command must be in the "
                                           "image") != NULL;
    assert_true(warned);
}

/* A conda shell hook stays when what it sets up stays: the hook of an
 * installation on mounted storage, and the image's hook in front of a
 * kept activation of an environment on mounted storage (without it
 * `conda activate` fails in a shell that ran no `conda init`). A hook
 * of the image's conda with nothing kept after it is still dropped. */
static void test_software__conda_hook_kept_with_activation(void **state)
{
    (void)state;
    shared_volume();
    static const char *const hooks[] = {
        "eval \"$(/shared/miniforge3/bin/conda shell.bash hook)\"\n",
        "eval \"$(conda shell.bash hook)\"\n",
        "eval \"$(/opt/conda/bin/conda shell.bash hook)\"\n"};
    for (size_t h = 0; h < 3; h++) {
        char script[256];
        snprintf(script, sizeof(script),
                 "#!/bin/bash\n%sconda activate /shared/envs/x\n"
                 "python t.py\n", hooks[h]);
        assert_int_equal(parse(script), 0);
        assert_non_null(strstr(F.job.run_shell, hooks[h]));
        assert_non_null(strstr(F.job.run_shell, "conda activate /shared/envs/x"));
        bool hook_warned = false;
        for (size_t i = 0; i < F.d.n; i++)
            hook_warned |= F.d.v[i].line == 2 &&
                           strstr(F.d.v[i].message, "needs this hook");
        /* an installation on storage has its own conda: no warning */
        assert_true(hook_warned == (h > 0));
        s2r_job_free(&F.job);
        s2r_diags_clear(&F.d);
        memset(&F.job, 0, sizeof(F.job));
    }
    assert_int_equal(parse("#!/bin/bash\neval \"$(conda shell.bash hook)\"\n"
                           "conda activate detect\npython t.py\n"), 0);
    assert_true(!F.job.run_shell || !strstr(F.job.run_shell, "conda"));
}

/* Thousands of distinct modules, each loaded again on later lines, and
 * conda and virtual environments used again and again: each list holds
 * every name once, in the order of its first use. */
static void test_software__many_names_in_order(void **state)
{
    (void)state;
    enum { MODULES = 3000, ENVS = 100, VENVS = 40 };
    s2r_buf s = {0};
    s2r_buf_puts(&s, "#!/bin/bash\n");
    for (int i = 0; i < MODULES; i++)
        s2r_buf_printf(&s, "module load m%d m%d\nml m%d\n"
                       "conda activate env%d\nsource v%d/bin/activate\n",
                       i, i / 2, i / 3, i % ENVS, i % VENVS);
    s2r_buf_puts(&s, "python t.py\n");
    char *script = s2r_buf_finish(&s);
    assert_non_null(script);
    assert_int_equal(parse(script), 0);
    free(script);
    char want[32];
    assert_int_equal(F.job.modules.n, MODULES);
    for (int i = 0; i < MODULES; i++) {
        snprintf(want, sizeof(want), "m%d", i);
        assert_string_equal(F.job.modules.v[i], want);
    }
    assert_int_equal(F.job.conda_envs.n, ENVS);
    for (int i = 0; i < ENVS; i++) {
        snprintf(want, sizeof(want), "env%d", i);
        assert_string_equal(F.job.conda_envs.v[i], want);
    }
    assert_int_equal(F.job.venvs.n, VENVS);
    for (int i = 0; i < VENVS; i++) {
        snprintf(want, sizeof(want), "v%d", i);
        assert_string_equal(F.job.venvs.v[i], want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_paths__words_quotes_defaults_heredocs, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__comments_urls_and_not_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__home_submit_dir_and_exports, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__home_at_the_end_of_the_text, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__starts_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__what_the_script_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__bind_targets_are_in_the_image, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__relative_files_and_self, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__files_the_script_makes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__self_at_line_ends_and_long_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__relative_file_words, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paths__model_ids_are_no_files, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_software__lists_and_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_software__conda_env_needs_conda, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_software__conda_hook_kept_with_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_software__many_names_in_order, setup, teardown),
    };
    return cmocka_run_group_tests_name("body_paths", tests, NULL, NULL);
}
