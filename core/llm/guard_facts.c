/* guard_facts.c: what an answer may not change: any resource, node,
 * array or time value it states (memory also as "memory" or "mem", a
 * number or a quantity) is compared with the rules workload (the
 * directives' values); a difference is a warning naming both, and the
 * directives' value is kept. See guard.h. */
#include "guard.h"
#include "runai/runai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Fixed facts                                                         */
/* ------------------------------------------------------------------ */

/* The model's value @p v of @p key against the rules value @p want
 * (@p want_text when it is not a number, e.g. "none"). */
static void check_int(gctx *g, const char *prefix, const char *key,
                      json_object *v, int64_t want, const char *want_text)
{
    char wbuf[32];
    if (!want_text) {
        snprintf(wbuf, sizeof(wbuf), "%lld", (long long)want);
        want_text = wbuf;
    }
    int same;
    if (!v || json_object_is_type(v, json_type_null))
        same = want == 0;
    else if (json_object_is_type(v, json_type_int))
        same = json_object_get_int64(v) == want;
    else if (json_object_is_type(v, json_type_double))
        same = json_object_get_double(v) == (double)want;
    else if (json_object_is_type(v, json_type_string))
        same = strcmp(json_object_get_string(v), want_text) == 0;
    else
        same = 0;
    if (same)
        return;
    char got[96];
    s2r_guard__excerpt(got, sizeof(got),
            v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
              : "null");
    s2r_guard__say(g, S2R_SEV_WARNING,
        "the model's %s%s = %s differs from the directives (%s): %s is kept",
        prefix, key, got, want_text, want_text);
}

/* Bytes a memory quantity means, each way it may be read: "32Gi" (one
 * way), "32G" (32 x 10^9 as Kubernetes reads it, 32 GiB as SLURM does),
 * a bare number (MiB as memory_mib, bytes as Kubernetes). @return how
 * many readings went to @p out (0: not a quantity). */
static int mem_readings(const char *s, double out[2])
{
    static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi"};
    static const char *const dec[] = {"K", "M", "G", "T", "P"};
    char *end;
    double x = strtod(s, &end);
    if (end == s || x < 0)
        return 0;
    while (*end == ' ')
        end++;
    if (!*end) {
        out[0] = x * 1048576.0;
        out[1] = x;
        return 2;
    }
    double b = 1024.0, d = 1000.0;
    for (int i = 0; i < 5; i++, b *= 1024.0, d *= 1000.0) {
        size_t n = strlen(bin[i]);
        if (!strncmp(end, bin[i], n) && (!end[n] || !strcmp(end + n, "B"))) {
            out[0] = x * b;
            return 1;
        }
        if ((end[0] == dec[i][0] || end[0] == dec[i][0] + 32) &&
            (!end[1] || !strcasecmp(end + 1, "B"))) {
            out[0] = x * d;
            out[1] = x * b;
            return 2;
        }
    }
    return 0;
}

/* A memory the model states under another name ("memory", "mem",
 * "resources.memory"), as a number or a quantity: the same as the
 * directives' @p want MiB (0: none) when any reading of it is. */
static void check_memory(gctx *g, const char *prefix, const char *key,
                         json_object *v, int64_t want, const char *want_text)
{
    double r[2];
    int n = 0;
    if (json_object_is_type(v, json_type_int) ||
        json_object_is_type(v, json_type_double)) {
        r[0] = json_object_get_double(v) * 1048576.0;
        r[1] = json_object_get_double(v);
        n = 2;
    } else if (json_object_is_type(v, json_type_string)) {
        n = mem_readings(json_object_get_string(v), r);
    }
    /* rounded to whole MiB, compared as doubles: a reading past what an
     * int64_t holds (a model may write 10^100) is no MiB count at all */
    for (int i = 0; i < n; i++) {
        double mib = r[i] / 1048576.0 + 0.5;
        if (mib >= (double)want && mib < (double)want + 1.0)
            return;
    }
    char wbuf[48];
    if (!want_text) {
        snprintf(wbuf, sizeof(wbuf), "%lld MiB", (long long)want);
        want_text = wbuf;
    }
    if (!v || json_object_is_type(v, json_type_null) ||
        (json_object_is_type(v, json_type_string) &&
         !strcmp(json_object_get_string(v), want_text)))
        return;
    char got[96];
    s2r_guard__excerpt(got, sizeof(got),
                       json_object_to_json_string_ext(v,
                                                      JSON_C_TO_STRING_PLAIN));
    s2r_guard__say(g, S2R_SEV_WARNING,
        "the model's %s%s = %s differs from the directives (%s): %s is kept",
        prefix, key, got, want_text, want_text);
}

