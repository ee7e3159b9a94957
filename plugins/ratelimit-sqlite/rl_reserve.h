/* rl_reserve.h: counts a ratelimit-sqlite instance has taken from the
 * database ahead of use (private to the plugin).
 *
 * A client with ample quota left is counted in the database several
 * requests at a time (at most the instance's reserve, at most 1/64 of
 * what is left), so that its next requests pass without a transaction.
 * Every process sharing the file sees the whole reservation as used: no
 * more than `limit` requests pass, together. What a process does not use
 * is given back (subtracted again) once the client has been idle for a
 * second, at the next UTC day, and when the instance is destroyed; a
 * process that dies keeps it counted.
 *
 * This map holds, per client key, the day of the reservation, the count
 * in the database after it was taken, and the requests still unused.
 * Not thread-safe: the instance's mutex guards it.
 */
#ifndef S2R_RL_RESERVE_H
#define S2R_RL_RESERVE_H

#include <stddef.h>
#include <stdint.h>

#define RL_HIDDEN __attribute__((visibility("hidden")))

/** Longest client key kept (longer keys are never reserved for). */
#define RL_KEY_MAX 80

typedef struct rl_reserve rl_reserve;

/** One reservation (values only; the key is the map's). */
typedef struct rl_held {
    int64_t day;      /**< UTC day, floor(unix_s / 86400) */
    int64_t db_count; /**< the client's count in the database after it */
    int64_t unused;   /**< requests still to hand out */
    int64_t last_ms;  /**< monotonic time of the last use */
} rl_held;

/** @return an empty map, or NULL when out of memory. */
RL_HIDDEN rl_reserve *rl_reserve_new(void);
RL_HIDDEN void rl_reserve_free(rl_reserve *m);

/**
 * Take one request from @p key's reservation for @p day.
 * @return 1 (taken: *@p out is the reservation after it), or 0 (none for
 *         that day, or used up).
 */
RL_HIDDEN int rl_reserve_take(rl_reserve *m, const char *key, int64_t day,
                              int64_t now_ms, rl_held *out);

/**
 * Remember a reservation of @p unused requests (> 0) for @p key.
 * Replaces the key's previous one, which must have been used up.
 * @return 0, or -1 (key too long, out of memory: the caller gives the
 *         requests back at once).
 */
RL_HIDDEN int rl_reserve_put(rl_reserve *m, const char *key,
                             const rl_held *held);

/**
 * Remove one reservation that is idle since @p idle_before_ms or not
 * for @p today (or any, when @p all), copying its key (RL_KEY_MAX + 1
 * bytes) and values out, to give back.
 * @return 1 (one removed), 0 (none left to give back).
 */
RL_HIDDEN int rl_reserve_pop_stale(rl_reserve *m, int64_t today,
                                   int64_t idle_before_ms, int all,
                                   char *key_out, rl_held *out);

/** Reservations held now. */
RL_HIDDEN size_t rl_reserve_count(const rl_reserve *m);

#endif
