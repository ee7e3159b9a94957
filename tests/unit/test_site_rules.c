/* test_site_rules.c: a script through a site file into each format (CLI,
 * YAML, REST JSON): the [storage] entries the job uses mounted once, the
 * working directory, the -o/-e files, /dev/shm, the owner's identity,
 * [accounts], [qos] and [modules]; and the warnings that name the INI
 * line to add. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>

#include "config/config.h"

#define SITE                                                              \
    "[site]\nhome = /home/%u\nuser = user1\nuid = 1001\ngid = 100\n"      \
    "groups = 2000\n"                                                     \
    "[storage]\n/home = nfs:nfs.example.org:/export/home\n"               \
    "/project = pvc:project\n/scratch = pvc:scratch\n"                    \
    "/datasets = hostpath:/mnt/datasets,ro\n/refs = pvc:refs,ro\n"        \
    "[accounts]\nlab-a = team-a\n[qos]\nlow-prio = very-low\n"            \
    "[modules]\ncuda/12.1 = nvcr.io/nvidia/cuda:12.1.1-devel-ubuntu22.04\n" \
    "cudnn = nvcr.io/nvidia/cuda:12.1.1-devel-ubuntu22.04\n"              \
    "gromacs = registry.example.org/gromacs:2023\n"

#define SCRIPT                                                            \
    "#!/bin/bash\n"                                                       \
    "#SBATCH --job-name=train\n"                                          \
    "#SBATCH --account=lab-a\n"                                           \
    "#SBATCH --qos=low-prio\n"                                            \
    "#SBATCH --gres=gpu:2\n"                                              \
    "#SBATCH --mem=64G\n"                                                 \
    "#SBATCH -o logs/%x-%j.out\n"                                         \
    "#SBATCH -e logs/%x-%j.err\n"                                         \
    "module load cuda/12.1 cudnn/8.9\n"                                   \
    "source ~/venvs/vision/bin/activate\n"                                \
    "python train.py --data /datasets/imagenet --ckpt /scratch/u1/ckpt \\\n" \
    "    --refs /refs/hg38 --cache /lustre/cache/x > /refs/out.txt\n"

typedef struct conv {
    s2r_config cfg;
    s2r_diags d;
    s2r_job job;
    s2r_workload wl;
    char *out[3];
} conv;

static void convert(conv *c, const char *site, const char *script,
                    const char *submit_dir)
{
    memset(c, 0, sizeof(*c));
    s2r_config_defaults(&c->cfg);
    if (site) {
        s2r_ini ini = {0};
        assert_int_equal(s2r_ini_read_string(&ini, "site.ini", site, &c->d),
                         S2R_OK);
        assert_int_equal(s2r_config_apply(&c->cfg, &ini, &c->d), S2R_OK);
        s2r_ini_free(&ini);
    }
    if (submit_dir)
        c->cfg.submit_dir = strdup(submit_dir);
    assert_int_equal(s2r_job_parse(&c->job, "job.sh", script, strlen(script),
                                   &c->cfg, &c->d), S2R_OK);
    assert_int_equal(s2r_rules_convert(&c->wl, &c->job, &c->cfg, &c->d),
                     S2R_OK);
    for (int f = 0; f < 3; f++)
        assert_int_equal(s2r_emit(&c->out[f], &c->wl, (s2r_format)f, &c->cfg,
                                  &c->d), S2R_OK);
}

static void conv_free(conv *c)
{
    for (int f = 0; f < 3; f++)
        free(c->out[f]);
    s2r_workload_free(&c->wl);
    s2r_job_free(&c->job);
    s2r_diags_clear(&c->d);
    s2r_config_free(&c->cfg);
}

static const s2r_diag *said(const conv *c, const char *needle)
{
    for (size_t i = 0; i < c->d.n; i++)
        if (strstr(c->d.v[i].message, needle))
            return &c->d.v[i];
    return NULL;
}

#define assert_has(hay, needle)                                           \
    do {                                                                  \
        if (!strstr((hay), (needle)))                                     \
            fail_msg("'%s' not found in:\n%s", (needle), (hay));          \
    } while (0)

static void test_site_rules__the_workload(void **state)
{
    (void)state;
    conv c;
    convert(&c, SITE, SCRIPT, "/project/lab/exp1");
    const s2r_workload *wl = &c.wl;
    assert_string_equal(wl->workdir, "/project/lab/exp1");
    assert_string_equal(wl->project, "team-a");
    assert_string_equal(wl->priority, "very-low");
    assert_string_equal(wl->image, "nvcr.io/nvidia/cuda:12.1.1-devel-ubuntu22.04");
    /* project (workdir, logs), home (venv), datasets, scratch, refs */
    const char *mounted[] = {"/project", "/home", "/datasets", "/scratch",
                             "/refs", NULL};
    size_t n = 0;
    for (; mounted[n]; n++) {
        bool found = false;
        for (size_t i = 0; i < wl->n_volumes; i++)
            found |= !strcmp(wl->volumes[i].path, mounted[n]);
        if (!found)
            fail_msg("%s is not mounted", mounted[n]);
    }
    assert_int_equal(wl->n_volumes, n);
    assert_true(wl->large_shm);
    assert_true(wl->run_as_user);
    assert_int_equal(wl->run_as_uid, 1001);
    assert_int_equal(wl->run_as_gid, 100);
    assert_string_equal(wl->supplemental_groups, "2000");
    assert_string_equal(s2r_envv_get(&wl->env, "HOME"), "/home/user1");
    assert_string_equal(s2r_envv_get(&wl->env, "SLURM_SUBMIT_DIR"),
                        "/project/lab/exp1");
    assert_string_equal(s2r_envv_get(&wl->env, "SLURM_JOB_NAME"), "train");
    assert_string_equal(s2r_envv_get(&wl->env, "SLURM_MEM_PER_NODE"), "65536");
    assert_string_equal(wl->stdout_file, "logs/%x-%j.out");
    assert_string_equal(wl->stderr_file, "logs/%x-%j.err");
    /* what is not carried, with the INI line that would */
    const s2r_diag *lustre = said(&c, "/lustre/cache/x");
    assert_non_null(lustre);
    assert_int_equal(lustre->line, 12);
    assert_has(lustre->message, "add to [storage]: /lustre = pvc:CLAIM");
    assert_non_null(said(&c, "writes to /refs/out.txt, but [storage] /refs "
                             "is read-only"));
    /* the CLI cannot mount a PVC read-only */
    assert_non_null(said(&c, "--existing-pvc has no read-only form"));
    assert_non_null(said(&c, "base interpreter"));
    for (size_t i = 0; i < c.d.n; i++)
        if (c.d.v[i].severity == S2R_SEV_WARNING &&
            (strstr(c.d.v[i].message, "--account") ||
             strstr(c.d.v[i].message, "--qos")))
            fail_msg("mapped, but: %s", c.d.v[i].message);
    conv_free(&c);
}

