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
 * an UPSERT that adds 1 only while count < limit and RETURNs the new count,
 * so "exactly N pass" holds across the threads of one process (one
 * connection behind a mutex) and across processes sharing the file (WAL
 * journal, a busy handler that waits up to busy_timeout for the lock).
 * Rows older than keep_days are deleted in the first check of each new
 * day. A store that fails refuses the request (fail closed: S2R_EUPSTREAM).
 *
 * Checkpoints (copying the WAL into the database file, with its fsync) run
 * on a background thread of the instance every checkpoint_interval, on a
 * connection of their own, in PASSIVE mode, so that no request waits for
 * them; checkpoint_interval = 0 leaves them to SQLite (every 1000 pages,
 * inside a request).
 *
 * The plugin links libsqlite3 (its own dependency); everything else comes
 * from the host table.
 */
#include <s2r/plugin.h>

#include <pthread.h>
#include <sqlite3.h>
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
    S2R_OPTION_END};

typedef struct rl {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    pthread_mutex_t lock;     /* one check at a time on the connection */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *upsert, *count, *prune;
    int64_t limit;
    int64_t busy_ms;
    int64_t keep_days;
    int64_t pruned_day;       /* last day the prune ran */
    int64_t busy_start_ms;    /* monotonic start of the current wait */
    /* background checkpoints */
    sqlite3 *ckpt_db;         /* the checkpointer's own connection */
    pthread_t ckpt_thread;
    int32_t ckpt_running;     /* thread started */
    int32_t ckpt_stop;        /* guarded by ckpt_lock */
    int64_t ckpt_ms;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
} rl;

#define SQL_SCHEMA                                                        \
    "CREATE TABLE IF NOT EXISTS s2r_ratelimit ("                          \
    " client TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL,"\
    " PRIMARY KEY (client, day)) WITHOUT ROWID"
#define SQL_UPSERT                                                        \
    "INSERT INTO s2r_ratelimit (client, day, count) VALUES (?1, ?2, 1)"   \
    " ON CONFLICT (client, day) DO UPDATE SET count = count + 1"          \
    " WHERE count < ?3 RETURNING count"
#define SQL_COUNT \
    "SELECT count FROM s2r_ratelimit WHERE client = ?1 AND day = ?2"
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
    sqlite3_finalize(r->begin);
    sqlite3_finalize(r->commit);
    sqlite3_finalize(r->rollback);
    sqlite3_finalize(r->upsert);
    sqlite3_finalize(r->count);
    sqlite3_finalize(r->prune);
    sqlite3_close(r->db);
}

