/* Unit tests for the sbatch value parsers (core/slurm/values.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "slurm/slurm.h"

/* ---- --time ---- */

static int64_t secs(const char *s)
{
    int64_t v = -12345;
    assert_int_equal(s2r_slurm__parse_time(s, &v), 0);
    return v;
}

static void bad_time(const char *s)
{
    int64_t v;
    assert_int_equal(s2r_slurm__parse_time(s, &v), S2R_EINVAL);
}

static void test_slurm_values__time_minutes(void **state)
{
    (void)state;
    assert_int_equal(secs("90"), 5400);
    assert_int_equal(secs("45"), 2700);
    assert_int_equal(secs("1"), 60);
}

static void test_slurm_values__time_min_sec(void **state)
{
    (void)state;
    assert_int_equal(secs("1:30"), 120);    /* M:S, not H:M; whole minutes,
                                               rounded up, as slurmctld */
    assert_int_equal(secs("02:00"), 120);   /* HH:MM reads as MM:SS */
    assert_int_equal(secs("0:30"), 60);
    assert_int_equal(secs("0:0:1"), 60);
    assert_int_equal(secs("20:00"), 1200);
}

static void test_slurm_values__time_h_m_s(void **state)
{
    (void)state;
    assert_int_equal(secs("04:00:00"), 14400);
    assert_int_equal(secs("11:59:00"), 43140);
    assert_int_equal(secs("0:240:0"), 14400); /* fields not range-checked */
    assert_int_equal(secs("1:90:00"), 9000);
    assert_int_equal(secs("00:30:00"), 1800);
}

static void test_slurm_values__time_days(void **state)
{
    (void)state;
    assert_int_equal(secs("2-12"), 216000);    /* D-H */
    assert_int_equal(secs("1-0"), 86400);
    assert_int_equal(secs("2-"), 172800);      /* accepted as two days */
    assert_int_equal(secs("2-00"), 172800);
    assert_int_equal(secs("1-06:30"), 109800); /* D-H:M */
    assert_int_equal(secs("3-00:00:00"), 259200);
    assert_int_equal(secs("0-06:00:00"), 21600);
    assert_int_equal(secs("1-2:3:4"), 93840); /* 93784 s, rounded up */
}

static void test_slurm_values__time_unlimited(void **state)
{
    (void)state;
    assert_int_equal(secs("UNLIMITED"), S2R_TIME_UNLIMITED);
    assert_int_equal(secs("unlimited"), S2R_TIME_UNLIMITED);
    assert_int_equal(secs("Infinite"), S2R_TIME_UNLIMITED);
    assert_int_equal(secs("-1"), S2R_TIME_UNLIMITED);
    assert_int_equal(secs("0"), S2R_TIME_UNLIMITED);
    assert_int_equal(secs("00:00:00"), S2R_TIME_UNLIMITED);
}

static void test_slurm_values__time_invalid(void **state)
{
    (void)state;
    bad_time("abc");
    bad_time("");
    bad_time("2h");
    bad_time("1.5");
    bad_time("1:2:3:4");     /* three colons */
    bad_time("1-2-3");       /* two dashes */
    bad_time("1:2-3");       /* ':' before '-' */
    bad_time("1 :30");       /* spaces */
    bad_time("-5");
    bad_time(":30");
    bad_time("99999999999"); /* overflow */
}

/* ---- memory ---- */

static int64_t mib(const char *s)
{
    int64_t v = -12345;
    assert_int_equal(s2r_slurm__parse_mem(s, &v), 0);
    return v;
}

static void bad_mem(const char *s)
{
    int64_t v;
    assert_int_equal(s2r_slurm__parse_mem(s, &v), S2R_EINVAL);
}

