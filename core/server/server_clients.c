/* server_clients.c: open connections per client address (see
 * server_clients.h). */
#include "server_clients.h"

#include "base/base.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing and backward-shift deletion, so
 * that a table with a stable number of clients never needs a rebuild. */
typedef struct slot {
    s2r_client_key key;
    uint32_t count; /* 0: empty */
} slot;

struct s2r_server_clients {
    pthread_mutex_t lock;
    slot *v;
    size_t cap; /* power of two */
    size_t used;
    uint32_t per_client;
    uint32_t pad;
};

#define MIN_CAP ((size_t)64)

void s2r_server_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
                      (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)cap);
    }
}

s2r_client_key s2r_client_key_of(const struct sockaddr *sa)
{
    s2r_client_key k;
    memset(&k, 0, sizeof(k));
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        k.b[10] = k.b[11] = 0xff;
        memcpy(&k.b[12], &s4->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            memcpy(k.b, &s6->sin6_addr, 16); /* same form as AF_INET */
        else
            memcpy(k.b, &s6->sin6_addr, 8); /* the /64 */
    }
    return k;
}

static size_t hash_of(const s2r_client_key *k)
{
    size_t h = s2r_hash_bytes(k->b, sizeof(k->b));
    return h ^ (h >> 29);
}

s2r_server_clients *s2r_server_clients_new(uint32_t per_client)
{
    s2r_server_clients *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cap = MIN_CAP;
    t->v = calloc(t->cap, sizeof(slot));
    if (!t->v || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->v);
        free(t);
        return NULL;
    }
    t->per_client = per_client;
    return t;
}

void s2r_server_clients_free(s2r_server_clients *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->v);
    free(t);
}

/* Index of @p key's slot, or of the empty slot where it would go. */
static size_t find(const s2r_server_clients *t, const s2r_client_key *key)
{
    size_t i = hash_of(key) & (t->cap - 1);
    while (t->v[i].count &&
           memcmp(&t->v[i].key, key, sizeof(*key)) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* Double the table. Returns 0 or -1 (out of memory: unchanged). */
static int grow(s2r_server_clients *t)
{
    size_t cap = t->cap * 2;
    slot *nv = calloc(cap, sizeof(slot));
    if (!nv)
        return -1;
    slot *old = t->v;
    size_t ocap = t->cap;
    t->v = nv;
    t->cap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].count)
            t->v[find(t, &old[i].key)] = old[i];
    free(old);
    return 0;
}

/* Empty slot @p i and shift back the entries that probed past it. */
static void remove_at(s2r_server_clients *t, size_t i)
{
    size_t mask = t->cap - 1;
    t->v[i].count = 0;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->v[j].count)
            break;
        size_t home = hash_of(&t->v[j].key) & mask;
        /* move j back to i when its home is not inside (i, j] */
        int between = i <= j ? (home > i && home <= j)
                             : (home > i || home <= j);
        if (!between) {
            t->v[i] = t->v[j];
            t->v[j].count = 0;
            i = j;
        }
    }
    t->used--;
}

int s2r_server_clients_acquire(s2r_server_clients *t,
                               const s2r_client_key *key)
{
    if (!t->per_client)
        return 1;
    int ok = 0;
    pthread_mutex_lock(&t->lock);
    if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0)
        goto out;
    size_t i = find(t, key);
    if (!t->v[i].count) {
        t->v[i].key = *key;
        t->used++;
    } else if (t->v[i].count >= t->per_client) {
        goto out;
    }
    t->v[i].count++;
    ok = 1;
out:
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void s2r_server_clients_release(s2r_server_clients *t,
                                const s2r_client_key *key)
{
    if (!t->per_client)
        return;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, key);
    if (t->v[i].count && --t->v[i].count == 0)
        remove_at(t, i);
    pthread_mutex_unlock(&t->lock);
}

uint32_t s2r_server_clients_count(s2r_server_clients *t,
                                  const s2r_client_key *key)
{
    if (!t->per_client)
        return 0;
    pthread_mutex_lock(&t->lock);
    uint32_t n = t->v[find(t, key)].count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
