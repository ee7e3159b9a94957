/* ratelimit_dynamodb.c: the ratelimit-dynamodb plugin: N requests per
 * client key per UTC day, counted in an Amazon DynamoDB table.
 *
 * One item per (client, day), key attribute `key_attribute` (default
 * "pk", type S) = "<client>#<YYYY-MM-DD>" (UTC). A check is one
 * UpdateItem (AWS API DynamoDB_20120810.UpdateItem, JSON 1.0 protocol):
 *
 *     UpdateExpression    ADD #count :one SET #ttl = :ttl
 *     ConditionExpression attribute_not_exists(#count) OR #count < :limit
 *     ReturnValues        UPDATED_NEW
 *
 * DynamoDB applies condition and update atomically per item, so exactly
 * `limit` requests of a client pass in a day however many servers or
 * Lambda instances ask at once. ConditionalCheckFailedException means
 * "limited" (allowed = 0, retry after the next UTC midnight). The `ttl`
 * attribute (epoch seconds: the end of that UTC day plus `keep`) lets
 * DynamoDB's Time to Live delete old rows: enable TTL on the table with
 * attribute name `ttl` (lambda/template.yaml does).
 *
 * Anything else from DynamoDB refuses the request (fail closed:
 * S2R_EUPSTREAM) with a clear message; throttling (HTTP 400
 * ProvisionedThroughputExceededException / ThrottlingException /
 * RequestLimitExceeded) and HTTP 5xx are retried `retries` times first.
 * SigV4 (service "dynamodb") and HTTP come from the host table;
 * credentials like the bedrock plugin: options, else the core's chain.
 */
#include <s2r/plugin.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct ddb_conf {
    const char *table;
    const char *region;
    const char *endpoint;
    const char *key_attribute;
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *ca_file;
    const char *proxy;
    int64_t limit;
    int64_t keep_ms;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t retries;
} ddb_conf;

static const s2r_option ddb_options[] = {
    {"table", S2R_OPT_STRING, 0, "s2r-ratelimit", 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, table),
     "DynamoDB table of the counters (partition key key_attribute, type S; "
     "TTL on attribute ttl)."},
    {"limit", S2R_OPT_INT, 0, "100", 0, INT64_C(1000000000000), NULL,
     S2R_OPT_OFFSET(ddb_conf, limit),
     "Requests allowed per client (IP address or principal) per UTC day; "
     "0 refuses every request."},
    {"region", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, region),
     "AWS Region of the table (default: AWS_REGION, then "
     "AWS_DEFAULT_REGION)."},
    {"endpoint", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, endpoint),
     "DynamoDB URL (default: https://dynamodb.<region>.amazonaws.com); "
     "e.g. http://127.0.0.1:8000 for DynamoDB Local or dynalite."},
    {"key_attribute", S2R_OPT_STRING, 0, "pk", 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, key_attribute),
     "Name of the table's partition key (type S)."},
    {"keep", S2R_OPT_DURATION, 0, "24h", 0, INT64_C(31536000000), NULL,
     S2R_OPT_OFFSET(ddb_conf, keep_ms),
     "How long a counter outlives its day before TTL may delete it."},
    {"timeout", S2R_OPT_DURATION, 0, "3s", 100, 60000, NULL,
     S2R_OPT_OFFSET(ddb_conf, timeout_ms),
     "Longest wait for one DynamoDB answer."},
    {"connect_timeout", S2R_OPT_DURATION, 0, "2s", 100, 60000, NULL,
     S2R_OPT_OFFSET(ddb_conf, connect_timeout_ms),
     "Longest wait for the connection to DynamoDB."},
    {"retries", S2R_OPT_INT, 0, "2", 0, 10, NULL,
     S2R_OPT_OFFSET(ddb_conf, retries),
     "Retries after DynamoDB throttling or HTTP 5xx."},
    {"access_key_id", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, access_key_id),
     "AWS access key id as env:NAME or file:PATH (default: the environment, "
     "then ~/.aws/credentials with AWS_PROFILE)."},
    {"secret_access_key", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, secret_access_key),
     "AWS secret access key as env:NAME or file:PATH (with access_key_id)."},
    {"session_token", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, session_token),
     "AWS session token of temporary credentials, as env:NAME or file:PATH."},
    {"ca_file", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, ca_file),
     "PEM CA bundle for TLS (default: the system store)."},
    {"proxy", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(ddb_conf, proxy),
     "Proxy URL; empty for none; unset follows https_proxy and friends."},
    S2R_OPTION_END};

