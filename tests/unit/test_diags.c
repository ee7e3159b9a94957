/* test_diags.c: diagnostics as text (core/base/diags.c): s2r_diag_put and
 * s2r_diag_format write what "%s:%d: %s: %s" (or, without a line,
 * "%s: %s: %s") writes. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <inttypes.h>
#include <cmocka.h>

#include "base/base.h"

static void check(const char *file, int line, s2r_severity sev,
                  const char *message)
{
    static const char *const names[] = {"note", "warning", "error"};
    s2r_diag dg = {.severity = sev, .line = line, .file = (char *)file,
                   .message = (char *)message};
    char want[512];
    if (line > 0)
        snprintf(want, sizeof(want), "%s:%d: %s: %s", file ? file : "s2r",
                 line, names[sev], message);
    else
        snprintf(want, sizeof(want), "%s: %s: %s", file ? file : "s2r",
                 names[sev], message);
    char *got = s2r_diag_format(&dg);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    s2r_buf b = {0};
    s2r_buf_puts(&b, "before ");
    s2r_diag_put(&b, &dg);
    assert_string_equal(b.p + 7, want);
    s2r_buf_free(&b);
}

static void test_diags__text_as_printf(void **state)
{
    (void)state;
    const int lines[] = {0, -1, 1, 9, 10, 12345, INT_MAX, INT_MIN};
    const char *files[] = {NULL, "job.sbatch", "", "dir/a b:c.sh"};
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++)
        for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
            for (int sev = S2R_SEV_NOTE; sev <= S2R_SEV_ERROR; sev++)
                check(files[f], lines[l], (s2r_severity)sev,
                      "--mem=64G: 100% of \"x\" %s");
    check("f", 3, S2R_SEV_WARNING, "");
}

/* s2r_diags_add keeps the file and option it was given, and the text */
static void test_diags__add_then_format(void **state)
{
    (void)state;
    s2r_diags d = {0};
    assert_int_equal(s2r_diags_add(&d, S2R_SEV_WARNING, "job.sh", 4, "--gres",
                                   "type '%s' of %d", "a100", 2),
                     S2R_OK);
    char *got = s2r_diag_format(&d.v[0]);
    assert_string_equal(got, "job.sh:4: warning: type 'a100' of 2");
    assert_string_equal(d.v[0].option, "--gres");
    free(got);
    s2r_diags_clear(&d);
}

static int vadd(s2r_diags *d, size_t max_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s2r_diags_vadd(d, S2R_SEV_NOTE, NULL, 0, NULL, max_len, fmt, ap);
    va_end(ap);
    return rc;
}

/* s2r_diags_vadd keeps what vsnprintf into max_len + 1 bytes keeps, for
 * messages shorter and longer than its 512-byte stack buffer */
static void test_diags__vadd_cut(void **state)
{
    (void)state;
    char arg[3000];
    for (size_t i = 0; i < sizeof(arg) - 1; i++)
        arg[i] = (char)('a' + i % 26);
    arg[sizeof(arg) - 1] = '\0';
    const size_t lens[] = {0, 1, 500, 511, 512, 513, 1023, 1024, 2999};
    const size_t caps[] = {0, 1, 10, 511, 512, 1023, 5000};
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
            s2r_diags d = {0};
            assert_int_equal(vadd(&d, caps[c], "<%.*s>", (int)lens[l], arg),
                             S2R_OK);
            char want[3100];
            snprintf(want, caps[c] ? caps[c] + 1 : sizeof(want), "<%.*s>",
                     (int)lens[l], arg);
            assert_string_equal(d.v[0].message, want);
            s2r_diags_clear(&d);
        }
    }
}

/* a message reads as snprintf writes it, for every conversion messages
 * use and for the ones left to vsnprintf */
#define AS_PRINTF(...)                                                    \
    do {                                                                  \
        s2r_diags d = {0};                                                \
        assert_int_equal(s2r_diags_add(&d, S2R_SEV_NOTE, NULL, 0, NULL,    \
                                       __VA_ARGS__),                      \
                         S2R_OK);                                         \
        char want[4000];                                                  \
        snprintf(want, sizeof(want), __VA_ARGS__);                        \
        assert_string_equal(d.v[0].message, want);                        \
        s2r_diags_clear(&d);                                              \
    } while (0)

static void test_diags__conversions_as_printf(void **state)
{
    (void)state;
    char *volatile null = NULL; /* glibc writes "(null)" */
    const long long lls[] = {0, 1, -1, 9, 10, -10, 12345, LLONG_MAX,
                             LLONG_MIN, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof(lls) / sizeof(lls[0]); i++) {
        long long v = lls[i];
        AS_PRINTF("%d|%u|%ld|%lu|%lld|%llu|%zu", (int)v, (unsigned)v,
                  (long)v, (unsigned long)v, v, (unsigned long long)v,
                  (size_t)v);
        AS_PRINTF("%" PRId64 " s, %%d %c%c", (int64_t)v, 'x', '%');
    }
    AS_PRINTF("--%s=%s: '%.*s' %.*s|%.*s", "gres", "gpu:a100:2", 4, "a100x",
              -1, "whole", 0, "none");
    AS_PRINTF("%s", "");
    AS_PRINTF("no conversion, 100%% plain");
    /* left to vsnprintf */
    AS_PRINTF("[%s] [%.3s]", null, null);
    AS_PRINTF("%5d|%-4s|%x|%.2f|%zd|%hd", 42, "ab", 255, 1.5, (ssize_t)-3,
              (short)7);
    /* ... after plain text and conversions already written */
    AS_PRINTF("--%s=%s then %5d and %s", "mem", "0", 42, "more");
    AS_PRINTF("%d%% of %s is %s, %lu%x", -3, "all", null, 9ul, 255u);
    AS_PRINTF("%.*s|%c|%zu|%.*d", 3, "abcdef", 'z', (size_t)5, 2, 7);
    /* around the stack buffer */
    char arg[1500];
    memset(arg, 'q', sizeof(arg) - 1);
    arg[sizeof(arg) - 1] = '\0';
    for (size_t n = 500; n < 520; n++)
        AS_PRINTF("%d:%.*s:%s", 7, (int)n, arg, "end");
    AS_PRINTF("%s%s", arg, arg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diags__text_as_printf),
        cmocka_unit_test(test_diags__add_then_format),
        cmocka_unit_test(test_diags__vadd_cut),
        cmocka_unit_test(test_diags__conversions_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
