/* test_config_file.c: s2r_ini_read() on files of every size: a small
 * site file, one larger than the first read, one of exactly the 1 MiB
 * limit, one past it, an empty one and one holding a NUL byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define INI_MAX (1024 * 1024)

static char path[64];

static void write_file(const char *text, size_t len)
{
    snprintf(path, sizeof(path), "/tmp/s2r-test-config-file-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* "[storage]\n/p0 = pvc:c0\n..." (at most 500 keys), then comment lines
 * up to exactly @p len bytes. */
static char *keys_of_size(size_t len, size_t *n_keys)
{
    char *t = malloc(len + 1);
    assert_non_null(t);
    size_t o = (size_t)snprintf(t, len + 1, "[storage]\n");
    size_t k = 0;
    while (k < 500) {
        char line[64];
        int n = snprintf(line, sizeof(line), "/p%zu = pvc:c%zu\n", k, k);
        if (o + (size_t)n + 3 > len)
            break;
        memcpy(t + o, line, (size_t)n);
        o += (size_t)n;
        k++;
    }
    while (o < len) {
        size_t n = len - o > 80 ? 80 : len - o;
        t[o] = ';';
        memset(t + o + 1, 'x', n - 1);
        t[o + n - 1] = '\n';
        o += n;
    }
    t[o] = '\0';
    *n_keys = k;
    return t;
}

static void read_keys(size_t len)
{
    size_t n_keys = 0;
    char *text = keys_of_size(len, &n_keys);
    assert_int_equal(strlen(text), len);
    write_file(text, len);
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    assert_int_equal(s2r_ini_read(&ini, path, &d), S2R_OK);
    const s2r_ini_section *sec = s2r_ini_section_find(&ini, "storage");
    assert_non_null(sec);
    assert_int_equal(sec->n, n_keys);
    char last[32];
    snprintf(last, sizeof(last), "/p%zu", n_keys - 1);
    assert_non_null(s2r_ini_entry_find(sec, last));
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
    unlink(path);
    free(text);
}

static void test_config_file__every_size_reads_whole(void **state)
{
    (void)state;
    /* below, at and around the first read, and the largest accepted */
    static const size_t sizes[] = {64, 4095, 4096, 4097, 10000, 70000,
                                   INI_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        read_keys(sizes[i]);
}

static void test_config_file__past_the_limit_is_refused(void **state)
{
    (void)state;
    size_t n_keys;
    char *text = keys_of_size(INI_MAX + 1, &n_keys);
    write_file(text, INI_MAX + 1);
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    assert_int_equal(s2r_ini_read(&ini, path, &d), S2R_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, path);
    assert_non_null(strstr(d.v[0].message, "larger than 1 MiB"));
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
    unlink(path);
    free(text);
}

static void test_config_file__empty_and_nul(void **state)
{
    (void)state;
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    write_file("", 0);
    assert_int_equal(s2r_ini_read(&ini, path, &d), S2R_OK);
    assert_int_equal(ini.n, 0);
    s2r_ini_free(&ini);
    unlink(path);

    memset(&ini, 0, sizeof(ini));
    write_file("[runai]\nproject = a\0b\n", 23);
    assert_int_equal(s2r_ini_read(&ini, path, &d), S2R_EINVAL);
    assert_non_null(strstr(d.v[0].message, "NUL bytes"));
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
    unlink(path);
}

/* fopen() opens a folder: it is refused, not read as an empty file */
static void test_config_file__a_directory_is_refused(void **state)
{
    (void)state;
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    assert_int_equal(s2r_ini_read(&ini, "/", &d), S2R_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, "/");
    assert_non_null(strstr(d.v[0].message, "is a directory"));
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_file__every_size_reads_whole),
        cmocka_unit_test(test_config_file__past_the_limit_is_refused),
        cmocka_unit_test(test_config_file__empty_and_nul),
        cmocka_unit_test(test_config_file__a_directory_is_refused),
    };
    return cmocka_run_group_tests_name("config_file", tests, NULL, NULL);
}