typedef struct ddb {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const ddb_conf *conf;
    char *region;
    char *url; /* endpoint + "/" */
} ddb;

static void ddb_destroy(void *instance)
{
    ddb *d = instance;
    if (!d)
        return;
    d->host->free(d->region);
    d->host->free(d->url);
    d->host->free(d);
}

static int valid_region(const char *r)
{
    if (!r || !*r || strlen(r) > 32)
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') ||
              *r == '-'))
            return 0;
    return 1;
}

/* DynamoDB table names: 3-255 of [A-Za-z0-9_.-] */
static int valid_table(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n < 3 || n > 255)
        return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
              (*t >= '0' && *t <= '9') || strchr("_.-", *t)))
            return 0;
    return 1;
}

static int ddb_create(void **out, const s2r_host *host,
                      const s2r_instance_ctx *ctx, const void *config,
                      s2r_error *err)
{
    const ddb_conf *c = config;
    if (!S2R_HOST_HAS(host, aws_sigv4_sign))
        return host->error_set(ctx, err, S2R_EUNSUPPORTED,
                               "this s2r has no AWS SigV4 signer");
    const char *region = c->region;
    if (!region || !*region)
        region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "region: set it, or AWS_REGION");
    if (!valid_region(region))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "region: '%.40s' is not an AWS Region name",
                               region);
    if (!valid_table(c->table))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "table: '%.64s' is not a DynamoDB table name "
                               "(3-255 of A-Z a-z 0-9 _ . -)",
                               c->table ? c->table : "");
    if (!c->key_attribute || !*c->key_attribute ||
        strlen(c->key_attribute) > 255)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "key_attribute: a name is needed");
    if ((c->access_key_id && *c->access_key_id) !=
        (c->secret_access_key && *c->secret_access_key))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "access_key_id and secret_access_key go "
                               "together");
    if (c->endpoint && *c->endpoint &&
        strncmp(c->endpoint, "https://", 8) != 0 &&
        strncmp(c->endpoint, "http://", 7) != 0)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "endpoint: an http:// or https:// URL is "
                               "needed");
    ddb *d = host->alloc(sizeof(*d));
    if (!d)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    memset(d, 0, sizeof(*d));
    d->host = host;
    d->ctx = ctx;
    d->conf = c;
    d->region = host->str_dup(region);
    size_t n = (c->endpoint ? strlen(c->endpoint) : 0) + strlen(region) + 48;
    d->url = host->alloc(n);
    if (!d->region || !d->url) {
        ddb_destroy(d);
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    }
    if (c->endpoint && *c->endpoint) {
        size_t l = strlen(c->endpoint);
        while (l > 0 && c->endpoint[l - 1] == '/')
            l--;
        snprintf(d->url, n, "%.*s/", (int)l, c->endpoint);
    } else {
        snprintf(d->url, n, "https://dynamodb.%s.amazonaws.com%s/", region,
                 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    }
    *out = d;
    return S2R_OK;
}

/* ------------------------------------------------------------------ */
/* check                                                               */
/* ------------------------------------------------------------------ */

static json_object *attr(const char *type, const char *value)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, type, json_object_new_string(value));
    return o;
}

/* The UpdateItem body for @p key. */
static char *update_body(const ddb *d, const char *key, int64_t ttl)
{
    char num[32];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "TableName",
                           json_object_new_string(d->conf->table));
    json_object *k = json_object_new_object();
    json_object_object_add(k, d->conf->key_attribute, attr("S", key));
    json_object_object_add(o, "Key", k);
    json_object_object_add(o, "UpdateExpression",
                           json_object_new_string(
                               "ADD #count :one SET #ttl = :ttl"));
    json_object_object_add(o, "ConditionExpression",
                           json_object_new_string(
                               "attribute_not_exists(#count) OR "
                               "#count < :limit"));
    json_object *names = json_object_new_object();
    json_object_object_add(names, "#count", json_object_new_string("count"));
    json_object_object_add(names, "#ttl", json_object_new_string("ttl"));
    json_object_object_add(o, "ExpressionAttributeNames", names);
    json_object *vals = json_object_new_object();
    json_object_object_add(vals, ":one", attr("N", "1"));
    snprintf(num, sizeof(num), "%lld", (long long)d->conf->limit);
    json_object_object_add(vals, ":limit", attr("N", num));
    snprintf(num, sizeof(num), "%lld", (long long)ttl);
    json_object_object_add(vals, ":ttl", attr("N", num));
    json_object_object_add(o, "ExpressionAttributeValues", vals);
    json_object_object_add(o, "ReturnValues",
                           json_object_new_string("UPDATED_NEW"));
    char *s = d->host->json_to_string(o);
    json_object_put(o);
    return s;
}

