/* guard.h: the parts of the guard (s2r_guard_apply, model.h), private to
 * core/llm:
 *
 *   guard_apply.c     the entry point: shape, safety, merge part by part
 *   guard_answer.c    reading an answer into a proposal; names a model
 *                     may not set
 *   guard_facts.c     resource, node, array and time values an answer
 *                     states, against the rules workload
 *   guard_patterns.c  dangerous patterns, OCI references
 *   guard.c           what a command or body runs (programs, assignments,
 *                     launcher process counts), lexed with core/shell
 *
 * Messages name the provider and never quote more than a short excerpt.
 */
#ifndef S2R_LLM_GUARD_H
#define S2R_LLM_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <s2r/s2r.h>

#include "model.h"

/* ---- diagnostics (guard_apply.c) ---- */

/* One guard run: the rules workload it may change and where messages go. */
typedef struct gctx {
    s2r_workload *wl;
    const s2r_job *job;
    const char *id;
    s2r_diags *d;
    int rc; /* S2R_ENOMEM once an allocation failed */
} gctx;

/** A diagnostic "<provider id>: message" (never tied to a line). */
void s2r_guard__say(gctx *g, s2r_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** A short, printable excerpt of @p s (control characters as spaces, cut
 *  with "..." to @p cap bytes) for messages. */
void s2r_guard__excerpt(char *out, size_t cap, const char *s);
/** An argv joined by spaces (malloc'd, NULL on ENOMEM). */
char *s2r_guard__join(const s2r_strv *sv);
/** True when @p sv holds @p s. */
int s2r_guard__sv_has(const s2r_strv *sv, const char *s);

/* ---- the proposal (guard_answer.c) ---- */

/* What an answer proposes, in the shape of s2r_provider_ops' answer 2 (a
 * {"workload"} answer is read into the same shape). Strings point into
 * the answer JSON. */
typedef struct proposal {
    const char *image;   /* NULL: none */
    s2r_strv command;    /* argv; empty: none */
    const char *script;  /* bash body, NULL: none */
    s2r_envv env;        /* NAME=value */
    s2r_strv notes;
    s2r_strv warnings;   /* {"workload"} answers only */
    int has_env;
} proposal;

void s2r_guard__proposal_free(proposal *p);
/** A string list (array of strings, or one string) into @p out; items of
 *  another type are skipped when @p lenient. @return 0, -1 (wrong type),
 *  S2R_ENOMEM. */
int s2r_guard__read_strings(json_object *v, s2r_strv *out, int lenient);
/** Parse a proposal object; *@p why names what is malformed. @return 0,
 *  -1 (malformed), S2R_ENOMEM. */
int s2r_guard__proposal_read(proposal *p, json_object *o, const char **why);
/** The proposed command as text (argv joined, or the body); malloc'd. */
char *s2r_guard__proposal_text(const proposal *p);
/** Names a model may never set: they change how every program starts
 *  (BASH_ENV, LD_*, ...) or are the directives' business (SLURM_*,
 *  CUDA_VISIBLE_DEVICES). */
int s2r_guard__env_name_refused(const char *n);
/** A valid environment variable name ([A-Za-z_][A-Za-z0-9_]*, <= 128). */
int s2r_guard__env_name_ok(const char *n);
/** Names that decide which program runs or what it loads (PATH,
 *  PYTHONPATH, LD_*, ...): set only to the value the script gives. */
int s2r_guard__env_name_loads(const char *n);

/* ---- fixed facts (guard_facts.c) ---- */

/** Compare every resource-like key of @p o (gpus, cpus, memory_mib,
 *  nodes, pods, workers, time_limit_s, array ...) with the rules workload;
 *  a difference is a warning and changes nothing. @p prefix names the
 *  object in messages ("workload.", "resources."). */
void s2r_guard__check_fixed_keys(gctx *g, json_object *o,
                                 const char *prefix);

/* ---- patterns (guard_patterns.c) ---- */

/** True when @p s holds control characters (other than \n, \t, \r). */
int s2r_guard__has_control(const char *s);

/* ---- what a body runs (guard.c) ---- */

/* What the script runs: programs, assignments and launcher options
 * ("launcher\x1fkey\x1fvalue") of the rules command, the MPI launcher
 * command and the body the rules kept. */
typedef struct script_facts {
    s2r_strv progs, assigns, par;
} script_facts;

void s2r_guard__script_facts_free(script_facts *f);
/** @return S2R_OK or S2R_ENOMEM. */
int s2r_guard__script_facts_read(script_facts *f, const s2r_workload *wl,
                                 const s2r_job *job);
/** Check the proposed command or script against @p f: the refusal in
 *  @p why ("" when none); launcher options it states into @p par.
 *  @return S2R_OK or S2R_ENOMEM. */
int s2r_guard__proposal_structure(const proposal *p, const s2r_workload *wl,
                                  script_facts *f, s2r_strv *par, char *why,
                                  size_t cap);
/** A launcher process count the proposal changes ("torchrun
 *  --nproc_per_node 8 (rules: 2)") into @p out; 0 when none. */
int s2r_guard__parallelism_changed(const s2r_strv *model,
                                   const s2r_strv *rules, char *out,
                                   size_t cap);

/* The launcher and wrapper option grammars are core/body's (body.h):
 * the converter and the guard read a command with the same tables. */

#endif
