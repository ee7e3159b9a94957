/* fuzz_script.c: a batch script through the whole rules conversion.
 *
 * Input: the script bytes, as `s2r FILE` reads them (not NUL-terminated:
 * the parser gets the fuzzer's buffer itself, so a read past its end is
 * an ASan finding).
 *
 * For the built-in defaults and for the harness's site configuration
 * (fuzz_common.c: [storage], [partitions], [modules] ...):
 *   s2r_job_parse -> s2r_job_to_json -> s2r_rules_convert ->
 *   s2r_workload_to_json / s2r_workload_from_json (the model JSON round
 *   trip) -> s2r_emit in cli, yaml and json
 * then s2r_convert_json() with the site configuration file (the libs2r
 * document, in the format the input's length picks).
 *
 * Checks beyond the sanitizers: every call returns one of its documented
 * codes; a refusal comes with an error diagnostic; the YAML and JSON
 * outputs parse; the workload JSON reads back into the same JSON; the
 * libs2r document is JSON.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runai/runai.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_site_config();
    fuzz_site_ini_path();
    return 0;
}

/* to_json, from_json, to_json again: the same text both times. */
static void workload_round_trip(const s2r_workload *wl)
{
    json_object *a = s2r_workload_to_json(wl);
    if (!a)
        fuzz_fail("s2r_workload_to_json: out of memory");
    s2r_workload back;
    char why[128] = "";
    int rc = s2r_workload_from_json(&back, a, why, sizeof(why));
    if (rc != S2R_OK)
        fuzz_fail("a rules workload does not read back: %s\n%s", why,
                  json_object_to_json_string(a));
    json_object *b = s2r_workload_to_json(&back);
    if (!b)
        fuzz_fail("s2r_workload_to_json: out of memory");
    const char *ta = json_object_to_json_string(a);
    const char *tb = json_object_to_json_string(b);
    if (strcmp(ta, tb) != 0)
        fuzz_fail("the workload JSON changes when read back:\n%s\n%s", ta,
                  tb);
    json_object_put(a);
    json_object_put(b);
    s2r_workload_free(&back);
}

static void convert(const uint8_t *data, size_t size, const s2r_config *cfg)
{
    s2r_job job;
    memset(&job, 0, sizeof(job));
    s2r_diags d = {0};
    int rc = s2r_job_parse(&job, "fuzz.sbatch", (const char *)data, size,
                           cfg, &d);
    fuzz_expect_rc("s2r_job_parse", rc, S2R_OK, S2R_EINVAL);
    if (rc == S2R_EINVAL && !s2r_diags_count(&d, S2R_SEV_ERROR))
        fuzz_fail("s2r_job_parse refused the script without an error");
    if (rc == S2R_OK) {
        json_object *jj = s2r_job_to_json(&job);
        if (!jj)
            fuzz_fail("s2r_job_to_json: out of memory");
        json_object_put(jj);
        s2r_workload wl;
        memset(&wl, 0, sizeof(wl));
        rc = s2r_rules_convert(&wl, &job, cfg, &d);
        fuzz_expect_rc("s2r_rules_convert", rc, S2R_OK, S2R_EINVAL);
        if (rc == S2R_OK) {
            workload_round_trip(&wl);
            fuzz_emit_all(&wl, cfg, &d);
        } else if (!s2r_diags_count(&d, S2R_SEV_ERROR)) {
            fuzz_fail("s2r_rules_convert refused without an error");
        }
        s2r_workload_free(&wl);
    }
    fuzz_format_diags(&d);
    s2r_diags_clear(&d);
    s2r_job_free(&job);
}

static void convert_json(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {"cli", "yaml", "json"};
    s2r_convert_request req;
    memset(&req, 0, sizeof(req));
    req.struct_size = sizeof(req);
    req.file = "fuzz.sbatch";
    req.script = (const char *)data;
    req.script_len = size;
    req.format = formats[size % 3];
    req.config_path = fuzz_site_ini_path();
    req.submit_dir = "/scratch/run";
    char *doc = NULL;
    int rc = s2r_convert_json(&doc, &req);
    fuzz_expect_rc("s2r_convert_json", rc, S2R_OK, S2R_EINVAL);
    if (!doc)
        fuzz_fail("s2r_convert_json gave no document (rc %d)", rc);
    fuzz_check_json("the s2r_convert_json document", doc, strlen(doc));
    s2r_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s2r_config defaults;
    s2r_config_defaults(&defaults);
    convert(data, size, &defaults);
    s2r_config_free(&defaults);
    convert(data, size, fuzz_site_config());
    convert_json(data, size);
    return 0;
}
