/* test_corpus_bodies.c: every bash body s2r writes for the shared corpus
 * (../shared/corpus beside the source tree) is valid bash (`bash -n`), and
 * keeps every command token of the facts. Skipped when the corpus is not
 * there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <s2r/s2r.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    *len = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static int bash_n(const char *body)
{
    char path[] = "/tmp/s2r-body-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t n = strlen(body);
    if (write(fd, body, n) != (ssize_t)n) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "bash -n %s 2>/dev/null", path);
    int rc = system(cmd);
    unlink(path);
    return rc;
}

static void test_corpus_bodies__bash_accepts_every_body(void **state)
{
    (void)state;
    const char *src = getenv("S2R_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/../shared/corpus", src ? src : ".");
    DIR *d = opendir(dir);
    if (!d)
        skip();
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 7 || strcmp(e->d_name + l - 7, ".sbatch"))
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *buf = read_file(path, &len);
        assert_non_null(buf);
        s2r_config cfg;
        s2r_config_defaults(&cfg);
        s2r_diags diags = {0};
        s2r_job job;
        if (s2r_job_parse(&job, path, buf, len, &cfg, &diags) == S2R_OK) {
            if (job.run_shell) {
                if (bash_n(job.run_shell) != 0)
                    fail_msg("%s: bash -n refuses the body:\n%s", e->d_name,
                             job.run_shell);
                /* a server's address and port options are rewritten */
                for (size_t i = 0; i < (job.server ? 1 : job.command_tokens.n); i++)
                    if (!strstr(job.run_shell, job.command_tokens.v[i]))
                        fail_msg("%s: token '%s' missing from the body",
                                 e->d_name, job.command_tokens.v[i]);
            }
            checked++;
        }
        s2r_job_free(&job);
        s2r_diags_clear(&diags);
        s2r_config_free(&cfg);
        free(buf);
    }
    closedir(d);
    assert_true(checked > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_bodies__bash_accepts_every_body),
    };
    return cmocka_run_group_tests_name("corpus_bodies", tests, NULL, NULL);
}
