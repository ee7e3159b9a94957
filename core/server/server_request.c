/* server_request.c: framing and size checks of `s2r serve` (see
 * server_request.h). */
#include "server_request.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

int s2r_server_cut_query(char *target)
{
    char *q = target ? strchr(target, '?') : NULL;
    if (!q || !q[1])
        return 0;
    size_t params = 1;
    for (const char *p = q + 1; *p; p++)
        if (*p == '&')
            params++;
    if (params <= S2R_SERVER_MAX_PARAMS)
        return 0;
    q[1] = '\0';
    return 1;
}

typedef struct framing {
    int n_length;        /* Content-Length header lines */
    int conflicting;     /* values that differ, or malformed */
    int chunked;         /* a Transfer-Encoding header line */
    int blank_in_name;   /* a space or tab in a field name */
    int have_value;
    uint64_t value;
} framing;

/* One Content-Length value, a list of them ("5, 5") included: each must
 * be digits and all must be equal. */
static void take_length(framing *f, const char *v)
{
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        uint64_t n = 0;
        const char *d = p;
        while (*p >= '0' && *p <= '9' && p - d < 19)
            n = n * 10 + (uint64_t)(*p++ - '0');
        if (p == d || (*p >= '0' && *p <= '9')) {
            f->conflicting = 1;
            return;
        }
        if (f->have_value && f->value != n)
            f->conflicting = 1;
        f->value = n;
        f->have_value = 1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return;
        if (*p != ',') {
            f->conflicting = 1;
            return;
        }
        p++;
    }
}

static enum MHD_Result visit(void *cls, enum MHD_ValueKind kind,
                             const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strpbrk(key, " \t"))
        f->blank_in_name = 1;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->n_length++;
        take_length(f, value ? value : "");
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->chunked = 1;
    }
    return MHD_YES;
}

int s2r_server_check_framing(struct MHD_Connection *c)
{
    framing f;
    memset(&f, 0, sizeof(f));
    MHD_get_connection_values(c, MHD_HEADER_KIND, visit, &f);
    if (f.blank_in_name)
        return S2R_FRAMING_BLANK_IN_NAME;
    if (f.n_length && f.chunked)
        return S2R_FRAMING_LENGTH_AND_CHUNKED;
    if (f.conflicting)
        return S2R_FRAMING_CONFLICTING_LENGTH;
    return S2R_FRAMING_OK;
}

#define LENGTH_AND_CHUNKED \
    "Bad request: Content-Length and Transfer-Encoding together"
#define CONFLICTING_LENGTH \
    "Bad request: Content-Length values that differ or are not numbers"
#define BLANK_IN_NAME "Bad request: whitespace in a header field name"

/* Each refusing verdict's message, and its answer {"error": message}. */
#define REFUSAL(msg) {msg, "{\"error\":\"" msg "\"}"}
static const struct {
    const char *reason, *json;
} refusals[] = {
    [S2R_FRAMING_CONFLICTING_LENGTH] = REFUSAL(CONFLICTING_LENGTH),
    [S2R_FRAMING_LENGTH_AND_CHUNKED] = REFUSAL(LENGTH_AND_CHUNKED),
    [S2R_FRAMING_BLANK_IN_NAME] = REFUSAL(BLANK_IN_NAME),
};

/* A verdict with a row in refusals[] (any other is taken as conflicting
 * lengths). */
static int refusal(int verdict)
{
    return verdict > 0 &&
                   (size_t)verdict < sizeof(refusals) / sizeof(refusals[0])
               ? verdict
               : S2R_FRAMING_CONFLICTING_LENGTH;
}

const char *s2r_server_framing_error(int verdict)
{
    return refusals[refusal(verdict)].json;
}

const char *s2r_server_framing_reason(int verdict)
{
    return refusals[refusal(verdict)].reason;
}
