/* test_options.c: option parsing, table checks, binding, help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define assert_has(hay, needle)                                          \
    do {                                                                 \
        if (!strstr((hay), (needle)))                                    \
            fail_msg("'%s' not found in: %s", (needle), (hay));          \
    } while (0)

static s2r_option opt(uint32_t type, int64_t min, int64_t max)
{
    s2r_option o = {"x", type, 0, NULL, min, max, NULL, S2R_OPT_NO_BIND,
                    "X."};
    return o;
}

static void test_options__parse_types(void **state)
{
    (void)state;
    s2r_optval v;
    char msg[200];
    s2r_option o = opt(S2R_OPT_SIZE, 0, 0);
    assert_int_equal(s2r_option_parse(&o, "10K", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 10240);
    assert_int_equal(s2r_option_parse(&o, "4MiB", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 4 << 20);
    assert_int_equal(s2r_option_parse(&o, "4X", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    assert_has(msg, "'4X' is not a size");
    o = opt(S2R_OPT_DURATION, 0, 0);
    assert_int_equal(s2r_option_parse(&o, "2s", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 2000);
    assert_int_equal(s2r_option_parse(&o, "1500", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 1500);
    assert_int_equal(s2r_option_parse(&o, "5m", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 300000);
    o = opt(S2R_OPT_BOOL, 0, 0);
    assert_int_equal(s2r_option_parse(&o, "Yes", &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.i, 1);
    assert_int_equal(s2r_option_parse(&o, "maybe", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    o = opt(S2R_OPT_INT, 1, 10);
    assert_int_equal(s2r_option_parse(&o, "11", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    assert_has(msg, "11 is outside 1..10");
    assert_int_equal(s2r_option_parse(&o, "3x", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    assert_has(msg, "not an integer");
    o = opt(S2R_OPT_DOUBLE, 0, 1);
    assert_int_equal(s2r_option_parse(&o, "0.25", &v, msg, sizeof(msg)), 0);
    assert_true(v.d == 0.25);
    static const char *const e[] = {"a", "b", NULL};
    o = opt(S2R_OPT_ENUM, 0, 0);
    o.enum_values = e;
    assert_int_equal(s2r_option_parse(&o, "c", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    assert_has(msg, "'c' is not one of: a, b");
    /* a secret's value never appears in a message */
    o = opt(S2R_OPT_INT, 0, 0);
    o.flags = S2R_OPT_F_SECRET;
    assert_int_equal(s2r_option_parse(&o, "hunter2", &v, msg, sizeof(msg)),
                     S2R_EINVAL);
    assert_null(strstr(msg, "hunter2"));
}

struct conf {
    int64_t n;
    const char *s;
};

static void check_bad(const s2r_option *t, const char *want)
{
    char msg[300] = "";
    assert_int_equal(s2r_options_check_table(t, sizeof(struct conf), msg,
                                             sizeof(msg)),
                     S2R_EINVAL);
    assert_has(msg, want);
}

static void test_options__check_table(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    const s2r_option good[] = {
        {"n", S2R_OPT_INT, 0, "1", 0, 5, NULL, S2R_OPT_OFFSET(struct conf, n),
         "N."},
        {"s", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
         S2R_OPT_OFFSET(struct conf, s), "S."},
        S2R_OPTION_END};
    assert_int_equal(s2r_options_check_table(good, sizeof(struct conf), NULL,
                                             0),
                     S2R_OK);
    const s2r_option dup[] = {good[0], good[0], S2R_OPTION_END};
    check_bad(dup, "option 1 'n': duplicate name (also option 0)");
    s2r_option t[2] = {good[0], S2R_OPTION_END};
    t[0].type = 99;
    check_bad(t, "option 0 'n': type 99, expected 1..8");
    t[0] = good[0];
    t[0].offset = sizeof(struct conf);
    check_bad(t, "past config_size");
    t[0] = good[0];
    t[0].default_value = "9";
    check_bad(t, "option 0 'n': default: 9 is outside 0..5");
    t[0] = good[0];
    t[0].name = "Bad-Name";
    check_bad(t, "not lower_snake_case");
    t[0] = good[0];
    t[0].name = "plugin";
    check_bad(t, "'plugin' is reserved");
    t[0] = good[0];
    t[0].type = S2R_OPT_ENUM;
    t[0].enum_values = none;
    t[0].default_value = NULL;
    check_bad(t, "enum without enum_values");
    t[0] = good[1];
    t[0].type = S2R_OPT_INT;
    t[0].offset = S2R_OPT_NO_BIND;
    check_bad(t, "secret option of type int, expected string");
    t[0] = good[0];
    t[0].description = NULL;
    check_bad(t, "no description");
}

