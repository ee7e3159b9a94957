/* ini.c: the INI reader behind s2r.ini, on inih (see config.h).
 *
 * inih calls our line reader, so every physical line passes through here
 * first: that is where over-long lines, malformed lines and section headers
 * (duplicates, empty sections) are seen with their line numbers. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* inih truncates section and key names to 50 bytes (MAX_SECTION/MAX_NAME) */
#define S2R_INI_NAME_MAX 49
#define S2R_INI_FILE_MAX (1024 * 1024)

void s2r_ini_free(s2r_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        s2r_ini_section *s = &ini->v[i];
        for (size_t k = 0; k < s->n; k++) {
            free(s->v[k].key);
            free(s->v[k].value);
        }
        free(s->v);
        free(s->name);
    }
    free(ini->v);
    free(ini->path);
    memset(ini, 0, sizeof(*ini));
}

const s2r_ini_section *s2r_ini_section_find(const s2r_ini *ini,
                                            const char *name)
{
    for (size_t i = 0; ini && i < ini->n; i++)
        if (strcmp(ini->v[i].name, name) == 0)
            return &ini->v[i];
    return NULL;
}

const s2r_ini_entry *s2r_ini_entry_find(const s2r_ini_section *sec,
                                        const char *key)
{
    for (size_t i = 0; sec && i < sec->n; i++)
        if (strcmp(sec->v[i].key, key) == 0)
            return &sec->v[i];
    return NULL;
}

const char *s2r_ini_get(const s2r_ini *ini, const char *section,
                        const char *key)
{
    const s2r_ini_entry *e =
        s2r_ini_entry_find(s2r_ini_section_find(ini, section), key);
    return e ? e->value : NULL;
}

struct reader {
    const char *text; /* whole file, NUL-terminated */
    size_t pos;
    int line;         /* physical line just returned */
    int indented;     /* that line began with white space */
    int skipped;      /* that line was replaced (too long / malformed) */
    int in_dup;       /* inside a duplicate section: keys ignored */
    int oom;
    s2r_ini *ini;
    s2r_diags *diags;
    const char *file;
    s2r_ini_section *cur; /* section of the last header, NULL before any */
    int last_entry_line;  /* for continuation lines */
};

static s2r_ini_section *add_section(struct reader *r, const char *name,
                                    int line)
{
    s2r_ini *ini = r->ini;
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 8;
        s2r_ini_section *n = realloc(ini->v, cap * sizeof(*n));
        if (!n)
            return NULL;
        ini->v = n;
        ini->cap = cap;
    }
    s2r_ini_section *s = &ini->v[ini->n];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (!s->name)
        return NULL;
    s->line = line;
    ini->n++;
    return s;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Look at one physical line before inih does. */
static void inspect(struct reader *r, char *line)
{
    char *t = trim(line);
    if (!*t || *t == ';' || *t == '#')
        return;
    if (*t == '[') {
        char *end = strchr(t, ']');
        if (!end) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "section header without ']'");
            r->skipped = 1;
            r->cur = NULL;
            r->in_dup = 1;
            return;
        }
        *end = '\0';
        const char *name = t + 1;
        if (strlen(name) > S2R_INI_NAME_MAX) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "section name longer than %d characters",
                          S2R_INI_NAME_MAX);
            r->skipped = 1;
            r->cur = NULL;
            r->in_dup = 1;
            return;
        }
        const s2r_ini_section *prev = s2r_ini_section_find(r->ini, name);
        if (prev) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "[%s] duplicate section (first at line %d); its "
                          "keys are ignored", name, (int)prev->line);
            r->in_dup = 1;
            r->cur = NULL;
            return;
        }
        r->in_dup = 0;
        r->cur = add_section(r, name, r->line);
        if (!r->cur)
            r->oom = 1;
        return;
    }
    if (r->indented && r->last_entry_line)
        return; /* continuation of the previous value */
    if (!strpbrk(t, "=:")) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "line is neither [section], key = value nor a comment");
        r->skipped = 1;
        return;
    }
    if (t[0] == '=' || t[0] == ':') {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "key = value line without a key");
        r->skipped = 1;
    }
}

