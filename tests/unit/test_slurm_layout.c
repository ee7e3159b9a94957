/* Unit tests for the GPU records (core/slurm/gres.c) and the task layout
 * (core/slurm/layout.c): what sbatch and slurmctld 22.05 make of the
 * directives, each case as tests/sbatch found it against a real
 * controller (tests/sbatch/DIFFERENCES.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "slurm/slurm.h"

#define SH "#!/bin/bash\n"

typedef struct fx {
    s2r_job job;
    s2r_diags d;
    int rc;
} fx;

static fx *parse(const char *script)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->rc = s2r_slurm__parse_directives(&f->job, "t.sbatch", script,
                                        strlen(script), &f->d, NULL, NULL);
    return f;
}

static void done(fx *f)
{
    s2r_job_free(&f->job);
    s2r_diags_clear(&f->d);
    free(f);
}

static fx *ok(const char *script)
{
    fx *f = parse(script);
    for (size_t i = 0; f->rc != 0 && i < f->d.n; i++)
        print_error("diag: %s\n", f->d.v[i].message);
    assert_int_equal(f->rc, 0);
    return f;
}

/* refused with an error for @p opt (NULL: any) whose message has @p text */
static void refused(const char *script, const char *opt, const char *text)
{
    fx *f = parse(script);
    assert_int_equal(f->rc, S2R_EINVAL);
    bool found = false;
    for (size_t i = 0; i < f->d.n; i++) {
        const s2r_diag *g = &f->d.v[i];
        if (g->severity == S2R_SEV_ERROR && strstr(g->message, text) &&
            (!opt || (g->option && !strcmp(g->option, opt))))
            found = true;
    }
    if (!found)
        for (size_t i = 0; i < f->d.n; i++)
            print_error("diag: %s\n", f->d.v[i].message);
    assert_true(found);
    done(f);
}

/* nodes, ntasks (0 = not set), tasks per node, GPUs and cores per node */
static void layout(const char *script, int64_t nodes, int64_t ntasks,
                   int64_t tpn, int64_t gpn, int64_t cpn)
{
    fx *f = ok(script);
    assert_int_equal(f->job.nodes, nodes);
    assert_int_equal(f->job.ntasks, ntasks);
    assert_int_equal(f->job.tasks_per_node, tpn);
    assert_int_equal(f->job.gpus_per_node, gpn);
    assert_int_equal(f->job.cpus_per_node, cpn);
    done(f);
}

static void test_slurm_layout__mem_per_gpu_needs_a_gpu(void **state)
{
    (void)state;
    refused(SH "#SBATCH --mem-per-gpu=10G\n", "mem-per-gpu",
            "did not request any GPU");
    refused(SH "#SBATCH --mem-per-gpu=0 --cpus-per-gpu=2\n", "mem-per-gpu",
            "did not request any GPU");
    /* no GPU record at all: slurmctld does not look */
    fx *f = ok(SH "#SBATCH --mem-per-gpu=0\n");
    assert_int_equal(f->job.mem_per_node_mib, S2R_MEM_UNSET);
    done(f);
}

static void test_slurm_layout__typed_untyped_mix(void **state)
{
    (void)state;
    refused(SH "#SBATCH -G h100:4 --gpus-per-task=1 -n 4\n", NULL,
            "with and without type identification");
    refused(SH "#SBATCH --gres=gpu,gpu:a100:8\n", "gres",
            "with and without type identification");
    refused(SH "#SBATCH --gpus=4 --gres=gpu:a100:2\n", NULL,
            "with and without type identification");
    /* --cpus-per-gpu and --mem-per-gpu carry no type and may */
    fx *f = ok(SH "#SBATCH --cpus-per-gpu=4 --gpus=a100:2\n");
    assert_int_equal(f->job.cpus_per_node, 8);
    assert_string_equal(f->job.gpu_type, "a100");
    done(f);
    f = ok(SH "#SBATCH --mem-per-gpu=1G --gpus=a100:2\n");
    assert_int_equal(f->job.mem_per_node_mib, 2048);
    done(f);
}