static void test_site_rules__each_format(void **state)
{
    (void)state;
    conv c;
    convert(&c, SITE, SCRIPT, "/project/lab/exp1");
    const char *cli = c.out[S2R_FMT_CLI];
    assert_has(cli, "-p team-a");
    assert_has(cli, "--priority very-low");
    assert_has(cli, "--working-dir /project/lab/exp1");
    assert_has(cli, "--existing-pvc claimname=project,path=/project");
    assert_has(cli, "--nfs path=/export/home,server=nfs.example.org,"
                    "mountpath=/home,readwrite");
    assert_has(cli, "--host-path path=/mnt/datasets,mount=/datasets \\\n");
    assert_has(cli, "--large-shm");
    assert_has(cli, "--run-as-uid 1001 \\\n    --run-as-gid 100 \\\n"
                    "    --supplemental-groups 2000");
    assert_has(cli, "tee -- \"logs/${SLURM_JOB_NAME}-${SLURM_JOB_ID}.err\"");
    assert_has(cli, "tee -- \"logs/${SLURM_JOB_NAME}-${SLURM_JOB_ID}.out\"");
    const char *yaml = c.out[S2R_FMT_YAML];
    assert_has(yaml, "      securityContext:\n        runAsUser: 1001\n"
                     "        runAsGroup: 100\n        supplementalGroups:\n"
                     "        - 2000\n");
    assert_has(yaml, "        workingDir: /project/lab/exp1\n");
    assert_has(yaml, "        - name: refs\n          mountPath: /refs\n"
                     "          readOnly: true\n");
    assert_has(yaml, "      - name: refs\n        persistentVolumeClaim:\n"
                     "          claimName: refs\n          readOnly: true\n");
    assert_has(yaml, "      - name: dshm\n        emptyDir:\n"
                     "          medium: Memory\n          sizeLimit: \"64Gi\"\n");
    const char *json = c.out[S2R_FMT_JSON];
    assert_has(json, "\"largeShmRequest\": true");
    assert_has(json, "\"claimName\": \"scratch\"");
    assert_has(json, "\"mountPath\": \"/home\"");
    assert_has(json, "\"runAsUid\": 1001");
    assert_has(json, "\"supplementalGroups\": \"2000\"");
    assert_has(json, "\"uidGidSource\": \"custom\"");
    assert_has(json, "\"workingDir\": \"/project/lab/exp1\"");
    conv_free(&c);
}