/* fgets-style reader handed to inih: one physical line per call */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (!r->text[r->pos])
        return NULL;
    const char *start = r->text + r->pos;
    const char *nl = strchr(start, '\n');
    size_t len = nl ? (size_t)(nl - start) : strlen(start);
    r->pos += len + (nl ? 1 : 0);
    r->line++;
    r->skipped = 0;
    size_t content = len;
    if (content && start[content - 1] == '\r')
        content--;
    /* inih needs room for "\r\n\0": lines up to num-3 characters */
    if (num < 4 || content > (size_t)num - 3) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "line is %zu characters long; the limit is %d",
                      content, num - 3);
        r->skipped = 1;
        r->indented = 0;
        r->last_entry_line = 0;
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    char *copy = strndup(start, content);
    if (!copy) {
        r->oom = 1;
        return NULL;
    }
    r->indented = content && (start[0] == ' ' || start[0] == '\t');
    inspect(r, copy);
    free(copy);
    if (r->skipped) {
        r->last_entry_line = 0;
        snprintf(str, (size_t)num, ";\n");
    } else {
        memcpy(str, start, content);
        str[content] = '\n';
        str[content + 1] = '\0';
    }
    return str;
}

static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct reader *r = user;
    if (r->oom)
        return 0;
    if (r->in_dup)
        return 1;
    if (!r->cur) {
        if (!*section) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, name,
                          "%s: key before any [section]", name);
            return 1;
        }
        return 1;
    }
    s2r_ini_section *s = r->cur;
    if (strlen(name) > S2R_INI_NAME_MAX) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "[%s] key name longer than %d characters", s->name,
                      S2R_INI_NAME_MAX);
        return 1;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, name) != 0)
            continue;
        if (r->indented && r->last_entry_line == s->v[i].line) {
            /* continuation line: append */
            size_t a = strlen(s->v[i].value), b = strlen(value);
            char *nv = realloc(s->v[i].value, a + b + 2);
            if (!nv) {
                r->oom = 1;
                return 0;
            }
            nv[a] = '\n';
            memcpy(nv + a + 1, value, b + 1);
            s->v[i].value = nv;
            return 1;
        }
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, name,
                      "[%s] %s: duplicate key (first at line %d)", s->name,
                      name, (int)s->v[i].line);
        return 1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        s2r_ini_entry *n = realloc(s->v, cap * sizeof(*n));
        if (!n) {
            r->oom = 1;
            return 0;
        }
        s->v = n;
        s->cap = cap;
    }
    s2r_ini_entry *e = &s->v[s->n];
    e->key = strdup(name);
    e->value = strdup(value);
    e->line = r->line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        r->oom = 1;
        return 0;
    }
    s->n++;
    r->last_entry_line = r->line;
    return 1;
}

int s2r_ini_read_string(s2r_ini *out, const char *name, const char *text,
                        s2r_diags *diags)
{
    const size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    if (!out->path && !(out->path = strdup(name)))
        return S2R_ENOMEM;
    struct reader r = {0};
    r.text = text;
    r.ini = out;
    r.diags = diags;
    r.file = name;
    int rc = ini_parse_stream(read_line, &r, on_entry, &r);
    if (r.oom || rc == -2)
        return S2R_ENOMEM;
    if (rc > 0 && s2r_diags_count(diags, S2R_SEV_ERROR) == errors_before)
        s2r_diags_add(diags, S2R_SEV_ERROR, name, rc, NULL,
                      "syntax error in configuration file");
    return s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before ? S2R_EINVAL
                                                                 : S2R_OK;
}

/* Read all of @p f, at most @p max + 1 bytes, into a NUL-terminated
 * buffer that grows with the file (a site file is a few KiB: no 1 MiB
 * buffer per read). @return the buffer (malloc'd, *@p n_out bytes), or
 * NULL on ENOMEM. */
static char *read_all(FILE *f, size_t max, size_t *n_out)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || n > max)
            break;
        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        char *nb = realloc(buf, ncap + 1);
        if (!nb)
            free(buf);
        buf = nb;
        cap = ncap;
    }
    *n_out = n;
    return buf;
}

int s2r_ini_read(s2r_ini *out, const char *path, s2r_diags *diags)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "cannot open configuration file: %s", strerror(errno));
        return S2R_ENOTFOUND;
    }
    /* fopen() opens a folder too; reading it then fails with EISDIR */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "is a directory, not a configuration file");
        return S2R_EINVAL;
    }
    size_t n = 0;
    char *buf = read_all(f, S2R_INI_FILE_MAX, &n);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf)
        return S2R_ENOMEM;
    if (read_errno) {
        free(buf);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "cannot read configuration file: %s",
                      strerror(read_errno));
        return S2R_EINVAL;
    }
    if (n > S2R_INI_FILE_MAX) {
        free(buf);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "configuration file larger than 1 MiB");
        return S2R_EINVAL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "configuration file contains NUL bytes");
        return S2R_EINVAL;
    }
    int rc = s2r_ini_read_string(out, path, buf, diags);
    free(buf);
    return rc;
}
