/* fuzz_ini.c: an s2r.ini through everything that reads one.
 *
 * Input: the file's bytes.
 *
 *   s2r_ini_read_string -> s2r_config_apply (the core sections) ->
 *   s2r_handler_settings_read ([server] and [lambda]) -> the plugin
 *   sections checked against the plugins' option tables
 *   (s2r_registry_open with check_only: nothing is created) -> a
 *   conversion of a script that uses every site mapping, with the
 *   configuration that resulted, in every format
 * and the same text as a file (a memfd, read by s2r_config_load, i.e.
 * inih's file reader).
 *
 * The plugins of the build are opened once at start, so that the
 * registry's dlopen/dlclose per input only counts references.
 *
 * Checks: every call returns one of its documented codes; a refusal
 * comes with an error diagnostic; the outputs of the conversion parse.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/registry.h"
#include "server/handler.h"

#ifndef S2R_FUZZ_PLUGIN_DIR
#error "S2R_FUZZ_PLUGIN_DIR: the build's plugin folder"
#endif

static const char site_script[] =
    "#!/bin/bash\n"
    "#SBATCH --job-name=site-check\n"
    "#SBATCH --partition=gpu,debug\n"
    "#SBATCH --constraint=a100\n"
    "#SBATCH --account=physics\n"
    "#SBATCH --qos=high\n"
    "#SBATCH --gres=gpu:2\n"
    "#SBATCH --time=01:00:00\n"
    "module load cuda/12.1\n"
    "cd /scratch/$USER/run\n"
    "python ~/train.py --data /datasets/imagenet --out /project/out\n";

static const char *plugin_dir(void)
{
    const char *d = getenv("S2R_FUZZ_PLUGIN_DIR");
    return d ? d : S2R_FUZZ_PLUGIN_DIR;
}

/* Keep every plugin of the build open (a reference the registry's
 * dlclose never drops). */
static void hold_plugins(void)
{
    DIR *d = opendir(plugin_dir());
    if (!d)
        fuzz_fail("no plugin folder %s", plugin_dir());
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "s2r-", 4) || n < 8 ||
            strcmp(e->d_name + n - 3, ".so"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", plugin_dir(), e->d_name);
        if (!dlopen(path, RTLD_NOW | RTLD_LOCAL))
            fuzz_fail("dlopen %s: %s", path, dlerror());
    }
    closedir(d);
}

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hold_plugins();
    memfd = memfd_create("fuzz-ini", MFD_CLOEXEC);
    if (memfd < 0)
        fuzz_fail("memfd_create");
    setenv("S2R_FUZZ_TOKEN", "fuzz-token-value", 1);
    return 0;
}

static void nop_log(void *payload, int32_t level, const char *line)
{
    (void)payload;
    (void)level;
    (void)line;
}

static void check_refusal(const char *what, int rc, const s2r_diags *d,
                          size_t errors_before)
{
    if (rc == S2R_EINVAL && s2r_diags_count(d, S2R_SEV_ERROR) == errors_before)
        fuzz_fail("%s refused without an error", what);
}

static void handler_settings(const s2r_ini *ini, const char *section,
                             s2r_diags *d)
{
    s2r_handler_settings hs;
    s2r_binding *b = NULL;
    size_t e = s2r_diags_count(d, S2R_SEV_ERROR);
    int rc = s2r_handler_settings_read(&hs, &b, ini, section, NULL, d);
    fuzz_expect_rc("s2r_handler_settings_read", rc, S2R_OK, S2R_EINVAL);
    check_refusal("s2r_handler_settings_read", rc, d, e);
    s2r_binding_free(b);
}

static void plugin_sections(const s2r_ini *ini, s2r_diags *d)
{
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.ini = ini;
    ro.plugin_dir = plugin_dir();
    ro.check_only = 1;
    ro.log_fn = nop_log;
    s2r_registry *reg = NULL;
    size_t e = s2r_diags_count(d, S2R_SEV_ERROR);
    int rc = s2r_registry_open(&reg, &ro, d);
    fuzz_expect_rc("s2r_registry_open", rc, S2R_OK, S2R_EINVAL);
    check_refusal("s2r_registry_open", rc, d, e);
    s2r_registry_close(reg);
}

static void convert_with(const s2r_config *cfg, s2r_diags *d)
{
    s2r_job job;
    memset(&job, 0, sizeof(job));
    int rc = s2r_job_parse(&job, "site.sbatch", site_script,
                           sizeof(site_script) - 1, cfg, d);
    fuzz_expect_rc("s2r_job_parse", rc, S2R_OK, S2R_EINVAL);
    s2r_workload wl;
    memset(&wl, 0, sizeof(wl));
    if (rc == S2R_OK) {
        size_t e = s2r_diags_count(d, S2R_SEV_ERROR);
        rc = s2r_rules_convert(&wl, &job, cfg, d);
        fuzz_expect_rc("s2r_rules_convert", rc, S2R_OK, S2R_EINVAL);
        check_refusal("s2r_rules_convert", rc, d, e);
        if (rc == S2R_OK)
            fuzz_emit_all(&wl, cfg, d);
    }
    s2r_workload_free(&wl);
    s2r_job_free(&job);
}

static void from_string(const char *text)
{
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    int rc = s2r_ini_read_string(&ini, "fuzz.ini", text, &d);
    fuzz_expect_rc("s2r_ini_read_string", rc, S2R_OK, S2R_EINVAL);
    check_refusal("s2r_ini_read_string", rc, &d, 0);
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    size_t e = s2r_diags_count(&d, S2R_SEV_ERROR);
    int arc = s2r_config_apply(&cfg, &ini, &d);
    fuzz_expect_rc("s2r_config_apply", arc, S2R_OK, S2R_EINVAL);
    check_refusal("s2r_config_apply", arc, &d, e);
    handler_settings(&ini, "server", &d);
    handler_settings(&ini, "lambda", &d);
    plugin_sections(&ini, &d);
    if (arc == S2R_OK)
        convert_with(&cfg, &d);
    fuzz_format_diags(&d);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
}

static void from_file(const uint8_t *data, size_t size)
{
    if (ftruncate(memfd, 0) != 0 || lseek(memfd, 0, SEEK_SET) != 0 ||
        (size && write(memfd, data, size) != (ssize_t)size))
        fuzz_fail("writing the memfd");
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags d = {0};
    int rc = s2r_config_load(&cfg, path, &d);
    fuzz_expect_rc("s2r_config_load", rc, S2R_OK, S2R_EINVAL);
    check_refusal("s2r_config_load", rc, &d, 0);
    fuzz_format_diags(&d);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    from_string(text);
    free(text);
    from_file(data, size);
    return 0;
}
