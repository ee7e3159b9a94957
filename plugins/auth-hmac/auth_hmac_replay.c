/* auth_hmac_replay.c: see auth_hmac_replay.h. */
#include "auth_hmac_replay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* 16 bytes of the signature and the second it expires (0: empty). */
typedef struct slot {
    uint32_t k[4];
    uint32_t expires;
} slot;

_Static_assert(sizeof(slot) == AUTH_HMAC_REPLAY_SLOT_BYTES, "slot size");

/* The table the entries are moving out of after a resize: slots below
 * @c moved are gone (to the new table) but stay as they were, so that
 * the probe sequences through them still hold; an entry is in exactly one
 * of the two tables. */
typedef struct old_table {
    slot *v;      /* NULL: no resize under way */
    size_t cap;   /* power of two */
    size_t moved; /* slots [0, moved) are done */
    size_t left;  /* non-empty slots at or after moved */
} old_table;

struct auth_hmac_replay {
    pthread_mutex_t lock;
    slot *v;
    size_t cap;    /* power of two */
    size_t used;   /* non-empty slots, expired ones included */
    size_t cursor; /* where the incremental sweep goes on */
    old_table old;
    slot *retired; /* an old table all moved on: freed after the unlock */
    size_t max_bytes;
    size_t max_entries; /* 0: no cap on the count */
    int64_t purged_at;  /* second of the last whole-table purge */
};

#define MIN_CAP ((size_t)1024)
#define SWEEP_STEPS 4 /* slots looked at per insertion */
/* Slots of the old table looked at per insertion while a resize is under
 * way. A new table starts at most half full (its entries and those still
 * to move), so a quarter of its slots are taken before it must grow; the
 * old one has at most 8 times its slots (a table shrinks by 8 at most):
 * the move ends after an eighth of them. */
#define MOVE_STEPS 64

static size_t hash_of(const uint32_t k[4])
{
    /* the key is an HMAC output: its bits are already uniform */
    uint64_t h;
    memcpy(&h, k, sizeof(h));
    return (size_t)h;
}

/* The lock is held for a probe of a few slots: a thread that finds it
 * taken spins a little before it sleeps (glibc's adaptive mutex), since
 * sleeping and being woken costs far more than the wait, and on a busy
 * machine the woken thread may wait milliseconds for a core. */
static int lock_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0)
        return -1;
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    (void)pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

auth_hmac_replay *auth_hmac_replay_new(size_t max_bytes, size_t max_entries)
{
    if (max_bytes < 64 * 1024)
        return NULL;
    auth_hmac_replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cap = MIN_CAP;
    r->v = calloc(r->cap, sizeof(slot));
    if (!r->v || lock_init(&r->lock) != 0) {
        free(r->v);
        free(r);
        return NULL;
    }
    r->max_bytes = max_bytes;
    r->max_entries = max_entries;
    r->purged_at = -1;
    return r;
}

void auth_hmac_replay_free(auth_hmac_replay *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->old.v);
    free(r->retired);
    free(r->v);
    free(r);
}

/* Empty slot @p i and shift back the entries that probed past it. */
static void delete_at(auth_hmac_replay *r, size_t i)
{
    size_t mask = r->cap - 1;
    r->v[i].expires = 0;
    for (size_t j = (i + 1) & mask; r->v[j].expires; j = (j + 1) & mask) {
        size_t home = hash_of(r->v[j].k) & mask;
        int between = i <= j ? (home > i && home <= j)
                             : (home > i || home <= j);
        if (!between) {
            r->v[i] = r->v[j];
            r->v[j].expires = 0;
            i = j;
        }
    }
    r->used--;
}

/* Put @p s into table @p v of @p cap slots (no duplicate check). */
static void place(slot *v, size_t cap, const slot *s)
{
    size_t i = hash_of(s->k) & (cap - 1);
    while (v[i].expires != 0)
        i = (i + 1) & (cap - 1);
    v[i] = *s;
}

/* Move up to @p steps slots of the old table on: its live entries into
 * the table, its expired ones nowhere; retire it once all are done (its
 * pages go back to the system, milliseconds for a large table, after the
 * lock is let go: unlock()). */
static void move_on(auth_hmac_replay *r, int64_t now, size_t steps)
{
    old_table *o = &r->old;
    if (!o->v)
        return; /* no resize under way */
    for (; steps && o->moved < o->cap; steps--, o->moved++) {
        const slot *s = &o->v[o->moved];
        if (!s->expires)
            continue;
        o->left--;
        if ((int64_t)s->expires > now) {
            place(r->v, r->cap, s);
            r->used++;
        }
    }
    if (o->moved == o->cap) {
        free(r->retired);
        r->retired = o->v;
        memset(o, 0, sizeof(*o));
    }
}

/* Start moving the entries into a new table of @p cap slots: no entry
 * moves now (move_on() moves them, a few per insertion). Returns 0, or -1
 * (a resize still under way, over max_bytes or out of memory: nothing
 * changes). */
static int resize(auth_hmac_replay *r, size_t cap)
{
    if (r->old.v || (cap + r->cap) * sizeof(slot) > r->max_bytes)
        return -1;
    slot *nv = calloc(cap, sizeof(slot));
    if (!nv)
        return -1;
    r->old = (old_table){.v = r->v, .cap = r->cap, .left = r->used};
    r->v = nv;
    r->cap = cap;
    r->used = 0;
    r->cursor = 0;
    return 0;
}

/* Slots needed for @p live entries at half load. */
static size_t cap_for(size_t live)
{
    size_t cap = MIN_CAP;
    while (cap < 2 * (live + 1))
        cap *= 2;
    return cap;
}

