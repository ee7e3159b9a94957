/* job_fixture.h: the fixture of the tests that parse a batch script
 * (test_body*.c): the job, its diagnostics and the site configuration it
 * is parsed with. One test file includes it; every name is static. */
#ifndef S2R_TEST_JOB_FIXTURE_H
#define S2R_TEST_JOB_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>

typedef struct fixture {
    s2r_job job;
    s2r_diags d;
    s2r_config cfg;
} fixture;

static fixture F;

/* F empty, with the built-in configuration */
static inline void fixture_reset(void)
{
    memset(&F, 0, sizeof(F));
    s2r_config_defaults(&F.cfg);
}

/* F's job, diagnostics and configuration freed */
static inline void fixture_free(void)
{
    s2r_job_free(&F.job);
    s2r_diags_clear(&F.d);
    s2r_config_free(&F.cfg);
}

/* @p script parsed into F.job: s2r_job_parse()'s status */
static inline int parse(const char *script)
{
    return s2r_job_parse(&F.job, "job.sh", script, strlen(script), &F.cfg,
                         &F.d);
}

/* @p text (@p len bytes) parsed from a copy of exactly that size, with no
 * NUL after it, as a script read from a file is: what is read past its
 * end is caught (ASan). s2r_job_parse()'s status. */
static inline int parse_exact(const char *text, size_t len)
{
    char *exact = malloc(len);
    if (!exact)
        return -1;
    memcpy(exact, text, len);
    int rc = s2r_job_parse(&F.job, "job.sh", exact, len, &F.cfg, &F.d);
    free(exact);
    return rc;
}

#endif
