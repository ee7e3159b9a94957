/* fuzz_request.c: one HTTP request through s2r_handler_handle(), the
 * entry point `s2r serve` and `s2r lambda` share, without a socket.
 *
 * Input: a request written as on the wire, LF or CRLF line ends:
 *
 *     POST /?format=yaml&dry_run=1
 *     X-S2R-Filename: train.sbatch
 *     Fuzz-Auth: hmac
 *
 *     #!/bin/bash
 *     #SBATCH --gres=gpu:2
 *     ...
 *
 * The first line is the method and the target (path, then '?' and the
 * query, whose parameters are decoded with libmicrohttpd's
 * MHD_http_unescape as the server does); header lines follow up to an
 * empty line; the rest, NUL bytes included, is the body. Three header
 * names steer the harness and are not passed on:
 *   Fuzz-Auth: hmac       the full handler (auth-hmac, ratelimit-sqlite)
 *                         with a valid signature of the body
 *              given      the full handler, with the input's own
 *                         X-S2R-Timestamp and X-S2R-Signature
 *              (absent)   the open handler (no auth, no rate limit)
 *   Fuzz-Truncated: 1     the transport stopped reading the body
 *   Fuzz-Client: ADDR     the client address (default 198.51.100.7)
 *
 * Checks: s2r_handler_handle() returns S2R_OK and its answer is well
 * formed (fuzz_check_response); every log line is one JSON object.
 */
#include "fuzz_common.h"
#include "fuzz_handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "plugin/host.h"

#define MAX_FIELDS 32

typedef struct fields {
    const char *name[MAX_FIELDS];
    const char *value[MAX_FIELDS];
    int n;
} fields;

static void fields_add(fields *f, const char *name, const char *value)
{
    if (f->n < MAX_FIELDS) {
        f->name[f->n] = name;
        f->value[f->n] = value;
        f->n++;
    }
}

/* Headers: case-insensitive, the first wins. */
static const char *header_get(void *payload, const char *name)
{
    fields *f = payload;
    for (int i = 0; i < f->n; i++)
        if (strcasecmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

/* Query parameters: exact names, the first wins (as MHD's lookup). */
static const char *param_get(void *payload, const char *name)
{
    fields *f = payload;
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

/* Cut one line off [*p, end): NUL-terminates it (and a CR before the LF)
 * in place. Returns the line, or NULL at the end. */
static char *next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *line = *p;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (stop > line && stop[-1] == '\r')
        stop--;
    *stop = '\0';
    return line;
}

/* "a=1&b=%20" into @p out, decoded in place. */
static void parse_query(char *q, fields *out)
{
    for (char *save = NULL, *tok = strtok_r(q, "&", &save); tok;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        char *v = eq ? eq + 1 : tok + strlen(tok);
        if (eq)
            *eq = '\0';
        MHD_http_unescape(tok);
        MHD_http_unescape(v);
        fields_add(out, tok, v);
    }
}

typedef struct request {
    char *method, *path, *query;
    fields headers, params;
    const char *auth, *client;
    int truncated;
    const uint8_t *body;
    size_t body_len;
    char ts[32], sig[65];
} request;

/* Read the input (a mutable copy, @p len bytes + NUL) into @p r. */
static void parse_request(char *text, size_t len, request *r)
{
    char *p = text, *end = text + len;
    char *first = next_line(&p, end);
    r->method = first ? first : "";
    char *sp = strchr(r->method, ' ');
    char *target = "/";
    if (sp) {
        *sp = '\0';
        target = sp + 1;
        char *sp2 = strchr(target, ' '); /* " HTTP/1.1" */
        if (sp2)
            *sp2 = '\0';
    }
    r->path = target;
    char *qm = strchr(target, '?');
    if (qm) {
        *qm = '\0';
        r->query = qm + 1;
    }
    char *line;
    while ((line = next_line(&p, end)) && *line) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strcasecmp(line, "Fuzz-Auth") == 0)
            r->auth = v;
        else if (strcasecmp(line, "Fuzz-Truncated") == 0)
            r->truncated = strcmp(v, "1") == 0;
        else if (strcasecmp(line, "Fuzz-Client") == 0)
            r->client = v;
        else
            fields_add(&r->headers, line, v);
    }
    r->body = (const uint8_t *)p;
    r->body_len = (size_t)(end - p);
}

/* X-S2R-Timestamp and X-S2R-Signature of auth-hmac: hex
 * HMAC-SHA256(secret, timestamp ":" body), before the input's own. */
static void sign(request *r)
{
    snprintf(r->ts, sizeof(r->ts), "%lld", (long long)time(NULL));
    size_t tl = strlen(r->ts);
    uint8_t *msg = malloc(tl + 1 + r->body_len);
    if (!msg)
        fuzz_fail("out of memory");
    memcpy(msg, r->ts, tl);
    msg[tl] = ':';
    if (r->body_len)
        memcpy(msg + tl + 1, r->body, r->body_len);
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(FUZZ_HMAC_SECRET, strlen(FUZZ_HMAC_SECRET),
                                  msg, tl + 1 + r->body_len, mac);
    free(msg);
    s2r_host_table()->hex_encode(mac, sizeof(mac), r->sig);
    fields signed_headers = {0};
    fields_add(&signed_headers, "X-S2R-Timestamp", r->ts);
    fields_add(&signed_headers, "X-S2R-Signature", r->sig);
    for (int i = 0; i < r->headers.n; i++)
        fields_add(&signed_headers, r->headers.name[i], r->headers.value[i]);
    r->headers = signed_headers;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_handler_open();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    request r;
    memset(&r, 0, sizeof(r));
    parse_request(text, size, &r);
    char *query_copy = r.query ? strdup(r.query) : NULL;
    if (r.query && !query_copy)
        fuzz_fail("out of memory");
    if (query_copy)
        parse_query(query_copy, &r.params);
    s2r_handler *h = fuzz_handler_open();
    if (r.auth && strcmp(r.auth, "hmac") == 0) {
        sign(&r);
        h = fuzz_handler_full();
    } else if (r.auth && strcmp(r.auth, "given") == 0) {
        h = fuzz_handler_full();
    }
    s2r_handler_request req = {
        .method = r.method,
        .path = r.path,
        .query = r.query,
        .param = param_get,
        .param_payload = &r.params,
        .header = header_get,
        .header_payload = &r.headers,
        .body = r.body,
        .body_len = r.body_len,
        .body_truncated = r.truncated,
        .client_ip = r.client ? r.client : "198.51.100.7"};
    s2r_handler_response resp;
    int rc = s2r_handler_handle(h, &req, &resp);
    if (rc != S2R_OK)
        fuzz_fail("s2r_handler_handle returned %d", rc);
    fuzz_check_response(&resp);
    s2r_handler_response_free(&resp);
    free(query_copy);
    free(text);
    return 0;
}