static void test_options__apply_binds_and_reports(void **state)
{
    (void)state;
    static const char *const modes[] = {"fast", "slow", NULL};
    struct c2 {
        int64_t n;
        const char *mode;
        const char *const *list;
        int32_t on;
        double d;
    };
    const s2r_option t[] = {
        {"n", S2R_OPT_INT, S2R_OPT_F_REQUIRED, NULL, 0, 0, NULL,
         S2R_OPT_OFFSET(struct c2, n), "N."},
        {"mode", S2R_OPT_ENUM, 0, "fast", 0, 0, modes,
         S2R_OPT_OFFSET(struct c2, mode), "Mode."},
        {"list", S2R_OPT_LIST, 0, " a ,b,, c ", 0, 0, NULL,
         S2R_OPT_OFFSET(struct c2, list), "List."},
        {"on", S2R_OPT_BOOL, 0, "off", 0, 0, NULL,
         S2R_OPT_OFFSET(struct c2, on), "On."},
        {"d", S2R_OPT_DOUBLE, 0, "1.5", 0, 0, NULL,
         S2R_OPT_OFFSET(struct c2, d), "D."},
        S2R_OPTION_END};
    s2r_ini_entry e[] = {{(char *)"n", (char *)"42", 3},
                         {(char *)"on", (char *)"true", 4}};
    s2r_ini_section sec = {(char *)"provider.x", 2, e, 2, 2};
    s2r_diags d = {0};
    s2r_binding *b = NULL;
    assert_int_equal(s2r_options_apply(t, sizeof(struct c2), &sec, "f.ini",
                                       "plugin 'x'", NULL, &d, &b),
                     S2R_OK);
    const struct c2 *c = b->config;
    assert_int_equal(c->n, 42);
    assert_string_equal(c->mode, "fast");
    assert_ptr_equal(c->mode, modes[0]);
    assert_string_equal(c->list[0], "a");
    assert_string_equal(c->list[1], "b");
    assert_string_equal(c->list[2], "c");
    assert_null(c->list[3]);
    assert_int_equal(c->on, 1);
    assert_true(c->d == 1.5);
    s2r_binding_free(b);

    /* all problems at once: unknown key (with the valid ones), bad value,
     * missing required key */
    s2r_ini_entry bad[] = {{(char *)"mode", (char *)"medium", 3},
                           {(char *)"colour", (char *)"red", 4}};
    s2r_ini_section sb = {(char *)"provider.x", 2, bad, 2, 2};
    assert_int_equal(s2r_options_apply(t, sizeof(struct c2), &sb, "f.ini",
                                       "plugin 'x'", NULL, &d, &b),
                     S2R_EINVAL);
    assert_null(b);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 3);
    char all[2048] = "";
    for (size_t i = 0; i < d.n; i++) {
        char *line = s2r_diag_format(&d.v[i]);
        strncat(all, line, sizeof(all) - strlen(all) - 2);
        strcat(all, "\n");
        free(line);
    }
    assert_has(all, "f.ini:4: error: [provider.x] colour: unknown key for "
                    "plugin 'x'; valid keys: n, mode, list, on, d");
    assert_has(all, "f.ini:3: error: [provider.x] mode: 'medium' is not one "
                    "of: fast, slow");
    assert_has(all, "f.ini:2: error: [provider.x] missing required key 'n'");
    s2r_diags_clear(&d);
}

static void test_options__help_hides_secrets(void **state)
{
    (void)state;
    const s2r_option t[] = {
        {"token", S2R_OPT_STRING, S2R_OPT_F_SECRET | S2R_OPT_F_REQUIRED, NULL,
         0, 0, NULL, S2R_OPT_NO_BIND, "The API token."},
        {"retries", S2R_OPT_INT, 0, "3", 0, 9, NULL, S2R_OPT_NO_BIND,
         "Retries."},
        S2R_OPTION_END};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    s2r_options_help(f, t);
    fclose(f);
    assert_has(buf, "token");
    assert_has(buf, "required secret (env:NAME or file:PATH)");
    assert_has(buf, "The API token.");
    assert_has(buf, "default: 3 range: 0..9");
    free(buf);
    assert_string_equal(s2r_options_display_value(&t[0], "literal"),
                        "<redacted>");
    assert_string_equal(s2r_options_display_value(&t[0], "env:TOKEN"),
                        "env:TOKEN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__parse_types),
        cmocka_unit_test(test_options__check_table),
        cmocka_unit_test(test_options__apply_binds_and_reports),
        cmocka_unit_test(test_options__help_hides_secrets),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
