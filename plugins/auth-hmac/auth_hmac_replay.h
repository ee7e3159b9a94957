/* auth_hmac_replay.h: the replay cache of auth-hmac (private to the
 * plugin).
 *
 * The set of signatures accepted inside their time window, shared by
 * every worker thread of the process (one mutex). Each entry is the first
 * 16 bytes of a 32-byte HMAC-SHA256 (two different signatures share them
 * with probability 2^-128 per pair: a false "replayed" is out of reach)
 * and the Unix second after which it is forgotten: once its timestamp has
 * left the window, the timestamp check refuses it anyway. Entries are
 * 20 bytes.
 *
 * Expiry is by time and incremental: every insertion also looks at the
 * next few slots of the table and removes the expired entries there, so
 * the table holds the live entries and at most a quarter of its slots in
 * expired ones. Resizing is incremental too: a table that grows (its size
 * doubles) or shrinks hands its entries to the new one a few dozen slots
 * per insertion, both answering lookups meanwhile, so no request waits
 * for a walk over a whole table (a table of millions of entries took
 * tens of milliseconds, with every worker thread waiting on the lock),
 * except at the memory cap (below), at most once a second.
 *
 * Memory is capped (max_bytes, the tables counted, the old and the new
 * one while it grows): at the cap the table fills up to 7/8 of its
 * slots, and then a new signature is refused (AUTH_HMAC_REPLAY_FULL: the
 * plugin answers 503) until entries expire. A signature is never
 * accepted without being checked and remembered.
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
#define AUTH_HMAC_REPLAY_FULL 2    /**< at the memory (or count) cap */
#define AUTH_HMAC_REPLAY_NOMEM 3   /**< out of memory: refused */

/** Bytes of one table slot. */
#define AUTH_HMAC_REPLAY_SLOT_BYTES 20

/**
 * New empty cache using at most @p max_bytes for its tables (at least
 * 64 KiB are needed) and, when @p max_entries is not 0, holding at most
 * that many unexpired signatures.
 * @return NULL when out of memory or @p max_bytes is too small.
 */
AUTH_HMAC_HIDDEN auth_hmac_replay *auth_hmac_replay_new(size_t max_bytes,
                                                        size_t max_entries);
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

/**
 * Forget @p sig (a signature auth_hmac_replay_insert() took as new),
 * so that it is new again. Thread-safe.
 * @return 1 when it was remembered, else 0.
 */
AUTH_HMAC_HIDDEN int auth_hmac_replay_remove(auth_hmac_replay *r,
                                             const uint8_t sig[32]);

/** Number of live (unexpired at @p now_unix_s) entries. Thread-safe;
 *  walks the table (tests and diagnostics only). */
AUTH_HMAC_HIDDEN size_t auth_hmac_replay_live(auth_hmac_replay *r,
                                              int64_t now_unix_s);

/** Bytes the cache's tables use now (both while a resize is under way).
 *  Thread-safe. */
AUTH_HMAC_HIDDEN size_t auth_hmac_replay_bytes(auth_hmac_replay *r);

#endif
