/* rl_background.c: the background thread of a ratelimit-sqlite instance:
 * write-ahead log checkpoints and the give-back of idle reservations (see
 * rl.h).
 *
 * Checkpoints copy the log's pages into the database file (with the
 * fsyncs the synchronous mode asks for), so that the log can start over
 * from its beginning. Two things make them work:
 *   - the checkpoint connection reads the database once when it opens:
 *     SQLite 3.40 answers a checkpoint on a connection that has never
 *     read the database with SQLITE_OK and does nothing, so the log grew
 *     by a page per request for ever;
 *   - the log only starts over at a write that begins when it is wholly
 *     copied. Under a steady stream of writes that never happens by
 *     itself (a write is always under way while a checkpoint syncs), so
 *     once the log is past RL_CKPT_FRAMES, a second checkpoint runs while
 *     this process's writers wait on the instance's mutex: it has only
 *     the pages written meanwhile to copy, but its two fsyncs are a pause
 *     for the requests, once every RL_CKPT_FRAMES transactions (rare with
 *     reservations). Writers of other processes may still keep the log
 *     from starting over; the next period tries again.
 */
#include "rl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Busy handler of the checkpoint connection: it never waits long, the
 * next period retries. */
static int ckpt_busy(void *payload, int n)
{
    (void)payload;
    if (n >= 20)
        return 0;
    struct timespec ts = {0, 200 * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

/* One PASSIVE checkpoint; *@p log_out, *@p done_out: frames in the log,
 * frames copied. Returns the SQLite result. */
static int checkpoint(rl *r, int *log_out, int *done_out)
{
    *log_out = *done_out = 0;
    int rc = sqlite3_wal_checkpoint_v2(r->ckpt_db, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, log_out,
                                       done_out);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        S2R_LOG_W(r->host, r->ctx, "background checkpoint: %s",
                  sqlite3_errmsg(r->ckpt_db));
    return rc;
}

/* A checkpoint while this process's writers wait, so that the next write
 * finds the log wholly copied and starts it over. */
static void checkpoint_first(rl *r)
{
    int log = 0, done = 0;
    pthread_mutex_lock(&r->bg_lock);
    __atomic_store_n(&r->ckpt_first, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&r->bg_lock);
    pthread_mutex_lock(&r->lock);
    checkpoint(r, &log, &done);
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_lock(&r->bg_lock);
    __atomic_store_n(&r->ckpt_first, 0, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&r->first_done);
    pthread_mutex_unlock(&r->bg_lock);
}

/* Every period, a checkpoint that lets the writers go on; once the log
 * is past RL_CKPT_FRAMES (the period's checkpoint could not start it
 * over: a write is always under way while it syncs), one that makes
 * them wait. */
static void run_checkpoints(rl *r)
{
    if (__atomic_exchange_n(&r->ckpt_wanted, 0, __ATOMIC_SEQ_CST)) {
        checkpoint_first(r);
        return;
    }
    int log = 0, done = 0;
    if (checkpoint(r, &log, &done) == SQLITE_OK && log >= RL_CKPT_FRAMES)
        checkpoint_first(r);
}

void rl_bg_let_first(rl *r)
{
    if (!__atomic_load_n(&r->ckpt_first, __ATOMIC_SEQ_CST))
        return;
    pthread_mutex_lock(&r->bg_lock);
    while (r->ckpt_first)
        pthread_cond_wait(&r->first_done, &r->bg_lock);
    pthread_mutex_unlock(&r->bg_lock);
}

/* Give back the reservations idle for RL_IDLE_GIVE_BACK_MS or of an
 * earlier day, one per lock. */
static void give_back_idle(rl *r)
{
    int64_t idle_before = r->host->monotonic_ms() - RL_IDLE_GIVE_BACK_MS;
    int64_t today = r->host->now_ms() / 1000 / 86400;
    for (;;) {
        char key[RL_KEY_MAX + 1];
        rl_held h;
        pthread_mutex_lock(&r->lock);
        int got = r->held && rl_reserve_pop_stale(r->held, today, idle_before,
                                                  0, key, &h);
        if (got && h.unused > 0)
            rl_give_back(r, key, h.day, h.unused);
        pthread_mutex_unlock(&r->lock);
        if (!got)
            return;
    }
}

static void *bg_main(void *arg)
{
    rl *r = arg;
    pthread_mutex_lock(&r->bg_lock);
    while (!r->bg_stop) {
        if (!__atomic_load_n(&r->ckpt_wanted, __ATOMIC_SEQ_CST)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += r->bg_ms / 1000;
            until.tv_nsec += (long)(r->bg_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->bg_cond, &r->bg_lock, &until);
        }
        if (r->bg_stop)
            break;
        pthread_mutex_unlock(&r->bg_lock);
        if (r->ckpt_db)
            run_checkpoints(r);
        give_back_idle(r);
        pthread_mutex_lock(&r->bg_lock);
    }
    pthread_mutex_unlock(&r->bg_lock);
    return NULL;
}

/* Called by SQLite after each commit on the request connection, with
 * r->lock held: wake the thread once the log is long; past
 * RL_CKPT_FRAMES_MAX, checkpoint here (no write of this process is under
 * way, so the next one starts the log over). */
static int on_wal_commit(void *payload, sqlite3 *db, const char *name,
                         int frames)
{
    rl *r = payload;
    if (frames >= RL_CKPT_FRAMES_MAX) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
        return SQLITE_OK;
    }
    if (frames >= RL_CKPT_FRAMES &&
        !__atomic_exchange_n(&r->ckpt_wanted, 1, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&r->bg_lock);
        pthread_cond_signal(&r->bg_cond);
        pthread_mutex_unlock(&r->bg_lock);
    }
    return SQLITE_OK;
}

/* Open the checkpoint connection and read the database once, so that
 * SQLite opens the log on it. */
static int open_ckpt(rl *r, const char *path, s2r_error *err)
{
    if (sqlite3_open_v2(path, &r->ckpt_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(r->ckpt_db, "SELECT 1 FROM sqlite_master LIMIT 1",
                     NULL, NULL, NULL) != SQLITE_OK)
        return r->host->error_set(r->ctx, err, S2R_EUPSTREAM,
                                  "path: %s: %s", path,
                                  r->ckpt_db ? sqlite3_errmsg(r->ckpt_db)
                                             : "out of memory");
    sqlite3_busy_handler(r->ckpt_db, ckpt_busy, r);
    sqlite3_wal_hook(r->db, on_wal_commit, r);
    return S2R_OK;
}

int rl_bg_start(rl *r, const char *path, s2r_error *err)
{
    if (path) {
        int rc = open_ckpt(r, path, err);
        if (rc != S2R_OK)
            return rc;
    }
    if (pthread_create(&r->bg_thread, NULL, bg_main, r) != 0)
        return r->host->error_set(r->ctx, err, S2R_ERROR,
                                  "cannot start the background thread");
    r->bg_running = 1;
    return S2R_OK;
}

void rl_bg_stop(rl *r)
{
    if (r->bg_running) {
        pthread_mutex_lock(&r->bg_lock);
        r->bg_stop = 1;
        pthread_cond_signal(&r->bg_cond);
        pthread_mutex_unlock(&r->bg_lock);
        pthread_join(r->bg_thread, NULL);
        r->bg_running = 0;
    }
    if (r->db)
        sqlite3_wal_hook(r->db, NULL, NULL);
    sqlite3_close(r->ckpt_db);
    r->ckpt_db = NULL;
}

void rl_give_back(rl *r, const char *key, int64_t day, int64_t unused)
{
    sqlite3_bind_text(r->give, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->give, 2, day);
    sqlite3_bind_int64(r->give, 3, unused);
    int rc = sqlite3_step(r->give);
    sqlite3_reset(r->give);
    sqlite3_clear_bindings(r->give);
    if (rc != SQLITE_DONE)
        S2R_LOG_W(r->host, r->ctx,
                  "giving back %lld unused requests: %s (they stay "
                  "counted)", (long long)unused, sqlite3_errmsg(r->db));
}

void rl_give_back_all(rl *r)
{
    char key[RL_KEY_MAX + 1];
    rl_held h;
    while (r->held && rl_reserve_pop_stale(r->held, 0, 0, 1, key, &h))
        if (h.unused > 0)
            rl_give_back(r, key, h.day, h.unused);
}
