/* test_lambda_event.c: Function URL events (payload 2.0 and 1.0) read by
 * s2r_lambda_event_parse(), and the Function URL response shape of
 * s2r_lambda_response_json(). The runtime loop itself is tested end to
 * end by test_lambda.py against the local Runtime API peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "server/lambda.h"

static int parse(s2r_lambda_event *ev, const char *json, s2r_error *err)
{
    return s2r_lambda_event_parse(ev, json, strlen(json), err);
}

static void test_lambda_event__function_url_payload_2(void **state)
{
    (void)state;
    /* "#SBATCH -N 2\n" in base64, split by a newline (allowed) */
    const char *json =
        "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/\","
        "\"rawQueryString\":\"format=yaml&dry_run=1\","
        "\"headers\":{\"x-s2r-model\":\"sonnet\",\"content-type\":\"text/plain\"},"
        "\"queryStringParameters\":{\"format\":\"yaml\",\"dry_run\":\"1\"},"
        "\"requestContext\":{\"http\":{\"method\":\"POST\",\"path\":\"/\","
        "\"sourceIp\":\"203.0.113.7\"}},"
        "\"body\":\"I1NCQVRDSCAt\\nTiAyCg==\",\"isBase64Encoded\":true}";
    s2r_lambda_event ev;
    s2r_error err = {0};
    assert_int_equal(parse(&ev, json, &err), S2R_OK);
    assert_string_equal(ev.method, "POST");
    assert_string_equal(ev.path, "/");
    assert_string_equal(ev.query, "format=yaml&dry_run=1");
    assert_string_equal(ev.source_ip, "203.0.113.7");
    assert_int_equal(ev.body_len, 13);
    assert_memory_equal(ev.body, "#SBATCH -N 2\n", 13);
    assert_non_null(ev.headers);
    assert_non_null(ev.params);
    s2r_lambda_event_free(&ev);
    assert_null(ev.root);
}

static void test_lambda_event__plain_body_and_defaults(void **state)
{
    (void)state;
    s2r_lambda_event ev;
    s2r_error err = {0};
    assert_int_equal(parse(&ev,
                           "{\"version\":\"2.0\",\"rawQueryString\":\"\","
                           "\"requestContext\":{\"http\":{\"method\":\"GET\"}},"
                           "\"body\":\"a\\u0000b\",\"isBase64Encoded\":false}",
                           &err),
                     S2R_OK);
    assert_string_equal(ev.path, "/");
    assert_null(ev.query);
    assert_null(ev.source_ip);
    assert_null(ev.headers);
    assert_null(ev.params);
    /* an escaped NUL stays in the body */
    assert_int_equal(ev.body_len, 3);
    assert_memory_equal(ev.body, "a\0b", 3);
    s2r_lambda_event_free(&ev);
    assert_int_equal(parse(&ev,
                           "{\"requestContext\":{\"http\":{\"method\":"
                           "\"POST\"}},\"rawPath\":\"/x\"}",
                           &err),
                     S2R_OK);
    assert_int_equal(ev.body_len, 0);
    assert_string_equal((const char *)ev.body, "");
    s2r_lambda_event_free(&ev);
}

static void test_lambda_event__api_gateway_payload_1(void **state)
{
    (void)state;
    s2r_lambda_event ev;
    s2r_error err = {0};
    assert_int_equal(parse(&ev,
                           "{\"version\":\"1.0\",\"httpMethod\":\"POST\","
                           "\"path\":\"/\",\"headers\":{},"
                           "\"requestContext\":{\"identity\":{\"sourceIp\":"
                           "\"198.51.100.1\"}},\"body\":\"x\"}",
                           &err),
                     S2R_OK);
    assert_string_equal(ev.method, "POST");
    assert_string_equal(ev.source_ip, "198.51.100.1");
    assert_int_equal(ev.body_len, 1);
    s2r_lambda_event_free(&ev);
}

static void test_lambda_event__refusals(void **state)
{
    (void)state;
    s2r_lambda_event ev;
    s2r_error err = {0};
    assert_int_equal(parse(&ev, "not json", &err), S2R_EINVAL);
    assert_null(ev.root);
    assert_int_equal(parse(&ev, "[1,2]", &err), S2R_EINVAL);
    assert_int_equal(parse(&ev, "{\"hello\":\"world\"}", &err), S2R_EINVAL);
    assert_non_null(strstr(err.message, "Function URL"));
    assert_int_equal(parse(&ev,
                           "{\"requestContext\":{\"http\":{\"method\":"
                           "\"POST\"}},\"body\":\"%%%\","
                           "\"isBase64Encoded\":true}",
                           &err),
                     S2R_EINVAL);
    assert_non_null(strstr(err.message, "base64"));
    assert_null(ev.root);
}

static void test_lambda_event__response_shape(void **state)
{
    (void)state;
    s2r_handler_response r;
    memset(&r, 0, sizeof(r));
    r.status = 429;
    r.body = "{\"error\":\"Rate limit exceeded\"}";
    r.body_len = strlen(r.body);
    r.content_type = "application/json";
    r.n_headers = 2;
    snprintf(r.headers[0].name, sizeof(r.headers[0].name), "Retry-After");
    snprintf(r.headers[0].value, sizeof(r.headers[0].value), "3600");
    snprintf(r.headers[1].name, sizeof(r.headers[1].name), "X-Request-Id");
    snprintf(r.headers[1].value, sizeof(r.headers[1].value), "abc/def");
    size_t len = 0;
    char *json = s2r_lambda_response_json(&r, &len);
    assert_non_null(json);
    assert_int_equal(len, strlen(json));
    json_object *o = json_tokener_parse(json);
    assert_non_null(o);
    json_object *v, *h;
    assert_true(json_object_object_get_ex(o, "statusCode", &v));
    assert_int_equal(json_object_get_int(v), 429);
    assert_true(json_object_object_get_ex(o, "isBase64Encoded", &v));
    assert_false(json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(o, "body", &v));
    assert_string_equal(json_object_get_string(v), r.body);
    assert_true(json_object_object_get_ex(o, "headers", &h));
    assert_true(json_object_object_get_ex(h, "retry-after", &v));
    assert_string_equal(json_object_get_string(v), "3600");
    assert_true(json_object_object_get_ex(h, "x-request-id", &v));
    assert_string_equal(json_object_get_string(v), "abc/def");
    assert_true(json_object_object_get_ex(h, "content-type", &v));
    assert_string_equal(json_object_get_string(v), "application/json");
    assert_null(strstr(json, "\\/")); /* no escaped slashes */
    json_object_put(o);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lambda_event__function_url_payload_2),
        cmocka_unit_test(test_lambda_event__plain_body_and_defaults),
        cmocka_unit_test(test_lambda_event__api_gateway_payload_1),
        cmocka_unit_test(test_lambda_event__refusals),
        cmocka_unit_test(test_lambda_event__response_shape),
    };
    return cmocka_run_group_tests_name("lambda_event", tests, NULL, NULL);
}
