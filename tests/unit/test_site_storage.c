/* test_site_storage.c: the [storage] map of s2r.ini (core/config
 * storage.c): every kind of entry, and for every line that does not parse
 * an error naming the file, the line and the key; the [site] identity
 * keys and [qos] values; `s2r check-config` reports the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

/* Apply @p text as the site file "site.ini"; the diagnostics in @p d. */
static int apply(s2r_config *cfg, s2r_diags *d, const char *text)
{
    s2r_ini ini = {0};
    s2r_config_defaults(cfg);
    int rc = s2r_ini_read_string(&ini, "site.ini", text, d);
    if (rc == S2R_OK)
        rc = s2r_config_apply(cfg, &ini, d);
    s2r_ini_free(&ini);
    return rc;
}

static void test_storage__every_kind(void **state)
{
    (void)state;
    s2r_config cfg;
    s2r_diags d = {0};
    assert_int_equal(apply(&cfg, &d,
                           "[storage]\n"
                           "/project = pvc:project\n"
                           "/home/ = nfs:nfs.example.org:/export/home\n"
                           "/datasets = hostpath:/mnt//datasets/,ro\n"
                           "/scratch = pvc:scratch.fast,rw\n"
                           "/models = datasource:pvc:weights\n"
                           "/refs = datasource:refs\n"),
                     S2R_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(cfg.n_volumes, 6);
    const s2r_volume *v = cfg.volumes;
    assert_int_equal(v[0].kind, S2R_VOL_PVC);
    assert_string_equal(v[0].path, "/project");
    assert_string_equal(v[0].source, "project");
    assert_false(v[0].read_only);
    assert_int_equal(v[0].line, 2);
    assert_int_equal(v[1].kind, S2R_VOL_NFS);
    assert_string_equal(v[1].path, "/home");
    assert_string_equal(v[1].server, "nfs.example.org");
    assert_string_equal(v[1].source, "/export/home");
    assert_int_equal(v[2].kind, S2R_VOL_HOSTPATH);
    assert_string_equal(v[2].source, "/mnt/datasets");
    assert_true(v[2].read_only);
    assert_false(v[3].read_only);
    assert_int_equal(v[4].kind, S2R_VOL_DATASOURCE);
    assert_string_equal(v[4].server, "pvc");
    assert_string_equal(v[4].source, "weights");
    assert_null(v[5].server);
    /* the raw map stays for the readers of keys (s2r migrate) */
    assert_int_equal(cfg.n_storage, 6);
    /* the longest entry covering a path wins */
    assert_ptr_equal(s2r_volume_for(cfg.volumes, cfg.n_volumes,
                                    "/datasets/imagenet"), &v[2]);
    assert_null(s2r_volume_for(cfg.volumes, cfg.n_volumes, "/database"));
    s2r_config_free(&cfg);
    s2r_diags_clear(&d);
}

/* one bad line: an error at line 2 of site.ini naming the key */
static void assert_bad(const char *line, const char *why)
{
    char text[512];
    snprintf(text, sizeof(text), "[storage]\n%s\n/ok = pvc:ok\n", line);
    s2r_config cfg;
    s2r_diags d = {0};
    assert_int_equal(apply(&cfg, &d, text), S2R_EINVAL);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 1);
    const s2r_diag *e = &d.v[0];
    assert_string_equal(e->file, "site.ini");
    assert_int_equal(e->line, 2);
    assert_non_null(e->option);
    if (!strstr(e->message, "[storage] ") || !strstr(e->message, why))
        fail_msg("%s: %s", line, e->message);
    /* the good entries are kept */
    assert_int_equal(cfg.n_volumes, 1);
    s2r_config_free(&cfg);
    s2r_diags_clear(&d);
}