static void test_slurm_layout__last_count_per_type(void **state)
{
    (void)state;
    layout(SH "#SBATCH --gpus-per-node=2 --gres=gpu:4\n", 1, 0, 1, 4, 1);
    layout(SH "#SBATCH --gres=gpu,gpu\n", 1, 0, 1, 1, 1);
    fx *f = ok(SH "#SBATCH --gpus-per-node=a100:2 --gres=gpu:a100:4\n");
    assert_int_equal(f->job.gpus_per_node, 4);
    assert_string_equal(f->job.gpu_type, "a100");
    done(f);
    /* only the last --gres counts, and a bad earlier one is no error */
    layout(SH "#SBATCH --gres=gpu:: --gres=gpu:2\n", 1, 0, 1, 2, 1);
}

static void test_slurm_layout__gpu_types_add_up(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --gpus=h100:1 --gpus-per-node=a40:1\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    assert_string_equal(f->job.gpu_type, "a40");
    done(f);
    layout(SH "#SBATCH --gres=gpu:a40:8 -N 8 --gpus=v100:8\n", 8, 0, 1, 9, 1);
}

static void test_slurm_layout__job_total_over_per_node(void **state)
{
    (void)state;
    /* 4 GPUs at 2 per node: slurmctld sets 2 nodes */
    layout(SH "#SBATCH --gres=gpu:2 --gpus=4\n", 2, 0, 1, 2, 1);
    layout(SH "#SBATCH --gres=gpu:2 --gpus=4 -n 3\n", 2, 3, 2, 2, 2);
    refused(SH "#SBATCH --gres=gpu:2 --gpus=3\n", "gpus", "not multiple");
    refused(SH "#SBATCH --gres=gpu:2 --gpus=4 -N 3\n", "gpus",
            "required nodes (2)");
    refused(SH "#SBATCH --gpus=h100 --gres=gpu:h100:8\n", "gpus",
            "Failed to ensure --gpus >=");
    refused(SH "#SBATCH -N 4 --gpus=a40\n", "gpus", "--gpus < -N");
    /* a job total below the node maximum lowers it */
    fx *f = ok(SH "#SBATCH --gpus=3 -N 2-4\n");
    assert_int_equal(f->job.nodes, 2);
    assert_int_equal(f->job.nodes_max, 3);
    assert_int_equal(f->job.gpus_per_node, 2);
    done(f);
}

static void test_slurm_layout__ntasks_per_node_is_a_maximum(void **state)
{
    (void)state;
    layout(SH "#SBATCH --ntasks=4 --ntasks-per-node=3\n", 2, 4, 3, 0, 3);
    layout(SH "#SBATCH -G2 -n 16 --ntasks-per-node 2\n", 8, 16, 2, 1, 2);
    layout(SH "#SBATCH --ntasks=8 --ntasks-per-node=2 -N 2-4\n", 4, 8, 2, 0,
           2);
    refused(SH "#SBATCH --ntasks=8 --ntasks-per-node=2 -N 2\n",
            "ntasks-per-node", "Requested node configuration is not "
            "available");
}

static void test_slurm_layout__tasks_per_node_alias(void **state)
{
    (void)state;
    const char *s[] = {SH "#SBATCH --tasks-per-node=3\n",
                       SH "#SBATCH --tasks=3\n", SH "#SBATCH --tas=3\n"};
    for (size_t i = 0; i < 3; i++) {
        fx *f = ok(s[i]);
        assert_int_equal(f->job.ntasks_per_node, 3);
        assert_int_equal(f->job.ntasks, 3);
        assert_int_equal(f->job.n_directives, 1);
        assert_string_equal(f->job.directives[0].name, "ntasks-per-node");
        done(f);
    }
    /* one option under two spellings: the last wins */
    fx *f = ok(SH "#SBATCH --ntasks-per-node=2 --tasks-per-node=4\n");
    assert_int_equal(f->job.tasks_per_node, 4);
    assert_int_equal(f->job.n_directives, 1);
    done(f);
}

