/* ratelimit_sqlite.c: the ratelimit-sqlite plugin: N requests per client
 * key per UTC day, counted in a SQLite file.
 *
 * One row per (client, day) where day = floor(unix_seconds / 86400):
 *
 *     CREATE TABLE s2r_ratelimit(client TEXT, day INTEGER, count INTEGER,
 *                                PRIMARY KEY (client, day)) WITHOUT ROWID
 *
 * A check is one write transaction, BEGIN IMMEDIATE (the write lock is
 * taken first, so two connections never deadlock upgrading a read lock):
 * it reads the count and, while count < limit, raises it, so "at most N
 * pass" holds across the threads of one process (one connection behind a
 * mutex) and across processes sharing the file (WAL journal, a busy
 * handler that waits up to busy_timeout for the lock). Rows older than
 * keep_days are deleted in the first check of each new day. A store that
 * fails refuses the request (fail closed: S2R_EUPSTREAM).
 *
 * Reservations (rl_reserve.h): a client with ample quota left is counted
 * up to `reserve` requests at a time (at most 1/64 of what is left, so a
 * client near its limit, or with a small limit, is counted one request
 * at a time and exactly N pass); its next requests pass without a
 * transaction. Unused ones are given back after a second of idleness.
 *
 * Checkpoints (copying the WAL into the database file, with its fsync)
 * run on a background thread of the instance every checkpoint_interval
 * and whenever the log passes RL_CKPT_FRAMES pages, on a connection of
 * their own, so that requests seldom wait for them (rl_background.c);
 * checkpoint_interval = 0 leaves them to SQLite (every 1000 pages,
 * inside a request).
 *
 * The plugin links libsqlite3 (its own dependency); everything else comes
 * from the host table.
 */
#include "rl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct rl_conf {
    const char *path;     /* database file */
    int64_t limit;        /* requests per client per UTC day */
    int64_t busy_ms;      /* busy_timeout */
    int64_t keep_days;    /* days of counters kept, today included */
    const char *sync;     /* synchronous: off | normal | full */
    int64_t checkpoint_ms; /* background checkpoint period; 0: SQLite's */
    int64_t reserve;      /* most requests counted ahead for a client */
} rl_conf;

static const char *const sync_values[] = {"off", "normal", "full", NULL};

static const s2r_option rl_options[] = {
    {"path", S2R_OPT_STRING, S2R_OPT_F_REQUIRED, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(rl_conf, path),
     "SQLite database file holding the counters (created if missing); "
     "several servers may share it."},
    {"limit", S2R_OPT_INT, 0, "100", 0, INT64_C(1000000000000), NULL,
     S2R_OPT_OFFSET(rl_conf, limit),
     "Requests allowed per client (IP address or principal) per UTC day; "
     "0 refuses every request."},
    {"busy_timeout", S2R_OPT_DURATION, 0, "5s", 0, 600000, NULL,
     S2R_OPT_OFFSET(rl_conf, busy_ms),
     "How long a check waits for the database lock held by another "
     "process before the request is refused."},
    {"keep_days", S2R_OPT_INT, 0, "2", 1, 3650, NULL,
     S2R_OPT_OFFSET(rl_conf, keep_days),
     "Days of counters kept (today included); older rows are deleted."},
    {"synchronous", S2R_OPT_ENUM, 0, "normal", 0, 0, sync_values,
     S2R_OPT_OFFSET(rl_conf, sync),
     "SQLite synchronous mode of the WAL journal: off, normal (the last "
     "counts may be lost in a power failure, never corrupted) or full."},
    {"checkpoint_interval", S2R_OPT_DURATION, 0, "500ms", 0, 3600000, NULL,
     S2R_OPT_OFFSET(rl_conf, checkpoint_ms),
     "Period of the background WAL checkpoint; 0 lets SQLite checkpoint "
     "inside requests."},
    {"reserve", S2R_OPT_INT, 0, "256", 1, 100000, NULL,
     S2R_OPT_OFFSET(rl_conf, reserve),
     "Most requests counted at once for a client with ample quota left "
     "(at most 1/64 of what is left); the unused ones are given back "
     "after a second of idleness. 1: one transaction per request."},
    S2R_OPTION_END};

