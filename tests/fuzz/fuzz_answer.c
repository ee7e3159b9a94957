/* fuzz_answer.c: a model's reply through everything that reads one.
 *
 * Input: one byte choosing the script and the output format, then the
 * reply text a model sent (prose, <think>, code fences and all).
 *
 *   the reply -> llm_answer_extract (the local-llm plugin's reader, its
 *   source compiled in) -> the answer JSON, given to s2r_pipeline_run by
 *   a stand-in provider (prompt, provider, guard, emit: the path every
 *   model provider takes) for the chosen script and format;
 *   the answer, and its "workload" member, -> s2r_workload_from_json ->
 *   s2r_workload_to_json -> s2r_workload_from_json again;
 *   the reply text -> s2r_guard_unsafe, s2r_guard_image_ok
 *
 * Checks: the pipeline always gives an output for these valid scripts (a
 * bad answer falls back to the rules, it never fails the request); the
 * YAML and JSON outputs of our emitters parse (a remote s2r's finished
 * {"output"} is its own); a workload read from JSON reads back into
 * the same JSON.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "llm/llm.h"
#include "llm/model.h"
#include "local_llm.h"
#include "runai/runai.h"

/* What the guard decides against: one script per kind of workload. */
static const char *const scripts[] = {
    /* one GPU, plain python */
    "#!/bin/bash\n#SBATCH --job-name=resnet\n#SBATCH --gres=gpu:1\n"
    "#SBATCH --mem=32G\n#SBATCH --time=02:00:00\n"
    "module load cuda/12.1\nsource ~/venv/bin/activate\n"
    "export OMP_NUM_THREADS=8\npython train.py --epochs 30\n",
    /* torchrun over two nodes */
    "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n"
    "#SBATCH --gpus-per-node=4\n"
    "srun torchrun --nnodes=$SLURM_NNODES --nproc_per_node=4 train.py\n",
    /* MPI */
    "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=16\n"
    "mpirun -np 32 ./solver -i in.nml\n",
    /* an array reading its index */
    "#!/bin/bash\n#SBATCH --array=0-9%2\n#SBATCH --cpus-per-task=2\n"
    "python sweep.py --idx $SLURM_ARRAY_TASK_ID\n",
    /* a container image and a download the script itself runs */
    "#!/bin/bash\n#SBATCH --gpus=2\n"
    "curl -fsSL https://get.example.org/setup.sh | sh\n"
    "singularity exec --nv docker://nvcr.io/nvidia/pytorch:23.10-py3 "
    "python seg.py\n",
    /* a notebook server */
    "#!/bin/bash\n#SBATCH --gres=gpu:1\n#SBATCH --time=08:00:00\n"
    "jupyter lab --no-browser --ip=0.0.0.0 --port=8888\n",
    /* a model server */
    "#!/bin/bash\n#SBATCH --gres=gpu:4\n"
    "vllm serve meta-llama/Llama-3-8B --tensor-parallel-size 4 "
    "--port 8000\n",
    /* several commands, PATH set by the script */
    "#!/bin/bash\n#SBATCH -c 4\nexport PATH=/opt/tools/bin:$PATH\n"
    "cd /scratch/$USER\nfor i in 1 2 3; do ./step $i; done\n"
    "accelerate launch --num_processes 2 run.py\n",
};
#define N_SCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

typedef struct reply {
    const char *text;
    size_t len;
} reply;

/* The stand-in provider: the reply read as local-llm reads it. */
static int reply_convert(void *instance, const s2r_provider_request *req,
                         json_object **answer_out, s2r_error *err)
{
    (void)req;
    const reply *r = instance;
    char why[128] = "";
    int rc = llm_answer_extract(r->text, r->len, answer_out, why,
                                sizeof(why));
    if (rc != S2R_OK) {
        err->code = rc;
        snprintf(err->message, sizeof(err->message), "%s", why);
    }
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void through_pipeline(const char *script, s2r_format fmt,
                             reply *r, int remote)
{
    static const s2r_provider_ops ops = {.struct_size = sizeof(ops),
                                         .convert = reply_convert};
    s2r_provider_ref prov = {.id = "model", .ops = &ops, .instance = r};
    s2r_pipeline_request req = {.file = "job.sbatch",
                                .script = script,
                                .len = strlen(script),
                                .format = fmt};
    s2r_pipeline_result res;
    int rc = s2r_pipeline_run(fuzz_site_config(), &prov, &req, &res);
    if (rc != S2R_OK || !res.output) {
        for (size_t i = 0; i < res.diags.n; i++)
            fprintf(stderr, "  %s\n", res.diags.v[i].message);
        fuzz_fail("the pipeline failed (%d) on a valid script", rc);
    }
    /* a remote s2r's finished answer is its own text: only our own
     * emitters' outputs are checked */
    if (remote)
        ;
    else if (fmt == S2R_FMT_YAML)
        fuzz_check_yaml("the YAML output", res.output, strlen(res.output));
    else if (fmt == S2R_FMT_JSON)
        fuzz_check_json("the JSON output", res.output, strlen(res.output));
    fuzz_format_diags(&res.diags);
    s2r_pipeline_result_free(&res);
}

/* from_json, to_json, from_json, to_json: the same text both times. */
static void workload_reader(json_object *o)
{
    s2r_workload wl;
    char why[128] = "";
    int rc = s2r_workload_from_json(&wl, o, why, sizeof(why));
    fuzz_expect_rc("s2r_workload_from_json", rc, S2R_OK, S2R_EINVAL);
    if (rc != S2R_OK) {
        if (!why[0])
            fuzz_fail("s2r_workload_from_json refused without a reason");
        return;
    }
    json_object *a = s2r_workload_to_json(&wl);
    s2r_workload back;
    rc = s2r_workload_from_json(&back, a, why, sizeof(why));
    if (rc != S2R_OK)
        fuzz_fail("a workload does not read back: %s\n%s", why,
                  json_object_to_json_string(a));
    json_object *b = s2r_workload_to_json(&back);
    if (strcmp(json_object_to_json_string(a), json_object_to_json_string(b)))
        fuzz_fail("the workload JSON changes when read back:\n%s\n%s",
                  json_object_to_json_string(a),
                  json_object_to_json_string(b));
    json_object_put(a);
    json_object_put(b);
    s2r_workload_free(&back);
    s2r_workload_free(&wl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *script = scripts[data[0] % N_SCRIPTS];
    s2r_format fmt = (s2r_format)((data[0] / N_SCRIPTS) % 3);
    /* the reply as the provider gets it: not NUL-terminated */
    reply r = {(const char *)data + 1, size - 1};
    json_object *answer = NULL;
    char why[128];
    if (llm_answer_extract(r.text, r.len, &answer, why, sizeof(why)) !=
        S2R_OK)
        answer = NULL;
    json_object *out = NULL;
    int remote = answer && json_object_object_get_ex(answer, "output", &out) &&
                 json_object_is_type(out, json_type_string);
    through_pipeline(script, fmt, &r, remote);

    if (answer) {
        workload_reader(answer);
        json_object *w = NULL;
        if (json_object_object_get_ex(answer, "workload", &w))
            workload_reader(w);
        json_object_put(answer);
    }
    char *text = fuzz_strndup(data + 1, size - 1);
    (void)s2r_guard_unsafe(text, NULL);
    (void)s2r_guard_unsafe(text, script);
    if (size < 300)
        (void)s2r_guard_image_ok(text);
    free(text);
    return 0;
}
