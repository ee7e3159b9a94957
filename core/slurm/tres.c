/**
 * @file tres.c
 * @brief GRES and GPU list values: --gres, -G/--gpus, --gpus-per-node,
 *        --gpus-per-socket, --gpus-per-task, and the entries of
 *        --tres-per-task (see slurm.h for each contract).
 *
 * Written from sbatch(1) --gres and --tres-per-task and the behaviour of
 * Slurm's slurm_get_next_tres()/_get_next_gres(), suffix_mult(),
 * gres_prepend_tres_type(), slurm_format_tres_string() and
 * _validate_tres_per_task(); no Slurm code is copied.
 */
#include "slurm.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase_n(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* The multiplier of a count suffix, per suffix_mult(): "" 1, k|kib 1024,
 * kb 1000, m|mib, mb, g|gib, gb, t|tib, tb, p|pib, pb (any case); 0 when
 * @p s is no suffix. */
static int64_t suffix_mult(const char *s, size_t n)
{
    static const char *const bin[] = {"k", "m", "g", "t", "p"};
    static const char *const bib[] = {"kib", "mib", "gib", "tib", "pib"};
    static const char *const dec[] = {"kb", "mb", "gb", "tb", "pb"};
    if (n == 0)
        return 1;
    int64_t b = 1, d = 1;
    for (int i = 0; i < 5; i++) {
        b *= 1024;
        d *= 1000;
        if (eq_nocase_n(s, n, bin[i]) || eq_nocase_n(s, n, bib[i]))
            return b;
        if (eq_nocase_n(s, n, dec[i]))
            return d;
    }
    return 0;
}

int s2r_slurm__parse_gres_count(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    if (p >= end || !is_digit(*p))
        return S2R_EINVAL;
    int64_t v = 0;
    bool big = false;
    for (; p < end && is_digit(*p); p++) {
        if (v > (INT64_MAX - 9) / 10)
            big = true;
        else
            v = v * 10 + (*p - '0');
    }
    int64_t mult = suffix_mult(p, (size_t)(end - p));
    if (mult == 0)
        return S2R_EINVAL;
    if (big || v > S2R_SLURM_MAX_COUNT / mult)
        return S2R_ETOOBIG;
    *out = v * mult;
    return 0;
}

/* True when [s, e) holds only digits (a count too large to read, which
 * sbatch would take for a type name). */
static bool all_digits(const char *s, const char *e)
{
    if (s == e)
        return false;
    for (; s < e; s++)
        if (!is_digit(*s))
            return false;
    return true;
}

/* "[type:]count", "type" or "count" of one entry [s, e) into @p t. */
static int type_and_count(const char *s, const char *e, s2r_slurm_tres *t)
{
    const char *last = NULL;
    for (const char *p = e; p > s; p--)
        if (p[-1] == ':') {
            last = p - 1;
            break;
        }
    const char *cnt = last ? last + 1 : s;
    if (cnt == e)
        return S2R_EINVAL; /* "gpu:" or "gpu:a100:" */
    int rc = s2r_slurm__parse_gres_count(cnt, (size_t)(e - cnt), &t->count);
    if (rc == S2R_ETOOBIG ||
        (rc != 0 && all_digits(cnt, e)))
        return S2R_ETOOBIG;
    if (rc != 0) {
        if (last)
            return S2R_EINVAL; /* "gpu:a100:x": a type given twice */
        t->count = 1;          /* "gpu:a100" is one A100 */
        t->type = s;
        t->type_len = (size_t)(e - s);
    } else if (last) {
        t->type = s;
        t->type_len = (size_t)(last - s);
    } else {
        t->type = NULL;
        t->type_len = 0;
    }
    if (t->type) {
        if (t->type_len == 0 || t->type[0] == ':' ||
            t->type[t->type_len - 1] == ':')
            return S2R_EINVAL; /* "gpu::1" */
        for (size_t i = 0; i + 1 < t->type_len; i++)
            if (t->type[i] == ':' && t->type[i + 1] == ':')
                return S2R_EINVAL;
    }
    return 0;
}

/* The next comma-separated entry at *@p cursor, [*@p s, *@p e) (maybe
 * empty), the cursor moved past it; false at the end of the list. */
