/* lambda.h: `s2r lambda`, the AWS Lambda custom runtime loop (private).
 *
 * Lambda starts the function's `bootstrap`, which runs `s2r lambda`; the
 * process then asks the Lambda Runtime API (host:port in
 * AWS_LAMBDA_RUNTIME_API, plain HTTP/1.1 on the local network) for work:
 *
 *   GET  /2018-06-01/runtime/invocation/next        -> one event; headers
 *        Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms (epoch
 *        ms), Lambda-Runtime-Trace-Id (copied to _X_AMZN_TRACE_ID)
 *   POST /2018-06-01/runtime/invocation/{id}/response  the answer
 *   POST /2018-06-01/runtime/invocation/{id}/error     a failed invocation
 *        ({"errorMessage", "errorType"}, header
 *        Lambda-Runtime-Function-Error-Type)
 *   POST /2018-06-01/runtime/init/error             start-up failed
 *
 * Events are Lambda Function URL requests, payload format 2.0 (the same
 * as API Gateway HTTP APIs): requestContext.http.method and .sourceIp,
 * rawPath, rawQueryString, queryStringParameters (decoded), headers
 * (lower-case names), body (base64 when isBase64Encoded). Payload 1.0
 * (API Gateway REST: httpMethod, path, requestContext.identity.sourceIp)
 * is read too. Each goes to the shared request handler (handler.h, the
 * same as `s2r serve`), and its answer goes back in the Function URL
 * response shape {"statusCode", "headers", "body", "isBase64Encoded":
 * false}. An event that is not an HTTP request is answered with
 * /invocation/{id}/error, errorType "S2R.InvalidEvent".
 *
 * HTTP to the Runtime API is libcurl (one handle, so the connection is
 * reused between invocations); JSON is json-c; base64 is OpenSSL.
 * Single-threaded: one invocation at a time, as Lambda delivers them.
 */
#ifndef S2R_LAMBDA_H
#define S2R_LAMBDA_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <s2r/s2r.h>
#include "handler.h"

typedef struct s2r_lambda_options {
    const char *runtime_api; /**< "host:port" (AWS_LAMBDA_RUNTIME_API) */
    s2r_handler *handler;    /**< borrowed; outlives the loop */
    uint64_t max_events;     /**< stop after this many events; 0: until
                                  the Runtime API goes away */
} s2r_lambda_options;

/**
 * Run the invocation loop.
 * @return S2R_OK after max_events events; S2R_EUPSTREAM when the Runtime
 *         API cannot be reached or answers /next with an error (the
 *         message says which call failed); S2R_EINVAL (no runtime_api
 *         or handler); S2R_ENOMEM.
 */
int s2r_lambda_run(const s2r_lambda_options *opts, s2r_error *err);

/**
 * Report a start-up failure: POST /2018-06-01/runtime/init/error with
 * {"errorMessage": @p message, "errorType": @p error_type}. Lambda then
 * fails the invocation with that message and restarts the runtime.
 * @return S2R_OK, or S2R_EUPSTREAM when the Runtime API did not take it.
 */
int s2r_lambda_init_error(const char *runtime_api, const char *error_type,
                          const char *message, s2r_error *err);

/** One HTTP request read from an event (owned; free with
 *  s2r_lambda_event_free()). Pointers point into @c root or @c body. */
typedef struct s2r_lambda_event {
    json_object *root;      /**< the parsed event */
    json_object *headers;   /**< object of header name -> value, or NULL */
    json_object *params;    /**< queryStringParameters, or NULL */
    const char *method;     /**< "POST" */
    const char *path;       /**< rawPath, "/" when absent */
    const char *query;      /**< rawQueryString, NULL when empty */
    const char *source_ip;  /**< requestContext.http.sourceIp, or NULL */
    uint8_t *body;          /**< decoded body, NUL-terminated (malloc) */
    size_t body_len;
} s2r_lambda_event;

/**
 * Parse a Function URL / HTTP API event (@p len bytes of JSON).
 * @return S2R_OK; S2R_EINVAL (not JSON, not an HTTP event, bad base64:
 *         message in @p err); S2R_ENOMEM.
 */
int s2r_lambda_event_parse(s2r_lambda_event *out, const char *json,
                           size_t len, s2r_error *err);
void s2r_lambda_event_free(s2r_lambda_event *ev);

/**
 * The handler's request for an event: method, path, query, body and
 * client address point into @p ev (which must outlive it); headers are
 * looked up in any case, query parameters by name, string values only.
 * @p request_id (the Lambda-Runtime-Aws-Request-Id) may be NULL.
 */
void s2r_lambda_event_request(const s2r_lambda_event *ev,
                              const char *request_id,
                              s2r_handler_request *out);

/**
 * The handler's answer in the Function URL response shape. @return
 * malloc'd JSON text (*@p len_out bytes), NULL on ENOMEM.
 */
char *s2r_lambda_response_json(const s2r_handler_response *resp,
                               size_t *len_out);

#endif