static void test_slurm_layout__zero_nodes(void **state)
{
    (void)state;
    layout(SH "#SBATCH --nodes=0-2\n", 0, 0, 0, 0, 1);
    layout(SH "#SBATCH --nodes=0-2 -n 4\n", 1, 4, 4, 0, 4);
    layout(SH "#SBATCH -N0\n#SBATCH -N 2\n", 2, 0, 1, 0, 1);
    refused(SH "#SBATCH --nodes=0\n", "nodes", "Node count specification");
    refused(SH "#SBATCH --nodes=0 -n 3\n", "nodes",
            "Node count specification");
    refused(SH "#SBATCH --nodes=0-2 --array=1-3\n", "nodes",
            "Node count specification");
}

static void test_slurm_layout__zero_memory(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --mem-per-cpu=0\n");
    assert_int_equal(f->job.mem_per_node_mib, S2R_MEM_ALL);
    done(f);
    /* no memory per GPU: the site's default applies, not all of it */
    f = ok(SH "#SBATCH --gres=gpu:2 --mem-per-gpu=0\n");
    assert_int_equal(f->job.mem_per_node_mib, S2R_MEM_UNSET);
    done(f);
}

static void test_slurm_layout__gpus_per_task_sets_tasks(void **state)
{
    (void)state;
    layout(SH "#SBATCH --gpus-per-node=4 --gpus-per-task=2 -n 16\n", 8, 16,
           2, 4, 2);
    fx *f = ok(SH "#SBATCH --gpus-per-tas=1\n#SBATCH -n2 --cpus-per-gpu 8\n"
                  "#SBATCH --gres=gpu\n");
    assert_int_equal(f->job.nodes, 2);
    assert_int_equal(f->job.tasks_per_node, 1);
    assert_int_equal(f->job.cpus_per_task, 8);
    assert_int_equal(f->job.cpus_per_node, 8);
    done(f);
    layout(SH "#SBATCH --gpus-per-task=1 --gres=gpu:2 --gpus=4\n", 2, 4, 2, 2,
           2);
}

static void test_slurm_layout__gpus_per_task_conflicts(void **state)
{
    (void)state;
    refused(SH "#SBATCH --gpus-per-node=8 --gpus-per-task=1 "
               "--ntasks-per-node=1\n", "gpus-per-task",
            "number of tasks per node (8) differ");
    refused(SH "#SBATCH --gpus=0 --gpus-per-task=2\n", "gpus-per-task",
            "without either --gpus or -n/--ntasks");
    refused(SH "#SBATCH -G4 --gpus-per-task=1 -n 3\n", "gpus-per-task",
            "number of requested tasks (4) differ");
    refused(SH "#SBATCH -n 2 --ntasks-per-node=3 --gpus-per-task=1\n",
            "gpus-per-task", "Requested node configuration");
}

/* per sbatch(1) --tres-per-task=gres/gpu:N is --gpus-per-task=N (sbatch
 * 23.11 and later: _validate_tres_per_task()), and its cpu entry is -c */
