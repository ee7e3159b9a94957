/* prompt.c: the prompt every model provider sends (see llm.h).
 *
 * Layout (one text, no chat roles, so every provider can send it as is):
 *   task        two sentences: what s2r did, what the model may change
 *   facts       one-line JSON: the directives' resources (fixed)
 *   rules       one-line JSON: kind, pods, image (and whether it is the
 *               default), workdir, env, command (a long bash body is
 *               summarised: the script is below), main computation
 *   schema      the answer object and one line per key
 *   script      verbatim (cut above S2R_PROMPT_SCRIPT_MAX bytes)
 * json-c writes every JSON part; nothing is escaped by hand.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest rules command shown verbatim; longer bash bodies are the
 * script's body again and are summarised. */
#define RULES_COMMAND_MAX 400

static const char task_text[] =
    "Convert this SLURM batch script into an NVIDIA Run:ai workload "
    "(Kubernetes pods). s2r parsed it as sbatch does and converted it with "
    "fixed rules; improve only what reading the body reveals: the container "
    "image, the command, environment variables, advice for the user.\n";

static const char schema_text[] =
    "Answer with one JSON object and nothing else (no prose, no code "
    "fence):\n"
    "{\"image\":\"registry/repo:tag\",\"command\":[\"prog\",\"arg\"],"
    "\"env\":{\"NAME\":\"value\"},\"notes\":[\"...\"]}\n"
    "- image: an OCI image that provides what the body loads (module, "
    "conda, venv, R, MATLAB...); keep the script's own image if it names "
    "one.\n"
    "- command: the container argv of the main computation, or "
    "\"script\":\"bash body\" instead when set-up steps must run first. "
    "Drop srun and host-list code (scontrol, SLURM_JOB_NODELIST): the "
    "workload provides MASTER_ADDR/PET_* (PyTorch) and the MPI hostfile. "
    "Keep mpirun/torchrun/accelerate/deepspeed if the rules command has "
    "them, and every argument of the main computation byte for byte.\n"
    "- env: variables the job needs; never change values the script sets.\n"
    "- notes: short sentences for the user (data to mount, software the "
    "image must provide).\n"
    "Omit keys you would not change. Never state resources, nodes, array "
    "or time (they come from the directives), never add downloads, "
    "installers, sudo or rm -rf.\n";

/* A shallow copy of @p src's @p key into @p dst (one more reference). */
static void copy_key(json_object *dst, json_object *src, const char *key)
{
    json_object *v = NULL;
    if (src && json_object_object_get_ex(src, key, &v))
        json_object_object_add(dst, key, json_object_get(v));
}

static json_object *facts_json(json_object *job_json)
{
    static const char *const keys[] = {
        "nodes", "tasks_per_node", "gpus_per_node", "gpu_type",
        "cpus_per_node", "mem_per_node_mib", "time_limit_s", "distributed",
        NULL};
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    for (size_t i = 0; keys[i]; i++)
        copy_key(o, job_json, keys[i]);
    /* an index list can be thousands long: count, range and throttle */
    json_object *arr = NULL, *ix = NULL, *mp = NULL;
    if (job_json && json_object_object_get_ex(job_json, "array", &arr) && arr &&
        json_object_object_get_ex(arr, "indices", &ix) &&
        json_object_is_type(ix, json_type_array)) {
        size_t n = json_object_array_length(ix);
        json_object *a = json_object_new_object();
        json_object_object_add(a, "count", json_object_new_int64((int64_t)n));
        if (n) {
            json_object_object_add(a, "first",
                json_object_get(json_object_array_get_idx(ix, 0)));
            json_object_object_add(a, "last",
                json_object_get(json_object_array_get_idx(ix, n - 1)));
        }
        json_object_object_get_ex(arr, "max_parallel", &mp);
        json_object_object_add(a, "max_parallel", json_object_get(mp));
        json_object_object_add(o, "array", a);
    } else {
        json_object_object_add(o, "array", NULL);
    }
    return o;
}

static json_object *rules_summary(const s2r_job *job, json_object *job_json,
                                  json_object *rules_json)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    copy_key(o, rules_json, "kind");
    copy_key(o, rules_json, "pods");
    copy_key(o, rules_json, "image");
    json_object *img = NULL;
    int own = job ? job->image != NULL
                  : (job_json && json_object_object_get_ex(job_json, "image",
                                                           &img) &&
                     img != NULL);
    json_object_object_add(o, "image_from",
        json_object_new_string(own ? "script" : "default"));
    copy_key(o, rules_json, "workdir");
    copy_key(o, rules_json, "env");
    json_object *kind = NULL, *cmd = NULL;
    const char *key = "command";
    if (rules_json && json_object_object_get_ex(rules_json, "kind", &kind) &&
        kind && !strcmp(json_object_get_string(kind), "mpi"))
        key = "launcher_command";
    if (rules_json && json_object_object_get_ex(rules_json, key, &cmd) &&
        cmd && json_object_is_type(cmd, json_type_array)) {
        const char *text = json_object_to_json_string_ext(
            cmd, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t n = json_object_array_length(cmd);
        json_object *a0 = n ? json_object_array_get_idx(cmd, 0) : NULL;
        if (strlen(text) > RULES_COMMAND_MAX && n == 3 && a0 &&
            !strcmp(json_object_get_string(a0), "bash")) {
            json_object *s = json_object_new_array();
            json_object_array_add(s, json_object_new_string("bash"));
            json_object_array_add(s, json_object_new_string("-c"));
            json_object_array_add(s, json_object_new_string(
                "<the script body without #SBATCH lines, module/conda/venv "
                "set-up and host-list code>"));
            json_object_object_add(o, "command", s);
        } else {
            json_object_object_add(o, "command", json_object_get(cmd));
        }
    }
    copy_key(o, job_json, "command_tokens");
    return o;
}

char *s2r_prompt_build(const s2r_job *job, json_object *job_json,
                       json_object *rules_json, const char *script,
                       size_t len)
{
    json_object *facts = facts_json(job_json);
    json_object *rules = rules_summary(job, job_json, rules_json);
    char *out = NULL;
    if (!facts || !rules)
        goto done;
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *cut = "";
    if (len > S2R_PROMPT_SCRIPT_MAX) {
        len = S2R_PROMPT_SCRIPT_MAX;
        cut = "\n[... cut: the script is longer]";
    }
    const char *name = job && job->file ? job->file : "script";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (asprintf(&out,
                 "%s"
                 "Facts from the directives (fixed): %s\n"
                 "Rules result (command_tokens = the main computation): %s\n"
                 "%s"
                 "Script %s:\n%.*s%s%s",
                 task_text,
                 json_object_to_json_string_ext(facts, flags),
                 json_object_to_json_string_ext(rules, flags),
                 schema_text, base, (int)len, script ? script : "", cut,
                 len && script && script[len - 1] == '\n' ? "" : "\n") < 0)
        out = NULL;
done:
    json_object_put(facts);
    json_object_put(rules);
    return out;
}
