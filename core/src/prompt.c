/* prompt.c: the prompt every model provider sends (see llm.h). */
#include "llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *s2r_prompt_build(const s2r_job *job, json_object *job_json,
                       json_object *rules_json, const char *script,
                       size_t len)
{
    (void)job;
    const char *facts = json_object_to_json_string_ext(job_json,
                                                       JSON_C_TO_STRING_PLAIN);
    const char *rules = json_object_to_json_string_ext(rules_json,
                                                       JSON_C_TO_STRING_PLAIN);
    char *out = NULL;
    if (asprintf(&out,
                 "Convert this SLURM batch script to a Run:ai workload.\n"
                 "Facts parsed from its directives (fixed, do not change):\n%s\n"
                 "Rules conversion:\n%s\n"
                 "Answer with one JSON object {\"image\": string, \"command\": "
                 "[argv] or \"script\": string, \"env\": {}, \"notes\": []}.\n"
                 "Script:\n%.*s\n",
                 facts, rules, (int)len, script) < 0)
        return NULL;
    return out;
}