static void test_storage__every_bad_line(void **state)
{
    (void)state;
    assert_bad("project = pvc:p", "absolute path");
    assert_bad("/a/../b = pvc:p", "without '..'");
    assert_bad("/x = ", "no storage given");
    assert_bad("/x = s3:bucket", "pvc:CLAIM, nfs:SERVER:EXPORT");
    assert_bad("/x = pvc:", "write pvc:CLAIM");
    assert_bad("/x = pvc:Big_Claim", "write pvc:CLAIM");
    assert_bad("/x = nfs:server", "write nfs:SERVER:EXPORT");
    assert_bad("/x = nfs::/export", "write nfs:SERVER:EXPORT");
    assert_bad("/x = nfs:server:export", "write nfs:SERVER:EXPORT");
    assert_bad("/x = hostpath:relative", "write hostpath:PATH");
    assert_bad("/x = pvc:p,readonly", "unknown option");
    assert_bad("/x = datasource:", "datasource:TYPE:NAME");
    assert_bad("/x = datasource:bucket:name", "data source type");
    assert_bad("/x = datasource:pvc:w,ro", "cannot change");

    /* the same path twice: the second entry is the error */
    s2r_config cfg;
    s2r_diags d = {0};
    assert_int_equal(apply(&cfg, &d, "[storage]\n/ok = pvc:a\n"
                                     "/ok/ = pvc:b\n"), S2R_EINVAL);
    assert_int_equal(d.v[0].line, 3);
    assert_non_null(strstr(d.v[0].message, "same path as the entry of "
                                           "line 2"));
    assert_int_equal(cfg.n_volumes, 1);
    s2r_config_free(&cfg);
    s2r_diags_clear(&d);
}

static void test_site__identity_and_qos(void **state)
{
    (void)state;
    s2r_config cfg;
    s2r_diags d = {0};
    assert_int_equal(apply(&cfg, &d,
                           "[site]\nhome = /home/%u\nrun_as = user\n"
                           "user = user1\nuid = 1001\ngid = 100\n"
                           "groups = 2000,2001\nslurm_log = false\n"
                           "[qos]\nscavenger = very-low\nurgent = high\n"
                           "[accounts]\nlab-a = team-a\n"),
                     S2R_OK);
    assert_string_equal(cfg.run_as, "user");
    assert_string_equal(cfg.user, "user1");
    assert_int_equal(cfg.uid, 1001);
    assert_int_equal(cfg.gid, 100);
    assert_string_equal(cfg.groups, "2000,2001");
    assert_true(cfg.no_slurm_log);
    assert_string_equal(s2r_config_map(cfg.qos, cfg.n_qos, "urgent"), "high");
    s2r_config_free(&cfg);
    s2r_diags_clear(&d);

    assert_int_equal(apply(&cfg, &d,
                           "[site]\nrun_as = root\nuid = -4\n"
                           "groups = 10;11\n[qos]\nnormal = urgent\n"),
                     S2R_EINVAL);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 4);
    int lines[] = {2, 3, 4, 6};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(d.v[i].line, lines[i]);
    assert_non_null(strstr(d.v[3].message, "[qos] normal = urgent"));
    assert_null(s2r_config_map(cfg.qos, cfg.n_qos, "normal"));
    assert_int_equal(cfg.uid, -1);
    s2r_config_free(&cfg);
    s2r_diags_clear(&d);
}

/* `s2r check-config FILE` reports a bad [storage] line with file and line */
static void test_storage__check_config_reports(void **state)
{
    (void)state;
    const char *b = getenv("S2R_BINARY_DIR");
    char path[] = "/tmp/s2r-storage-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[storage]\n/data = pvc:data\n/scratch = tape:x\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "%s/s2r check-config %s 2>&1",
             b ? b : "build", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(path);
    assert_int_not_equal(st, 0);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: error: [storage] /scratch = tape:x",
             path);
    if (!strstr(out, want))
        fail_msg("check-config said: %s", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage__every_kind),
        cmocka_unit_test(test_storage__every_bad_line),
        cmocka_unit_test(test_site__identity_and_qos),
        cmocka_unit_test(test_storage__check_config_reports),
    };
    return cmocka_run_group_tests_name("site_storage", tests, NULL, NULL);
}
