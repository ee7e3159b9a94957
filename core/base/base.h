/* base.h: core/base, layer 1: what every other folder builds on.
 * Owns: the byte buffer, diagnostics, string/env vectors, errors, secrets,
 *       path text, the s2r_volume list, byte scans and sorted name tables.
 * Uses: include/s2r only (libc; no other library).
 *
 * Diagnostics (s2r_diags) and the small containers (s2r_strv, s2r_envv)
 * are public and declared in <s2r/s2r.h>, which this header includes; the
 * rest is private to the core. */
#ifndef S2R_BASE_H
#define S2R_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <s2r/plugin.h>
#include <s2r/s2r.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------ */
/* Growable text buffer with a sticky out-of-memory flag (buf.c)       */
/* ------------------------------------------------------------------ */

/** A NUL-terminated growable string. Zero-initialise before use. Every
 *  append after an allocation failure is a no-op; check @c oom (or the
 *  result of s2r_buf_finish()) once at the end. Sizes are in bytes. */
typedef struct s2r_buf {
    char *p;
    size_t len, cap;
    bool oom;
} s2r_buf;

/** Append @p n bytes of @p s when they do not fit (grows the buffer);
 *  s2r_buf_putn's slow path, not for callers. */
void s2r_buf__putn_grow(s2r_buf *b, const char *s, size_t n);
/** Append @p n bytes of @p s. Inline: most appends are a few bytes into
 *  room the buffer already has (after a failure @c cap is 0, so every
 *  append goes to the slow path, which drops it). */
static inline void s2r_buf_putn(s2r_buf *b, const char *s, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
    } else {
        s2r_buf__putn_grow(b, s, n);
    }
}
/** Mark @p b failed, as an allocation failure would: later appends are
 *  dropped and s2r_buf_finish() returns NULL. */
static inline void s2r_buf_fail(s2r_buf *b)
{
    b->oom = true;
    b->cap = 0;
}
/** Make room for @p more bytes after the text (and its NUL) in one
 *  allocation, for a caller that knows the size it is about to write.
 *  Returns false after an allocation failure (the buffer is failed). */
bool s2r_buf_reserve(s2r_buf *b, size_t more);
/** Append the NUL-terminated string @p s. Inline: most are literals,
 *  whose length the compiler knows. */