/* no site file: nothing is mounted, the pod still starts in the submit
 * directory, and the warnings say what will not be found */
static void test_site_rules__no_site_file(void **state)
{
    (void)state;
    conv c;
    convert(&c, NULL, SCRIPT, "/project/lab/exp1");
    assert_int_equal(c.wl.n_volumes, 0);
    assert_false(c.wl.run_as_user);
    assert_string_equal(c.wl.workdir, "/project/lab/exp1");
    const s2r_diag *wd = said(&c, "the working directory /project/lab/exp1");
    assert_non_null(wd);
    assert_has(wd->message, "train.py will not be found there");
    assert_has(wd->message, "add to [storage]: /project = pvc:CLAIM");
    assert_non_null(said(&c, "--account=lab-a maps to no Run:ai project"));
    assert_non_null(said(&c, "add to [accounts]: lab-a = PROJECT"));
    assert_non_null(said(&c, "add to [qos]: low-prio = PRIORITY"));
    assert_non_null(said(&c, "add to [storage]: /datasets = pvc:CLAIM"));
    assert_has(c.out[S2R_FMT_YAML], "workingDir: /project/lab/exp1");
    conv_free(&c);

    /* an unknown submit directory (a server request that names none) */
    convert(&c, NULL, "#!/bin/bash\npython t.py\n", "");
    assert_null(c.wl.workdir);
    assert_non_null(said(&c, "the submit directory is not known"));
    conv_free(&c);
}

static void test_site_rules__logs_default_and_off(void **state)
{
    (void)state;
    conv c;
    convert(&c, NULL, "#!/bin/bash\n#SBATCH -a 1-3\npython t.py\n", "/w");
    assert_string_equal(c.wl.stdout_file, "slurm-%A_%a.out");
    assert_null(c.wl.stderr_file);
    conv_free(&c);
    convert(&c, NULL, "#!/bin/bash\n#SBATCH --open-mode=append\npython t.py\n",
            "/w");
    assert_string_equal(c.wl.stdout_file, "slurm-%j.out");
    assert_true(c.wl.log_append);
    assert_has(c.out[S2R_FMT_CLI], "tee -a -- \"slurm-${SLURM_JOB_ID}.out\"");
    conv_free(&c);
    convert(&c, "[site]\nslurm_log = false\n", "#!/bin/bash\npython t.py\n",
            "/w");
    assert_null(c.wl.stdout_file);
    assert_has(c.out[S2R_FMT_CLI], "exec \"$@\"");
    conv_free(&c);
}

/* -o is relative to the folder the job starts in (the submit directory),
 * not to a later `cd` that became the pod's working directory */
static void test_site_rules__logs_under_the_start_dir(void **state)
{
    (void)state;
    conv c;
    convert(&c, SITE, "#!/bin/bash\n#SBATCH -o logs/%j.out\n"
                      "cd /scratch/u1/cfd\n./solver\n", "/project/lab/exp1");
    assert_string_equal(c.wl.workdir, "/scratch/u1/cfd");
    assert_string_equal(c.wl.stdout_file, "/project/lab/exp1/logs/%j.out");
    assert_has(c.out[S2R_FMT_CLI], "--existing-pvc claimname=project,"
                                   "path=/project");
    assert_has(c.out[S2R_FMT_CLI], "/project/lab/exp1/logs/");
    conv_free(&c);
}

/* a bind whose source the storage map mounts: at the same path a note, at
 * another a warning that says where the files are */
static void test_site_rules__binds_on_storage(void **state)
{
    (void)state;
    conv c;
    convert(&c, SITE, "#!/bin/bash\napptainer exec -B /project/d:/project/d"
                      ",/scratch/ds:/mnt/ds docker://ghcr.io/a/b:1 "
                      "python t.py\n", "/project/lab/exp1");
    const s2r_diag *same = said(&c, "container bind /project/d -> /project/d:"
                                    " [storage] /project mounts it");
    assert_non_null(same);
    assert_int_equal(same->severity, S2R_SEV_NOTE);
    const s2r_diag *other = said(&c, "[storage] /scratch mounts /scratch/ds "
                                     "in the pod at its own path, not at "
                                     "/mnt/ds");
    assert_non_null(other);
    assert_int_equal(other->severity, S2R_SEV_WARNING);
    assert_null(said(&c, "is not carried"));
    conv_free(&c);
}