/* Look at the next @p steps slots and drop the expired entries; after a
 * whole round, shrink a table that is mostly empty. */
static void sweep(auth_hmac_replay *r, int64_t now, int steps)
{
    for (int n = 0; n < steps && r->used; n++) {
        slot *s = &r->v[r->cursor];
        if (s->expires && (int64_t)s->expires <= now) {
            delete_at(r, r->cursor); /* the slot may refill: look again */
            continue;
        }
        r->cursor = (r->cursor + 1) & (r->cap - 1);
        if (r->cursor == 0 && r->cap > MIN_CAP && r->used < r->cap / 8) {
            size_t cap = cap_for(r->used);
            resize(r, cap < r->cap / 8 ? r->cap / 8 : cap);
        }
    }
}

/* Drop every expired entry (a walk over the whole table, and the end of
 * a resize under way). */
static void purge(auth_hmac_replay *r, int64_t now)
{
    move_on(r, now, SIZE_MAX);
    for (size_t i = 0; i < r->cap;) {
        if (r->v[i].expires && (int64_t)r->v[i].expires <= now)
            delete_at(r, i); /* the slot may refill: look again */
        else
            i++;
    }
}

/* Room for one more entry: grow when 3/4 full; when the memory cap
 * forbids it, fill up to 7/8, dropping every expired entry first (at most
 * once a second). Returns 0 or AUTH_HMAC_REPLAY_FULL. */
static int make_room(auth_hmac_replay *r, int64_t now)
{
    int counted_out =
        r->max_entries && r->used + r->old.left >= r->max_entries;
    if (!counted_out) {
        if ((r->used + 1) * 4 <= r->cap * 3)
            return 0;
        move_on(r, now, SIZE_MAX); /* over long before, but may not be */
        if (resize(r, cap_for(r->used)) == 0) /* at half load */
            return 0;
        if ((r->used + 1) * 8 <= r->cap * 7)
            return 0;
    }
    if (r->purged_at != now) {
        r->purged_at = now;
        purge(r, now);
    }
    if (r->max_entries && r->used >= r->max_entries)
        return AUTH_HMAC_REPLAY_FULL;
    return (r->used + 1) * 8 <= r->cap * 7 ? 0 : AUTH_HMAC_REPLAY_FULL;
}

/* Let the lock go, then free a table retired meanwhile. */
static void unlock(auth_hmac_replay *r)
{
    slot *retired = r->retired;
    r->retired = NULL;
    pthread_mutex_unlock(&r->lock);
    free(retired);
}

/* The slot holding key @p k, in the table or in the old one; NULL. */
static slot *find(auth_hmac_replay *r, const uint32_t k[4])
{
    size_t mask = r->cap - 1;
    for (size_t i = hash_of(k) & mask; r->v[i].expires; i = (i + 1) & mask)
        if (memcmp(r->v[i].k, k, sizeof(r->v[i].k)) == 0)
            return &r->v[i];
    const old_table *o = &r->old;
    if (!o->v)
        return NULL;
    mask = o->cap - 1;
    for (size_t i = hash_of(k) & mask; o->v[i].expires; i = (i + 1) & mask)
        if (i >= o->moved && memcmp(o->v[i].k, k, sizeof(o->v[i].k)) == 0)
            return &o->v[i];
    return NULL;
}

int auth_hmac_replay_insert(auth_hmac_replay *r, const uint8_t sig[32],
                            int64_t expires_unix_s, int64_t now_unix_s)
{
    slot s;
    memcpy(s.k, sig, sizeof(s.k));
    s.expires = expires_unix_s < 1            ? 1
                : expires_unix_s > UINT32_MAX ? UINT32_MAX
                                              : (uint32_t)expires_unix_s;
    pthread_mutex_lock(&r->lock);
    move_on(r, now_unix_s, MOVE_STEPS);
    sweep(r, now_unix_s, SWEEP_STEPS);
    slot *found = find(r, s.k);
    if (found) {
        int rc = AUTH_HMAC_REPLAY_SEEN;
        if ((int64_t)found->expires <= now_unix_s) {
            found->expires = s.expires; /* re-arm the old slot */
            rc = AUTH_HMAC_REPLAY_NEW;
        }
        unlock(r);
        return rc;
    }
    int rc = make_room(r, now_unix_s);
    if (rc == 0) {
        place(r->v, r->cap, &s);
        r->used++;
    }
    unlock(r);
    return rc;
}

int auth_hmac_replay_remove(auth_hmac_replay *r, const uint8_t sig[32])
{
    uint32_t k[4];
    memcpy(k, sig, sizeof(k));
    pthread_mutex_lock(&r->lock);
    slot *s = find(r, k);
    if (s && s >= r->v && s < r->v + r->cap)
        delete_at(r, (size_t)(s - r->v));
    else if (s)
        s->expires = 1; /* in the old table: expired, so never moved on */
    pthread_mutex_unlock(&r->lock);
    return s != NULL;
}

size_t auth_hmac_replay_live(auth_hmac_replay *r, int64_t now_unix_s)
{
    size_t live = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++)
        if ((int64_t)r->v[i].expires > now_unix_s)
            live++;
    for (size_t i = r->old.moved; i < r->old.cap; i++)
        if ((int64_t)r->old.v[i].expires > now_unix_s)
            live++;
    pthread_mutex_unlock(&r->lock);
    return live;
}

size_t auth_hmac_replay_bytes(auth_hmac_replay *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = (r->cap + r->old.cap) * sizeof(slot);
    pthread_mutex_unlock(&r->lock);
    return n;
}