#define SQL_SCHEMA                                                        \
    "CREATE TABLE IF NOT EXISTS s2r_ratelimit ("                          \
    " client TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL,"\
    " PRIMARY KEY (client, day)) WITHOUT ROWID"
#define SQL_COUNT \
    "SELECT count FROM s2r_ratelimit WHERE client = ?1 AND day = ?2"
#define SQL_SET                                                           \
    "INSERT INTO s2r_ratelimit (client, day, count) VALUES (?1, ?2, ?3)"  \
    " ON CONFLICT (client, day) DO UPDATE SET count = excluded.count"
#define SQL_GIVE                                                          \
    "UPDATE s2r_ratelimit SET count = count - ?3"                         \
    " WHERE client = ?1 AND day = ?2 AND count >= ?3"
#define SQL_PRUNE "DELETE FROM s2r_ratelimit WHERE day < ?1"

/* Busy handler: short sleeps (50 us growing to 2 ms) until busy_timeout;
 * SQLite's own would sleep up to 100 ms at a time. Called with the
 * instance mutex held. */
static int rl_busy(void *payload, int n)
{
    rl *r = payload;
    int64_t now = r->host->monotonic_ms();
    if (n == 0)
        r->busy_start_ms = now;
    if (now - r->busy_start_ms >= r->busy_ms)
        return 0;
    long us = 50L * (n + 1);
    if (us > 2000)
        us = 2000;
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int rl_sql_error(rl *r, s2r_error *err, int code, const char *what)
{
    return r->host->error_set(r->ctx, err, code, "%s: %s", what,
                              sqlite3_errmsg(r->db));
}

static void rl_close(rl *r)
{
    sqlite3_stmt *all[] = {r->begin, r->commit, r->rollback, r->count,
                           r->set,   r->give,   r->prune};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(r->db);
    r->db = NULL;
}

/* Run one statement without results. */
static int rl_exec(rl *r, const char *sql)
{
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

/* Free the instance (threads stopped, statements finalized). */
static void rl_free(rl *r)
{
    rl_reserve_free(r->held);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->bg_lock);
    pthread_cond_destroy(&r->bg_cond);
    pthread_cond_destroy(&r->first_done);
    r->host->free(r);
}

/* Open the request connection: WAL journal, synchronous mode, schema.
 * Returns S2R_OK or a status with @p err filled. */
static int rl_open(rl *r, const rl_conf *c, s2r_error *err)
{
    /* our mutex serializes use of the connection: no SQLite mutex */
    if (sqlite3_open_v2(c->path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                  "path: %s: %s", c->path,
                                  r->db ? sqlite3_errmsg(r->db)
                                        : "out of memory");
    sqlite3_busy_handler(r->db, rl_busy, r);
    sqlite3_stmt *jm = NULL;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode = WAL", -1, &jm,
                           NULL) != SQLITE_OK ||
        sqlite3_step(jm) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(jm, 0), "wal") != 0) {
        sqlite3_finalize(jm);
        return r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                  "path: %s: cannot use the WAL journal: %s",
                                  c->path, sqlite3_errmsg(r->db));
    }
    sqlite3_finalize(jm);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
             c->sync ? c->sync : "normal");
    if (rl_exec(r, sql) != SQLITE_OK)
        return rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
    snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d",
             RL_JOURNAL_SIZE_LIMIT);
    if (rl_exec(r, sql) != SQLITE_OK ||
        rl_exec(r, "BEGIN IMMEDIATE") != SQLITE_OK)
        return rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
    if (rl_exec(r, SQL_SCHEMA) != SQLITE_OK ||
        rl_exec(r, "COMMIT") != SQLITE_OK) {
        int rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
        rl_exec(r, "ROLLBACK");
        return rc;
    }
    return S2R_OK;
}