static bool next_entry(const char **cursor, const char **s, const char **e)
{
    const char *p = *cursor;
    if (!*p)
        return false;
    const char *c = strchr(p, ',');
    *e = c ? c : p + strlen(p);
    *s = p;
    *cursor = **e ? *e + 1 : *e;
    return true;
}

int s2r_slurm__next_tres(const char **cursor, bool gres, s2r_slurm_tres *t)
{
    const char *s, *e;
    while (next_entry(cursor, &s, &e)) {
        if (gres && (size_t)(e - s) >= 5 && eq_nocase_n(s, 5, "gres/"))
            s += 5;
        if (gres && (size_t)(e - s) >= 5 && eq_nocase_n(s, 5, "gres:"))
            s += 5;
        if (s == e)
            continue; /* an empty entry, as sbatch skips it */
        if (!gres) {
            t->name = "gpu";
            t->name_len = 3;
        } else {
            const char *c = memchr(s, ':', (size_t)(e - s));
            t->name = s;
            t->name_len = c ? (size_t)(c - s) : (size_t)(e - s);
            if (t->name_len == 0)
                return S2R_EINVAL;
            if (!c) {
                t->type = NULL;
                t->type_len = 0;
                t->count = 1;
                return 1;
            }
            s = c + 1;
        }
        int rc = type_and_count(s, e, t);
        return rc ? rc : 1;
    }
    return 0;
}

/* A list: per GPU key (type or none) the last count wins; the counts of
 * the keys are summed; the first type named is kept. */
static int parse_list(const char *s, bool gres, int64_t *gpus_out,
                      const char **type_out, size_t *type_len_out)
{
    struct { const char *t; size_t n; int64_t c; } keys[S2R_SLURM_MAX_GPU_TYPES];
    size_t nk = 0;
    const char *first = NULL;
    size_t first_len = 0;
    const char *cur = s;
    s2r_slurm_tres t;
    int rc;
    while ((rc = s2r_slurm__next_tres(&cur, gres, &t)) == 1) {
        if (t.name_len != 3 || memcmp(t.name, "gpu", 3) != 0 || !t.count)
            continue;
        size_t k = 0;
        while (k < nk && !(keys[k].n == t.type_len &&
                           (!t.type_len ||
                            memcmp(keys[k].t, t.type, t.type_len) == 0)))
            k++;
        if (k == nk) {
            if (nk == S2R_SLURM_MAX_GPU_TYPES)
                return S2R_ETOOBIG;
            keys[nk].t = t.type;
            keys[nk].n = t.type_len;
            nk++;
        }
        keys[k].c = t.count;
        if (t.type && !first) {
            first = t.type;
            first_len = t.type_len;
        }
    }
    if (rc != 0)
        return rc;
    int64_t total = 0;
    for (size_t k = 0; k < nk; k++)
        total += keys[k].c; /* at most 64 x S2R_SLURM_MAX_COUNT */
    *gpus_out = total;
    if (type_out)
        *type_out = first;
    if (type_len_out)
        *type_len_out = first_len;
    return 0;
}

int s2r_slurm__parse_gres(const char *s, int64_t *gpus_out,
                          const char **type_out, size_t *type_len)
{
    if (!s)
        return S2R_EINVAL;
    if (eq_nocase_n(s, strlen(s), "none")) {
        *gpus_out = 0;
        if (type_out)
            *type_out = NULL;
        if (type_len)
            *type_len = 0;
        return 0;
    }
    return parse_list(s, true, gpus_out, type_out, type_len);
}

int s2r_slurm__parse_gpu_spec(const char *s, int64_t *count_out,
                              const char **type_out, size_t *type_len)
{
    if (!s)
        return S2R_EINVAL;
    return parse_list(s, false, count_out, type_out, type_len);
}

/* True when the @p n bytes at @p s start with @p w, in any case. */
static bool starts_nocase(const char *s, size_t n, const char *w)
{
    size_t wn = strlen(w);
    return n >= wn && eq_nocase_n(s, wn, w);
}

/* The last @p c in [s, e), or NULL. */
static const char *last_of(const char *s, const char *e, char c)
{
    for (const char *p = e; p > s; p--)
        if (p[-1] == c)
            return p - 1;
    return NULL;
}

