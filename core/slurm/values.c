/**
 * @file values.c
 * @brief Strict sbatch value parsers (see slurm.h for each contract).
 *
 * Written from sbatch(1) and the behaviour of Slurm's parse_time.c,
 * proc_args.c and slurm_protocol_defs.c; no Slurm code is copied.
 */
#include "slurm.h"

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase(const char *a, const char *b)
{
    while (*a && *b) {
        if (lower(*a) != lower(*b))
            return false;
        a++;
        b++;
    }
    return *a == *b;
}

static bool eq_nocase_n(const char *a, size_t n, const char *b)
{
    size_t bl = strlen(b);
    if (n != bl)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Read decimal digits at *p (at least one); stops at the first non-digit.
 * Fails on overflow past @p max. */
static bool read_uint(const char **p, const char *end, int64_t max,
                      int64_t *out)
{
    const char *q = *p;
    int64_t v = 0;
    if (q >= end || !is_digit(*q))
        return false;
    while (q < end && is_digit(*q)) {
        v = v * 10 + (*q - '0');
        if (v > max)
            return false;
        q++;
    }
    *p = q;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* --time                                                              */
/* ------------------------------------------------------------------ */

int s2r_slurm__parse_time(const char *s, int64_t *secs_out)
{
    if (!s || !*s)
        return S2R_EINVAL;
    if (strcmp(s, "-1") == 0 || eq_nocase(s, "INFINITE") ||
        eq_nocase(s, "UNLIMITED")) {
        *secs_out = S2R_TIME_UNLIMITED;
        return 0;
    }
    /* only digits, at most one '-', at most two ':', no ':' before '-' */
    int dashes = 0, colons = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '-') {
            if (dashes || colons)
                return S2R_EINVAL;
            dashes++;
        } else if (*p == ':') {
            if (++colons > 2)
                return S2R_EINVAL;
        } else if (!is_digit(*p)) {
            return S2R_EINVAL;
        }
    }
    /* Fields are read one after the other (like sscanf("%d-%d:%d:%d")):
     * the first must be a number, later missing ones count as 0. */
    const char *p = s, *end = s + strlen(s);
    int64_t f[4] = {0, 0, 0, 0};
    int nf = 0;
    if (!read_uint(&p, end, INT32_MAX, &f[0]))
        return S2R_EINVAL;
    nf = 1;
    if (dashes) {
        /* D-H:M:S */
        if (*p == '-') {
            p++;
            if (read_uint(&p, end, INT32_MAX, &f[1])) {
                nf = 2;
                while (nf < 4 && *p == ':') {
                    p++;
                    if (!read_uint(&p, end, INT32_MAX, &f[nf]))
                        break;
                    nf++;
                }
            }
        }
        *secs_out = f[0] * 86400 + f[1] * 3600 + f[2] * 60 + f[3];
    } else {
        while (nf < 3 && *p == ':') {
            p++;
            if (!read_uint(&p, end, INT32_MAX, &f[nf]))
                break;
            nf++;
        }
        if (nf == 3)
            *secs_out = f[0] * 3600 + f[1] * 60 + f[2];
        else if (nf == 2)
            *secs_out = f[0] * 60 + f[1];
        else
            *secs_out = f[0] * 60;
    }
    /* sbatch: a limit of 0 minutes means no limit; slurmctld keeps limits
     * in whole minutes and rounds seconds up (time_str2mins()), so
     * `-t 1:30` is enforced as 2 minutes */
    if (*secs_out == 0)
        *secs_out = S2R_TIME_UNLIMITED;
    else
        *secs_out = (*secs_out + 59) / 60 * 60;
    return 0;
}

/* ------------------------------------------------------------------ */
/* memory                                                              */
/* ------------------------------------------------------------------ */