static int rl_prepare(rl *r, const char *path, s2r_error *err)
{
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } stmts[] = {{&r->begin, "BEGIN IMMEDIATE"}, {&r->commit, "COMMIT"},
                 {&r->rollback, "ROLLBACK"},     {&r->count, SQL_COUNT},
                 {&r->set, SQL_SET},             {&r->give, SQL_GIVE},
                 {&r->prune, SQL_PRUNE}};
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
        if (sqlite3_prepare_v3(r->db, stmts[i].sql, -1,
                               SQLITE_PREPARE_PERSISTENT, stmts[i].st,
                               NULL) != SQLITE_OK)
            return rl_sql_error(r, err, S2R_EUPSTREAM, path);
    return S2R_OK;
}

static int rl_create(void **out, const s2r_host *host,
                     const s2r_instance_ctx *ctx, const void *config,
                     s2r_error *err)
{
    const rl_conf *c = config;
    rl *r = host->alloc(sizeof(*r));
    if (!r)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    memset(r, 0, sizeof(*r));
    r->host = host;
    r->ctx = ctx;
    r->limit = c->limit;
    r->busy_ms = c->busy_ms;
    r->keep_days = c->keep_days;
    r->reserve = c->reserve > 0 ? c->reserve : 1;
    r->pruned_day = -1;
    r->bg_ms = c->checkpoint_ms > 0 ? c->checkpoint_ms : 500;
    if (pthread_mutex_init(&r->lock, NULL) != 0 ||
        pthread_mutex_init(&r->bg_lock, NULL) != 0 ||
        pthread_cond_init(&r->bg_cond, NULL) != 0 ||
        pthread_cond_init(&r->first_done, NULL) != 0) {
        host->free(r);
        return host->error_set(ctx, err, S2R_ERROR, "mutex init failed");
    }
    int rc = S2R_OK;
    if (r->reserve > 1 && !(r->held = rl_reserve_new()))
        rc = host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    if (rc == S2R_OK)
        rc = rl_open(r, c, err);
    if (rc == S2R_OK)
        rc = rl_prepare(r, c->path, err);
    /* checkpoints move to the background thread */
    if (rc == S2R_OK && c->checkpoint_ms > 0 &&
        rl_exec(r, "PRAGMA wal_autocheckpoint = 0") != SQLITE_OK)
        rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
    if (rc == S2R_OK)
        rc = rl_bg_start(r, c->checkpoint_ms > 0 ? c->path : NULL, err);
    if (rc != S2R_OK) {
        rl_bg_stop(r);
        rl_close(r);
        rl_free(r);
        return rc;
    }
    *out = r;
    return S2R_OK;
}

static void rl_destroy(void *instance)
{
    rl *r = instance;
    if (!r)
        return;
    rl_bg_stop(r);
    pthread_mutex_lock(&r->lock);
    rl_give_back_all(r);
    pthread_mutex_unlock(&r->lock);
    rl_close(r);
    rl_free(r);
}

/* Step a statement without results to its end and reset it. */
static int rl_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* How many requests to count for a client at @p count of the limit: one,
 * or a reservation when much is left. */
static int64_t rl_grant(const rl *r, const char *key, int64_t count)
{
    int64_t left = r->limit - count;
    int64_t g = left / 64;
    if (!r->held || strlen(key) > RL_KEY_MAX || g < 1)
        return 1;
    return g < r->reserve ? g : r->reserve;
}

/* The body of one check, inside BEGIN IMMEDIATE: the count, and when
 * below the limit, the count raised by the grant (*@p granted_out).
 * Returns SQLITE_OK or an SQLite error code. */
