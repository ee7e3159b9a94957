/* bedrock_errors.c: Bedrock error answers as clear messages.
 *
 * Bedrock (REST-JSON) answers an error with an HTTP status, the header
 * `x-amzn-ErrorType: <Type>:<namespace URL>` and a body {"message": "..."}
 * (some front ends use "Message" or put "__type" in the body). Types of
 * InvokeModel and Converse: AccessDeniedException 403, ValidationException
 * 400, ResourceNotFoundException 404, ThrottlingException 429,
 * ModelNotReadyException 429, ServiceQuotaExceededException 400,
 * ModelTimeoutException 408, ModelErrorException 424,
 * InternalServerException 500, ServiceUnavailableException 503; and from
 * the AWS front door UnrecognizedClientException, InvalidSignatureException,
 * IncompleteSignatureException, ExpiredTokenException,
 * MissingAuthenticationTokenException (403/400).
 */
#include "bedrock.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *resp_header(const s2r_http_response *resp,
                               const char *name)
{
    for (uint32_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* Copy @p s into @p buf keeping printable ASCII, at most @p max bytes. */
static void printable(const char *s, size_t len, char *buf, size_t cap,
                      size_t max)
{
    size_t n = 0;
    for (size_t i = 0; s && i < len && n + 1 < cap && n < max; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

static json_object *parse_body(const bedrock *b,
                               const s2r_http_response *resp)
{
    json_object *o = NULL;
    s2r_error ignore;
    if (resp->body_len &&
        b->host->json_parse(resp->body, resp->body_len, &o, &ignore) != S2R_OK)
        o = NULL;
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* "Type:http://..." or "ns#Type" -> "Type" */
static void type_from(const char *raw, char *buf, size_t cap)
{
    const char *hash = strrchr(raw, '#');
    if (hash)
        raw = hash + 1;
    size_t n = strcspn(raw, ":");
    printable(raw, n, buf, cap, 64);
}

void bedrock_error_type(const bedrock *b, const s2r_http_response *resp,
                        char *buf, size_t cap)
{
    buf[0] = '\0';
    const char *h = resp_header(resp, "x-amzn-ErrorType");
    if (h && *h) {
        type_from(h, buf, cap);
        return;
    }
    json_object *o = parse_body(b, resp);
    const char *t = jstr(o, "__type");
    if (!t)
        t = jstr(o, "code");
    if (!t)
        t = jstr(o, "Code");
    if (t)
        type_from(t, buf, cap);
    json_object_put(o);
}

int bedrock_retryable(const bedrock *b, const s2r_http_response *resp)
{
    if (resp->status == 429 || resp->status == 503)
        return 1;
    char type[80];
    bedrock_error_type(b, resp, type, sizeof(type));
    return strcmp(type, "ThrottlingException") == 0;
}

/* arn:<partition>:bedrock:<region>:... for the IAM resource of @p model. */
static void resource_arn(const bedrock *b, const char *model, char *buf,
                         size_t cap)
{
    if (strncmp(model, "arn:", 4) == 0) {
        snprintf(buf, cap, "%s", model);
        return;
    }
    const char *partition = strncmp(b->region, "cn-", 3) == 0 ? "aws-cn"
                            : strncmp(b->region, "us-gov-", 7) == 0
                                ? "aws-us-gov"
                                : "aws";
    /* system inference profiles carry a geography prefix: us.anthropic... */
    static const char *const geos[] = {"us.", "eu.", "apac.", "us-gov.",
                                       "global.", "jp.", "au.", "ca.", NULL};
    for (size_t i = 0; geos[i]; i++) {
        if (strncmp(model, geos[i], strlen(geos[i])) == 0) {
            snprintf(buf, cap,
                     "arn:%s:bedrock:%s:<account>:inference-profile/%s "
                     "and its foundation models",
                     partition, b->region, model);
            return;
        }
    }
    snprintf(buf, cap, "arn:%s:bedrock:%s::foundation-model/%s", partition,
             b->region, model);
}

int bedrock_error(const bedrock *b, const s2r_http_response *resp,
                  const char *model_id, int api, int attempts,
                  s2r_error *err)
{
    const s2r_host *h = b->host;
    char type[80];
    bedrock_error_type(b, resp, type, sizeof(type));
    json_object *o = parse_body(b, resp);
    const char *m = jstr(o, "message");
    if (!m)
        m = jstr(o, "Message");
    char msg[160];
    if (m)
        printable(m, strlen(m), msg, sizeof(msg), 150);
    else
        printable(resp->body, resp->body_len, msg, sizeof(msg), 150);
    if (!msg[0])
        snprintf(msg, sizeof(msg), "no details");
    json_object_put(o);
    int status = resp->status;
    const char *op = api == BEDROCK_API_INVOKE ? "InvokeModel" : "Converse";
    /* the whole upstream text goes to the log; the error stays short */
    S2R_LOG_W(h, b->ctx, "Bedrock %s on %s: HTTP %d %s: %s", op, model_id,
              status, type[0] ? type : "(no type)", msg);

    int rc = S2R_EUPSTREAM;
    char arn[320];
    if (strcmp(type, "AccessDeniedException") == 0) {
        resource_arn(b, model_id, arn, sizeof(arn));
        h->error_set(b->ctx, err, rc,
                     "Bedrock AccessDeniedException: allow IAM action "
                     "bedrock:InvokeModel on %s, and enable access to the "
                     "model in %s",
                     arn, b->region);
    } else if (strcmp(type, "UnrecognizedClientException") == 0 ||
               strcmp(type, "InvalidClientTokenId") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock %s: AWS does not know this access key or "
                     "session token; check AWS_ACCESS_KEY_ID, "
                     "AWS_SESSION_TOKEN or the profile",
                     type);
    } else if (strcmp(type, "InvalidSignatureException") == 0 ||
               strcmp(type, "SignatureDoesNotMatch") == 0 ||
               strcmp(type, "IncompleteSignatureException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock %s: the request signature was refused; check "
                     "the secret access key and this machine's clock: %s",
                     type, msg);
    } else if (strcmp(type, "ExpiredTokenException") == 0 ||
               strcmp(type, "ExpiredToken") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock %s: the AWS session token has expired; "
                     "refresh the credentials",
                     type);
    } else if (strcmp(type, "MissingAuthenticationTokenException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock %s: the request was not signed (no AWS "
                     "credentials?): %s",
                     type, msg);
    } else if (strcmp(type, "ThrottlingException") == 0 ||
               (!type[0] && status == 429)) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ThrottlingException after %d attempt%s: raise "
                     "the model's requests/tokens-per-minute quota or use a "
                     "cross-Region inference profile",
                     attempts, attempts == 1 ? "" : "s");
    } else if (strcmp(type, "ModelNotReadyException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ModelNotReadyException after %d attempt%s: "
                     "model %s is not ready; retry later",
                     attempts, attempts == 1 ? "" : "s", model_id);
    } else if (strcmp(type, "ServiceUnavailableException") == 0 ||
               (!type[0] && status == 503)) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ServiceUnavailableException after %d "
                     "attempt%s: the service is unavailable in %s; retry "
                     "later",
                     attempts, attempts == 1 ? "" : "s", b->region);
    } else if (strcmp(type, "ResourceNotFoundException") == 0) {
        rc = S2R_EUNSUPPORTED;
        h->error_set(b->ctx, err, rc,
                     "Bedrock ResourceNotFoundException: no model or "
                     "inference profile '%s' in %s; check the model id and "
                     "the region: %s",
                     model_id, b->region, msg);
    } else if (strcmp(type, "ValidationException") == 0) {
        if (strstr(msg, "on-demand throughput") ||
            strstr(msg, "inference profile"))
            h->error_set(b->ctx, err, rc,
                         "Bedrock ValidationException: model %s cannot be "
                         "called on demand; use an inference-profile id "
                         "such as us.%s",
                         model_id, model_id);
        else
            h->error_set(b->ctx, err, rc,
                         "Bedrock ValidationException (%s on %s): %s", op,
                         model_id, msg);
    } else if (strcmp(type, "ModelTimeoutException") == 0) {
        rc = S2R_ETIMEOUT;
        h->error_set(b->ctx, err, rc,
                     "Bedrock ModelTimeoutException: model %s took too "
                     "long; try a smaller max_tokens or a faster model",
                     model_id);
    } else if (strcmp(type, "ModelErrorException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ModelErrorException: model %s failed: %s",
                     model_id, msg);
    } else if (strcmp(type, "ServiceQuotaExceededException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ServiceQuotaExceededException: a service quota "
                     "of the account is exceeded (Service Quotas console): "
                     "%s",
                     msg);
    } else if (strcmp(type, "InternalServerException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock InternalServerException: %s", msg);
    } else if (strcmp(type, "ModelStreamErrorException") == 0) {
        h->error_set(b->ctx, err, rc,
                     "Bedrock ModelStreamErrorException: %s", msg);
    } else {
        h->error_set(b->ctx, err, rc, "Bedrock %s answered HTTP %d%s%s: %s",
                     op, status, type[0] ? " " : "", type, msg);
    }
    if (err)
        err->http_status = status;
    return rc;
}