/* Run one statement without results. */
static int rl_exec(rl *r, const char *sql)
{
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

/* Busy handler of the checkpointer's connection: it never waits long,
 * the next period retries. */
static int rl_ckpt_busy(void *payload, int n)
{
    (void)payload;
    if (n >= 20)
        return 0;
    struct timespec ts = {0, 200 * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static void *rl_checkpointer(void *arg)
{
    rl *r = arg;
    pthread_mutex_lock(&r->ckpt_lock);
    while (!r->ckpt_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += r->ckpt_ms / 1000;
        until.tv_nsec += (long)(r->ckpt_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->ckpt_cond, &r->ckpt_lock, &until);
        if (r->ckpt_stop)
            break;
        pthread_mutex_unlock(&r->ckpt_lock);
        int rc = sqlite3_wal_checkpoint_v2(r->ckpt_db, NULL,
                                           SQLITE_CHECKPOINT_PASSIVE, NULL,
                                           NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            S2R_LOG_W(r->host, r->ctx, "background checkpoint: %s",
                      sqlite3_errmsg(r->ckpt_db));
        pthread_mutex_lock(&r->ckpt_lock);
    }
    pthread_mutex_unlock(&r->ckpt_lock);
    return NULL;
}

/* Start the checkpointer (its own connection). Returns S2R_OK or a status
 * with @p err filled. */
static int rl_start_checkpointer(rl *r, const char *path, s2r_error *err)
{
    if (sqlite3_open_v2(path, &r->ckpt_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                  "path: %s: %s", path,
                                  r->ckpt_db ? sqlite3_errmsg(r->ckpt_db)
                                             : "out of memory");
    sqlite3_busy_handler(r->ckpt_db, rl_ckpt_busy, r);
    if (pthread_create(&r->ckpt_thread, NULL, rl_checkpointer, r) != 0)
        return r->host->error_set(r->ctx, err, S2R_ERROR,
                                  "cannot start the checkpoint thread");
    r->ckpt_running = 1;
    return S2R_OK;
}

static void rl_stop_checkpointer(rl *r)
{
    if (r->ckpt_running) {
        pthread_mutex_lock(&r->ckpt_lock);
        r->ckpt_stop = 1;
        pthread_cond_signal(&r->ckpt_cond);
        pthread_mutex_unlock(&r->ckpt_lock);
        pthread_join(r->ckpt_thread, NULL);
        r->ckpt_running = 0;
    }
    sqlite3_close(r->ckpt_db);
    r->ckpt_db = NULL;
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
    r->pruned_day = -1;
    r->ckpt_ms = c->checkpoint_ms;
    int rc = S2R_OK;
    if (pthread_mutex_init(&r->lock, NULL) != 0 ||
        pthread_mutex_init(&r->ckpt_lock, NULL) != 0 ||
        pthread_cond_init(&r->ckpt_cond, NULL) != 0) {
        host->free(r);
        return host->error_set(ctx, err, S2R_ERROR, "mutex init failed");
    }
    /* our mutex serializes use of the connection: no SQLite mutex */
    if (sqlite3_open_v2(c->path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = host->error_set(ctx, err, S2R_EUPSTREAM, "path: %s: %s",
                             c->path,
                             r->db ? sqlite3_errmsg(r->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_handler(r->db, rl_busy, r);
    char sync_sql[64];
    snprintf(sync_sql, sizeof(sync_sql), "PRAGMA synchronous = %s",
             c->sync ? c->sync : "normal");
    sqlite3_stmt *jm = NULL;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode = WAL", -1, &jm,
                           NULL) != SQLITE_OK ||
        sqlite3_step(jm) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(jm, 0), "wal") != 0) {
        sqlite3_finalize(jm);
        rc = host->error_set(ctx, err, S2R_EUPSTREAM,
                             "path: %s: cannot use the WAL journal: %s",
                             c->path, sqlite3_errmsg(r->db));
        goto fail;
    }
    sqlite3_finalize(jm);
    if (rl_exec(r, sync_sql) != SQLITE_OK ||
        rl_exec(r, "PRAGMA journal_size_limit = 67108864") != SQLITE_OK ||
        rl_exec(r, "BEGIN IMMEDIATE") != SQLITE_OK) {
        rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
        goto fail;
    }
    if (rl_exec(r, SQL_SCHEMA) != SQLITE_OK) {
        rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
        rl_exec(r, "ROLLBACK");
        goto fail;
    }
    if (rl_exec(r, "COMMIT") != SQLITE_OK) {
        rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
        rl_exec(r, "ROLLBACK");
        goto fail;
    }
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } stmts[] = {{&r->begin, "BEGIN IMMEDIATE"}, {&r->commit, "COMMIT"},
                 {&r->rollback, "ROLLBACK"},     {&r->upsert, SQL_UPSERT},
                 {&r->count, SQL_COUNT},         {&r->prune, SQL_PRUNE}};
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        if (sqlite3_prepare_v3(r->db, stmts[i].sql, -1,
                               SQLITE_PREPARE_PERSISTENT, stmts[i].st,
                               NULL) != SQLITE_OK) {
            rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
            goto fail;
        }
    }
    if (r->ckpt_ms > 0) {
        /* checkpoints move to the background thread */
        if (rl_exec(r, "PRAGMA wal_autocheckpoint = 0") != SQLITE_OK) {
            rc = rl_sql_error(r, err, S2R_EUPSTREAM, c->path);
            goto fail;
        }
        if ((rc = rl_start_checkpointer(r, c->path, err)) != S2R_OK)
            goto fail;
    }
    *out = r;
    return S2R_OK;
fail:
    rl_stop_checkpointer(r);
    rl_close(r);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->ckpt_lock);
    pthread_cond_destroy(&r->ckpt_cond);
    host->free(r);
    return rc;
}

static void rl_destroy(void *instance)
{
    rl *r = instance;
    if (!r)
        return;
    rl_stop_checkpointer(r);
    rl_close(r);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->ckpt_lock);
    pthread_cond_destroy(&r->ckpt_cond);
    r->host->free(r);
}

/* Step a statement without results to its end and reset it. */
static int rl_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The body of one check, inside BEGIN IMMEDIATE. Fills *count_out and
 * *allowed_out. Returns SQLITE_OK or an SQLite error code. */
static int rl_count(rl *r, const char *key, int64_t day, int64_t *count_out,
                    int32_t *allowed_out)
{
    int rc;
    if (day != r->pruned_day) {
        sqlite3_bind_int64(r->prune, 1, day - r->keep_days + 1);
        if ((rc = rl_step_done(r->prune)) != SQLITE_OK)
            return rc;
        r->pruned_day = day;
    }
    sqlite3_bind_text(r->upsert, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->upsert, 2, day);
    sqlite3_bind_int64(r->upsert, 3, r->limit);
    rc = sqlite3_step(r->upsert);
    if (rc == SQLITE_ROW) {
        *count_out = sqlite3_column_int64(r->upsert, 0);
        *allowed_out = 1;
        rc = sqlite3_step(r->upsert); /* RETURNING: run to the end */
    }
    sqlite3_reset(r->upsert);
    sqlite3_clear_bindings(r->upsert);
    if (rc != SQLITE_DONE)
        return rc;
    if (!*allowed_out) {
        /* the row exists and is at the limit */
        sqlite3_bind_text(r->count, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(r->count, 2, day);
        rc = sqlite3_step(r->count);
        *count_out = rc == SQLITE_ROW ? sqlite3_column_int64(r->count, 0)
                                      : r->limit;
        sqlite3_reset(r->count);
        sqlite3_clear_bindings(r->count);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return rc;
    }
    return SQLITE_OK;
}

static int rl_check(void *instance, const char *client_key,
                    int64_t now_unix_s, s2r_ratelimit_result *out,
                    s2r_error *err)
{
    rl *r = instance;
    int64_t day = now_unix_s / 86400;
    int64_t retry = (day + 1) * 86400 - now_unix_s;
    int64_t count = 0;
    int32_t allowed = 0;
    int rc = S2R_OK;
    if (!client_key || !*client_key)
        client_key = "unknown";
    if (r->limit <= 0) {
        count = 0;
        goto decide;
    }
    pthread_mutex_lock(&r->lock);
    int src = rl_step_done(r->begin);
    if (src != SQLITE_OK) {
        rc = src == SQLITE_BUSY
                 ? r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                      "database locked by another process "
                                      "for more than %lld ms",
                                      (long long)r->busy_ms)
                 : rl_sql_error(r, err, S2R_EUPSTREAM, "BEGIN");
        pthread_mutex_unlock(&r->lock);
        return rc;
    }
    src = rl_count(r, client_key, day, &count, &allowed);
    if (src == SQLITE_OK)
        src = rl_step_done(r->commit);
    if (src != SQLITE_OK) {
        rc = rl_sql_error(r, err, S2R_EUPSTREAM, "rate limit update");
        if (!sqlite3_get_autocommit(r->db))
            rl_step_done(r->rollback);
        r->pruned_day = -1; /* the prune may have been rolled back */
        pthread_mutex_unlock(&r->lock);
        return rc;
    }
    pthread_mutex_unlock(&r->lock);
decide:
    if (out) {
        out->allowed = allowed;
        out->limit = r->limit;
        out->remaining = r->limit - count > 0 ? r->limit - count : 0;
        out->retry_after_s = allowed ? 0 : retry;
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
    .version = "1.0.0",
    .description = "Requests per client per UTC day, counted in a SQLite "
                   "file shared by threads and processes.",
    .options = rl_options,
    .config_size = sizeof(rl_conf),
    .create = rl_create,
    .destroy = rl_destroy,
    .ops = &rl_ops,
};

S2R_PLUGIN_DECLARE(rl_plugin)
