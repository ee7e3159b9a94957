/* aws_driver.c: drive an AWS plugin through the real registry (loader,
 * INI validation, host table) and print what it answered as one JSON line.
 * Test helper for test_bedrock.py and test_ratelimit_dynamodb.py.
 *
 *   aws_driver convert --config INI [--id ID] [--model ALIAS]
 *                      [--prompt TEXT] [--timeout-ms N]
 *     -> {"rc": 0, "answer": {...}} or
 *        {"rc": -7, "http_status": 429, "message": "..."}
 *   aws_driver ratelimit --config INI [--id ID] --key KEY [--now SECONDS]
 *                        [--threads N]
 *     N threads (default 1) each count one request of KEY at the same
 *     time -> {"allowed": a, "refused": r, "errors": e, "limit": l,
 *              "remaining": [...], "retry_after": [...], "messages": [...]}
 *
 * Plugins come from --plugin-dir or $S2R_PLUGIN_PATH. Exit status 0 when
 * the driver ran (whatever the plugin answered), 2 on usage or config
 * errors (printed on stderr).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "plugin/registry.h"

typedef struct rl_job {
    s2r_registry *reg;
    const char *id;
    const char *key;
    int64_t now;
    pthread_barrier_t *start;
    int rc;
    s2r_ratelimit_result res;
    s2r_error err;
} rl_job;

static void *rl_thread(void *arg)
{
    rl_job *j = arg;
    pthread_barrier_wait(j->start);
    j->res.struct_size = sizeof(j->res);
    j->rc = s2r_registry_ratelimit_check(j->reg, j->id, j->key, j->now,
                                         &j->res, &j->err);
    return NULL;
}

static const char *first_id(s2r_registry *reg, uint32_t kind)
{
    size_t n = s2r_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        uint32_t k;
        const char *id;
        const s2r_plugin *d;
        if (s2r_registry_at(reg, i, &k, &id, &d) == S2R_OK && k == kind)
            return id;
    }
    return NULL;
}

static int do_ratelimit(s2r_registry *reg, const char *id, const char *key,
                        int64_t now, int threads)
{
    if (!id)
        id = first_id(reg, S2R_KIND_RATELIMIT);
    if (!id || !key) {
        fprintf(stderr, "aws_driver: no [ratelimit.*] section or no --key\n");
        return 2;
    }
    rl_job *jobs = calloc((size_t)threads, sizeof(*jobs));
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    pthread_barrier_t start;
    if (!jobs || !tids ||
        pthread_barrier_init(&start, NULL, (unsigned)threads) != 0)
        return 2;
    for (int i = 0; i < threads; i++) {
        jobs[i] = (rl_job){reg, id, key, now, &start, 0, {0}, {0}};
        if (pthread_create(&tids[i], NULL, rl_thread, &jobs[i]) != 0) {
            fprintf(stderr, "aws_driver: pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    int allowed = 0, refused = 0, errors = 0;
    int64_t limit = -1;
    json_object *o = json_object_new_object();
    json_object *rem = json_object_new_array();
    json_object *ra = json_object_new_array();
    json_object *msgs = json_object_new_array();
    for (int i = 0; i < threads; i++) {
        if (jobs[i].rc != S2R_OK) {
            errors++;
            json_object_array_add(msgs,
                                  json_object_new_string(jobs[i].err.message));
            continue;
        }
        if (jobs[i].res.allowed)
            allowed++;
        else
            refused++;
        limit = jobs[i].res.limit;
        json_object_array_add(rem, json_object_new_int64(jobs[i].res.remaining));
        json_object_array_add(ra,
                              json_object_new_int64(jobs[i].res.retry_after_s));
    }
    json_object_object_add(o, "allowed", json_object_new_int(allowed));
    json_object_object_add(o, "refused", json_object_new_int(refused));
    json_object_object_add(o, "errors", json_object_new_int(errors));
    json_object_object_add(o, "limit", json_object_new_int64(limit));
    json_object_object_add(o, "remaining", rem);
    json_object_object_add(o, "retry_after", ra);
    json_object_object_add(o, "messages", msgs);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    free(jobs);
    free(tids);
    return 0;
}

static int do_convert(s2r_registry *reg, const char *id, const char *model,
                      const char *prompt, uint32_t timeout_ms)
{
    if (!id)
        id = first_id(reg, S2R_KIND_PROVIDER);
    if (!id) {
        fprintf(stderr, "aws_driver: no [provider.*] section\n");
        return 2;
    }
    static const char script[] = "#!/bin/bash\n#SBATCH --gres=gpu:2\n"
                                 "python train.py\n";
    json_object *job = json_tokener_parse("{\"job_name\":\"train\","
                                          "\"gpus_per_node\":2}");
    json_object *rules = json_tokener_parse(
        "{\"kind\":\"standard\",\"image\":\"ubuntu:22.04\","
        "\"command\":[\"python\",\"train.py\"]}");
    s2r_provider_request req = {
        .struct_size = sizeof(req),
        .timeout_ms = timeout_ms,
        .file = "train.sbatch",
        .script = script,
        .script_len = sizeof(script) - 1,
        .job = job,
        .rules = rules,
        .prompt = prompt,
        .format = "cli",
        .model = model,
        .client_ip = "203.0.113.7"};
    json_object *answer = NULL;
    s2r_error err = {0};
    int rc = s2r_registry_convert(reg, id, &req, &answer, &err);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rc", json_object_new_int(rc));
    if (rc == S2R_OK) {
        json_object_object_add(o, "answer", answer);
    } else {
        json_object_object_add(o, "http_status",
                               json_object_new_int(err.http_status));
        json_object_object_add(o, "message",
                               json_object_new_string(err.message));
    }
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    json_object_put(job);
    json_object_put(rules);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aws_driver convert|ratelimit --config INI ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"id", required_argument, NULL, 'i'},
        {"model", required_argument, NULL, 'm'},
        {"prompt", required_argument, NULL, 'p'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"key", required_argument, NULL, 'k'},
        {"now", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *plugin_dir = NULL, *id = NULL, *model = NULL;
    const char *prompt = NULL, *key = NULL;
    uint32_t timeout_ms = 0;
    int64_t now = (int64_t)time(NULL);
    int threads = 1, c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'P': plugin_dir = optarg; break;
        case 'i': id = optarg; break;
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 't': timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': key = optarg; break;
        case 'n': now = strtoll(optarg, NULL, 10); break;
        case 'T': threads = atoi(optarg); break;
        default: return 2;
        }
    }
    if (!config || threads < 1 || threads > 1024) {
        fprintf(stderr, "aws_driver: --config INI is required\n");
        return 2;
    }
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.config_path = config;
    ro.plugin_dir = plugin_dir;
    s2r_diags diags = {0};
    s2r_registry *reg = NULL;
    if (s2r_registry_open(&reg, &ro, &diags) != S2R_OK) {
        for (size_t i = 0; i < diags.n; i++) {
            char *line = s2r_diag_format(&diags.v[i]);
            fprintf(stderr, "%s\n", line ? line : "?");
            free(line);
        }
        s2r_diags_clear(&diags);
        return 2;
    }
    s2r_diags_clear(&diags);
    int rc;
    if (strcmp(cmd, "convert") == 0)
        rc = do_convert(reg, id, model, prompt, timeout_ms);
    else if (strcmp(cmd, "ratelimit") == 0)
        rc = do_ratelimit(reg, id, key, now, threads);
    else {
        fprintf(stderr, "aws_driver: unknown command %s\n", cmd);
        rc = 2;
    }
    s2r_registry_close(reg);
    return rc;
}
