/* servers.c: the servers a batch script may start (see servers.h). */
#include "servers.h"

#include <string.h>

#include "base/base.h"

static const char *const jupyter_port[] = {"--port", "--ServerApp.port",
                                           "--NotebookApp.port", NULL};
static const char *const jupyter_host[] = {"--ip", "--ServerApp.ip",
                                           "--NotebookApp.ip", NULL};
static const char *const port_only[] = {"--port", NULL};
static const char *const host_only[] = {"--host", NULL};
static const char *const code_server_host[] = {"--bind-addr", NULL};
static const char *const streamlit_port[] = {"--server.port", NULL};
static const char *const streamlit_host[] = {"--server.address", NULL};
static const char *const mlflow_port[] = {"--port", "-p", NULL};
static const char *const mlflow_host[] = {"--host", "-h", NULL};
static const char *const tgi_port[] = {"--port", "-p", NULL};
static const char *const tgi_host[] = {"--hostname", NULL};
static const char *const triton_port[] = {"--http-port", NULL};
static const char *const none[] = {NULL};

/* Defaults per each program's documentation: Jupyter binds localhost:8888,
 * code-server 127.0.0.1:8080, TensorBoard localhost:6006 (--bind_all for
 * every interface), Streamlit every interface on 8501, MLflow
 * 127.0.0.1:5000, vLLM every interface on 8000, TGI 0.0.0.0:3000, SGLang
 * 127.0.0.1:30000, Triton every interface with HTTP on 8000. */
static const s2r_server_def jupyter = {"jupyter lab", 8888, false,
    jupyter_port, jupyter_host, "--ip=0.0.0.0", false};
static const s2r_server_def notebook = {"jupyter notebook", 8888, false,
    jupyter_port, jupyter_host, "--ip=0.0.0.0", false};
static const s2r_server_def code_server = {"code-server", 8080, false,
    none, code_server_host, "--bind-addr=0.0.0.0:8080", true};
static const s2r_server_def tensorboard = {"tensorboard", 6006, false,
    port_only, host_only, "--bind_all", false};
static const s2r_server_def streamlit = {"streamlit", 8501, false,
    streamlit_port, streamlit_host, NULL, false};
static const s2r_server_def mlflow = {"mlflow", 5000, false,
    mlflow_port, mlflow_host, "--host=0.0.0.0", false};
static const s2r_server_def vllm = {"vllm", 8000, true,
    port_only, host_only, NULL, false};
static const s2r_server_def tgi = {"text-generation-launcher", 3000, true,
    tgi_port, tgi_host, NULL, false};
static const s2r_server_def sglang = {"sglang", 30000, true,
    port_only, host_only, "--host=0.0.0.0", false};
static const s2r_server_def triton = {"tritonserver", 8000, true,
    triton_port, none, NULL, false};

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool is(const sh_word *w, size_t n, size_t i, const char *s)
{
    return i < n && w[i].literal && w[i].value && !strcmp(w[i].value, s);
}

/* `python -m MODULE`: the module's name, or NULL */
static const char *python_module(const sh_word *w, size_t n, size_t i)
{
    const char *b = base(w[i].value);
    if (strncmp(b, "python", 6) || !is(w, n, i + 1, "-m") || i + 2 >= n ||
        !w[i + 2].literal || !w[i + 2].value)
        return NULL;
    return w[i + 2].value;
}

/* The servers by their program's name (or a Python module's), sorted as
 * strcmp orders the names: the server, and the words one of which must
 * follow the name (its options after that word), or NULL. jupyter (NULL
 * for a server) is followed by lab, server or notebook, which picks one. */
static const char *const run_word[] = {"run", NULL};
static const char *const ui_words[] = {"ui", "server", NULL};
static const char *const serve_word[] = {"serve", NULL};
static const struct server_name {
    const char *name;
    const s2r_server_def *def;
    const char *const *then;
} server_names[] = {
    {"code-server", &code_server, NULL}, {"jupyter", NULL, NULL},
    {"jupyter-lab", &jupyter, NULL}, {"jupyter-notebook", &notebook, NULL},
    {"jupyter-server", &jupyter, NULL}, {"jupyterlab", &jupyter, NULL},
    {"mlflow", &mlflow, ui_words}, {"notebook", &notebook, NULL},
    {"sglang.launch_server", &sglang, NULL},
    {"streamlit", &streamlit, run_word},
    {"tensorboard", &tensorboard, NULL},
    {"tensorboard.main", &tensorboard, NULL},
    {"text-generation-launcher", &tgi, NULL},
    {"tritonserver", &triton, NULL}, {"vllm", &vllm, serve_word}};

const s2r_server_def *s2r_server_match(const sh_word *w, size_t n,
                                       size_t prog, size_t *opts_from)
{
    if (prog >= n || !w[prog].value)
        return NULL;
    const char *b = base(w[prog].value);
    const char *mod = python_module(w, n, prog);
    size_t at = prog;
    if (mod) {
        b = mod;
        at = prog + 2;
    }
    *opts_from = at + 1;
    size_t k = s2r_sorted_find(server_names, S2R_COUNTOF(server_names),
                               sizeof(server_names[0]), b);
    if (k == S2R_COUNTOF(server_names))
        return !strncmp(b, "vllm.entrypoints", 16) ? &vllm : NULL;
    const struct server_name *sn = &server_names[k];
    if (!sn->def) { /* jupyter */
        *opts_from = at + 2;
        if (is(w, n, at + 1, "lab") || is(w, n, at + 1, "server"))
            return &jupyter;
        return is(w, n, at + 1, "notebook") ? &notebook : NULL;
    }
    if (!sn->then)
        return sn->def;
    for (size_t i = 0; sn->then[i]; i++)
        if (is(w, n, at + 1, sn->then[i])) {
            *opts_from = at + 2;
            return sn->def;
        }
    return NULL;
}

size_t s2r_server_find_opt(const sh_word *w, size_t n, size_t from,
                           const char *const *opts, bool *attached)
{
    size_t found = n;
    for (size_t i = from; i < n; i++) {
        const char *v = w[i].value;
        if (!v)
            continue;
        for (size_t k = 0; opts[k]; k++) {
            size_t l = strlen(opts[k]);
            if (strncmp(v, opts[k], l))
                continue;
            if (v[l] == '=') {
                found = i; /* the last occurrence wins */
                *attached = true;
            } else if (v[l] == '\0' && i + 1 < n) {
                found = i + 1;
                *attached = false;
            }
        }
    }
    return found;
}