static void test_slurm_values__mem_units(void **state)
{
    (void)state;
    assert_int_equal(mib("32G"), 32768);
    assert_int_equal(mib("32gb"), 32768);
    assert_int_equal(mib("32GB"), 32768);
    assert_int_equal(mib("32768"), 32768); /* default MiB */
    assert_int_equal(mib("512M"), 512);
    assert_int_equal(mib("512mb"), 512);
    assert_int_equal(mib("12000M"), 12000);
    assert_int_equal(mib("1T"), 1048576);
    assert_int_equal(mib("1tb"), 1048576);
    assert_int_equal(mib("0"), 0);
}

static void test_slurm_values__mem_kib_rounds_up(void **state)
{
    (void)state;
    assert_int_equal(mib("1K"), 1);
    assert_int_equal(mib("1024K"), 1);
    assert_int_equal(mib("1025k"), 2);
    assert_int_equal(mib("0K"), 0);
}

static void test_slurm_values__mem_invalid(void **state)
{
    (void)state;
    bad_mem("1.5G");
    bad_mem("32Gi");
    bad_mem("32GiB");
    bad_mem("1P");
    bad_mem("32 G");
    bad_mem("-1");
    bad_mem("");
    bad_mem("G");
    bad_mem("32GBB");
}

static void test_slurm_values__mem_too_big(void **state)
{
    (void)state;
    int64_t v;
    /* 2^40 MiB (1 EiB) is the most s2r takes; beyond, no node holds it,
     * and no spelling wraps around to a small number */
    assert_int_equal(mib("1048576T"), (int64_t)1 << 40);
    assert_int_equal(s2r_slurm__parse_mem("1048577T", &v), S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_mem("9223372036854775807", &v),
                     S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_mem("99999999999999999999999G", &v),
                     S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_mem("18014398509481984T", &v),
                     S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_mem("99999999999999999999999K", &v),
                     S2R_ETOOBIG);
}

/* ---- integers and GRES counts ---- */