static inline void s2r_buf_puts(s2r_buf *b, const char *s)
{
    s2r_buf_putn(b, s, strlen(s));
}
/** Append a printf-formatted string. */
void s2r_buf_printf(s2r_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Room for the decimal text of any int64_t, sign and NUL included. */
#define S2R_I64_TEXT 21
/** Write @p v in decimal (as printf's "%" PRId64) into @p out, NUL-ended;
 *  returns the number of digits and sign written. */
size_t s2r_i64_text(char out[S2R_I64_TEXT], int64_t v);
/** Append @p v in decimal (as "%" PRId64 would), without printf. */
static inline void s2r_buf_put_i64(s2r_buf *b, int64_t v)
{
    char t[S2R_I64_TEXT];
    s2r_buf_putn(b, t, s2r_i64_text(t, v));
}
/** Hand over the text (malloc'd, the caller frees; never NULL on success,
 *  "" when nothing was appended). On an earlier allocation failure frees
 *  everything and returns NULL. The buffer is reset either way. */
char *s2r_buf_finish(s2r_buf *b);
/** Release the buffer without handing it over. */
void s2r_buf_free(s2r_buf *b);

/* ------------------------------------------------------------------ */
/* Zeroed allocation (alloc.c)                                         */
/* ------------------------------------------------------------------ */

/** calloc(@p n, @p size) for what every conversion or request allocates:
 *  glibc's calloc (2.36, Debian 12) never takes a block from the
 *  thread's cache, where malloc does, so each call took the allocator's
 *  slow path. Free with free(); NULL when out of memory or when
 *  @p n * @p size overflows. */
void *s2r_zalloc(size_t n, size_t size);

/* ------------------------------------------------------------------ */
/* Arena: many small allocations freed at once (arena.c)               */
/* ------------------------------------------------------------------ */

typedef struct s2r_arena_block s2r_arena_block;
/** Blocks from which allocations are carved, all freed together by
 *  s2r_arena_free(). Zero-initialise before use. Not thread-safe. */
typedef struct s2r_arena {
    s2r_arena_block *head; /* the newest block; each points to the last */
    char *next;            /* free bytes of the newest block */
    size_t left;
    size_t first;          /* bytes of the first block, each next one
                              twice the last; 0: about 4 KiB */
} s2r_arena;

/** s2r_arena_alloc() when the newest block has no room left for @p n
 *  bytes (a new block); its slow path, not for callers. */
void *s2r_arena__alloc_block(s2r_arena *a, size_t n);
/** @p n bytes (at least 1), aligned for any object, owned by @p a (never
 *  freed alone); NULL when memory runs out. Inline: most are a few bytes
 *  carved from room the newest block has. */
static inline void *s2r_arena_alloc(s2r_arena *a, size_t n)
{
    size_t align = _Alignof(max_align_t);
    if (n - 1 < a->left) { /* 1 <= n <= left: n + align cannot overflow */
        size_t need = (n + align - 1) & ~(align - 1);
        if (need <= a->left) {
            void *p = a->next;
            a->next += need;
            a->left -= need;
            return p;
        }
    }
    return s2r_arena__alloc_block(a, n);
}
/** A NUL-terminated copy of @p n bytes of @p s in @p a; NULL when memory
 *  runs out. */
static inline char *s2r_arena_strndup(s2r_arena *a, const char *s, size_t n)
{
    char *p = n < SIZE_MAX ? (char *)s2r_arena_alloc(a, n + 1) : NULL;
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
/** Free every block of @p a; @p a is empty and reusable afterwards. */
void s2r_arena_free(s2r_arena *a);
/** Grow an array of *@p cap elements of @p size bytes at @p v to twice
 *  as many (8 when *@p cap is 0): a new array carved from @p a, with the
 *  first @p n elements copied and @p spare bytes of room after its last;
 *  *@p cap becomes its length. The old array stays as it was (in @p a,
 *  or wherever it lies, until that is freed). NULL when out of memory or
 *  when the size overflows (*@p cap and @p a are then as they were).
 *  Inline: a vector grows this way at every doubling. */
static inline void *s2r_arena_grow(s2r_arena *a, const void *v, size_t n,
                                   size_t *cap, size_t size, size_t spare)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap < *cap || ncap > (SIZE_MAX - spare) / size)
        return NULL;
    void *nv = s2r_arena_alloc(a, ncap * size + spare);
    if (!nv)
        return NULL; /* a failed allocation leaves the arena as it was */
    if (n)
        memcpy(nv, v, n * size);
    *cap = ncap;
    return nv;
}

/* ---- an array that lives in an arena of its own ---------------------- */

/** The arena of an array of @p cap elements of @p size bytes at @p v that
 *  keeps it in the slots after its last (from v[cap]), as s2r_strv,
 *  s2r_envv and s2r_diags do: the array and what its elements point to
 *  are carved from that arena, and freeing the arena frees them all. */
static inline s2r_arena *s2r_arena_after(void *v, size_t cap, size_t size)
{
    return (s2r_arena *)(void *)((char *)v + cap * size);
}
/** Grow such an array to twice *@p cap elements (8 at first): a new array
 *  carved from its arena (a new arena, whose first block is @p first
 *  bytes, when @p v is NULL), with the first @p n elements copied and the
 *  arena after its last; the old array stays in the arena, unchanged,
 *  until the arena is freed. NULL when out of memory or when the size
 *  overflows (@p v and its arena are then as they were). */
void *s2r_arena_grow_array(void *v, size_t n, size_t *cap, size_t size,
                           size_t first);