static void test_slurm_layout__tres_per_task_gpus(void **state)
{
    (void)state;
    layout(SH "#SBATCH -n 2 --tres-per-task=gres/gpu:2\n", 1, 2, 2, 4, 2);
    layout(SH "#SBATCH -n 2 --tres-per-task=gres:gpu=2\n", 1, 2, 2, 4, 2);
    layout(SH "#SBATCH -N 2 --tres-per-task=gres/gpu\n", 2, 2, 1, 1, 1);
    layout(SH "#SBATCH -n 4 --gpus-per-node=4 --tres-per-task=gres/gpu:2\n",
           2, 4, 2, 4, 2);
    fx *f = ok(SH "#SBATCH -n 2 --tres-per-task=cpu:4,gres/gpu:a100:1\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    assert_string_equal(f->job.gpu_type, "a100");
    assert_int_equal(f->job.cpus_per_task, 4);
    assert_int_equal(f->job.cpus_per_node, 8);
    done(f);
    /* anything per task on a fixed node count sets the tasks */
    f = ok(SH "#SBATCH -N 2 --tres-per-task=license/matlab=1\n");
    assert_int_equal(f->job.ntasks, 2);
    done(f);
    f = ok(SH "#SBATCH -N 2 --tres-per-task=cpu=4\n");
    assert_int_equal(f->job.ntasks, 0); /* -c given: no task count */
    done(f);
    /* other GRES and licenses are the site's: no GPUs */
    layout(SH "#SBATCH -n 2 --tres-per-task=cpu=2,gres/shard:1,license/"
              "matlab=1\n", 1, 2, 2, 0, 4);
    /* a typed --gpus-per-task beside another type: both per task */
    layout(SH "#SBATCH -n 2 --gpus-per-task=a100:1 "
              "--tres-per-task=gres/gpu:h100:1\n", 1, 2, 2, 4, 2);
}

static void test_slurm_layout__tres_per_task_refused(void **state)
{
    (void)state;
    refused(SH "#SBATCH -n 2 --tres-per-task=gpu:2\n", "tres-per-task",
            "Invalid TRES for --tres-per-task: 'gpu:2'");
    refused(SH "#SBATCH -n 2 --tres-per-task=mem=4G\n", "tres-per-task",
            "Invalid TRES");
    refused(SH "#SBATCH -n 2 --tres-per-task=gres/gpu=a100\n",
            "tres-per-task", "Invalid TRES");
    refused(SH "#SBATCH -n 2 --tres-per-task=cpu\n", "tres-per-task",
            "Invalid TRES");
    refused(SH "#SBATCH -n 2 --gpus-per-task=1 "
               "--tres-per-task=gres/gpu:a100:1\n", "tres-per-task",
            "You can not have --tres-per-task=gres/gpu= and "
            "--gpus-per-task");
    refused(SH "#SBATCH -n 2 --gpus-per-task=a100:1 "
               "--tres-per-task=gres/gpu:a100:2\n", "tres-per-task",
            "--tres-per-task=gres/gpu:a100=");
    refused(SH "#SBATCH -n 2 -c 2 --tres-per-task=cpu:4\n", "tres-per-task",
            "You can not have --tres-per-task=cpu= and --cpus-per-task");
    refused(SH "#SBATCH -n 2 --cpus-per-gpu=2 "
               "--tres-per-task=cpu:4,gres/gpu:1\n", "cpus-per-gpu",
            "mutually exclusive");
    refused(SH "#SBATCH --tres-per-task=gres/gpu:1\n", "tres-per-task",
            "without either --gpus or -n/--ntasks");
    refused(SH "#SBATCH -n 2 --ntasks-per-gpu=1 --tres-per-task=cpu:1\n",
            "ntasks-per-gpu", "mutually exclusive");
    refused(SH "#SBATCH -n 2 --gpus=3 --tres-per-task=gres/gpu:2\n",
            "tres-per-task", "not multiple of --gpus-per-task");
}

/* per sbatch(1) --gpus-per-socket needs --sockets-per-node: GPUs per node
 * are their product; -N with --sockets-per-node sets a task per socket */
static void test_slurm_layout__gpus_per_socket(void **state)
{
    (void)state;
    layout(SH "#SBATCH -N 1 --sockets-per-node=2 --gpus-per-socket=2\n", 1,
           2, 2, 4, 2);
    layout(SH "#SBATCH -N 2 --sockets-per-node=2 --gpus-per-socket=1\n", 2,
           4, 2, 2, 2);
    layout(SH "#SBATCH -n 2 --gpus-per-node=4 --gpus-per-socket=2 "
              "--sockets-per-node=2\n", 1, 2, 2, 4, 2);
    layout(SH "#SBATCH -n 2 --sockets-per-node=2 --gpus-per-socket=1 "
              "--gpus-per-task=1\n", 1, 2, 2, 2, 2);
    /* --sockets-per-node alone: a task per socket on -N, no GPUs */
    layout(SH "#SBATCH -N 2 --sockets-per-node=2\n", 2, 4, 2, 0, 2);
    layout(SH "#SBATCH -N 2 -n 2 --sockets-per-node=2\n", 2, 2, 1, 0, 1);
    fx *f = ok(SH "#SBATCH -n 4 --sockets-per-node=2 "
                  "--gpus-per-socket=a100:1\n");
    assert_int_equal(f->job.gpus_per_node, 2);
    assert_string_equal(f->job.gpu_type, "a100");
    done(f);
}

/* per sbatch(1) -B S[:C[:T]]: its sockets are --sockets-per-node's (the
 * later option wins); "*" leaves them unset (seen with slurmctld 22.05) */
static void test_slurm_layout__extra_node_info(void **state)
{
    (void)state;
    layout(SH "#SBATCH -N 1 -B 2 --gpus-per-socket=1\n", 1, 2, 2, 2, 2);
    layout(SH "#SBATCH -N 1 -B 2:1 --gpus-per-socket=1\n", 1, 2, 2, 2, 2);
    layout(SH "#SBATCH -N 1 -B 2-4 --gpus-per-socket=1\n", 1, 2, 2, 2, 2);
    layout(SH "#SBATCH -N 1 --sockets-per-node=1 -B 2 "
              "--gpus-per-socket=1\n", 1, 2, 2, 2, 2);
    layout(SH "#SBATCH -N 2 -B 2\n", 2, 4, 2, 0, 2);
    refused(SH "#SBATCH -N 1 -B '*' --gpus-per-socket=1\n", "gpus-per-socket",
            "--gpus-per-socket option requires --sockets-per-node");
    refused(SH "#SBATCH -N 1 -B x\n", "extra-node-info",
            "Invalid numeric value \"x\" for first arg of -B.");
    refused(SH "#SBATCH -N 1 -B 2:x\n", "extra-node-info",
            "Invalid numeric value \"x\" for second arg of -B.");
    refused(SH "#SBATCH -N 1 -B 2:1:99999999999\n", "extra-node-info",
            "too large for third arg of -B.");
}

static void test_slurm_layout__gpus_per_socket_refused(void **state)
{
    (void)state;
    refused(SH "#SBATCH -n 2 --gpus-per-socket=1\n", "gpus-per-socket",
            "--gpus-per-socket option requires --sockets-per-node");
    refused(SH "#SBATCH -n 2 --sockets-per-node=two --gpus-per-socket=1\n",
            "sockets-per-node", "Invalid numeric value \"two\"");
    refused(SH "#SBATCH -n 2 --gpus-per-node=4 --gpus-per-socket=1 "
               "--sockets-per-node=2\n", "gpus-per-socket",
            "required number of sockets (4) differ");
    refused(SH "#SBATCH -n 2 --gpus-per-node=3 --gpus-per-socket=2 "
               "--sockets-per-node=2\n", "gpus-per-socket",
            "not multiple of --gpus-per-socket");
    refused(SH "#SBATCH -n 2 --gpus-per-node=1 --gpus-per-socket=2 "
               "--sockets-per-node=2\n", "gpus-per-socket",
            "per socket is more than the 1 per node");
    refused(SH "#SBATCH -n 2 --sockets-per-node=2 --gpus-per-socket=4 "
               "--gpus=2\n", "gpus", "less than the 4 per socket");
    refused(SH "#SBATCH -n 2 --sockets-per-node=2 --gpus-per-socket=3 "
               "--gpus-per-task=2\n", "gpus-per-task",
            "--gpus-per-socket not multiple of --gpus-per-task");
    refused(SH "#SBATCH -n 2 --sockets-per-node=2 --gpus-per-socket=1 "
               "--ntasks-per-gpu=1\n", "ntasks-per-gpu",
            "--gpus-per-socket is mutually exclusive");
    refused(SH "#SBATCH -n 2 --sockets-per-node=2 --gpus-per-socket=a100:1 "
               "--gpus-per-node=2\n", "gpus-per-socket",
            "with and without type");
}

/* true when @p f has a diagnostic of @p sev whose message has @p text */
static bool has_diag(const fx *f, s2r_severity sev, const char *text)
{
    for (size_t i = 0; i < f->d.n; i++)
        if (f->d.v[i].severity == sev && strstr(f->d.v[i].message, text))
            return true;
    return false;
}

/* per sbatch(1) --ntasks-per-gpu: with GPUs asked, the task count is
 * their total times it (slurmctld replaces -n); -N alone sets it per
 * node first (seen with slurmctld 22.05) */
static void test_slurm_layout__ntasks_per_gpu_sets_tasks(void **state)
{
    (void)state;
    layout(SH "#SBATCH --ntasks-per-gpu=2 --gpus=2\n", 1, 4, 4, 2, 4);
    layout(SH "#SBATCH --ntasks-per-gpu=2 --gres=gpu:2\n", 1, 4, 4, 2, 4);
    layout(SH "#SBATCH --ntasks-per-gpu=2 --gpus-per-node=2\n", 1, 4, 4, 2,
           4);
    layout(SH "#SBATCH --ntasks-per-gpu=3 --gpus=a100:1,h100:2\n", 1, 9, 9,
           3, 9);
    layout(SH "#SBATCH -N 2 --ntasks-per-gpu=2 --gpus=4\n", 2, 8, 4, 2, 4);
    layout(SH "#SBATCH -N 2 --ntasks-per-gpu=2 --gpus-per-node=1\n", 2, 4, 2,
           1, 2);
    /* a node range: the per-node GPUs of its minimum */
    layout(SH "#SBATCH -N 1-3 --ntasks-per-gpu=2 --gpus=2\n", 1, 4, 4, 2, 4);
    fx *f = ok(SH "#SBATCH -n 3 --ntasks-per-gpu=2 --gpus=2\n");
    assert_int_equal(f->job.ntasks, 4);
    assert_true(has_diag(f, S2R_SEV_NOTE, "replaces --ntasks=3"));
    done(f);
    /* 16 bits: 65537 is 1, 65536 is none */
    layout(SH "#SBATCH -N 2 --ntasks-per-gpu=65537\n", 2, 2, 1, 1, 1);
    f = ok(SH "#SBATCH -N 2 --ntasks-per-gpu=65536\n");
    assert_int_equal(f->job.gpus_per_node, 0);
    assert_true(has_diag(f, S2R_SEV_WARNING, "16 bits"));
    done(f);
}

/* without a GPU request slurmctld gives the job -n / --ntasks-per-gpu
 * GPUs (a --gpus of no type), which --mem-per-gpu and --cpus-per-gpu
 * count; none when -n is below it */
static void test_slurm_layout__ntasks_per_gpu_derives_gpus(void **state)
{
    (void)state;
    layout(SH "#SBATCH -n 4 --ntasks-per-gpu=2\n", 1, 4, 4, 2, 4);
    layout(SH "#SBATCH -N 2 --ntasks-per-gpu=2\n", 2, 4, 2, 1, 2);
    layout(SH "#SBATCH -N 2 -n 8 --ntasks-per-gpu=2\n", 2, 8, 4, 2, 4);
    layout(SH "#SBATCH -n 6 -N 2 --ntasks-per-gpu=2 --cpus-per-gpu=4\n", 2,
           6, 3, 2, 8);
    fx *f = ok(SH "#SBATCH -n 4 --ntasks-per-gpu=2 --mem-per-gpu=1G\n");
    assert_int_equal(f->job.mem_per_node_mib, 2048);
    assert_null(f->job.gpu_type);
    done(f);
    f = ok(SH "#SBATCH -n 1 --ntasks-per-gpu=2\n");
    assert_int_equal(f->job.gpus_per_node, 0);
    assert_true(has_diag(f, S2R_SEV_WARNING, "gives the job no GPU"));
    done(f);
}

static void test_slurm_layout__ntasks_per_gpu_refused(void **state)
{
    (void)state;
    refused(SH "#SBATCH --ntasks-per-gpu=2\n", "ntasks-per-gpu",
            "needs either a GRES GPU specification or a node/ntask");
    refused(SH "#SBATCH -N 2-3 --ntasks-per-gpu=2\n", "ntasks-per-gpu",
            "needs either a GRES GPU specification or a node/ntask");
    refused(SH "#SBATCH --ntasks-per-gpu=2 --cpus-per-gpu=2\n",
            "ntasks-per-gpu", "needs either a GRES GPU specification");
    refused(SH "#SBATCH -n 3 --ntasks-per-gpu=2\n", "ntasks-per-gpu",
            "-n/--ntasks has to be a multiple of --ntasks-per-gpu");
    refused(SH "#SBATCH -n 1 --ntasks-per-gpu=2 --mem-per-gpu=1G\n",
            "ntasks-per-gpu", "has to be a multiple of --ntasks-per-gpu");
    refused(SH "#SBATCH -N 3 -n 4 --ntasks-per-gpu=2\n", "ntasks-per-gpu",
            "--gpus < -N");
    refused(SH "#SBATCH -N 0-2 --gpus-per-node=1 --ntasks-per-gpu=1\n",
            "ntasks-per-gpu", "there are no allocated GPUs");
    refused(SH "#SBATCH -n 2 --gpus-per-task=1 --ntasks-per-gpu=1\n",
            "ntasks-per-gpu", "mutually exclusive");
    refused(SH "#SBATCH --ntasks-per-node=2 --gpus=1 --ntasks-per-gpu=2\n",
            "ntasks-per-gpu", "mutually exclusive");
    refused(SH "#SBATCH --gpus=1 --ntasks-per-gpu=0\n", "ntasks-per-gpu",
            "Invalid numeric value");
}

static void test_slurm_layout__only_last_array_checked(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --array=31-8\n#SBATCH -a 14-40\n");
    assert_int_equal(f->job.array->count, 27);
    assert_int_equal(f->job.array->indices[0], 14);
    done(f);
    f = ok(SH "#SBATCH --array=1-5%0\n");
    assert_int_equal(f->job.array->count, 5);
    assert_int_equal(f->job.array->max_parallel, 0);
    done(f);
    refused(SH "#SBATCH -a 1-3\n#SBATCH --array=31-8\n", "array",
            "Invalid job array specification '31-8'");
}

static void test_slurm_layout__mincpus(void **state)
{
    (void)state;
    layout(SH "#SBATCH -n 2 --mincpus=8\n", 1, 2, 2, 0, 8);
    layout(SH "#SBATCH -n 2 -c 4 --mincpus=6\n", 1, 2, 2, 0, 8);
    refused(SH "#SBATCH --mincpus=0\n", "mincpus", "Invalid numeric value");
}

/* Counts past what any node holds are refused, never wrapped around into
 * a small or negative request (a workload with no GPU). */
static void test_slurm_layout__no_overflow(void **state)
{
    (void)state;
    refused(SH "#SBATCH --gpus=99999999999999999999\n", "gpus",
            "GPU count above 2147483647");
    refused(SH "#SBATCH --gres=gpu:9223372036854775807\n", "gres",
            "GPU count above");
    refused(SH "#SBATCH --gpus-per-task=2147483647 -n 2147483647\n", NULL,
            "more than a node holds");
    refused(SH "#SBATCH --gres=gpu:2147483647 --cpus-per-gpu=2147483647\n",
            NULL, "more than a node holds");
    refused(SH "#SBATCH -c 2147483647 --mem-per-cpu=1T\n", "mem-per-cpu",
            "more than a node holds");
    refused(SH "#SBATCH --mem=9999999999999999999999\n", "mem",
            "more than a node holds");
    refused(SH "#SBATCH -n 2147483648\n", "ntasks", "Invalid numeric value");
    /* three types of 2^62 GPUs per node each: past INT64_MAX summed */
    refused(SH "#SBATCH -n 2147483647 --gpus-per-task=a:2147483647,"
               "b:2147483647,c:2147483647\n", NULL, "more than a node holds");
    /* the largest plain counts still parse */
    fx *f = ok(SH "#SBATCH --gpus=2147483647\n");
    assert_int_equal(f->job.gpus_per_node, 2147483647);
    done(f);
}

static void test_slurm_layout__shifter_image(void **state)
{
    (void)state;
    fx *f = ok(SH "#SBATCH --image=docker:nvcr.io/nvidia/pytorch:24.01-py3\n");
    assert_string_equal(f->job.container_image,
                        "nvcr.io/nvidia/pytorch:24.01-py3");
    assert_string_equal(f->job.directives[0].name, "image");
    done(f);
    f = ok(SH "#SBATCH --image=id:4c2a1b --volume=/scratch:/data --ccm\n");
    assert_null(f->job.container_image);
    assert_int_equal(f->job.n_directives, 3);
    bool warned = false;
    for (size_t i = 0; i < f->d.n; i++)
        warned = warned || (f->d.v[i].severity == S2R_SEV_WARNING &&
                            f->d.v[i].option &&
                            !strcmp(f->d.v[i].option, "image"));
    assert_true(warned);
    done(f);
    refused(SH "#SBATCH --image=ubuntu\n", "image", "TYPE:IMAGE");
    refused(SH "#SBATCH --image=docker:ubuntu@sha256:ab\n", "image",
            "TYPE:IMAGE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slurm_layout__mem_per_gpu_needs_a_gpu),
        cmocka_unit_test(test_slurm_layout__typed_untyped_mix),
        cmocka_unit_test(test_slurm_layout__last_count_per_type),
        cmocka_unit_test(test_slurm_layout__gpu_types_add_up),
        cmocka_unit_test(test_slurm_layout__job_total_over_per_node),
        cmocka_unit_test(test_slurm_layout__ntasks_per_node_is_a_maximum),
        cmocka_unit_test(test_slurm_layout__tasks_per_node_alias),
        cmocka_unit_test(test_slurm_layout__zero_nodes),
        cmocka_unit_test(test_slurm_layout__zero_memory),
        cmocka_unit_test(test_slurm_layout__gpus_per_task_sets_tasks),
        cmocka_unit_test(test_slurm_layout__gpus_per_task_conflicts),
        cmocka_unit_test(test_slurm_layout__tres_per_task_gpus),
        cmocka_unit_test(test_slurm_layout__tres_per_task_refused),
        cmocka_unit_test(test_slurm_layout__gpus_per_socket),
        cmocka_unit_test(test_slurm_layout__extra_node_info),
        cmocka_unit_test(test_slurm_layout__gpus_per_socket_refused),
        cmocka_unit_test(test_slurm_layout__ntasks_per_gpu_sets_tasks),
        cmocka_unit_test(test_slurm_layout__ntasks_per_gpu_derives_gpus),
        cmocka_unit_test(test_slurm_layout__ntasks_per_gpu_refused),
        cmocka_unit_test(test_slurm_layout__only_last_array_checked),
        cmocka_unit_test(test_slurm_layout__mincpus),
        cmocka_unit_test(test_slurm_layout__no_overflow),
        cmocka_unit_test(test_slurm_layout__shifter_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