/* "NAME[:TYPE][:N]" or "NAME[:TYPE]=N" of a gres/ entry [s, e) into
 * @p t, per slurm_get_next_tres(): the last '=' (else ':') field is the
 * count; after ':' a field that is no count is the type (count 1).
 * @return 1, S2R_EINVAL or S2R_ETOOBIG. */
static int task_gres(const char *s, const char *e, s2r_slurm_task_tres *t)
{
    const char *eq = last_of(s, e, '=');
    const char *sep = eq ? eq : last_of(s, e, ':');
    const char *name_end = e;
    t->count = 1;
    if (sep) {
        const char *cnt = sep + 1;
        if (cnt == e)
            return S2R_EINVAL; /* "gres/gpu:" */
        int rc = s2r_slurm__parse_gres_count(cnt, (size_t)(e - cnt),
                                             &t->count);
        if (rc == S2R_ETOOBIG || (rc != 0 && all_digits(cnt, e)))
            return S2R_ETOOBIG;
        if (rc != 0) {
            if (eq)
                return S2R_EINVAL; /* "gres/gpu=a100" */
            t->count = 1;
            t->type = cnt;
            t->type_len = (size_t)(e - cnt);
        }
        name_end = sep;
    }
    const char *colon = memchr(s, ':', (size_t)(name_end - s));
    if (colon) {
        if (t->type)
            return S2R_EINVAL; /* "gres/gpu:a100:x": a type given twice */
        t->type = colon + 1;
        t->type_len = (size_t)(name_end - t->type);
        name_end = colon;
    }
    if (name_end == s || (t->type && (t->type_len == 0 ||
                                      memchr(t->type, ':', t->type_len))))
        return S2R_EINVAL; /* "gres/:1", "gres/gpu::1" */
    bool gpu = name_end - s == 3 && memcmp(s, "gpu", 3) == 0;
    t->kind = gpu ? S2R_SLURM_TPT_GPU : S2R_SLURM_TPT_OTHER;
    return 1;
}

int s2r_slurm__next_task_tres(const char **cursor, s2r_slurm_task_tres *t)
{
    /* the TRES sbatch refuses per task, by the start of an entry */
    static const char *const k_refused[] = {"mem",  "energy", "node",
                                            "billing", "fs", "vmem",
                                            "pages", "bb"};
    const char *s, *e;
    while (next_entry(cursor, &s, &e)) {
        if (s == e)
            continue; /* an empty entry */
        size_t n = (size_t)(e - s);
        t->entry = s;
        t->entry_len = n;
        t->type = NULL;
        t->type_len = 0;
        t->count = 0;
        for (size_t i = 0; i < sizeof(k_refused) / sizeof(k_refused[0]); i++)
            if (starts_nocase(s, n, k_refused[i]))
                return S2R_EINVAL;
        size_t w = 0; /* the TRES type: up to '/', ':' or '=' */
        while (w < n && s[w] != '/' && s[w] != ':' && s[w] != '=')
            w++;
        if (w == 3 && memcmp(s, "cpu", 3) == 0) {
            if (w == n || s[w] == '/')
                return S2R_EINVAL; /* "cpu": sbatch reads 0 CPUs */
            int rc = s2r_slurm__parse_gres_count(s + 4, n - 4, &t->count);
            if (rc == S2R_ETOOBIG || (rc != 0 && all_digits(s + 4, e)))
                return S2R_ETOOBIG;
            if (rc != 0 || t->count == 0)
                return S2R_EINVAL;
            t->kind = S2R_SLURM_TPT_CPU;
            return 1;
        }
        bool gres = w == 4 && memcmp(s, "gres", 4) == 0;
        bool license = w == 7 && memcmp(s, "license", 7) == 0;
        /* "gres:" and "license:" are sbatch's other spelling of the "/" */
        if ((!gres && !license) || w == n || s[w] == '=')
            return S2R_EINVAL;
        if (license) {
            t->kind = S2R_SLURM_TPT_OTHER;
            t->count = 1;
            return 1;
        }
        return task_gres(s + w + 1, e, t);
    }
    return 0;
}