/** Free the arena of such an array, the array with it (nothing when @p v
 *  is NULL). Not s2r_arena_free() of s2r_arena_after(): that arena lies
 *  in one of the blocks it frees. */
void s2r_arena_free_array(void *v, size_t cap, size_t size);

/* ------------------------------------------------------------------ */
/* JSON text (json_text.c)                                             */
/* ------------------------------------------------------------------ */

/** Append @p len bytes of @p s as a JSON string (RFC 8259 §7): in double
 *  quotes, with '"', '\\', BS, FF, LF, CR and TAB as two-character
 *  escapes and the other control characters as \u00xx, '/' as it is: the
 *  bytes json-c writes with JSON_C_TO_STRING_NOSLASHESCAPE, so an answer
 *  built here reads as one json-c built. @p s must be UTF-8 for the
 *  result to be JSON; nothing here checks it. */
void s2r_json_put_string(s2r_buf *b, const char *s, size_t len);

/* ---- 8 bytes at a time (the JSON string writer, the YAML writer, byte
 *      scans) ---- */

/** The 8 bytes at @p p as one number, the first the least significant
 *  (whatever the machine's byte order; compilers make it one load). */
static inline uint64_t s2r_load8(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
           (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 |
           (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 |
           (uint64_t)u[7] << 56;
}

/** The index (0-7) of the first byte marked in @p m (not 0), a mask of
 *  bytes of an s2r_load8() value with the high bit of each marked byte
 *  set, the lowest one exactly (as the bit tricks of "Bit Twiddling
 *  Hacks" leave it: (x - n..) & ~x & 0x80.. marks the bytes of x below n,
 *  the first one exactly, the ones after it maybe wrongly). Its lowest
 *  mark as 1 << 8k, times bytes 8, 7 .. 1, leaves k + 1 on top. */
static inline size_t s2r_first_marked(uint64_t m)
{
    uint64_t low = (m & (0 - m)) >> 7;
    return (size_t)((low * 0x0102030405060708u) >> 56) - 1;
}

/** Deepest nesting an s2r_json_writer takes (collections in collections). */
#define S2R_JSON_MAX_DEPTH 48

/** A JSON document written as text, laid out byte for byte as json-c
 *  0.16 writes a tree with JSON_C_TO_STRING_PRETTY | SPACED |
 *  NOSLASHESCAPE: a child per line, indented two spaces a level,
 *  "key": value; an empty one is "{" or "[", a newline, the indent and
 *  "}" or "]"; no newline at the end. Build
 *  calls in document order; keys must be distinct (json-c would keep the
 *  last). Zero-initialise, set @c out. */
typedef struct s2r_json_writer {
    s2r_buf *out;
    size_t depth;
    bool object[S2R_JSON_MAX_DEPTH]; /* the open collection is an object */
    bool had[S2R_JSON_MAX_DEPTH];    /* ... and has a child */
    bool failed; /* too deep, a key out of place, a second root */
    bool root_done;
} s2r_json_writer;

/** Open an object or an array as the next value. */
void s2r_json_begin(s2r_json_writer *w, bool object);
/** Close the open object or array. */
void s2r_json_end(s2r_json_writer *w);
/** The key of the next member of the open object (UTF-8, @p len bytes). */
void s2r_json_key(s2r_json_writer *w, const char *k, size_t len);
/** A string value (UTF-8, @p len bytes), escaped as s2r_json_put_string. */
void s2r_json_string(s2r_json_writer *w, const char *s, size_t len);
/** An integer value, in decimal as json-c writes an int64. */
void s2r_json_int(s2r_json_writer *w, int64_t v);
/** true or false. */
void s2r_json_bool(s2r_json_writer *w, bool v);

/* ------------------------------------------------------------------ */
/* Byte scans (inline) and names in sorted tables (names.c)           */
/* ------------------------------------------------------------------ */

#if defined(__SSE2__)
/** The bytes of the 16 at @p p equal to @p a, @p b or @p c, or below
 *  @p below (unsigned; 0: no byte is), as bits 0-15; 0 when there are
 *  none. SSE2, which every x86-64 has. A byte is below @p below when the
 *  lesser of it and below - 1 (unsigned) is itself. */
static inline unsigned s2r_class16(const char *p, char a, char b, char c,
                                   unsigned char below)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_cmpeq_epi8(v, _mm_set1_epi8(a)),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(b)),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
    if (below) {
        __m128i lim = _mm_set1_epi8((char)(below - 1));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v));
    }
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/** The bytes of @p x (from s2r_load8) equal to @p a, @p b or @p c, or
 *  below @p below (at most 0x80; 0: no byte is), marked as
 *  s2r_first_marked() reads them. A byte equal to @p a is a zero byte,
 *  below 1, of x ^ a..; each test marks its first byte exactly, so the
 *  first mark of them all is exact too. */