static json_object *array_json(const s2r_job *job)
{
    if (!job->array)
        return NULL;
    json_object *a = json_object_new_object();
    json_object *ix = json_object_new_array();
    for (size_t i = 0; a && ix && i < job->array->count; i++)
        json_object_array_add(ix, json_object_new_int(job->array->indices[i]));
    json_object_object_add(a, "indices", ix);
    json_object_object_add(a, "max_parallel",
                           job->array->max_parallel > 0
                               ? json_object_new_int(job->array->max_parallel)
                               : NULL);
    return a;
}

/* The rules' SLURM index of each completion as JSON. */
static json_object *indices_json(const s2r_workload *wl)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < wl->n_array_indices; i++)
        json_object_array_add(a, json_object_new_int(wl->array_indices[i]));
    return a;
}

static void check_json(gctx *g, const char *prefix, const char *key,
                       json_object *v, json_object *want)
{
    if (json_object_equal(v, want))
        return;
    char got[96], w[96];
    s2r_guard__excerpt(got, sizeof(got),
            v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
              : "null");
    s2r_guard__excerpt(w, sizeof(w),
            want ? json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN)
                 : "null");
    s2r_guard__say(g, S2R_SEV_WARNING,
        "the model's %s%s = %s differs from the directives (%s): the "
        "directives' value is kept", prefix, key, got, w);
}

/* Resource-like keys an answer states (a proposal need not, a workload
 * must): each is compared with the rules workload. Keys the answer does
 * not state are not compared. */
void s2r_guard__check_fixed_keys(gctx *g, json_object *o,
                                 const char *prefix)
{
    const s2r_workload *wl = g->wl;
    const s2r_job *job = g->job;
    const char *mem_text = NULL;
    if (job->mem_per_node_mib == S2R_MEM_ALL)
        mem_text = "all";
    else if (!wl->memory_mib)
        mem_text = "none";
    json_object_object_foreach(o, key, v) {
        if (!strcmp(key, "gpus") || !strcmp(key, "gpus_per_node") ||
            !strcmp(key, "gpu") || !strcmp(key, "gpu_count"))
            check_int(g, prefix, key, v, wl->gpus, NULL);
        else if (!strcmp(key, "cpus") || !strcmp(key, "cpus_per_node") ||
                 !strcmp(key, "cpu"))
            check_int(g, prefix, key, v, wl->cpus, NULL);
        else if (!strcmp(key, "memory_mib") ||
                 !strcmp(key, "mem_per_node_mib"))
            check_int(g, prefix, key, v, wl->memory_mib, mem_text);
        else if (!strcmp(key, "memory") || !strcmp(key, "mem"))
            check_memory(g, prefix, key, v, wl->memory_mib, mem_text);
        else if (!strcmp(key, "nodes") || !strcmp(key, "num_nodes"))
            check_int(g, prefix, key, v, job->nodes, NULL);
        else if (!strcmp(key, "pods"))
            check_int(g, prefix, key, v, wl->pods, NULL);
        else if (!strcmp(key, "workers"))
            check_int(g, prefix, key, v, wl->workers, NULL);
        else if (!strcmp(key, "tasks_per_node") ||
                 !strcmp(key, "slots_per_worker"))
            check_int(g, prefix, key, v, wl->slots_per_worker, NULL);
        else if (!strcmp(key, "time_limit_s"))
            check_int(g, prefix, key, v, wl->time_limit_s,
                      wl->time_limit_s ? NULL : "none");
        else if (!strcmp(key, "completions"))
            check_int(g, prefix, key, v, wl->completions,
                      wl->completions ? NULL : "none");
        else if (!strcmp(key, "parallelism"))
            check_int(g, prefix, key, v, wl->parallelism,
                      wl->parallelism ? NULL : "none");
        else if (!strcmp(key, "kind")) {
            json_object *want = json_object_new_string(s2r_workload_kind_name(wl->kind));
            check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "array")) {
            json_object *want = array_json(job);
            check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "array_indices")) {
            json_object *want = indices_json(wl);
            /* an empty list and no list are the same */
            if (!(wl->n_array_indices == 0 &&
                  (!v || (json_object_is_type(v, json_type_array) &&
                          json_object_array_length(v) == 0))))
                check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "resources") &&
                   json_object_is_type(v, json_type_object)) {
            s2r_guard__check_fixed_keys(g, v, "resources.");
        }
    }
}
