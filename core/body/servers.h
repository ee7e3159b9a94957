/* servers.h: long-running servers a batch script may start as its main
 * command (private): notebooks and dashboards, which become a Run:ai
 * workspace, and model servers, which become an inference workload.
 * Each entry knows the options that carry its port and listen address and
 * the port it uses when none is given (per each program's --help). */
#ifndef S2R_SERVERS_H
#define S2R_SERVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "shell/shell.h"

typedef struct s2r_server_def {
    const char *name;               /* "jupyter lab", for messages */
    int default_port;               /* the program's own default port */
    bool serving;                   /* a model server (inference) */
    const char *const *port_opts;   /* options whose value is the port */
    const char *const *host_opts;   /* options whose value is the address */
    const char *listen_all;         /* words to add when no address is given
                                       and the default is loopback, or NULL */
    bool host_port;                 /* the address option is HOST:PORT
                                       (code-server --bind-addr) */
} s2r_server_def;

/**
 * The server the words starting at @p prog run, or NULL. @p opts_from
 * receives the index of the first word after the program's name words
 * ("jupyter lab", "python -m vllm.entrypoints.openai.api_server").
 */
const s2r_server_def *s2r_server_match(const sh_word *w, size_t n,
                                       size_t prog, size_t *opts_from);

/**
 * Where option @p opts (a NULL-terminated list) is given among words
 * [from, n): the index of the word holding the value and, in *attached,
 * whether the value follows '=' in that same word. Returns n when absent.
 */
size_t s2r_server_find_opt(const sh_word *w, size_t n, size_t from,
                           const char *const *opts, bool *attached);

#endif
