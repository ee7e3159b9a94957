/* rl.h: the ratelimit-sqlite instance, shared by its files (private to
 * the plugin; see ratelimit_sqlite.c for the model).
 *
 * Threads: request threads call rl_check() (ratelimit_sqlite.c), which
 * holds `lock` while it uses `db` and `held`. The background thread
 * (rl_background.c) checkpoints the write-ahead log on its own
 * connection and gives unused reservations back through `db`, taking
 * `lock` for that. Lock order: `lock`, then `bg_lock`.
 */
#ifndef S2R_RL_H
#define S2R_RL_H

#include <s2r/plugin.h>

#include <pthread.h>
#include <sqlite3.h>

#include "rl_reserve.h"

/* A checkpoint that starts the log over is due once the log holds this
 * many frames (pages): 2 MiB with 4 KiB pages. The background thread
 * runs it; should the log reach RL_CKPT_FRAMES_MAX first (the thread is
 * busy or not scheduled), the write that gets there runs it itself, as
 * SQLite's automatic checkpoint would (at 1000 frames). */
#define RL_CKPT_FRAMES 512
#define RL_CKPT_FRAMES_MAX 1000

/* The log file is cut back to this size when it restarts. */
#define RL_JOURNAL_SIZE_LIMIT (4 * 1024 * 1024)

/* A reservation idle this long is given back. */
#define RL_IDLE_GIVE_BACK_MS 1000

typedef struct rl {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    pthread_mutex_t lock;     /* one check at a time on the connection */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *count, *set, *give, *prune;
    int64_t limit;
    int64_t busy_ms;
    int64_t keep_days;
    int64_t reserve;          /* most requests counted ahead at once */
    int64_t pruned_day;       /* last day the prune ran */
    int64_t busy_start_ms;    /* monotonic start of the current wait */
    rl_reserve *held;         /* reservations; NULL when reserve <= 1 */
    /* background thread: checkpoints and give-backs */
    sqlite3 *ckpt_db;         /* its own connection; NULL: SQLite's */
    pthread_t bg_thread;
    int32_t bg_running;
    int32_t bg_stop;          /* guarded by bg_lock */
    int32_t ckpt_wanted;      /* atomic: the log passed RL_CKPT_FRAMES */
    int32_t ckpt_first;       /* atomic, set under bg_lock: the checkpoint
                                 takes `lock` next; checks wait */
    int64_t bg_ms;            /* period */
    pthread_mutex_t bg_lock;
    pthread_cond_t bg_cond;
    pthread_cond_t first_done; /* ckpt_first went back to 0 */
} rl;

/**
 * Start the background thread: every @p period_ms (and whenever the log
 * passes RL_CKPT_FRAMES) it checkpoints, when @p path is not NULL, on a
 * connection of its own, and gives back idle reservations.
 * @return S2R_OK or an error status with @p err filled.
 */
RL_HIDDEN int rl_bg_start(rl *r, const char *path, s2r_error *err);
/** Wait while the checkpoint goes first (before taking r->lock): the
 *  instance's mutex is not fair, and writers that take it back to back
 *  would keep the checkpoint out. */
RL_HIDDEN void rl_bg_let_first(rl *r);

/** Stop and join the thread, close its connection. */
RL_HIDDEN void rl_bg_stop(rl *r);

/**
 * Give back @p unused requests of @p key's reservation for @p day.
 * Called with r->lock held. Failures are logged (the requests stay
 * counted).
 */
RL_HIDDEN void rl_give_back(rl *r, const char *key, int64_t day,
                            int64_t unused);

/** Give back every reservation (r->lock held), e.g. before closing. */
RL_HIDDEN void rl_give_back_all(rl *r);

#endif
