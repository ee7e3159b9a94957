/* lambda.c: the AWS Lambda custom runtime loop; see lambda.h. */
#include "lambda.h"
#include <s2r/s2r.h>
#include "plugin/registry.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RUNTIME_PATH "/2018-06-01/runtime"
#define MAX_EVENT_BYTES ((size_t)32 << 20) /* Lambda's limit is 6 MB */
#define POST_TIMEOUT_MS 10000L


/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) &&
        json_object_object_get_ex(o, k, &v))
        return v;
    return NULL;
}

static const char *member_str(json_object *o, const char *k)
{
    json_object *v = member(o, k);
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* Base64 (RFC 4648, white space allowed) with OpenSSL's EVP decoder. */
static int b64_decode(const char *in, size_t len, uint8_t **out,
                      size_t *out_len)
{
    *out = malloc(len / 4 * 3 + 4);
    if (!*out)
        return S2R_ENOMEM;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    if (!ctx) {
        free(*out);
        *out = NULL;
        return S2R_ENOMEM;
    }
    int n = 0, tail = 0, total = 0, rc = S2R_OK;
    EVP_DecodeInit(ctx);
    size_t off = 0;
    while (off < len) {
        int chunk = len - off > 1 << 20 ? 1 << 20 : (int)(len - off);
        if (EVP_DecodeUpdate(ctx, *out + total, &n,
                             (const unsigned char *)in + off, chunk) < 0) {
            rc = S2R_EINVAL;
            break;
        }
        total += n;
        off += (size_t)chunk;
    }
    if (rc == S2R_OK && EVP_DecodeFinal(ctx, *out + total, &tail) != 1)
        rc = S2R_EINVAL;
    EVP_ENCODE_CTX_free(ctx);
    if (rc != S2R_OK) {
        free(*out);
        *out = NULL;
        return rc;
    }
    total += tail;
    (*out)[total] = '\0';
    *out_len = (size_t)total;
    return S2R_OK;
}

void s2r_lambda_event_free(s2r_lambda_event *ev)
{
    if (!ev)
        return;
    json_object_put(ev->root);
    free(ev->body);
    memset(ev, 0, sizeof(*ev));
}

int s2r_lambda_event_parse(s2r_lambda_event *out, const char *json,
                           size_t len, s2r_error *err)
{
    memset(out, 0, sizeof(*out));
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return s2r_error_set(err, S2R_ENOMEM, "out of memory");
    json_object *root = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!root || je != json_tokener_success) {
        json_object_put(root);
        return s2r_error_set(err, S2R_EINVAL, "the event is not JSON");
    }
    out->root = root;
    if (!json_object_is_type(root, json_type_object)) {
        s2r_lambda_event_free(out);
        return s2r_error_set(err, S2R_EINVAL, "the event is not a JSON object");
    }
    json_object *rc = member(root, "requestContext");
    json_object *http = member(rc, "http");
    if (http) { /* payload 2.0: Function URL, HTTP API */
        out->method = member_str(http, "method");
        out->source_ip = member_str(http, "sourceIp");
        out->path = member_str(root, "rawPath");
        if (!out->path)
            out->path = member_str(http, "path");
        out->query = member_str(root, "rawQueryString");
    } else { /* payload 1.0: API Gateway REST */
        out->method = member_str(root, "httpMethod");
        out->source_ip = member_str(member(rc, "identity"), "sourceIp");
        out->path = member_str(root, "path");
    }
    if (!out->method || !*out->method) {
        s2r_lambda_event_free(out);
        return s2r_error_set(err, S2R_EINVAL,
                       "not an HTTP event: no requestContext.http.method "
                       "(invoke the function through its Function URL)");
    }
    if (!out->path || !*out->path)
        out->path = "/";
    if (out->query && !*out->query)
        out->query = NULL;
    json_object *h = member(root, "headers");
    out->headers = h && json_object_is_type(h, json_type_object) ? h : NULL;
    json_object *p = member(root, "queryStringParameters");
    out->params = p && json_object_is_type(p, json_type_object) ? p : NULL;

    const char *body = member_str(root, "body");
    size_t blen = body ? (size_t)json_object_get_string_len(
                             member(root, "body"))
                       : 0;
    json_object *b64 = member(root, "isBase64Encoded");
    if (body && b64 && json_object_get_boolean(b64)) {
        int r = b64_decode(body, blen, &out->body, &out->body_len);
        if (r != S2R_OK) {
            s2r_lambda_event_free(out);
            return r == S2R_ENOMEM
                       ? s2r_error_set(err, S2R_ENOMEM, "out of memory")
                       : s2r_error_set(err, S2R_EINVAL,
                                 "the event body is not valid base64");
        }
    } else {
        out->body = malloc(blen + 1);
        if (!out->body) {
            s2r_lambda_event_free(out);
            return s2r_error_set(err, S2R_ENOMEM, "out of memory");
        }
        if (blen)
            memcpy(out->body, body, blen);
        out->body[blen] = '\0';
        out->body_len = blen;
    }
    return S2R_OK;
}

