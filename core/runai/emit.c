/* emit.c: the s2r_emit dispatcher, format names and the helpers shared by
 * the three emitters (see emit_common.h). */
#include "emit_common.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int s2r_format_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcasecmp(name, "cli") == 0)
        return S2R_FMT_CLI;
    if (strcasecmp(name, "yaml") == 0 || strcasecmp(name, "yml") == 0)
        return S2R_FMT_YAML;
    if (strcasecmp(name, "json") == 0)
        return S2R_FMT_JSON;
    return -1;
}

int s2r_emit(char **out, const s2r_workload *wl, s2r_format fmt,
             const s2r_config *cfg, s2r_diags *diags)
{
    if (!out)
        return S2R_EINVAL;
    *out = NULL;
    switch (fmt) {
    case S2R_FMT_CLI:
        return s2r_emit_cli(out, wl, cfg, diags);
    case S2R_FMT_YAML:
        return s2r_emit_yaml(out, wl, cfg, diags);
    case S2R_FMT_JSON:
        return s2r_emit_json(out, wl, cfg, diags);
    }
    return S2R_EINVAL;
}

/* ---- values ------------------------------------------------------ */

void s2r_emit__quantity(char out[S2R_EMIT__QTY_MAX], int64_t mib)
{
    bool gi = mib % 1024 == 0;
    size_t n = s2r_i64_text(out, gi ? mib / 1024 : mib);
    memcpy(out + n, gi ? "Gi" : "Mi", 3);
}

/* The length of the well-formed sequence led by @p s[0] (a byte above
 * ASCII), or 0; a NUL ends it as any other non-continuation byte does. */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = *s;
    size_t n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the NUL */
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n + 1;
}

/* The high bits of the bytes of @p s from @p i (< @p len) on that are
 * above ASCII, as s2r_first_marked() reads them (0: all ASCII), in a
 * window of *@p step bytes: the next 8; past the last full 8, the
 * string's last 8 read again and shifted past the ones before @p i; in a
 * string shorter than 8, one byte. */
static uint64_t above_ascii(const char *s, size_t i, size_t len,
                            size_t *step)
{
    const uint64_t highs = 0x8080808080808080u;
    size_t left = len - i;
    if (left >= 8) {
        *step = 8;
        return s2r_load8(s + i) & highs;
    }
    if (len >= 8) {
        *step = left;
        return (s2r_load8(s + len - 8) & highs) >> 8 * (8 - left);
    }
    *step = 1;
    return (unsigned char)s[i] & 0x80;
}

/* True when none of the @p len bytes at @p s is above ASCII: their high
 * bits gathered 8 bytes at a time (the last 8 read again from the end),
 * one at a time in a string shorter than 8 bytes. */
static bool all_ascii(const char *s, size_t len)
{
    uint64_t seen = 0;
    if (len < 8) {
        for (size_t i = 0; i < len; i++)
            seen |= (unsigned char)s[i];
    } else { /* (the bytes' order in a word does not matter here) */
        uint64_t w;
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&w, s + i, 8);
            seen |= w;
        }
        memcpy(&w, s + len - 8, 8);
        seen |= w;
    }
    return !(seen & 0x8080808080808080u);
}

/* Most strings are ASCII, which all_ascii() passes in one go; in the
 * others, ASCII is passed 8 bytes at a time up to the first byte above
 * it (found by its high bit), where one sequence is decoded. */
