/* fuzz_lambda.c: one Lambda event as `s2r lambda` reads it.
 *
 * Input: the event JSON the Runtime API hands over (a Function URL /
 * HTTP API payload 2.0, an API Gateway payload 1.0, or anything else).
 *
 *   s2r_lambda_event_parse -> (an HTTP event) the open handler, with the
 *   event's method, path, query, queryStringParameters, headers (any
 *   case), body (base64 decoded) and source address, as the invocation
 *   loop does -> s2r_lambda_response_json
 *
 * The event buffer is the fuzzer's own (not NUL-terminated). Checks: the
 * parser returns S2R_OK or S2R_EINVAL with a message; a parsed event has
 * a method, a path and a NUL-terminated body of body_len bytes; the
 * handler's answer is well formed; the Function URL response is a JSON
 * object.
 */
#include "fuzz_common.h"
#include "fuzz_handler.h"

#include <string.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "server/lambda.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_handler_open();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s2r_lambda_event ev;
    s2r_error err = {0};
    int rc = s2r_lambda_event_parse(&ev, (const char *)data, size, &err);
    fuzz_expect_rc("s2r_lambda_event_parse", rc, S2R_OK, S2R_EINVAL);
    if (rc == S2R_EINVAL) {
        if (!err.message[0])
            fuzz_fail("an event refused without a message");
        return 0;
    }
    if (!ev.method || !*ev.method || !ev.path || !*ev.path || !ev.body ||
        ev.body[ev.body_len] != '\0')
        fuzz_fail("a parsed event without method, path or body");
    s2r_handler_request req;
    s2r_lambda_event_request(&ev, NULL, &req);
    s2r_handler_response resp;
    rc = s2r_handler_handle(fuzz_handler_open(), &req, &resp);
    if (rc != S2R_OK)
        fuzz_fail("s2r_handler_handle returned %d", rc);
    fuzz_check_response(&resp);
    size_t len = 0;
    char *answer = s2r_lambda_response_json(&resp, &len);
    if (!answer)
        fuzz_fail("s2r_lambda_response_json: out of memory");
    fuzz_check_json("the Function URL response", answer, len);
    free(answer);
    s2r_handler_response_free(&resp);
    s2r_lambda_event_free(&ev);
    return 0;
}
