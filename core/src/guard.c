/* guard.c: check a provider's answer against the parsed job (see llm.h). */
#include "llm.h"
#include "model_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int s2r_guard_apply(s2r_workload *wl, const s2r_job *job, json_object *answer,
                    const char *provider_id, char **output_out,
                    s2r_diags *d)
{
    *output_out = NULL;
    const char *id = provider_id ? provider_id : "provider";
    json_object *v;
    if (!answer || !json_object_is_type(answer, json_type_object)) {
        s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, NULL,
                      "%s: the answer is not a JSON object: the rules "
                      "conversion is used", id);
        return S2R_OK;
    }
    if (json_object_object_get_ex(answer, "output", &v) &&
        json_object_is_type(v, json_type_string)) {
        *output_out = strdup(json_object_get_string(v));
        if (!*output_out)
            return S2R_ENOMEM;
        json_object *w;
        if (json_object_object_get_ex(answer, "warnings", &w) &&
            json_object_is_type(w, json_type_array))
            for (size_t i = 0; i < json_object_array_length(w); i++)
                s2r_diags_add(d, S2R_SEV_WARNING, NULL, 0, NULL, "%s",
                              json_object_get_string(
                                  json_object_array_get_idx(w, i)));
        return S2R_OK;
    }
    if (json_object_object_get_ex(answer, "image", &v) &&
        json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0 && !job->image) {
        free(wl->image);
        wl->image = strdup(json_object_get_string(v));
    }
    return S2R_OK;
}
