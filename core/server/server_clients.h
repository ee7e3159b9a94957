/* server_clients.h: open connections per client address, for the
 * max_connections_per_client cap of `s2r serve` (private).
 *
 * A client is an IPv4 address, or the /64 prefix of an IPv6 address (one
 * host usually holds a whole /64, so counting single IPv6 addresses would
 * let it open as many connections as it likes). An IPv4-mapped IPv6
 * address counts as its IPv4 address. Counts live in a hash table that
 * only holds clients with at least one open connection, so its size
 * follows the open connections (at most max_connections entries).
 *
 * Thread-safe (one mutex): the acceptor takes places, the workers give
 * them back when libmicrohttpd reports a connection closed.
 */
#ifndef S2R_SERVER_CLIENTS_H
#define S2R_SERVER_CLIENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct s2r_server_clients s2r_server_clients;

/** The client key of an address: 16 bytes (IPv4 in the last 4 bytes of
 *  ::ffff:0:0/96, IPv6 cut to its /64). */
typedef struct s2r_client_key {
    uint8_t b[16];
} s2r_client_key;

/**
 * Key of @p sa (AF_INET or AF_INET6; anything else gets the all-zero
 * key, one client).
 */
s2r_client_key s2r_client_key_of(const struct sockaddr *sa);

/**
 * The client address of @p sa as log text into @p buf of @p cap bytes
 * (INET6_ADDRSTRLEN is enough): "203.0.113.5" (an IPv4-mapped IPv6
 * address too), "2001:db8::1"; "" for NULL or another family.
 */
void s2r_server_addr_text(const struct sockaddr *sa, char *buf,
                          size_t cap);

/**
 * New table allowing @p per_client open connections per client
 * (0: no cap, the table counts nothing).
 * @return NULL when out of memory.
 */
s2r_server_clients *s2r_server_clients_new(uint32_t per_client);
void s2r_server_clients_free(s2r_server_clients *t);

/**
 * Take a place for a new connection of @p key.
 * @return 1 (taken: give it back with s2r_server_clients_release()),
 *         0 (the client already holds per_client connections, or out of
 *         memory: refuse the connection).
 */
int s2r_server_clients_acquire(s2r_server_clients *t,
                               const s2r_client_key *key);

/** Give back a place taken by s2r_server_clients_acquire(). */
void s2r_server_clients_release(s2r_server_clients *t,
                                const s2r_client_key *key);

/** Open connections of @p key now (for tests and logs). */
uint32_t s2r_server_clients_count(s2r_server_clients *t,
                                  const s2r_client_key *key);

#endif
