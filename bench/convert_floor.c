/* convert_floor.c: the floor of bench_convert: the least any converter
 * of these scripts must do, so that a conversion rate can be read as a
 * ratio to it rather than as a figure that moves with the machine.
 *
 *   convert_floor DIR SECONDS FORMAT EXPECTED [files|write]
 *
 * For every *.sbatch in DIR, over and over for SECONDS: tokenise its
 * #SBATCH lines into words (split on blanks, single and double quotes
 * honoured) and write as many output bytes as s2r does, copying the real
 * output text of that script in FORMAT, which it loads beforehand from
 * EXPECTED/NAME.FORMAT (bench-floor.sh writes those with
 * `s2r -q --format FORMAT`; no file: s2r refused the script and the floor
 * writes nothing). The scripts are read once, before the loop, as
 * bench_convert reads them: a conversion starts from a buffer. With
 * "files", each conversion first reads its script from the file (open,
 * read, close), as bench_convert ... files and `s2r job.sh` do. With
 * "write", each output is also written to /dev/null with write(2), as
 * bench_convert ... write and `s2r job.sh` (to stdout) do.
 * Prints its rate in bench_convert's words.
 *
 * Not a test and not part of s2r: libc only, no s2r library.
 */
#include "bench_read.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCRIPTS 512

typedef struct script {
    char *name;
    char *path;
    char *buf;
    size_t len;
    char *out; /* the expected output, NULL when s2r refuses the script */
    size_t out_len;
} script;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole of PATH in a buffer of its size; NULL if it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(MAX_FILE);
    size_t n = buf ? fread(buf, 1, MAX_FILE, f) : 0;
    fclose(f);
    if (!buf)
        return NULL;
    char *fit = realloc(buf, n ? n : 1);
    *len = n;
    return fit ? fit : buf;
}

/* Keep the compiler from dropping work whose result nobody reads. */
static void keep(const void *p)
{
#ifdef __GNUC__
    __asm__ volatile("" : : "r"(p) : "memory");
#else
    static const void *volatile sink;
    sink = p;
#endif
}

/* Split one directive's arguments, P[0..END), into WORDS (each ended by
 * a NUL, quotes removed, as sbatch reads them); returns how many. */
static size_t split_words(const char *p, const char *end, char *words)
{
    size_t n = 0;
    char *w = words;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p == end || *p == '#')
            break;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r') {
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                while (p < end && *p != q)
                    *w++ = *p++;
                if (p < end)
                    p++;
            } else {
                *w++ = *p++;
            }
        }
        *w++ = '\0';
        n++;
    }
    return n;
}

/* The words of every #SBATCH line of S, one line at a time into WORDS
 * (room for 2 * s->len bytes); returns how many. */
static size_t tokenise(const script *s, char *words)
{
    size_t n = 0;
    const char *p = s->buf, *end = s->buf + s->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) >= 7 && !memcmp(p, "#SBATCH", 7))
            n += split_words(p + 7, eol, words);
        keep(words);
        p = eol + 1;
    }
    return n;
}

/* One floor conversion: the words, then the output in a fresh buffer,
 * written to OUT_FD unless it is -1, and freed as bench_convert frees
 * s2r's. */
static size_t convert(const script *s, char *words, int out_fd)
{
    size_t n = tokenise(s, words);
    if (!s->out)
        return n;
    char *out = malloc(s->out_len + 1);
    if (!out)
        return n;
    memcpy(out, s->out, s->out_len);
    out[s->out_len] = '\0';
    keep(out);
    if (out_fd >= 0)
        bench_write_all(out_fd, out, s->out_len);
    free(out);
    return n;
}

static size_t load(const char *dir, const char *expected, const char *fmt,
                   script *s)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 0;
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SCRIPTS) {
        size_t l = strlen(e->d_name);
        if (l < 7 || strcmp(e->d_name + l - 7, ".sbatch"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        s[n].buf = read_file(path, &s[n].len);
        if (!s[n].buf)
            continue;
        snprintf(path, sizeof(path), "%s/%s.%s", expected, e->d_name, fmt);
        s[n].out = read_file(path, &s[n].out_len);
        s[n].name = strdup(e->d_name);
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        s[n].path = strdup(path);
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && (strcmp(argv[5], "files") == 0 ||
                                     strcmp(argv[5], "write") == 0))) {
        fprintf(stderr, "usage: convert_floor DIR SECONDS FORMAT EXPECTED "
                        "[files|write]\n");
        return 2;
    }
    bool from_files = argc == 6 && strcmp(argv[5], "files") == 0;
    int out_fd = argc == 6 && strcmp(argv[5], "write") == 0
                     ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                     : -1;
    const char *dir = argv[1], *fmt = argv[3], *expected = argv[4];
    double seconds = atof(argv[2]);
    static script s[MAX_SCRIPTS];
    size_t n = load(dir, expected, fmt, s);
    if (!n) {
        fprintf(stderr, "convert_floor: no .sbatch files in %s\n", dir);
        return 1;
    }
    size_t longest = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        longest = s[i].len > longest ? s[i].len : longest;
        refused += !s[i].out;
    }
    /* a word takes at most its bytes and its NUL: 2 bytes per byte */
    char *words = malloc(2 * longest + 1);
    char *file = from_files ? malloc(MAX_FILE) : NULL;
    if (!words || (from_files && !file))
        return 1;
    size_t conversions = 0, words_seen = 0;
    double t0 = now_s(), t;
    do {
        for (size_t i = 0; i < n; i++) {
            script one = s[i];
            if (from_files) {
                one.buf = file;
                one.len = bench_read_into(s[i].path, file);
            }
            words_seen += convert(&one, words, out_fd);
            conversions++;
        }
        t = now_s() - t0;
    } while (t < seconds);
    keep(&words_seen);
    printf("convert_floor: %zu scripts, %zu conversions (%zu refused, as "
           "sbatch would) in %.2f s: %.0f conversions/s on one core "
           "(format %s%s)\n", n, conversions, refused * (conversions / n), t,
           conversions / t, fmt,
           from_files ? ", reading files"
                      : out_fd >= 0 ? ", writing the output" : "");
    if (out_fd >= 0)
        close(out_fd);
    for (size_t i = 0; i < n; i++) {
        free(s[i].buf);
        free(s[i].out);
        free(s[i].name);
        free(s[i].path);
    }
    free(words);
    free(file);
    return 0;
}