bool s2r_emit__utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), i = 0;
    if (all_ascii(str, len))
        return true;
    while (i < len) {
        size_t step;
        uint64_t m = above_ascii(str, i, len, &step);
        if (!m) {
            i += step;
            continue;
        }
        i += s2r_first_marked(m);
        size_t n = utf8_sequence(s + i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

bool s2r_emit_utf8_valid(const char *s)
{
    return s2r_emit__utf8_valid(s);
}

static int utf8_check(const s2r_workload *wl, const char *s,
                      const char *what, s2r_diags *diags)
{
    if (!s || s2r_emit__utf8_valid(s))
        return S2R_OK;
    int rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                           "%s is not valid UTF-8, which YAML and JSON "
                           "cannot carry; use --format cli",
                           what);
    return rc ? rc : S2R_EINVAL;
}

static int utf8_check_strv(const s2r_workload *wl, const s2r_strv *sv,
                           const char *what, s2r_diags *diags)
{
    for (size_t i = 0; i < sv->n; i++) {
        int rc = utf8_check(wl, sv->v[i], what, diags);
        if (rc)
            return rc;
    }
    return S2R_OK;
}

int s2r_emit__check(const s2r_workload *wl, bool need_utf8,
                    s2r_diags *diags)
{
    int rc;
    if (!wl)
        return S2R_EINVAL;
    if (!wl->name || !*wl->name) {
        rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                           "the workload has no name");
        return rc ? rc : S2R_EINVAL;
    }
    if (!wl->image || !*wl->image) {
        rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                           "the workload has no container image");
        return rc ? rc : S2R_EINVAL;
    }
    if (!need_utf8)
        return S2R_OK;
    if ((rc = utf8_check(wl, wl->name, "the workload name", diags)) ||
        (rc = utf8_check(wl, wl->project, "the project", diags)) ||
        (rc = utf8_check(wl, wl->image, "the image", diags)) ||
        (rc = utf8_check(wl, wl->workdir, "the working directory", diags)) ||
        (rc = utf8_check(wl, wl->node_type, "the node type", diags)) ||
        (rc = utf8_check(wl, wl->priority, "the priority", diags)) ||
        (rc = utf8_check(wl, wl->preemptibility, "the preemptibility", diags)) ||
        (rc = utf8_check_strv(wl, &wl->command, "the command", diags)) ||
        (rc = utf8_check_strv(wl, &wl->launcher_command,
                              "the MPI launcher command", diags)) ||
        (rc = utf8_check_strv(wl, &wl->worker_command,
                              "the MPI worker command", diags)) ||
        (rc = utf8_check(wl, wl->server, "the server", diags)) ||
        (rc = utf8_check(wl, wl->supplemental_groups,
                         "the supplemental groups", diags)) ||
        (rc = utf8_check(wl, wl->stdout_file, "the -o file", diags)) ||
        (rc = utf8_check(wl, wl->stderr_file, "the -e file", diags)) ||
        (rc = utf8_check(wl, wl->stdin_file, "the -i file", diags)) ||
        (rc = utf8_check(wl, wl->user, "the user name", diags)))
        return rc;
    for (size_t i = 0; i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        if ((rc = utf8_check(wl, v->path, "a storage path", diags)) ||
            (rc = utf8_check(wl, v->source, "a storage source", diags)) ||
            (rc = utf8_check(wl, v->server, "a storage server", diags)))
            return rc;
    }
    for (size_t i = 0; i < wl->env.n; i++) {
        if ((rc = utf8_check(wl, wl->env.v[i].name, "an environment variable name",
                             diags)) ||
            (rc = utf8_check(wl, wl->env.v[i].value,
                             "an environment variable value", diags)))
            return rc;
    }
    for (size_t i = 0, n = s2r_emit__n_pools(wl); i < n; i++)
        if ((rc = utf8_check(wl, wl->node_pools[i], "a node pool", diags)))
            return rc;
    return S2R_OK;
}

/* ---- time limit -------------------------------------------------- */

int64_t s2r_emit__timeout_wrap(const s2r_workload *wl, const s2r_config *cfg)
{
    if (wl->time_limit_s <= 0 || !cfg || !cfg->time_limit)
        return 0;
    return strcmp(cfg->time_limit, "timeout") == 0 ? wl->time_limit_s : 0;
}

int s2r_emit__time_diag(const s2r_workload *wl, const s2r_config *cfg,
                        const char *what, s2r_diags *diags)
{
    if (wl->time_limit_s <= 0)
        return S2R_OK;
    if (s2r_emit__timeout_wrap(wl, cfg) > 0)
        return s2r_diags_add(diags, S2R_SEV_NOTE, wl->source, 0, "time",
                             "the %s has no time limit: the command runs "
                             "under `timeout %" PRId64 "` instead",
                             what, wl->time_limit_s);
    return s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, "time",
                         "the %s has no time limit, so --time (%" PRId64
                         " s) is not enforced; --format yaml carries it as "
                         "activeDeadlineSeconds, and time_limit = timeout "
                         "in s2r.ini wraps the command in `timeout`",
                         what, wl->time_limit_s);
}

/* ---- argv view --------------------------------------------------- */

void s2r_emit__argv_init(s2r_emit__argv *a, const char *const *v, size_t n,
                         int64_t timeout_s)
{
    memset(a, 0, sizeof(*a));
    a->rest = v;
    a->n_rest = n;
    if (timeout_s > 0 && n > 0) {
        a->n_pre = 2;
        s2r_i64_text(a->secs, timeout_s);
    }
}

size_t s2r_emit__argv_count(const s2r_emit__argv *a)
{
    return a->n_pre + a->n_rest;
}

const char *s2r_emit__argv_get(const s2r_emit__argv *a, size_t i)
{
    if (i < a->n_pre)
        return i == 0 ? "timeout" : a->secs;
    return a->rest[i - a->n_pre];
}

const s2r_strv *s2r_emit__main_command(const s2r_workload *wl)
{
    if (wl->kind == S2R_WL_MPI && wl->launcher_command.n > 0)
        return &wl->launcher_command;
    return &wl->command;
}

size_t s2r_emit__n_pools(const s2r_workload *wl)
{
    size_t n = 0;
    while (wl->node_pools && wl->node_pools[n])
        n++;
    return n;
}

int64_t s2r_emit__completions(const s2r_workload *wl)
{
    if (wl->completions > 0)
        return wl->completions;
    return (int64_t)wl->n_array_indices;
}

int64_t s2r_emit__parallelism(const s2r_workload *wl)
{
    int64_t n = s2r_emit__completions(wl);
    if (wl->parallelism <= 0 || wl->parallelism > n)
        return n;
    return wl->parallelism;
}

const char *s2r_emit__priority(const s2r_workload *wl)
{
    return wl->priority && *wl->priority ? wl->priority : "low";
}

const char *s2r_emit__preemptibility(const s2r_workload *wl)
{
    return wl->preemptibility && *wl->preemptibility ? wl->preemptibility
                                                     : "preemptible";
}