static inline uint64_t s2r_class8(uint64_t x, char a, char b, char c,
                                  unsigned char below)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t xa = x ^ (ones * (unsigned char)a),
             xb = x ^ (ones * (unsigned char)b),
             xc = x ^ (ones * (unsigned char)c);
    uint64_t m = ((xa - ones) & ~xa) | ((xb - ones) & ~xb) |
                 ((xc - ones) & ~xc);
    if (below)
        m |= (x - ones * below) & ~x;
    return m & high;
}

/** The first byte in [@p p, @p e) equal to @p a, @p b or @p c, or @p e;
 *  the bytes up to @p lim (at or after @p e) may be read. 16 bytes at a
 *  time while 16 remain before @p lim (SSE2; the bits of bytes at or
 *  after @p e are dropped), then 8 at a time while 8 remain before @p e,
 *  then a byte at a time. Inline: its callers call it for every few
 *  bytes, with constant bytes to find. */
static inline const char *s2r_find_any(const char *p, const char *e,
                                       const char *lim, char a, char b,
                                       char c)
{
#if defined(__SSE2__)
    for (; p < e && lim - p >= 16; p += 16) {
        unsigned m16 = s2r_class16(p, a, b, c, 0);
        if (e - p < 16)
            m16 &= (1u << (e - p)) - 1;
        if (m16)
            return p + __builtin_ctz(m16);
    }
    if (p >= e)
        return e;
#else
    (void)lim;
#endif
    for (; e - p >= 8; p += 8) {
        uint64_t m = s2r_class8(s2r_load8(p), a, b, c, 0);
        if (m)
            return p + s2r_first_marked(m);
    }
    while (p < e && *p != a && *p != b && *p != c)
        p++;
    return p;
}

/** The first place of the @p n bytes of @p needle (no NUL among them) in
 *  the @p len bytes at @p s (SIZE_MAX: in the string @p s, up to its
 *  NUL), or NULL; @p s when @p n is 0. Found through needle[@p rare] (@p rare below @p n), a byte
 *  the text seldom holds, looked for with memchr (strchr), the whole
 *  needle then compared around it: for a needle most texts do not hold,
 *  cheaper than strstr. Inline: the callers' needles are constants. */
static inline const char *s2r_find_rare(const char *s, size_t len,
                                        const char *needle, size_t n,
                                        size_t rare)
{
    if (n == 0)
        return s;
    if (rare >= n)
        return NULL;
    if (len == SIZE_MAX) {
        for (const char *q = s; (q = strchr(q, needle[rare])); q++)
            if ((size_t)(q - s) >= rare && !strncmp(q - rare, needle, n))
                return q - rare;
        return NULL;
    }
    if (len < n)
        return NULL;
    /* the rare byte of a match lies in [s + rare, last] */
    const char *q = s + rare, *last = s + len - (n - rare);
    for (; q <= last && (q = memchr(q, needle[rare], (size_t)(last - q) + 1));
         q++)
        if (!memcmp(q - rare, needle, n))
            return q - rare;
    return NULL;
}