static void test_slurm_values__int(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(s2r_slurm__parse_int("8", true, &v), 0);
    assert_int_equal(v, 8);
    assert_int_equal(s2r_slurm__parse_int("0", false, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(s2r_slurm__parse_int("0", true, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_int("-2", true, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_int("4x", true, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_int("=2", true, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_int("", true, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_int("3000000000", true, &v),
                     S2R_EINVAL);
}

static void test_slurm_values__gres_count_multipliers(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(s2r_slurm__parse_gres_count("2", 1, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(s2r_slurm__parse_gres_count("2k", 2, &v), 0);
    assert_int_equal(v, 2048);
    assert_int_equal(s2r_slurm__parse_gres_count("1M", 2, &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(s2r_slurm__parse_gres_count("2kb", 3, &v), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(s2r_slurm__parse_gres_count("1KiB", 4, &v), 0);
    assert_int_equal(v, 1024);
    /* past 2^31-1 (no node holds it): refused, not wrapped */
    assert_int_equal(s2r_slurm__parse_gres_count("1p", 2, &v), S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_gres_count("2147483648", 10, &v),
                     S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_gres_count("2147483647", 10, &v), 0);
    assert_int_equal(v, 2147483647);
    assert_int_equal(
        s2r_slurm__parse_gres_count("99999999999999999999", 20, &v),
        S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_gres_count("0.5", 3, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_gres_count("2x", 2, &v), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_gres_count("a1", 2, &v), S2R_EINVAL);
}

/* ---- --gres ---- */

static int64_t gres(const char *s, char *type, size_t cap)
{
    int64_t n = -1;
    const char *t = (const char *)1;
    size_t tl = 99;
    assert_int_equal(s2r_slurm__parse_gres(s, &n, &t, &tl), 0);
    if (t) {
        assert_true(tl < cap);
        memcpy(type, t, tl);
        type[tl] = '\0';
    } else {
        type[0] = '\0';
    }
    return n;
}

static void test_slurm_values__gres_forms(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(gres("gpu", t, sizeof t), 1);
    assert_string_equal(t, "");
    assert_int_equal(gres("gpu:1", t, sizeof t), 1);
    assert_int_equal(gres("gpu:8", t, sizeof t), 8);
    assert_string_equal(t, "");
    assert_int_equal(gres("gpu:a100:4", t, sizeof t), 4);
    assert_string_equal(t, "a100");
    assert_int_equal(gres("gpu:a100", t, sizeof t), 1);
    assert_string_equal(t, "a100");
    assert_int_equal(gres("gres/gpu:2", t, sizeof t), 2);
}

static void test_slurm_values__gres_mig_and_fraction_are_types(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(gres("gpu:1g.10gb:2", t, sizeof t), 2);
    assert_string_equal(t, "1g.10gb");
    assert_int_equal(gres("gpu:0.5", t, sizeof t), 1);
    assert_string_equal(t, "0.5");
}

static void test_slurm_values__gres_lists_sum_gpus(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(gres("gpu:tesla:1,gpu:k80:1", t, sizeof t), 2);
    assert_string_equal(t, "tesla");
    assert_int_equal(gres("gpu:a100:2,shard:1", t, sizeof t), 2);
    assert_int_equal(gres("mps:100", t, sizeof t), 0);
    assert_int_equal(gres("shard:2,gpu:3", t, sizeof t), 3);
}

static void test_slurm_values__gres_zero_and_none(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(gres("gpu:0", t, sizeof t), 0);
    assert_string_equal(t, "");
    assert_int_equal(gres("gpu:a100:0", t, sizeof t), 0);
    assert_string_equal(t, "");
    assert_int_equal(gres("none", t, sizeof t), 0);
    assert_int_equal(gres("NONE", t, sizeof t), 0);
    assert_int_equal(gres("gpu:2k", t, sizeof t), 2048);
}

static void test_slurm_values__gres_invalid(void **state)
{
    (void)state;
    int64_t n;
    assert_int_equal(s2r_slurm__parse_gres("gpu:", &n, NULL, NULL),
                     S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_gres("gpu::1", &n, NULL, NULL),
                     S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_gres(":1", &n, NULL, NULL), S2R_EINVAL);
    /* with two ':' the last field must be a count */
    assert_int_equal(s2r_slurm__parse_gres("gpu:a100:x", &n, NULL, NULL),
                     S2R_EINVAL);
    /* a count too large for any node, even one sbatch would read as a
     * type name because its digits overflow */
    assert_int_equal(s2r_slurm__parse_gres("gpu:99999999999999999999", &n,
                                           NULL, NULL), S2R_ETOOBIG);
    assert_int_equal(s2r_slurm__parse_gres("gpu:a100:4g", &n, NULL, NULL),
                     S2R_ETOOBIG);
}

static void test_slurm_values__gres_empty_entries_skipped(void **state)
{
    (void)state;
    char t[64];
    /* sbatch skips empty entries, and an empty value requests nothing */
    assert_int_equal(gres("gpu:1,", t, sizeof t), 1);
    assert_int_equal(gres(",gpu:2", t, sizeof t), 2);
    assert_int_equal(gres("", t, sizeof t), 0);
}

static void test_slurm_values__gres_last_count_per_type_wins(void **state)
{
    (void)state;
    char t[64];
    /* one record per GPU type: a later count replaces an earlier one */
    assert_int_equal(gres("gpu,gpu", t, sizeof t), 1);
    assert_int_equal(gres("gpu:1,gpu:1", t, sizeof t), 1);
    assert_int_equal(gres("gpu:a100:1,gpu:a100:2", t, sizeof t), 2);
    assert_string_equal(t, "a100");
    assert_int_equal(gres("gpu:a100:1,gpu:h100:1,gpu:a100:2", t, sizeof t),
                     3);
    /* a count of 0 drops the entry: it does not replace the earlier one */
    assert_int_equal(gres("gpu:a100:2,gpu:a100:0", t, sizeof t), 2);
}

/* ---- --gpus / --gpus-per-* ---- */

static void test_slurm_values__gpu_spec(void **state)
{
    (void)state;
    int64_t n;
    const char *t;
    size_t tl;
    assert_int_equal(s2r_slurm__parse_gpu_spec("2", &n, &t, &tl), 0);
    assert_int_equal(n, 2);
    assert_null(t);
    assert_int_equal(s2r_slurm__parse_gpu_spec("h100:16", &n, &t, &tl), 0);
    assert_int_equal(n, 16);
    assert_int_equal(tl, 4);
    assert_memory_equal(t, "h100", 4);
    assert_int_equal(s2r_slurm__parse_gpu_spec("a100:2,v100:1", &n, &t, &tl),
                     0);
    assert_int_equal(n, 3);
    assert_memory_equal(t, "a100", 4);
    assert_int_equal(s2r_slurm__parse_gpu_spec("a100", &n, &t, &tl), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s2r_slurm__parse_gpu_spec("", &n, &t, &tl), 0);
    assert_int_equal(n, 0);
    assert_int_equal(s2r_slurm__parse_gpu_spec("a100:", &n, &t, &tl),
                     S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_gpu_spec("a100:2,a100:4", &n, &t, &tl),
                     0);
    assert_int_equal(n, 4);
    /* a 20-digit count is out of range, not 0 GPUs or a type */
    assert_int_equal(
        s2r_slurm__parse_gpu_spec("99999999999999999999", &n, &t, &tl),
        S2R_ETOOBIG);
    assert_int_equal(
        s2r_slurm__parse_gpu_spec("9223372036854775807", &n, &t, &tl),
        S2R_ETOOBIG);
}

/* ---- --array ---- */

static void expect_array(const char *spec, const int32_t *want, size_t n,
                         int32_t throttle)
{
    s2r_array a;
    assert_int_equal(s2r_slurm__parse_array(spec, &a), 0);
    assert_int_equal(a.count, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(a.indices[i], want[i]);
    assert_int_equal(a.max_parallel, throttle);
    free(a.indices);
}

static void bad_array(const char *spec)
{
    s2r_array a;
    assert_int_equal(s2r_slurm__parse_array(spec, &a), S2R_EINVAL);
    assert_null(a.indices);
}

static void test_slurm_values__array_list_range_step(void **state)
{
    (void)state;
    const int32_t w1[] = {1, 3, 5, 6, 7, 10, 15, 20};
    expect_array("1,3,5-7,10-20:5", w1, 8, 0);
    const int32_t w2[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    expect_array("0-9", w2, 10, 0);
    const int32_t w3[] = {7};
    expect_array("7", w3, 1, 0);
    const int32_t w4[] = {0};
    expect_array("0-0", w4, 1, 0);
}

static void test_slurm_values__array_throttle(void **state)
{
    (void)state;
    const int32_t w1[] = {1, 2, 3};
    expect_array("[1-3]%2", w1, 3, 2);
    const int32_t w2[] = {1, 3, 5, 7, 20};
    expect_array("1-7:2,20%3", w2, 5, 3);
    const int32_t w3[] = {1, 3, 5};
    expect_array("1,3,5%2", w3, 3, 2);
    s2r_array a;
    assert_int_equal(s2r_slurm__parse_array("0-29%6", &a), 0);
    assert_int_equal(a.count, 30);
    assert_int_equal(a.indices[29], 29);
    assert_int_equal(a.max_parallel, 6);
    free(a.indices);
    /* %0 is no limit: slurmctld stores no throttle */
    const int32_t w4[] = {1, 2, 3, 4, 5};
    expect_array("1-5%0", w4, 5, 0);
}

static void test_slurm_values__array_unsorted_duplicates(void **state)
{
    (void)state;
    const int32_t w[] = {1, 2, 3, 5, 9};
    expect_array("9,3,1-3,5,2", w, 5, 0);
    const int32_t w2[] = {1, 2, 3};
    expect_array("[1,3,2]", w2, 3, 0);
    const int32_t w3[] = {0, 1000};
    expect_array("0,1000", w3, 2, 0);
}

static void test_slurm_values__array_invalid(void **state)
{
    (void)state;
    bad_array("");
    bad_array("5-1");       /* M < N */
    bad_array("1-10:0");    /* step >= 1 */
    bad_array("0-1001");    /* index < MaxArraySize (1001) */
    bad_array("1001");
    bad_array("-1");
    bad_array("a-b");
    bad_array("1-3%");
    bad_array("1-3%2%3");
    bad_array("1-3x");
    bad_array("1.5");
}

/* ---- --nodes ---- */

static void test_slurm_values__nodes_forms(void **state)
{
    (void)state;
    int64_t lo, hi;
    assert_int_equal(s2r_slurm__parse_nodes("4", &lo, &hi), 0);
    assert_int_equal(lo, 4);
    assert_int_equal(hi, 4);
    assert_int_equal(s2r_slurm__parse_nodes("2-8", &lo, &hi), 0);
    assert_int_equal(lo, 2);
    assert_int_equal(hi, 8);
    assert_int_equal(s2r_slurm__parse_nodes("1k", &lo, &hi), 0);
    assert_int_equal(lo, 1024);
    assert_int_equal(s2r_slurm__parse_nodes("1M", &lo, &hi), 0);
    assert_int_equal(lo, 1048576);
    assert_int_equal(s2r_slurm__parse_nodes("1,4,8", &lo, &hi), 0);
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 8);
    assert_int_equal(s2r_slurm__parse_nodes("8,2,4", &lo, &hi), 0);
    assert_int_equal(lo, 2);
    assert_int_equal(hi, 8);
    assert_int_equal(s2r_slurm__parse_nodes("1-15:4", &lo, &hi), 0);
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 13);
    assert_int_equal(s2r_slurm__parse_nodes("0", &lo, &hi), 0);
    assert_int_equal(lo, 0);
}

static void test_slurm_values__nodes_invalid(void **state)
{
    (void)state;
    int64_t lo, hi;
    assert_int_equal(s2r_slurm__parse_nodes("8-2", &lo, &hi), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_nodes("=2", &lo, &hi), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_nodes("two", &lo, &hi), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_nodes("", &lo, &hi), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_nodes("2x", &lo, &hi), S2R_EINVAL);
    assert_int_equal(s2r_slurm__parse_nodes("1,,4", &lo, &hi), S2R_EINVAL);
}

/* ---- --export ---- */

static void test_slurm_values__export_modes(void **state)
{
    (void)state;
    s2r_job job;
    memset(&job, 0, sizeof job);
    assert_int_equal(s2r_slurm__parse_export("ALL", &job), 0);
    assert_string_equal(job.export_mode, "ALL");
    assert_int_equal(job.export_env.n, 0);
    assert_int_equal(s2r_slurm__parse_export("none", &job), 0);
    assert_string_equal(job.export_mode, "NONE");
    assert_int_equal(s2r_slurm__parse_export("NIL", &job), 0);
    assert_string_equal(job.export_mode, "NIL");
    s2r_job_free(&job);
}

static void test_slurm_values__export_list(void **state)
{
    (void)state;
    s2r_job job;
    memset(&job, 0, sizeof job);
    assert_int_equal(
        s2r_slurm__parse_export(
            "ALL,PIPELINE_STAGE=compact,ARROW_IO_THREADS=8,HOME,X=a=b", &job),
        0);
    assert_string_equal(job.export_mode, "ALL");
    assert_int_equal(job.export_env.n, 3);
    assert_string_equal(s2r_envv_get(&job.export_env, "PIPELINE_STAGE"),
                        "compact");
    assert_string_equal(s2r_envv_get(&job.export_env, "ARROW_IO_THREADS"),
                        "8");
    assert_string_equal(s2r_envv_get(&job.export_env, "X"), "a=b");
    assert_null(s2r_envv_get(&job.export_env, "HOME"));
    /* a list without ALL behaves like NONE plus the variables */
    assert_int_equal(s2r_slurm__parse_export("FOO=1", &job), 0);
    assert_string_equal(job.export_mode, "NONE");
    assert_int_equal(job.export_env.n, 1);
    assert_string_equal(s2r_envv_get(&job.export_env, "FOO"), "1");
    s2r_job_free(&job);
}

/* ---- --partition, --container-image ---- */

static void test_slurm_values__partitions(void **state)
{
    (void)state;
    char **p = NULL;
    assert_int_equal(s2r_slurm__parse_partitions("cpu,cpu-long", &p), 0);
    assert_string_equal(p[0], "cpu");
    assert_string_equal(p[1], "cpu-long");
    assert_null(p[2]);
    for (char **q = p; *q; q++)
        free(*q);
    free(p);
    assert_int_equal(s2r_slurm__parse_partitions(",", &p), S2R_EINVAL);
}

static void test_slurm_values__image_to_oci(void **state)
{
    (void)state;
    char *s = s2r_slurm__image_to_oci("nvcr.io#nvidia/pytorch:24.01-py3");
    assert_string_equal(s, "nvcr.io/nvidia/pytorch:24.01-py3");
    free(s);
    s = s2r_slurm__image_to_oci("user@registry.example.org:5000#lab/img:1");
    assert_string_equal(s, "registry.example.org:5000/lab/img:1");
    free(s);
    s = s2r_slurm__image_to_oci("docker://ubuntu:22.04");
    assert_string_equal(s, "ubuntu:22.04");
    free(s);
    s = s2r_slurm__image_to_oci("/lustre/images/pt.sqsh");
    assert_string_equal(s, "/lustre/images/pt.sqsh");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slurm_values__time_minutes),
        cmocka_unit_test(test_slurm_values__time_min_sec),
        cmocka_unit_test(test_slurm_values__time_h_m_s),
        cmocka_unit_test(test_slurm_values__time_days),
        cmocka_unit_test(test_slurm_values__time_unlimited),
        cmocka_unit_test(test_slurm_values__time_invalid),
        cmocka_unit_test(test_slurm_values__mem_units),
        cmocka_unit_test(test_slurm_values__mem_kib_rounds_up),
        cmocka_unit_test(test_slurm_values__mem_invalid),
        cmocka_unit_test(test_slurm_values__mem_too_big),
        cmocka_unit_test(test_slurm_values__int),
        cmocka_unit_test(test_slurm_values__gres_count_multipliers),
        cmocka_unit_test(test_slurm_values__gres_empty_entries_skipped),
        cmocka_unit_test(test_slurm_values__gres_last_count_per_type_wins),
        cmocka_unit_test(test_slurm_values__gres_forms),
        cmocka_unit_test(test_slurm_values__gres_mig_and_fraction_are_types),
        cmocka_unit_test(test_slurm_values__gres_lists_sum_gpus),
        cmocka_unit_test(test_slurm_values__gres_zero_and_none),
        cmocka_unit_test(test_slurm_values__gres_invalid),
        cmocka_unit_test(test_slurm_values__gpu_spec),
        cmocka_unit_test(test_slurm_values__array_list_range_step),
        cmocka_unit_test(test_slurm_values__array_throttle),
        cmocka_unit_test(test_slurm_values__array_unsorted_duplicates),
        cmocka_unit_test(test_slurm_values__array_invalid),
        cmocka_unit_test(test_slurm_values__nodes_forms),
        cmocka_unit_test(test_slurm_values__nodes_invalid),
        cmocka_unit_test(test_slurm_values__export_modes),
        cmocka_unit_test(test_slurm_values__export_list),
        cmocka_unit_test(test_slurm_values__partitions),
        cmocka_unit_test(test_slurm_values__image_to_oci),
    };
    return cmocka_run_group_tests_name("slurm_values", tests, NULL, NULL);
}
