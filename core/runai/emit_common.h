/* emit_common.h: helpers shared by the CLI, YAML and JSON emitters
 * (private to core/runai; the entry points are in runai.h and s2r.h).
 *
 * Everything here is reentrant: no globals, no static buffers. */
#ifndef S2R_EMIT_COMMON_H
#define S2R_EMIT_COMMON_H

#include <s2r/s2r.h>

#include "runai.h"
#include "base/base.h"
#include "shell/shell.h"
#include "yaml_writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/** Room for any quantity s2r_emit__quantity() writes. */
#define S2R_EMIT__QTY_MAX 32

/** Exact binary quantity for @p mib MiB: "32Gi" when divisible by 1024,
 *  else "1536Mi". @p mib must be > 0. */
void s2r_emit__quantity(char out[S2R_EMIT__QTY_MAX], int64_t mib);

/** True when @p s is well-formed UTF-8 (no overlongs, surrogates or code
 *  points above U+10FFFF). YAML and JSON can carry nothing else. */
bool s2r_emit__utf8_valid(const char *s);

/**
 * Check what every emitter needs: a name and an image. With
 * @p need_utf8 also check that every string of @p wl is valid UTF-8.
 * Problems are errors in @p diags (option NULL).
 * @return 0, S2R_EINVAL or S2R_ENOMEM.
 */
int s2r_emit__check(const s2r_workload *wl, bool need_utf8,
                    s2r_diags *diags);

/* ------------------------------------------------------------------ */
/* Time limit policy (CLI and REST have no time-limit field)           */
/* ------------------------------------------------------------------ */

/** Seconds to wrap the command with `timeout`: wl->time_limit_s when it
 *  is > 0 and cfg->time_limit is "timeout", else 0. */
int64_t s2r_emit__timeout_wrap(const s2r_workload *wl, const s2r_config *cfg);

/**
 * Report what happens to wl->time_limit_s in a format without a time
 * field: a warning (option "time") that it is not enforced, or, when the
 * command is wrapped in `timeout`, a note saying so. @p what names the
 * format ("Run:ai CLI", "Run:ai REST API"). Nothing when there is no limit.
 * @return 0 or S2R_ENOMEM.
 */
int s2r_emit__time_diag(const s2r_workload *wl, const s2r_config *cfg,
                        const char *what, s2r_diags *diags);

/* ------------------------------------------------------------------ */
/* Effective container argv: [timeout SECONDS] ARGV...                 */
/* ------------------------------------------------------------------ */

/** A view of an argv, optionally prefixed by `timeout SECONDS`. It does
 *  not own @c rest; it stays valid while the workload does. */
typedef struct s2r_emit__argv {
    const char *const *rest; /**< the command (a pod's argv) */
    size_t n_rest;
    size_t n_pre;            /**< 0, or 2 for "timeout" "SECONDS" */
    char secs[24];           /**< SECONDS as text when n_pre == 2 */
} s2r_emit__argv;

/** Set up @p a over the @p n words of @p v (borrowed); wrap in `timeout`
 *  when @p timeout_s > 0. */
void s2r_emit__argv_init(s2r_emit__argv *a, const char *const *v, size_t n,
                         int64_t timeout_s);
/** Number of words. */
size_t s2r_emit__argv_count(const s2r_emit__argv *a);
/** Word @p i (0-based, < count). */
const char *s2r_emit__argv_get(const s2r_emit__argv *a, size_t i);

/** The argv a workload's main container runs: wl->launcher_command for
 *  MPI (falling back to wl->command when it is empty), else wl->command. */
const s2r_strv *s2r_emit__main_command(const s2r_workload *wl);

/** Number of node pools in wl->node_pools (0 when NULL). */
size_t s2r_emit__n_pools(const s2r_workload *wl);

/** Number of array tasks: wl->completions, else wl->n_array_indices;
 *  0 when the workload is no array. */
int64_t s2r_emit__completions(const s2r_workload *wl);
/** Tasks run at once: wl->parallelism clamped to [1, completions]; all of
 *  them when unset. Only meaningful when completions > 0. */
int64_t s2r_emit__parallelism(const s2r_workload *wl);

/** YAML/JSON defaults for training: wl->priority or "low",
 *  wl->preemptibility or "preemptible". */
const char *s2r_emit__priority(const s2r_workload *wl);
const char *s2r_emit__preemptibility(const s2r_workload *wl);

/* ------------------------------------------------------------------ */
/* The Kubernetes manifest (emit_yaml.c): YAML text, or the manifest   */
/* of a POST /api/v2/workloads body                                    */
/* ------------------------------------------------------------------ */

/** Receives a manifest's serialization events (YAML 1.1 §3.1.2): keys
 *  and values alternate in a mapping; @p style is the one asked for
 *  (s2r_yaml_writer may write another; a JSON tree reads plain digits as
 *  numbers, every other scalar as a string). Errors stay in @p ctx. */
typedef struct s2r_emit__events {
    void (*mapping_start)(void *ctx);
    void (*mapping_end)(void *ctx);
    void (*sequence_start)(void *ctx);
    void (*sequence_end)(void *ctx);
    /** The @p len bytes of @p s (NUL-terminated at @p len too). */
    void (*scalar)(void *ctx, const char *s, size_t len,
                   s2r_yaml_style style);
} s2r_emit__events;

/**
 * Send the events of @p wl's manifest (runai-formats.md §2: a batch/v1
 * Job, kubeflow.org/v1 PyTorchJob or kubeflow.org/v2beta1 MPIJob) to
 * @p ev with @p ctx. @p wl must have passed s2r_emit__check() with UTF-8.
 * @return S2R_OK, or S2R_ERROR when part of it could not be built (the
 *         events then stop short: the caller drops them).
 */
int s2r_emit__manifest(const s2r_emit__events *ev, void *ctx,
                       const s2r_workload *wl);

/** What a manifest leaves out of @p wl, as warnings in @p diags: node
 *  pools past the first, a server's exposed port, data sources, an array
 *  with no command. @return 0 or S2R_ENOMEM. */
int s2r_emit__manifest_diags(const s2r_workload *wl, s2r_diags *diags);

/** Placeholders in REST bodies. */
#define S2R_EMIT__PROJECT_ID "<PROJECT-ID>"
#define S2R_EMIT__CLUSTER_ID "<CLUSTER-UUID>"
/** Launcher (MPI master) resources in YAML and JSON. */
#define S2R_EMIT__LAUNCHER_CPU 1
#define S2R_EMIT__LAUNCHER_MEM_MIB 2048

#endif /* S2R_EMIT_COMMON_H */
