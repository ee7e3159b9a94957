/* auth_hmac_replay.h: the replay cache of auth-hmac (private to the
 * plugin).
 *
 * A set of signatures accepted inside their time window, shared by every
 * worker thread of the process (one mutex). Each entry is a 32-byte HMAC
 * with the Unix time (seconds) after which it is forgotten: once its
 * timestamp has left the window the timestamp check refuses it anyway.
 *
 * The table is open-addressed with linear probing; expired entries are
 * dropped when the table is rebuilt (when 3/4 of the slots are used), so
 * lookups stay short and memory stays proportional to the live entries:
 * about 80 bytes per signature accepted in the last 2 windows.
 */
#ifndef S2R_AUTH_HMAC_REPLAY_H
#define S2R_AUTH_HMAC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_HMAC_HIDDEN __attribute__((visibility("hidden")))

typedef struct auth_hmac_replay auth_hmac_replay;

/** Results of auth_hmac_replay_insert(). */
#define AUTH_HMAC_REPLAY_NEW 0     /**< first time seen: now remembered */
#define AUTH_HMAC_REPLAY_SEEN 1    /**< already accepted and not expired */
#define AUTH_HMAC_REPLAY_FULL 2    /**< max_entries live entries: refused */
#define AUTH_HMAC_REPLAY_NOMEM 3   /**< out of memory: refused */

/** New empty cache holding at most @p max_entries live signatures.
 *  @return NULL when out of memory. */
AUTH_HMAC_HIDDEN auth_hmac_replay *auth_hmac_replay_new(size_t max_entries);
/** Free the cache; NULL is fine. */
AUTH_HMAC_HIDDEN void auth_hmac_replay_free(auth_hmac_replay *r);

/**
 * Remember @p sig until @p expires_unix_s unless it is already there.
 * @p now_unix_s decides which entries are expired. Thread-safe.
 * @return one of AUTH_HMAC_REPLAY_*.
 */
AUTH_HMAC_HIDDEN int auth_hmac_replay_insert(auth_hmac_replay *r,
                                             const uint8_t sig[32],
                                             int64_t expires_unix_s,
                                             int64_t now_unix_s);

/** Number of live (unexpired at @p now_unix_s) entries. Thread-safe. */
AUTH_HMAC_HIDDEN size_t auth_hmac_replay_live(auth_hmac_replay *r,
                                              int64_t now_unix_s);

#endif
