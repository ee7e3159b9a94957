/* auth_hmac_replay.c: see auth_hmac_replay.h. */
#include "auth_hmac_replay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint8_t sig[32];
    int64_t expires; /* 0: empty slot */
} slot;

struct auth_hmac_replay {
    pthread_mutex_t lock;
    slot *v;
    size_t cap;  /* power of two */
    size_t used; /* non-empty slots, expired ones included */
    size_t max_entries;
    int64_t full_at; /* second of the last rebuild that found it full */
};

#define MIN_CAP ((size_t)1024)

static size_t hash_of(const uint8_t sig[32])
{
    /* the key is an HMAC output: its bytes are already uniform */
    uint64_t h;
    memcpy(&h, sig, sizeof(h));
    return (size_t)h;
}

auth_hmac_replay *auth_hmac_replay_new(size_t max_entries)
{
    auth_hmac_replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cap = MIN_CAP;
    r->v = calloc(r->cap, sizeof(slot));
    if (!r->v || pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r->v);
        free(r);
        return NULL;
    }
    r->max_entries = max_entries ? max_entries : 1;
    return r;
}

void auth_hmac_replay_free(auth_hmac_replay *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->v);
    free(r);
}

/* Put @p s into table @p v of @p cap slots (no duplicate check). */
static void place(slot *v, size_t cap, const slot *s)
{
    size_t i = hash_of(s->sig) & (cap - 1);
    while (v[i].expires != 0)
        i = (i + 1) & (cap - 1);
    v[i] = *s;
}

/* Drop expired entries and size the table for the live ones plus room to
 * grow. Returns 0 or -1 (out of memory: the old table stays). */
static int rebuild(auth_hmac_replay *r, int64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < r->cap; i++)
        if (r->v[i].expires > now)
            live++;
    size_t cap = MIN_CAP;
    while (cap < 2 * (live + 1))
        cap *= 2;
    slot *nv = calloc(cap, sizeof(slot));
    if (!nv)
        return -1;
    for (size_t i = 0; i < r->cap; i++)
        if (r->v[i].expires > now)
            place(nv, cap, &r->v[i]);
    free(r->v);
    r->v = nv;
    r->cap = cap;
    r->used = live;
    return 0;
}

int auth_hmac_replay_insert(auth_hmac_replay *r, const uint8_t sig[32],
                            int64_t expires_unix_s, int64_t now_unix_s)
{
    int rc = AUTH_HMAC_REPLAY_NEW;
    pthread_mutex_lock(&r->lock);
    size_t i = hash_of(sig) & (r->cap - 1);
    for (;;) {
        slot *s = &r->v[i];
        if (s->expires == 0)
            break;
        if (memcmp(s->sig, sig, 32) == 0) {
            if (s->expires > now_unix_s) {
                rc = AUTH_HMAC_REPLAY_SEEN;
            } else {
                s->expires = expires_unix_s; /* re-arm the old slot */
            }
            pthread_mutex_unlock(&r->lock);
            return rc;
        }
        i = (i + 1) & (r->cap - 1);
    }
    if (r->used + 1 > r->cap / 4 * 3) {
        if (rebuild(r, now_unix_s) != 0) {
            pthread_mutex_unlock(&r->lock);
            return AUTH_HMAC_REPLAY_NOMEM;
        }
    }
    if (r->used >= r->max_entries) {
        /* used counts expired slots too: look closer before refusing, at
         * most once a second (a rebuild walks the whole table) */
        if (r->full_at == now_unix_s) {
            pthread_mutex_unlock(&r->lock);
            return AUTH_HMAC_REPLAY_FULL;
        }
        if (rebuild(r, now_unix_s) != 0) {
            pthread_mutex_unlock(&r->lock);
            return AUTH_HMAC_REPLAY_NOMEM;
        }
        if (r->used >= r->max_entries) {
            r->full_at = now_unix_s;
            pthread_mutex_unlock(&r->lock);
            return AUTH_HMAC_REPLAY_FULL;
        }
    }
    slot s;
    memcpy(s.sig, sig, 32);
    s.expires = expires_unix_s > 0 ? expires_unix_s : 1;
    place(r->v, r->cap, &s);
    r->used++;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

size_t auth_hmac_replay_live(auth_hmac_replay *r, int64_t now_unix_s)
{
    size_t live = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++)
        if (r->v[i].expires > now_unix_s)
            live++;
    pthread_mutex_unlock(&r->lock);
    return live;
}