/* "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
 * -> "ConditionalCheckFailedException"; message from "message"/"Message". */
static void error_of(const ddb *d, const s2r_http_response *resp,
                     char *type, size_t tcap, char *msg, size_t mcap)
{
    type[0] = msg[0] = '\0';
    json_object *o = NULL, *v;
    s2r_error ignore;
    if (d->host->json_parse(resp->body, resp->body_len, &o, &ignore) ==
            S2R_OK &&
        json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "__type", &v)) {
            const char *t = json_object_get_string(v);
            const char *h = strrchr(t, '#');
            snprintf(type, tcap, "%.80s", h ? h + 1 : t);
        }
        if (json_object_object_get_ex(o, "message", &v) ||
            json_object_object_get_ex(o, "Message", &v))
            snprintf(msg, mcap, "%.150s", json_object_get_string(v));
    }
    json_object_put(o);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = ' ';
}

static int retryable(int status, const char *type)
{
    return status >= 500 ||
           strcmp(type, "ProvisionedThroughputExceededException") == 0 ||
           strcmp(type, "ThrottlingException") == 0 ||
           strcmp(type, "RequestLimitExceeded") == 0 ||
           strcmp(type, "LimitExceededException") == 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0)
        ;
}

static int fail(const ddb *d, int status, const char *type, const char *msg,
                s2r_error *err)
{
    const s2r_host *h = d->host;
    const ddb_conf *c = d->conf;
    const char *partition = strncmp(d->region, "cn-", 3) == 0 ? "aws-cn"
                            : strncmp(d->region, "us-gov-", 7) == 0
                                ? "aws-us-gov"
                                : "aws";
    S2R_LOG_W(h, d->ctx, "DynamoDB UpdateItem on %s: HTTP %d %s: %s",
              c->table, status, type[0] ? type : "(no type)", msg);
    int rc;
    if (strcmp(type, "AccessDeniedException") == 0)
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB AccessDeniedException: allow IAM action "
                          "dynamodb:UpdateItem on arn:%s:dynamodb:%s:"
                          "<account>:table/%s",
                          partition, d->region, c->table);
    else if (strcmp(type, "ResourceNotFoundException") == 0)
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB ResourceNotFoundException: no table '%s' "
                          "in %s (create it with partition key %s, type S)",
                          c->table, d->region, c->key_attribute);
    else if (strcmp(type, "UnrecognizedClientException") == 0 ||
             strcmp(type, "InvalidSignatureException") == 0 ||
             strcmp(type, "MissingAuthenticationTokenException") == 0 ||
             strcmp(type, "ExpiredTokenException") == 0)
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB %s: check the AWS credentials and the "
                          "clock: %s",
                          type, msg);
    else if (strcmp(type, "ValidationException") == 0)
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB ValidationException (is the partition "
                          "key of %s named %s, type S?): %s",
                          c->table, c->key_attribute, msg);
    else if (retryable(status, type))
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB %s (HTTP %d) after %lld retries: %s",
                          type[0] ? type : "error", status,
                          (long long)c->retries, msg);
    else
        rc = h->error_set(d->ctx, err, S2R_EUPSTREAM,
                          "DynamoDB answered HTTP %d%s%s: %s", status,
                          type[0] ? " " : "", type, msg);
    if (err)
        err->http_status = status;
    return rc;
}

