/* local_llm_answer.c: the model's reply text -> one JSON object (see
 * local_llm.h). json-c's tokener does all the parsing; this file only
 * decides where the object starts. */
#include "local_llm.h"

#include <stdio.h>
#include <string.h>

/* How many '{' positions are tried before giving up on prose. */
#define MAX_STARTS 16

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p + n <= end; p++)
        if (memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

int llm_answer_extract(const char *text, size_t len, json_object **out,
                       char *why, size_t why_len)
{
    *out = NULL;
    const char *p = text, *end = text + len;
    p = skip_space(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
                       end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (p == end) {
        snprintf(why, why_len, "the answer is empty");
        return S2R_EINVAL;
    }
    /* reasoning models: <think> ... </think> before the answer */
    if (end - p >= 7 && memcmp(p, "<think>", 7) == 0) {
        const char *close = find(p, end, "</think>");
        if (!close) {
            snprintf(why, why_len, "the answer is truncated (unclosed "
                                   "<think>)");
            return S2R_EINVAL;
        }
        p = skip_space(close + 8, end);
    }
    /* a code fence: take what is inside the first one */
    const char *fence = find(p, end, "```");
    if (fence) {
        const char *body = memchr(fence, '\n', (size_t)(end - fence));
        if (body) {
            body++;
            const char *close = find(body, end, "```");
            p = body;
            if (close)
                end = close;
        }
    }
    int tried = 0, truncated = 0;
    char last[96] = "";
    for (const char *s = memchr(p, '{', (size_t)(end - p));
         s && tried < MAX_STARTS;
         s = s + 1 < end ? memchr(s + 1, '{', (size_t)(end - s - 1)) : NULL) {
        tried++;
        json_tokener *tok = json_tokener_new();
        if (!tok)
            return S2R_ENOMEM;
        json_object *o = json_tokener_parse_ex(tok, s, (int)(end - s));
        enum json_tokener_error e = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (o && json_object_is_type(o, json_type_object)) {
            *out = o;
            return S2R_OK;
        }
        json_object_put(o);
        if (e == json_tokener_continue)
            truncated = 1;
        else if (!last[0])
            snprintf(last, sizeof(last), "%s", json_tokener_error_desc(e));
    }
    if (truncated)
        snprintf(why, why_len, "the answer is truncated JSON");
    else if (tried)
        snprintf(why, why_len, "the answer is not valid JSON (%s)", last);
    else
        snprintf(why, why_len, "the answer holds no JSON object");
    return S2R_EINVAL;
}