static const char *lookup_ci(void *payload, const char *name)
{
    json_object *o = payload;
    if (!o || !name)
        return NULL;
    json_object_object_foreach(o, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
    }
    return NULL;
}

static const char *lookup_param(void *payload, const char *name)
{
    return member_str(payload, name);
}

void s2r_lambda_event_request(const s2r_lambda_event *ev,
                              const char *request_id,
                              s2r_handler_request *out)
{
    *out = (s2r_handler_request){
        .method = ev->method,
        .path = ev->path,
        .query = ev->query,
        .param = ev->params ? lookup_param : NULL,
        .param_payload = ev->params,
        .header = lookup_ci,
        .header_payload = ev->headers,
        .body = ev->body,
        .body_len = ev->body_len,
        .client_ip = ev->source_ip,
        .request_id = request_id};
}

char *s2r_lambda_response_json(const s2r_handler_response *resp,
                               size_t *len_out)
{
    json_object *o = json_object_new_object();
    json_object *h = json_object_new_object();
    if (!o || !h) {
        json_object_put(o);
        json_object_put(h);
        return NULL;
    }
    json_object_object_add(o, "statusCode",
                           json_object_new_int(resp->status));
    json_object_object_add(h, "content-type",
                           json_object_new_string(resp->content_type
                                                      ? resp->content_type
                                                      : "application/json"));
    for (uint32_t i = 0; i < resp->n_headers && i < S2R_HANDLER_MAX_HEADERS;
         i++) {
        char name[sizeof(resp->headers[i].name)];
        size_t j = 0;
        for (; resp->headers[i].name[j] && j + 1 < sizeof(name); j++) {
            char c = resp->headers[i].name[j];
            name[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        name[j] = '\0';
        json_object_object_add(h, name,
                               json_object_new_string(resp->headers[i].value));
    }
    json_object_object_add(o, "headers", h);
    json_object_object_add(o, "body",
                           json_object_new_string_len(
                               resp->body ? resp->body : "",
                               resp->body ? (int)resp->body_len : 0));
    json_object_object_add(o, "isBase64Encoded", json_object_new_boolean(0));
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *out = s ? malloc(n + 1) : NULL;
    if (out) {
        memcpy(out, s, n + 1);
        if (len_out)
            *len_out = n;
    }
    json_object_put(o);
    return out;
}

/* ------------------------------------------------------------------ */
/* the Runtime API over libcurl                                        */
/* ------------------------------------------------------------------ */

typedef struct rt_buf {
    char *p;
    size_t n, cap;
    int too_big;
    char request_id[128];
    char trace_id[512];
    char deadline[32];
} rt_buf;

static size_t rt_body(char *data, size_t size, size_t nmemb, void *user)
{
    rt_buf *b = user;
    size_t n = size * nmemb;
    if (b->n + n + 1 > MAX_EVENT_BYTES) {
        b->too_big = 1;
        return 0;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

static void copy_header(const char *line, size_t n, const char *name,
                        char *dst, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

static size_t rt_header(char *data, size_t size, size_t nmemb, void *user)
{
    rt_buf *b = user;
    size_t n = size * nmemb;
    copy_header(data, n, "Lambda-Runtime-Aws-Request-Id", b->request_id,
                sizeof(b->request_id));
    copy_header(data, n, "Lambda-Runtime-Trace-Id", b->trace_id,
                sizeof(b->trace_id));
    copy_header(data, n, "Lambda-Runtime-Deadline-Ms", b->deadline,
                sizeof(b->deadline));
    return n;
}

static size_t rt_discard(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

/* One call to the Runtime API on @p c. GET when @p body is NULL. Fills
 * @p b (may be NULL for POSTs) and *@p status. */
static int rt_call(CURL *c, const char *api, const char *path,
                   const char *body, size_t body_len,
                   const char *error_type, rt_buf *b, long *status,
                   s2r_error *err)
{
    char url[1024];
    snprintf(url, sizeof(url), "http://%s%s", api, path);
    curl_easy_reset(c); /* options only: the connection stays open */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never through a proxy */
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    struct curl_slist *hl = NULL;
    if (body) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        if (error_type) {
            char h[160];
            snprintf(h, sizeof(h), "Lambda-Runtime-Function-Error-Type: %s",
                     error_type);
            hl = curl_slist_append(hl, h);
        }
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body_len);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
    } else {
        /* /next blocks until an event arrives: no overall timeout */
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 0L);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    if (b) {
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rt_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, rt_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
    } else {
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rt_discard);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (cc != CURLE_OK)
        return s2r_error_set(err, S2R_EUPSTREAM, "Lambda Runtime API %s %s: %s",
                       body ? "POST" : "GET", path,
                       b && b->too_big ? "event too large"
                                       : curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return S2R_OK;
}

/* JSON {"errorMessage": ..., "errorType": ...}; NULL on ENOMEM. */
static char *error_body(const char *type, const char *message, size_t *len)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "errorMessage",
                           json_object_new_string(message ? message : ""));
    json_object_object_add(o, "errorType",
                           json_object_new_string(type ? type : "S2R.Error"));
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN, len);
    char *out = s ? strdup(s) : NULL;
    json_object_put(o);
    return out;
}

int s2r_lambda_init_error(const char *runtime_api, const char *error_type,
                          const char *message, s2r_error *err)
{
    if (!runtime_api || !*runtime_api)
        return s2r_error_set(err, S2R_EINVAL, "AWS_LAMBDA_RUNTIME_API is not set");
    if (s2r_host_global_init() != S2R_OK)
        return s2r_error_set(err, S2R_ERROR, "libcurl failed to initialize");
    CURL *c = curl_easy_init();
    size_t len = 0;
    char *body = error_body(error_type, message, &len);
    if (!c || !body) {
        curl_easy_cleanup(c);
        free(body);
        return s2r_error_set(err, S2R_ENOMEM, "out of memory");
    }
    long status = 0;
    int rc = rt_call(c, runtime_api, RUNTIME_PATH "/init/error", body, len,
                     "Unhandled", NULL, &status, err);
    if (rc == S2R_OK && (status < 200 || status > 299))
        rc = s2r_error_set(err, S2R_EUPSTREAM,
                     "Lambda Runtime API refused init/error: HTTP %ld",
                     status);
    free(body);
    curl_easy_cleanup(c);
    return rc;
}

/* Answer one event. Returns S2R_OK or S2R_EUPSTREAM (post failed). */
static int invoke(CURL *c, const s2r_lambda_options *o, rt_buf *b,
                  s2r_error *err)
{
    char path[256];
    const char *id = b->request_id;
    size_t len = 0;
    char *answer = NULL;
    const char *error_type = NULL;
    s2r_lambda_event ev;
    s2r_error perr = {0};
    int prc = s2r_lambda_event_parse(&ev, b->p ? b->p : "", b->n, &perr);
    if (prc != S2R_OK) {
        error_type = prc == S2R_ENOMEM ? "Runtime.OutOfMemory"
                                       : "S2R.InvalidEvent";
        answer = error_body(error_type, perr.message, &len);
    } else {
        s2r_handler_request req;
        s2r_lambda_event_request(&ev, *id ? id : NULL, &req);
        s2r_handler_response resp;
        memset(&resp, 0, sizeof(resp));
        int hrc = s2r_handler_handle(o->handler, &req, &resp);
        if (hrc == S2R_OK && resp.body) {
            answer = s2r_lambda_response_json(&resp, &len);
        }
        if (!answer) {
            error_type = "Runtime.OutOfMemory";
            answer = error_body(error_type, "out of memory", &len);
        }
        s2r_handler_response_free(&resp);
        s2r_lambda_event_free(&ev);
    }
    if (!answer)
        return s2r_error_set(err, S2R_ENOMEM, "out of memory");
    snprintf(path, sizeof(path), RUNTIME_PATH "/invocation/%s/%s", id,
             error_type ? "error" : "response");
    long status = 0;
    int rc = rt_call(c, o->runtime_api, path, answer, len,
                     error_type ? "Unhandled" : NULL, NULL, &status, err);
    free(answer);
    if (rc == S2R_OK && (status < 200 || status > 299)) {
        /* e.g. 413 answer too large, 400 unknown id: log, go on */
        s2r_handler_log_field f[] = {S2R_LOG_TEXT("request_id", id),
                                     S2R_LOG_NUMBER("status", status)};
        s2r_handler_log_fields("error", "runtime",
                               "the Lambda Runtime API refused the answer",
                               f, 2);
    }
    return rc;
}

int s2r_lambda_run(const s2r_lambda_options *o, s2r_error *err)
{
    if (!o || !o->runtime_api || !*o->runtime_api || !o->handler)
        return s2r_error_set(err, S2R_EINVAL,
                       "AWS_LAMBDA_RUNTIME_API and a handler are needed");
    if (s2r_host_global_init() != S2R_OK)
        return s2r_error_set(err, S2R_ERROR, "libcurl failed to initialize");
    CURL *c = curl_easy_init();
    if (!c)
        return s2r_error_set(err, S2R_ENOMEM, "out of memory");
    rt_buf b;
    memset(&b, 0, sizeof(b));
    int rc = S2R_OK;
    for (uint64_t n = 0; !o->max_events || n < o->max_events; n++) {
        b.n = 0;
        b.too_big = 0;
        b.request_id[0] = b.trace_id[0] = b.deadline[0] = '\0';
        long status = 0;
        rc = rt_call(c, o->runtime_api, RUNTIME_PATH "/invocation/next",
                     NULL, 0, NULL, &b, &status, err);
        if (rc != S2R_OK)
            break;
        if (status != 200 || !b.request_id[0]) {
            rc = s2r_error_set(err, S2R_EUPSTREAM,
                         "Lambda Runtime API GET /invocation/next: HTTP %ld%s",
                         status,
                         b.request_id[0] ? "" : " without a request id");
            break;
        }
        if (b.trace_id[0])
            setenv("_X_AMZN_TRACE_ID", b.trace_id, 1);
        else
            unsetenv("_X_AMZN_TRACE_ID");
        rc = invoke(c, o, &b, err);
        if (rc != S2R_OK)
            break;
    }
    free(b.p);
    curl_easy_cleanup(c);
    return rc;
}