static int ddb_check(void *instance, const char *client_key,
                     int64_t now_unix_s, s2r_ratelimit_result *out,
                     s2r_error *err)
{
    ddb *d = instance;
    const s2r_host *h = d->host;
    const ddb_conf *c = d->conf;
    int64_t day = now_unix_s >= 0 ? now_unix_s / 86400 : 0;
    int64_t next_midnight = (day + 1) * 86400;
    int64_t retry = next_midnight - now_unix_s;
    if (retry < 1)
        retry = 1;
    out->limit = c->limit;
    if (c->limit <= 0) {
        out->allowed = 0;
        out->remaining = 0;
        out->retry_after_s = retry;
        return S2R_OK;
    }
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    char date[16];
    if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%d", &tm))
        return h->error_set(d->ctx, err, S2R_EINVAL, "bad time");
    size_t kl = strlen(client_key ? client_key : "") + sizeof(date) + 2;
    char *key = h->alloc(kl);
    if (!key)
        return h->error_set(d->ctx, err, S2R_ENOMEM, "out of memory");
    snprintf(key, kl, "%s#%s", client_key ? client_key : "", date);
    char *body = update_body(d, key, next_midnight + c->keep_ms / 1000);
    h->free(key);
    if (!body)
        return h->error_set(d->ctx, err, S2R_ENOMEM, "out of memory");

    int rc = S2R_EUPSTREAM;
    for (int64_t attempt = 0;; attempt++) {
        s2r_header base[2] = {
            {"Content-Type", "application/x-amz-json-1.0"},
            {"X-Amz-Target", "DynamoDB_20120810.UpdateItem"}};
        s2r_http_request hr = {
            .struct_size = sizeof(hr),
            .n_headers = 2,
            .method = "POST",
            .url = d->url,
            .headers = base,
            .body = body,
            .body_len = strlen(body),
            .timeout_ms = (uint32_t)c->timeout_ms,
            .connect_timeout_ms = (uint32_t)c->connect_timeout_ms,
            .ca_file = c->ca_file,
            .proxy = c->proxy,
            .max_response_bytes = 1u << 20,
        };
        s2r_sigv4_params sp = {
            .struct_size = sizeof(sp),
            .region = d->region,
            .service = "dynamodb",
            .access_key_id = c->access_key_id && *c->access_key_id
                                 ? c->access_key_id
                                 : NULL,
            .secret_access_key = c->secret_access_key,
            .session_token = c->session_token && *c->session_token
                                 ? c->session_token
                                 : NULL,
        };
        s2r_header_out sig[6];
        uint32_t nsig = 0;
        rc = h->aws_sigv4_sign(d->ctx, &sp, &hr, sig, 6, &nsig, err);
        if (rc != S2R_OK) {
            if (rc != S2R_ENOMEM)
                rc = S2R_EUPSTREAM; /* no credentials: fail closed */
            if (err)
                err->code = rc;
            break;
        }
        s2r_header all[8] = {base[0], base[1]};
        for (uint32_t i = 0; i < nsig; i++)
            all[2 + i] = (s2r_header){sig[i].name, sig[i].value};
        hr.headers = all;
        hr.n_headers = 2 + nsig;
        s2r_http_response resp;
        s2r_error herr = {0};
        int hrc = h->http_request(d->ctx, &hr, &resp, &herr);
        h->secure_zero(sig, sizeof(sig));
        if (hrc != S2R_OK) {
            rc = h->error_set(d->ctx, err,
                              hrc == S2R_ENOMEM ? S2R_ENOMEM : S2R_EUPSTREAM,
                              "cannot reach DynamoDB at %s: %s", d->url,
                              herr.message);
            break;
        }
        if (resp.status == 200) {
            int64_t count = c->limit;
            json_object *o = NULL, *a, *v, *n;
            s2r_error ignore;
            if (h->json_parse(resp.body, resp.body_len, &o, &ignore) ==
                    S2R_OK &&
                json_object_object_get_ex(o, "Attributes", &a) &&
                json_object_object_get_ex(a, "count", &v) &&
                json_object_object_get_ex(v, "N", &n))
                count = strtoll(json_object_get_string(n), NULL, 10);
            json_object_put(o);
            h->http_response_free(&resp);
            out->allowed = 1;
            out->remaining = c->limit - count > 0 ? c->limit - count : 0;
            out->retry_after_s = 0;
            rc = S2R_OK;
            break;
        }
        char type[96], msg[160];
        error_of(d, &resp, type, sizeof(type), msg, sizeof(msg));
        int status = resp.status;
        h->http_response_free(&resp);
        if (strcmp(type, "ConditionalCheckFailedException") == 0) {
            out->allowed = 0;
            out->remaining = 0;
            out->retry_after_s = retry;
            rc = S2R_OK;
            break;
        }
        if (retryable(status, type) && attempt < c->retries) {
            sleep_ms(25 << attempt);
            continue;
        }
        rc = fail(d, status, type, msg, err);
        break;
    }
    h->free(body);
    return rc;
}

static const s2r_ratelimit_ops ddb_ops = {
    .struct_size = sizeof(s2r_ratelimit_ops),
    .check = ddb_check,
};

static const s2r_plugin ddb_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_RATELIMIT,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "ratelimit-dynamodb",
    .version = "1.0.0",
    .description = "N requests per client per UTC day, counted in DynamoDB "
                   "with a conditional UpdateItem; rows expire by TTL.",
    .options = ddb_options,
    .config_size = sizeof(ddb_conf),
    .create = ddb_create,
    .destroy = ddb_destroy,
    .ops = &ddb_ops,
};

S2R_PLUGIN_DECLARE(ddb_plugin)