int s2r_slurm__parse_mem(const char *s, int64_t *mib_out)
{
    if (!s)
        return S2R_EINVAL;
    const char *p = s, *end = s + strlen(s);
    int64_t v;
    if (p == end || !is_digit(*p))
        return S2R_EINVAL;
    /* digits past the cap are still read: the value is then too big */
    if (!read_uint(&p, end, S2R_SLURM_MAX_MEM_MIB << 10, &v)) {
        while (p < end && is_digit(*p))
            p++;
        v = INT64_MAX;
    }
    if (p < end) {
        switch (lower(*p)) {
        case 'k':
            v = v / 1024 + (v % 1024 != 0);
            break;
        case 'm':
            break;
        case 'g':
            v = v > S2R_SLURM_MAX_MEM_MIB ? v : v * 1024;
            break;
        case 't':
            v = v > S2R_SLURM_MAX_MEM_MIB ? v : v * 1024 * 1024;
            break;
        default:
            return S2R_EINVAL;
        }
        p++;
        if (p < end && lower(*p) == 'b')
            p++;
        if (p != end)
            return S2R_EINVAL;
    }
    if (v > S2R_SLURM_MAX_MEM_MIB)
        return S2R_ETOOBIG;
    *mib_out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* integers                                                            */
/* ------------------------------------------------------------------ */

int s2r_slurm__parse_int(const char *s, bool positive, int64_t *out)
{
    if (!s)
        return S2R_EINVAL;
    const char *p = s, *end = s + strlen(s);
    if (p < end && *p == '+')
        p++;
    int64_t v;
    if (!read_uint(&p, end, INT32_MAX, &v) || p != end)
        return S2R_EINVAL;
    if (positive && v == 0)
        return S2R_EINVAL;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* --array                                                             */
/* ------------------------------------------------------------------ */

/* Parse one "[N[-M[:S]]]" token [s, e) into the bitmap. */
static bool array_token(const char *s, const char *e, uint8_t *bits,
                        int32_t *lo, int32_t *hi)
{
    const char *p = s;
    int64_t first, last, step = 1;
    if (p < e && *p == '[')
        p++;
    if (!read_uint(&p, e, INT32_MAX, &first))
        return false;
    if (p < e && *p == ']')
        p++;
    if (p < e && *p == '-') {
        p++;
        if (!read_uint(&p, e, INT32_MAX, &last))
            return false;
        if (p < e && *p == ']')
            p++;
        if (p < e && *p == ':') {
            p++;
            if (!read_uint(&p, e, INT32_MAX, &step))
                return false;
            if (p < e && *p == ']')
                p++;
            if (step < 1)
                return false;
        }
        if (p != e || last < first)
            return false;
    } else {
        if (p != e)
            return false;
        last = first;
    }
    if (last >= S2R_SLURM_MAX_ARRAY_SIZE)
        return false;
    for (int64_t i = first; i <= last; i += step) {
        bits[i] = 1;
        if ((int32_t)i < *lo)
            *lo = (int32_t)i;
        if ((int32_t)i > *hi)
            *hi = (int32_t)i;
    }
    return true;
}

int s2r_slurm__parse_array(const char *s, s2r_array *out)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return S2R_EINVAL;
    const char *end = s + strlen(s);
    const char *pct = strchr(s, '%');
    int32_t throttle = 0;
    if (pct) {
        const char *p = pct + 1;
        int64_t k;
        if (!read_uint(&p, end, INT32_MAX, &k) || p != end)
            return S2R_EINVAL;
        throttle = (int32_t)k;
        end = pct;
    }
    uint8_t bits[S2R_SLURM_MAX_ARRAY_SIZE];
    memset(bits, 0, sizeof(bits));
    int32_t lo = INT32_MAX, hi = -1;
    const char *p = s;
    bool any = false;
    while (p < end) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        if (e > p) { /* empty tokens are skipped, as strtok_r does */
            if (!array_token(p, e, bits, &lo, &hi))
                return S2R_EINVAL;
            any = true;
        }
        p = e + 1;
    }
    if (!any)
        return S2R_EINVAL;
    size_t n = 0;
    for (int32_t i = lo; i <= hi; i++)
        n += bits[i];
    out->indices = malloc(n * sizeof(int32_t));
    if (!out->indices)
        return S2R_ENOMEM;
    for (int32_t i = lo; i <= hi; i++)
        if (bits[i])
            out->indices[out->count++] = i;
    out->max_parallel = throttle;
    return 0;
}

/* ------------------------------------------------------------------ */
/* --nodes                                                             */
/* ------------------------------------------------------------------ */

/* A node count with optional k/m suffix, [s, e). */
static bool node_number(const char *s, const char *e, int64_t *out)
{
    const char *p = s;
    int64_t v;
    if (!read_uint(&p, e, INT32_MAX, &v))
        return false;
    if (p < e) {
        char c = lower(*p);
        if (c == 'k')
            v *= 1024;
        else if (c == 'm')
            v *= 1048576;
        else
            return false;
        p++;
        if (v > INT32_MAX)
            return false;
    }
    if (p != e)
        return false;
    *out = v;
    return true;
}