/* nodes with no launch to spread them: one pod with all their resources */
static void test_site_rules__nodes_in_one_pod(void **state)
{
    (void)state;
    conv c;
    convert(&c, NULL, "#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4 -c 2 "
                      "--mem=8G --gres=gpu:2\nsrun hostname\n", NULL);
    assert_int_equal(c.wl.pods, 1);
    assert_int_equal(c.wl.cpus, 16);
    assert_int_equal(c.wl.gpus, 4);
    assert_int_equal(c.wl.memory_mib, 16 * 1024);
    assert_non_null(said(&c, "one pod with the CPUs, memory and GPUs of all "
                             "2 nodes"));
    conv_free(&c);
}

/* $USER and $TMPDIR, which sbatch and slurmstepd give every job */
static void test_site_rules__user_and_tmpdir(void **state)
{
    (void)state;
    conv c;
    convert(&c, SITE, "#!/bin/bash\nmkdir -p $TMPDIR/x /scratch/$USER\n"
                      "python t.py\n", "/project/lab/exp1");
    assert_string_equal(s2r_envv_get(&c.wl.env, "USER"), "user1");
    assert_string_equal(s2r_envv_get(&c.wl.env, "TMPDIR"), "/tmp");
    conv_free(&c);
    convert(&c, SITE, "#!/bin/bash\npython t.py\n", "/project/lab/exp1");
    assert_null(s2r_envv_get(&c.wl.env, "USER"));
    assert_null(s2r_envv_get(&c.wl.env, "TMPDIR"));
    conv_free(&c);
}

static void test_site_rules__identity_and_modules(void **state)
{
    (void)state;
    conv c;
    /* run_as = user with no uid (a server's site file): said */
    convert(&c, "[site]\nrun_as = user\n", "#!/bin/bash\npython t.py\n",
            "/w");
    assert_false(c.wl.run_as_user);
    assert_non_null(said(&c, "the script owner's UID is not known"));
    conv_free(&c);
    /* run_as = image keeps the image's user though storage is mapped */
    convert(&c, "[site]\nrun_as = image\nuid = 5\n"
                "[storage]\n/project = pvc:project\n",
            "#!/bin/bash\npython t.py\n", "/project/x");
    assert_false(c.wl.run_as_user);
    assert_null(strstr(c.out[S2R_FMT_YAML], "securityContext"));
    conv_free(&c);
    /* --uid of another user than [site] uid: not [site] user's name or
     * home, and what needs them said; uid without user: said too */
    convert(&c, SITE, "#!/bin/bash\n#SBATCH --uid=4321 --gid=7\n"
                      "#SBATCH -o %u-%j.out\ncd ~/exp\npython t.py\n",
            "/project/x");
    assert_int_equal(c.wl.run_as_uid, 4321);
    assert_null(c.wl.user);
    assert_null(s2r_envv_get(&c.wl.env, "HOME"));
    assert_has(c.out[S2R_FMT_CLI], "${USER:-$(id -un)}-");
    assert_non_null(said(&c, "s2r knows no user name for it"));
    conv_free(&c);
    convert(&c, SITE, "#!/bin/bash\n#SBATCH --uid=1001\ncd ~/exp\n"
                      "python t.py\n", "/project/x");
    assert_string_equal(c.wl.user, "user1");
    assert_string_equal(s2r_envv_get(&c.wl.env, "HOME"), "/home/user1");
    assert_null(said(&c, "s2r knows no user name for it"));
    conv_free(&c);
    convert(&c, "[site]\nuid = 1234\n[storage]\n/home = pvc:home\n",
            "#!/bin/bash\ncd ~/exp\npython t.py\n", "/home/x");
    assert_int_equal(c.wl.run_as_uid, 1234);
    assert_non_null(said(&c, "~ and $HOME have no value"));
    conv_free(&c);
    /* pyxis' #SBATCH --container-mounts: the sources' storage mounted,
     * though the body names no path of it */
    convert(&c, "[storage]\n/scratch = pvc:scratch\n",
            "#!/bin/bash\n#SBATCH --container-mounts=/scratch/d:/data\n"
            "python t.py\n", "/w");
    bool scratch = false;
    for (size_t i = 0; i < c.wl.n_volumes; i++)
        scratch |= !strcmp(c.wl.volumes[i].path, "/scratch");
    assert_true(scratch);
    conv_free(&c);
    /* two modules, two images: neither, and the conflict named */
    convert(&c, SITE, "#!/bin/bash\nmodule load cuda/12.1 gromacs/2023\n"
                      "gmx mdrun\n", "/project/x");
    assert_string_equal(c.wl.image, "nvcr.io/nvidia/pytorch:24.05-py3");
    const s2r_diag *w = said(&c, "resolve to two images");
    assert_non_null(w);
    assert_has(w->message, "cuda/12.1 and gromacs/2023");
    conv_free(&c);
}