static int rl_count(rl *r, const char *key, int64_t day, int64_t *count_out,
                    int64_t *granted_out)
{
    int rc;
    if (day != r->pruned_day) {
        sqlite3_bind_int64(r->prune, 1, day - r->keep_days + 1);
        if ((rc = rl_step_done(r->prune)) != SQLITE_OK)
            return rc;
        r->pruned_day = day;
    }
    sqlite3_bind_text(r->count, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->count, 2, day);
    rc = sqlite3_step(r->count);
    int64_t count = rc == SQLITE_ROW ? sqlite3_column_int64(r->count, 0) : 0;
    sqlite3_reset(r->count);
    sqlite3_clear_bindings(r->count);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    *count_out = count;
    *granted_out = 0;
    if (count >= r->limit)
        return SQLITE_OK; /* at the limit: nothing written */
    int64_t g = rl_grant(r, key, count);
    sqlite3_bind_text(r->set, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->set, 2, day);
    sqlite3_bind_int64(r->set, 3, count + g);
    rc = rl_step_done(r->set);
    sqlite3_clear_bindings(r->set);
    if (rc == SQLITE_OK) {
        *count_out = count + g;
        *granted_out = g;
    }
    return rc;
}

/* One transaction: BEGIN IMMEDIATE, rl_count, COMMIT. With r->lock. */
static int rl_transaction(rl *r, const char *key, int64_t day,
                          int64_t *count, int64_t *granted, s2r_error *err)
{
    int src = rl_step_done(r->begin);
    if (src != SQLITE_OK)
        return src == SQLITE_BUSY
                   ? r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                        "database locked by another process "
                                        "for more than %lld ms",
                                        (long long)r->busy_ms)
                   : rl_sql_error(r, err, S2R_EUPSTREAM, "BEGIN");
    src = rl_count(r, key, day, count, granted);
    if (src == SQLITE_OK)
        src = rl_step_done(r->commit);
    if (src != SQLITE_OK) {
        int rc = rl_sql_error(r, err, S2R_EUPSTREAM, "rate limit update");
        if (!sqlite3_get_autocommit(r->db))
            rl_step_done(r->rollback);
        r->pruned_day = -1; /* the prune may have been rolled back */
        return rc;
    }
    return S2R_OK;
}

static int rl_check(void *instance, const char *client_key,
                    int64_t now_unix_s, s2r_ratelimit_result *out,
                    s2r_error *err)
{
    rl *r = instance;
    int64_t day = now_unix_s / 86400;
    int64_t retry = (day + 1) * 86400 - now_unix_s;
    int64_t used = 0, granted = 0;
    if (!client_key || !*client_key)
        client_key = "unknown";
    if (r->limit > 0) {
        int64_t now_ms = r->host->monotonic_ms();
        rl_held h;
        rl_bg_let_first(r);
        pthread_mutex_lock(&r->lock);
        if (r->held && rl_reserve_take(r->held, client_key, day, now_ms, &h)) {
            used = h.db_count - h.unused;
            granted = 1;
        } else {
            int rc = rl_transaction(r, client_key, day, &used, &granted, err);
            if (rc != S2R_OK) {
                pthread_mutex_unlock(&r->lock);
                return rc;
            }
            rl_held keep = {day, used, granted - 1, now_ms};
            if (granted > 1 && rl_reserve_put(r->held, client_key, &keep) != 0)
                rl_give_back(r, client_key, day, granted - 1);
            if (granted > 1)
                used -= granted - 1; /* counted ahead, not used */
        }
        pthread_mutex_unlock(&r->lock);
    }
    if (out) {
        out->allowed = granted > 0;
        out->limit = r->limit;
        out->remaining = r->limit - used > 0 ? r->limit - used : 0;
        out->retry_after_s = granted > 0 ? 0 : retry;
    }
    return S2R_OK;
}

static const s2r_ratelimit_ops rl_ops = {
    .struct_size = sizeof(s2r_ratelimit_ops),
    .check = rl_check,
};

static const s2r_plugin rl_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_RATELIMIT,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "ratelimit-sqlite",
    .version = "1.1.0",
    .description = "Requests per client per UTC day, counted in a SQLite "
                   "file shared by threads and processes.",
    .options = rl_options,
    .config_size = sizeof(rl_conf),
    .create = rl_create,
    .destroy = rl_destroy,
    .ops = &rl_ops,
};

S2R_PLUGIN_DECLARE(rl_plugin)