/* ---- names in a sorted table (names.c) ---- */

/** The number of elements of array @p a (an array, not a pointer). */
#define S2R_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/** Whether strings @p a and @p b are equal (!strcmp), the bytes compared
 *  here: names mostly part in their first bytes, where a call to strcmp
 *  would cost more than the comparing. */
static inline bool s2r_name_is(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/** The index of the entry named by the @p len bytes at @p name (or fewer,
 *  up to a NUL among them) in @p table: @p n entries of @p stride bytes,
 *  each starting with its name (a const char *), sorted as strcmp orders
 *  the names; @p n when no entry has that name. A binary search. */
size_t s2r_sorted_findn(const void *table, size_t n, size_t stride,
                        const char *name, size_t len);
/** The name of entry @p i of such a table. */
static inline const char *s2r_sorted_name(const void *table, size_t i,
                                          size_t stride)
{
    return *(const char *const *)(const void *)((const char *)table +
                                                 i * stride);
}
/** s2r_sorted_findn() for the string @p name. Inline: a table of at most
 *  16 names is compared name by name, the loop unrolled, so that with
 *  the constant table of a caller the compiler compares the first byte
 *  of @p name with each name's own as constants (most names looked up
 *  are none of the table's, and part from each name there) and the rest
 *  only for a name that starts alike; a longer table is searched by
 *  halves. */
static inline size_t s2r_sorted_find(const void *table, size_t n,
                                     size_t stride, const char *name)
{
    if (n > 16)
        return s2r_sorted_findn(table, n, stride, name, SIZE_MAX);
    const char c0 = name[0];
#pragma GCC unroll 16
    for (size_t i = 0; i < n; i++) {
        const char *e = s2r_sorted_name(table, i, stride);
        if (e[0] == c0 && (!c0 || s2r_name_is(e + 1, name + 1)))
            return i;
    }
    return n;
}
/** True when the @p n names of @p names, sorted as strcmp orders them,
 *  hold @p name. */
static inline bool s2r_sorted_has(const char *const *names, size_t n,
                                  const char *name)
{
    return s2r_sorted_find(names, n, sizeof(*names), name) < n;
}

/* ------------------------------------------------------------------ */
/* Errors and diagnostics (diags.c; s2r_error is in plugin.h)         */
/* ------------------------------------------------------------------ */

/** Fill a caller-owned error: code, http_status 0, the formatted message
 * (truncated to S2R_ERROR_MSG_MAX). @p err may be NULL. Returns @p code. */
int s2r_error_set(s2r_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** s2r_diags_add() with the arguments in @p ap (left unusable, as after
 *  vsnprintf), and the message cut to its first @p max_len bytes (as
 *  vsnprintf into max_len + 1 bytes; 0: not cut). Returns S2R_OK or
 *  S2R_ENOMEM. */
int s2r_diags_vadd(s2r_diags *d, s2r_severity sev, const char *file,
                   int line, const char *option, size_t max_len,
                   const char *fmt, va_list ap);
/** Append @p dg as "file:line: warning: message" (s2r_diag_format's text:
 *  "s2r" for no file, no ":line" for line 0), without printf. */
void s2r_diag_put(s2r_buf *b, const s2r_diag *dg);

/* ------------------------------------------------------------------ */
/* Containers (vectors.c; s2r_strv and s2r_envv are in <s2r/s2r.h>)   */
/* ------------------------------------------------------------------ */

/** Append @p s, a malloc'd string: @p sv keeps a copy and frees @p s.
 *  @return S2R_OK, or S2R_ENOMEM (@p s is freed all the same). */
int s2r_strv_take(s2r_strv *sv, char *s);

/** The strings of @p sv as a NULL-terminated list of malloc'd copies (free
 *  with s2r_strlist_free()); NULL when out of memory. */
char **s2r_strv_list(const s2r_strv *sv);

/** Add NAME=VALUE at the end of @p ev without looking for an earlier
 *  NAME: s2r_envv_set() for a caller that knows @p ev has none (a copy of
 *  another vector, whose names s2r_envv_set() kept distinct).
 *  @return S2R_OK or S2R_ENOMEM. */
int s2r_envv_append(s2r_envv *ev, const char *name, const char *value);

/** Free a NULL-terminated list of malloc'd strings and the list itself
 *  (s2r_job.partitions, s2r_workload.node_pools); NULL is fine. */
void s2r_strlist_free(char **l);

/**
 * Make room for element @p n (the n+1-th) of an array of @p size-byte
 * elements that keeps no capacity of its own: *@p v grows to 4, 8, 16 ...
 * elements when @p n is 0 or a power of two from 4 on, so that appending
 * n elements one at a time costs O(n) copying, not O(n^2). Every
 * allocation of *@p v must come from this function (or be NULL).
 * @param v  in/out: the array (unchanged on failure, still owned by the
 *           caller)
 * @return S2R_OK, or S2R_ENOMEM (out of memory or the size overflows).
 */
int s2r_grow(void **v, size_t n, size_t size);

/* ------------------------------------------------------------------ */
/* Hash of bytes                                                        */
/* ------------------------------------------------------------------ */

/** FNV-1a (64-bit) of the @p len bytes at @p p: the hash of the hash
 *  tables here (s2r_strset, an s2r_envv's index, the body's path index,
 *  the server's client table). */
static inline size_t s2r_hash_bytes(const void *p, size_t len)
{
    const unsigned char *u = p;
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ u[i]) * 1099511628211u;
    return (size_t)h;
}

/* ------------------------------------------------------------------ */
/* Set of strings (strset.c)                                           */
/* ------------------------------------------------------------------ */

/** A set of byte strings (any bytes, NUL included, each with its length),
 *  numbered 0, 1, 2 ... in the order they were added, as a hash table: a
 *  look-up costs one hash of the key and about one comparison, so that n
 *  distinct keys cost O(n), not the n^2/2 comparisons of each with every
 *  earlier one. The first S2R_STRSET_FEW keys are kept in the set itself
 *  and compared one by one: most sets stay that small and allocate
 *  nothing. The set borrows its keys: it keeps their address, not a
 *  copy, so each must stay where it is, unchanged, until
 *  s2r_strset_clear() (as the strings of an s2r_strv do).
 *  Zero-initialise before use, or s2r_strset_init(). */
#define S2R_STRSET_FEW 8
typedef struct s2r_strset {
    struct s2r_strset_slot *slot; /* cap slots (strset.c); NULL while the
                                     keys are in few */
    size_t n, cap;                /* n keys */
    struct {
        const char *key;
        size_t len;
    } few[S2R_STRSET_FEW]; /* the first keys, by number, until slot */
} s2r_strset;

/** Make @p s an empty set, as zero-initialising does (few is left as it
 *  is: only the keys up to n are read). */
static inline void s2r_strset_init(s2r_strset *s)
{
    s->slot = NULL;
    s->n = s->cap = 0;
}
/** What s2r_strset_find() returns for a key the set does not hold. */
#define S2R_STRSET_NONE SIZE_MAX

/** The number of the key of @p len bytes at @p key, or S2R_STRSET_NONE. */
size_t s2r_strset_find(const s2r_strset *s, const char *key, size_t len);
/** Add the key of @p len bytes at @p key, which @p s must not hold yet
 *  (look it up first), with the number @c s->n before the call.
 *  @return S2R_OK, or S2R_ENOMEM (@p s is as it was). */
int s2r_strset_add(s2r_strset *s, const char *key, size_t len);
/** Free the table (not the keys); @p s is left empty and reusable. */
void s2r_strset_clear(s2r_strset *s);

/* ------------------------------------------------------------------ */
/* Path text and volumes (paths.c; s2r_volume is in <s2r/s2r.h>)       */
/* ------------------------------------------------------------------ */

/** @p path with "//", "/./" and "/../" folded and no trailing '/', as
 *  text only (the file system is not read). An absolute @p path stays
 *  absolute ("/.." is "/"); malloc'd, NULL on ENOMEM. */
char *s2r_path_fold(const char *path);
/** @p path folded, taken under the folder @p dir first when it is
 *  relative (as sbatch(1) takes --chdir under the submit directory).
 *  malloc'd; NULL on ENOMEM, or when @p path is relative and @p dir is
 *  NULL. */
char *s2r_path_resolve(const char *dir, const char *path);
/** True when absolute @p path is @p prefix or lies below it (per path
 *  components: /data/x is under /data, /database is not). */
bool s2r_path_under(const char *path, const char *prefix);
/** Bytes of @p prefix that s2r_path_under() compares: its length without
 *  trailing '/' ("/" and "//" keep 1, the root). */
size_t s2r_path_prefix_len(const char *prefix);
/** The volume of @p v (@p n entries) whose path covers @p path, the
 *  longest one when several do; NULL when none. */
const s2r_volume *s2r_volume_for(const s2r_volume *v, size_t n,
                                 const char *path);
/** Deep copy of @p src into @p dst. @return S2R_OK or S2R_ENOMEM (dst is
 *  then cleared). */
int s2r_volume_copy(s2r_volume *dst, const s2r_volume *src);
/** Free the strings of @p v and zero it. */
void s2r_volume_clear(s2r_volume *v);
/** Clear @p n volumes and free the array; NULL is fine. */
void s2r_volumes_free(s2r_volume *v, size_t n);
/** Append a deep copy of @p v to the array *@p arr of *@p n entries.
 *  @return S2R_OK or S2R_ENOMEM (the array is unchanged). */
int s2r_volumes_push(s2r_volume **arr, size_t *n, const s2r_volume *v);

/* ------------------------------------------------------------------ */
/* Secret references (env:NAME, file:PATH) and redaction (secrets.c)   */
/* ------------------------------------------------------------------ */

/** Text shown instead of a secret value. */
#define S2R_REDACTED "<redacted>"
/** Largest secret read from a file (bytes). */
#define S2R_SECRET_MAX (64 * 1024)

/** True when the variable name @p name says it holds a secret: one of
 *  TOKEN, SECRET, PASSWORD, PASSWD, APIKEY, or KEY after API, ACCESS,
 *  PRIVATE or AUTH, as a whole '_'-separated part of it, in any case
 *  (HF_TOKEN, WANDB_API_KEY; not TOKENIZERS_PARALLELISM). */
bool s2r_secret_name(const char *name);

/** 1 when @p value is a reference (starts with "env:" or "file:"). */
int s2r_secret_is_ref(const char *value);

/**
 * Resolve @p ref: `env:NAME` is the variable's value, `file:PATH` the
 * file's first line without its line end. *@p out receives a malloc'd copy
 * (wipe with s2r_secret_free()). @p err never holds the value.
 * @return S2R_OK; S2R_EINVAL (not a reference, empty name, empty value);
 *         S2R_ENOTFOUND (unset variable, unreadable file); S2R_ETOOBIG;
 *         S2R_ENOMEM.
 */
int s2r_secret_resolve(const char *ref, char **out, s2r_error *err);

/** Zero and free a secret from s2r_secret_resolve(); NULL is fine. */
void s2r_secret_free(char *secret);

/** Overwrite @p n bytes with zeros in a way the compiler keeps. */
void s2r_secure_zero(void *p, size_t n);

/**
 * Copy @p in into @p out (@p cap bytes, NUL-terminated, truncated) with
 * every occurrence of each non-empty string of @p secrets (@p n of them)
 * replaced by S2R_REDACTED.
 */
void s2r_redact(char *out, size_t cap, const char *in,
                const char *const *secrets, size_t n);

#endif
