/* fuzz_common.h: what the harnesses of tests/fuzz share (docs/fuzzing.md).
 *
 * Each harness is one libFuzzer target: LLVMFuzzerTestOneInput() gets one
 * input (bytes, owned by the driver, valid during the call) and runs it
 * through the code under test; anything the sanitizers or the harness's
 * own checks catch aborts the process. Without libFuzzer the same file is
 * linked with replay_main.c, which runs inputs given as files or folders.
 */
#ifndef S2R_FUZZ_COMMON_H
#define S2R_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>

/* The libFuzzer entry points (both drivers call them). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * The site configuration conversions run with besides the defaults
 * (defaults first, then FUZZ_SITE_INI applied): [runai], [site] home,
 * [storage] (pvc, nfs, hostpath, datasource, ",ro"), [partitions],
 * [constraints], [accounts], [qos], [modules]. Read once; the harness
 * process keeps it. Aborts when the text does not apply (a broken
 * harness, not a finding).
 */
const s2r_config *fuzz_site_config(void);

/** The same text (for s2r_convert_json(), which reads a file). */
extern const char FUZZ_SITE_INI[];

/** Path of a file holding FUZZ_SITE_INI, written once per process. */
const char *fuzz_site_ini_path(void);

/** @p data as a NUL-terminated string (malloc'd; aborts on ENOMEM). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/** Abort with a message when @p rc is S2R_ENOMEM or not one of the codes
 *  the function under test documents: a finding the sanitizers cannot
 *  see. @p what names the call. */
void fuzz_expect_rc(const char *what, int rc, int ok1, int ok2);

/** Abort with @p msg (printf format): a harness check failed. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                    noreturn));

/** Abort unless @p text (@p len bytes) is one JSON value (json-c), with
 *  at most blanks after it. @p what names the text in the message. */
void fuzz_check_json(const char *what, const char *text, size_t len);
/** Abort unless @p text parses as a YAML stream (libyaml). */
void fuzz_check_yaml(const char *what, const char *text, size_t len);

/** Render @p wl in every format (cli, yaml, json): each call gives a
 *  text, or refuses with an error in @p d; the YAML output parses as
 *  YAML, the JSON output as JSON. */
void fuzz_emit_all(const s2r_workload *wl, const s2r_config *cfg,
                   s2r_diags *d);

/** Format every diagnostic (s2r_diag_format) and check the text. */
void fuzz_format_diags(const s2r_diags *d);

#endif