/* a quoted path with a tab in it (--output, --chdir) is one path under
 * one top folder, in the warning that names the [storage] line to add */
static void test_site_rules__tab_in_a_path(void **state)
{
    (void)state;
    conv c;
    convert(&c, NULL,
            "#!/bin/bash\n#SBATCH --output=\"/lo\tgs/%j.out\"\n"
            "#SBATCH --error=\"/lo\tgs/%j.err\"\npython t.py\n",
            "/project/x");
    const s2r_diag *w = said(&c, "/lo\tgs/%j.out (line 2), /lo\tgs/%j.err "
                                 "(line 3) are on no storage");
    assert_non_null(w);
    assert_has(w->message, "add to [storage]: /lo\tgs = pvc:CLAIM");
    for (size_t i = 0; i < c.d.n; i++)
        if (strstr(c.d.v[i].message, "[storage]: /lo =") ||
            strstr(c.d.v[i].message, "(line 0)"))
            fail_msg("cut at the tab: %s", c.d.v[i].message);
    conv_free(&c);
}

/* Thousands of top folders, each path under one of its own, a few of
 * them with more paths later: one warning per folder, in the order of
 * each folder's first path, with its paths in the order they were used
 * and the line of the first. */
static void test_site_rules__many_folders(void **state)
{
    (void)state;
    enum { FOLDERS = 4000, MORE = 10 };
    s2r_buf s = {0};
    s2r_buf_puts(&s, "#!/bin/bash\n");
    for (int i = 0; i < FOLDERS; i++) /* line i + 2 */
        s2r_buf_printf(&s, "cat /d%d/a\n", i);
    for (int i = 0; i < MORE; i++) /* line FOLDERS + 2 + i */
        s2r_buf_printf(&s, "cat /d%d/b /d%d/c /d%d/e\n", i, i, i);
    s2r_buf_puts(&s, "python t.py\n");
    char *script = s2r_buf_finish(&s);
    assert_non_null(script);
    conv c;
    convert(&c, NULL, script, "/project/x");
    free(script);
    size_t k = 0;
    char want[200];
    for (size_t i = 0; i < c.d.n; i++) {
        const s2r_diag *w = &c.d.v[i];
        if (!strstr(w->message, "on no storage the pod mounts: add to"))
            continue;
        assert_true(k < FOLDERS);
        int l = FOLDERS + 2 + (int)k;
        if (k < MORE)
            snprintf(want, sizeof(want), "/d%zu/a (line %zu), /d%zu/b (line "
                     "%d), /d%zu/c (line %d) and 1 more are on no storage",
                     k, k + 2, k, l, k, l);
        else
            snprintf(want, sizeof(want), "/d%zu/a (line %zu) is on no "
                     "storage", k, k + 2);
        assert_true(w->message == strstr(w->message, want));
        snprintf(want, sizeof(want), "add to [storage]: /d%zu = pvc:CLAIM",
                 k);
        assert_has(w->message, want);
        assert_int_equal(w->line, k + 2);
        k++;
    }
    assert_int_equal(k, FOLDERS);
    conv_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_site_rules__the_workload),
        cmocka_unit_test(test_site_rules__each_format),
        cmocka_unit_test(test_site_rules__no_site_file),
        cmocka_unit_test(test_site_rules__logs_default_and_off),
        cmocka_unit_test(test_site_rules__identity_and_modules),
        cmocka_unit_test(test_site_rules__logs_under_the_start_dir),
        cmocka_unit_test(test_site_rules__binds_on_storage),
        cmocka_unit_test(test_site_rules__nodes_in_one_pod),
        cmocka_unit_test(test_site_rules__user_and_tmpdir),
        cmocka_unit_test(test_site_rules__tab_in_a_path),
        cmocka_unit_test(test_site_rules__many_folders),
    };
    return cmocka_run_group_tests_name("site_rules", tests, NULL, NULL);
}
