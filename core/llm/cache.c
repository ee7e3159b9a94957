/* cache.c: see cache.h. SQLite stores, json-c (de)serializes, the host
 * table's SHA-256 makes the key. */
#include "cache.h"
#include "plugin/registry.h"
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct s2r_llm_cache {
    sqlite3 *db;
    int64_t max_age_ms;
    char *path;
};

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS answers("
    " key TEXT PRIMARY KEY,"
    " model TEXT,"
    " answer TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " hits INTEGER NOT NULL DEFAULT 0);";

int s2r_llm_cache_open(s2r_llm_cache **out, const char *path,
                       int64_t max_age_ms, s2r_error *err)
{
    *out = NULL;
    const s2r_host *h = s2r_host_table();
    s2r_llm_cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return S2R_ENOMEM;
    }
    c->max_age_ms = max_age_ms > 0 ? max_age_ms : 0;
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_FULLMUTEX,
                             NULL);
    char *emsg = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, 5000);
        rc = sqlite3_exec(c->db, schema_sql, NULL, NULL, &emsg);
    }
    if (rc != SQLITE_OK) {
        h->error_set(NULL, err, S2R_ERROR, "cache %s: %s", path,
                     emsg ? emsg : c->db ? sqlite3_errmsg(c->db)
                                         : sqlite3_errstr(rc));
        sqlite3_free(emsg);
        s2r_llm_cache_close(c);
        return S2R_ERROR;
    }
    *out = c;
    return S2R_OK;
}

void s2r_llm_cache_close(s2r_llm_cache *c)
{
    if (!c)
        return;
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

void s2r_llm_cache_key(const char *prompt, const char *model,
                       char out[S2R_LLM_CACHE_KEY_LEN])
{
    static const char tag[] = "s2r-llm-cache/1";
    const s2r_host *h = s2r_host_table();
    model = model ? model : "";
    prompt = prompt ? prompt : "";
    size_t lt = sizeof(tag), lm = strlen(model) + 1, lp = strlen(prompt);
    uint8_t digest[32];
    char *buf = malloc(lt + lm + lp);
    if (buf) {
        memcpy(buf, tag, lt);
        memcpy(buf + lt, model, lm);
        memcpy(buf + lt + lm, prompt, lp);
        h->sha256(buf, lt + lm + lp, digest);
        free(buf);
    } else {
        /* no memory: a key nobody else gets (the put will fail anyway) */
        memset(digest, 0, sizeof(digest));
    }
    h->hex_encode(digest, sizeof(digest), out);
}

int s2r_llm_cache_get(s2r_llm_cache *c, const char *key,
                      json_object **answer_out)
{
    *answer_out = NULL;
    if (!c)
        return S2R_ENOTFOUND;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT answer, created_ms FROM answers "
                                "WHERE key = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return S2R_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int out = S2R_ENOTFOUND;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t created = sqlite3_column_int64(st, 1);
        int64_t now = s2r_host_table()->now_ms();
        const char *text = (const char *)sqlite3_column_text(st, 0);
        if (c->max_age_ms && now - created > c->max_age_ms) {
            out = S2R_ENOTFOUND;
        } else if (text) {
            json_object *o = json_tokener_parse(text);
            if (o && json_object_is_type(o, json_type_object)) {
                *answer_out = o;
                out = S2R_OK;
            } else {
                json_object_put(o); /* damaged row: a miss */
            }
        }
    } else if (rc != SQLITE_DONE) {
        out = S2R_ERROR;
    }
    sqlite3_finalize(st);
    if (out == S2R_OK &&
        sqlite3_prepare_v2(c->db,
                           "UPDATE answers SET hits = hits + 1 WHERE key = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_step(st); /* a lost hit count is harmless */
        sqlite3_finalize(st);
    }
    return out;
}

int s2r_llm_cache_put(s2r_llm_cache *c, const char *key, const char *model,
                      json_object *answer)
{
    if (!c || !answer)
        return S2R_ERROR;
    const char *text = json_object_to_json_string_ext(
        answer, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        return S2R_ENOMEM;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO answers"
                           "(key, model, answer, created_ms, hits) "
                           "VALUES (?1, ?2, ?3, ?4, 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return S2R_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (model)
        sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, s2r_host_table()->now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? S2R_OK : S2R_ERROR;
}

int64_t s2r_llm_cache_count(s2r_llm_cache *c)
{
    if (!c)
        return -1;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM answers", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int s2r_llm_cache_from_ini(s2r_llm_cache **out, const char **model_out,
                           const s2r_ini *ini, const char *provider_id,
                           s2r_diags *diags)
{
    *out = NULL;
    if (model_out)
        *model_out = NULL;
    if (!ini || !provider_id)
        return S2R_OK;
    char section[256];
    snprintf(section, sizeof(section), "provider.%s", provider_id);
    const s2r_ini_section *sec = s2r_ini_section_find(ini, section);
    if (!sec)
        return S2R_OK;
    const s2r_ini_entry *model = s2r_ini_entry_find(sec, "model");
    if (model_out && model)
        *model_out = model->value;
    const s2r_ini_entry *path = s2r_ini_entry_find(sec, "cache");
    if (!path || !path->value[0])
        return S2R_OK;
    int64_t max_age = 0;
    const s2r_ini_entry *age = s2r_ini_entry_find(sec, "cache_max_age");
    if (age) {
        static const s2r_option dur = {
            "cache_max_age", S2R_OPT_DURATION, 0, NULL, 0, 0, NULL,
            S2R_OPT_NO_BIND, "answer lifetime"};
        s2r_optval v;
        char msg[160];
        if (s2r_option_parse(&dur, age->value, &v, msg, sizeof(msg)) ==
            S2R_OK)
            max_age = v.i;
        else
            s2r_diags_add(diags, S2R_SEV_WARNING, ini->path, age->line,
                          NULL, "[%s] cache_max_age: %s; answers never "
                          "expire", section, msg);
    }
    s2r_error err = {0};
    int rc = s2r_llm_cache_open(out, path->value, max_age, &err);
    if (rc == S2R_ENOMEM)
        return rc;
    if (rc != S2R_OK)
        s2r_diags_add(diags, S2R_SEV_WARNING, ini->path, path->line, NULL,
                      "[%s] %s: answers are not cached", section,
                      err.message);
    return S2R_OK;
}
