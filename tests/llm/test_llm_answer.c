/* test_llm_answer.c: finding the answer object in a model's reply
 * (plugins/local-llm/local_llm_answer.c, compiled in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "local_llm.h"

static json_object *ok(const char *text)
{
    json_object *o = NULL;
    char why[128] = "";
    int rc = llm_answer_extract(text, strlen(text), &o, why, sizeof(why));
    if (rc != S2R_OK)
        fail_msg("refused (%s): %s", why, text);
    assert_true(json_object_is_type(o, json_type_object));
    return o;
}

static void refused(const char *text, const char *why_part)
{
    json_object *o = NULL;
    char why[128] = "";
    assert_int_equal(llm_answer_extract(text, strlen(text), &o, why,
                                        sizeof(why)),
                     S2R_EINVAL);
    assert_null(o);
    if (!strstr(why, why_part))
        fail_msg("reason '%s' lacks '%s' for: %s", why, why_part, text);
}

static const char *image_of(json_object *o)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, "image", &v));
    return json_object_get_string(v);
}

static void test_answer__shapes_that_work(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{\"image\":\"a:1\"}",
        "  \n{\"image\":\"a:1\"}\n\n",
        "```json\n{\"image\":\"a:1\"}\n```",
        "```\n{\"image\":\"a:1\"}\n```",
        "Here is the answer:\n```JSON\n{\n  \"image\": \"a:1\"\n}\n```\nDone.",
        "Sure. {\"image\":\"a:1\"} Hope this helps {not json}",
        "<think>the {braces} here are not the answer</think>\n"
        "{\"image\":\"a:1\"}",
        "The object {oops} is: {\"image\":\"a:1\",\"notes\":[\"}\"]}",
        "```json\n{\"image\":\"a:1\"}",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_object *o = ok(texts[i]);
        assert_string_equal(image_of(o), "a:1");
        json_object_put(o);
    }
}

static void test_answer__refusals(void **state)
{
    (void)state;
    refused("", "empty");
    refused(" \n\t ", "empty");
    refused("I cannot help with that.", "no JSON object");
    refused("{\"image\": \"nvcr.io/nv", "truncated");
    refused("```json\n{\"command\": [\"python\",", "truncated");
    refused("<think>still thinking", "truncated");
    refused("{not json at all}", "not valid JSON");
    refused("[\"a\", \"b\"]", "no JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer__shapes_that_work),
        cmocka_unit_test(test_answer__refusals),
    };
    return cmocka_run_group_tests_name("llm_answer", tests, NULL, NULL);
}