int s2r_slurm__parse_nodes(const char *s, int64_t *min_out, int64_t *max_out)
{
    if (!s || !*s)
        return S2R_EINVAL;
    const char *end = s + strlen(s);
    if (strchr(s, ',') || strchr(s, ':')) {
        /* size list: "1,4,8", "1-15:4"; entries N, N-M, N-M:S */
        int64_t lo = INT64_MAX, hi = -1;
        const char *p = s;
        while (p < end) {
            const char *e = memchr(p, ',', (size_t)(end - p));
            if (!e)
                e = end;
            const char *q = p;
            int64_t a, b, step = 1;
            if (!read_uint(&q, e, INT32_MAX, &a))
                return S2R_EINVAL;
            b = a;
            if (q < e && *q == '-') {
                q++;
                if (!read_uint(&q, e, INT32_MAX, &b))
                    return S2R_EINVAL;
                if (q < e && *q == ':') {
                    q++;
                    if (!read_uint(&q, e, INT32_MAX, &step) || step < 1)
                        return S2R_EINVAL;
                }
            }
            if (q != e || b < a)
                return S2R_EINVAL;
            int64_t top = a + ((b - a) / step) * step;
            if (a < lo)
                lo = a;
            if (top > hi)
                hi = top;
            p = e + 1;
        }
        if (hi < 0)
            return S2R_EINVAL;
        *min_out = lo;
        *max_out = hi;
        return 0;
    }
    const char *dash = strchr(s, '-');
    int64_t a, b;
    if (dash) {
        if (!node_number(s, dash, &a) || !node_number(dash + 1, end, &b))
            return S2R_EINVAL;
    } else {
        if (!node_number(s, end, &a))
            return S2R_EINVAL;
        b = a;
    }
    if (b != 0 && b < a)
        return S2R_EINVAL;
    *min_out = a;
    *max_out = b;
    return 0;
}

/* ------------------------------------------------------------------ */
/* --export, --partition, --container-image                           */
/* ------------------------------------------------------------------ */

static int set_mode(s2r_job *job, const char *mode)
{
    free(job->export_mode);
    job->export_mode = strdup(mode);
    return job->export_mode ? 0 : S2R_ENOMEM;
}

int s2r_slurm__parse_export(const char *s, s2r_job *job)
{
    s2r_envv_clear(&job->export_env);
    if (eq_nocase(s, "ALL"))
        return set_mode(job, "ALL");
    if (eq_nocase(s, "NONE"))
        return set_mode(job, "NONE");
    if (eq_nocase(s, "NIL"))
        return set_mode(job, "NIL");
    const char *mode = "NONE";
    const char *p = s;
    char small[256];
    bool first = true;
    for (;;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        size_t n = (size_t)(e - p);
        if (first && (eq_nocase_n(p, n, "ALL")))
            mode = "ALL";
        else if (first && (eq_nocase_n(p, n, "NONE") ||
                           eq_nocase_n(p, n, "NIL")))
            mode = (lower(p[1]) == 'o') ? "NONE" : "NIL";
        else {
            const char *eq = memchr(p, '=', n);
            if (eq && eq > p) {
                char *buf = n < sizeof(small) ? small : malloc(n + 1);
                if (!buf)
                    return S2R_ENOMEM;
                memcpy(buf, p, n);
                buf[n] = '\0';
                buf[eq - p] = '\0';
                int rc = s2r_envv_set(&job->export_env, buf,
                                      buf + (eq - p) + 1);
                if (buf != small)
                    free(buf);
                if (rc != 0)
                    return S2R_ENOMEM;
            }
        }
        first = false;
        if (*e == '\0')
            break;
        p = e + 1;
    }
    return set_mode(job, mode);
}

int s2r_slurm__parse_partitions(const char *s, char ***out)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += (*p == ',');
    char **v = s2r_zalloc(n + 1, sizeof(char *));
    if (!v)
        return S2R_ENOMEM;
    size_t k = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        if (e > p) {
            v[k] = strndup(p, (size_t)(e - p));
            if (!v[k]) {
                for (size_t i = 0; i < k; i++)
                    free(v[i]);
                free(v);
                return S2R_ENOMEM;
            }
            k++;
        }
        if (*e == '\0')
            break;
        p = e + 1;
    }
    if (k == 0) {
        free(v);
        return S2R_EINVAL;
    }
    *out = v;
    return 0;
}

char *s2r_slurm__image_to_oci(const char *s)
{
    if (strncmp(s, "docker://", 9) == 0)
        s += 9;
    if (s[0] == '/' || s[0] == '.')
        return strdup(s);
    const char *hash = strchr(s, '#');
    if (!hash)
        return strdup(s);
    const char *at = memchr(s, '@', (size_t)(hash - s));
    if (at)
        s = at + 1;
    char *out = strdup(s);
    if (out) {
        char *h = strchr(out, '#');
        if (h)
            *h = '/';
    }
    return out;
}
