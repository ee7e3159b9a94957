/* container_standin.c: apptainer/singularity left in the pod's script.
 * The main command's container runtime and those of the other lines are
 * unwrapped at conversion (unwrap.c, containers.c); one inside a loop, an
 * if block or a function stays as written, and the pod's image has no
 * runtime. The pod's script then defines `apptainer` and `singularity`
 * as shell functions that run an `exec` command in the pod itself, with
 * the runtime's --env, --pwd and --home for that command alone (per
 * singularity-exec(1)), and fail with a message for anything else. See
 * analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <stdlib.h>
#include <string.h>

/* the runtimes a body may still run */
static const char *const k_runtimes[] = {"apptainer", "singularity"};

/* The stand-in's text; VALUED is the list of options that take a value
 * word (singularity's grammar, launchers.c), written in front of it. */
static const char k_standin[] =
    "s2r_container() {\n"
    "    local rt=$1 sub=$2 pwd= kv\n"
    "    local -a env=()\n"
    "    shift 2\n"
    "    if [ \"$sub\" != exec ]; then\n"
    "        echo \"s2r: $rt $sub: the pod has no $rt; only '$rt exec' runs "
    "(in the pod's image)\" >&2\n"
    "        return 127\n"
    "    fi\n"
    "    while [ $# -gt 0 ]; do\n"
    "        case $1 in\n"
    "        --env=* | --home=* | --pwd=*) kv=${1#*=} ;;\n"
    "        esac\n"
    "        case $1 in\n"
    "        --env=*) env+=(\"$kv\") ;;\n"
    "        --env) env+=(\"$2\"); shift ;;\n"
    "        --pwd=*) pwd=$kv ;;\n"
    "        --pwd) pwd=$2; shift ;;\n"
    "        --home=*) env+=(\"HOME=${kv#*:}\") ;;\n"
    "        --home | -H) env+=(\"HOME=${2#*:}\"); shift ;;\n"
    "        -*=*) ;;\n"
    "        -*) [[ \" $s2r_container_valued \" == *\" $1 \"* ]] && shift ;;\n"
    "        *) break ;;\n"
    "        esac\n"
    "        shift\n"
    "    done\n"
    "    shift # the image: the pod's own\n"
    "    (\n"
    "        for kv in \"${env[@]}\"; do\n"
    "            local IFS=,\n"
    "            for kv in $kv; do export \"$kv\"; done\n"
    "        done\n"
    "        unset IFS\n"
    "        [ -z \"$pwd\" ] || cd \"$pwd\" || exit 1\n"
    "        exec \"$@\"\n"
    "    )\n"
    "}\n"
    "apptainer() { s2r_container apptainer \"$@\"; }\n"
    "singularity() { s2r_container singularity \"$@\"; }\n";

/* True when @p t runs @p rt as a command: the word at a command's start
 * (after a newline, ; & | ( { ` or blanks only) and a subcommand after
 * it; "-profile singularity,slurm" does not. */
static bool runs_runtime(const char *t, const char *rt)
{
    static const char *const subs[] = {"exec ", "run ", "shell ", "pull ",
                                       "build ", "instance ", "inspect "};
    size_t rl = strlen(rt);
    for (const char *p = t; (p = strstr(p, rt)); p += rl) {
        const char *b = p;
        while (b > t && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > t && !strchr("\n;&|({`", b[-1]) && b[-1] != '/')
            continue;
        const char *a = p + rl;
        if (*a != ' ' && *a != '\t')
            continue;
        while (*a == ' ' || *a == '\t')
            a++;
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
            if (!strncmp(a, subs[i], strlen(subs[i])))
                return true;
    }
    return false;
}

/* The first line of the body whose statement still runs @p rt, or 0. */
static int first_line(const analysis *a, const char *rt)
{
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        /* an edited statement had its runtime unwrapped (containers.c) */
        if (a->kind[i] != ST_KEEP || s2r_body__edited(a, st->start, st->end))
            continue;
        char *t = strndup(a->body.src + st->start, st->end - st->start);
        bool runs = t && runs_runtime(t, rt);
        free(t);
        if (runs)
            return st->line;
    }
    return 0;
}

/* The one docker:// image @p t names, malloc'd into *@p out; false when
 * it names two or more (or none, *@p out NULL). */
static bool one_image(const char *t, char **out)
{
    *out = NULL;
    for (const char *p = t; (p = strstr(p, "docker://")); p += 9) {
        size_t n = strcspn(p + 9, " \t\n;|&)'\"");
        if (!*out) {
            *out = strndup(p + 9, n);
        } else if (strlen(*out) != n || memcmp(*out, p + 9, n)) {
            free(*out);
            *out = NULL;
            return false;
        }
    }
    return true;
}

void s2r_body__container_standin(ctx *c, const analysis *a, s2r_buf *pre,
                                 const char *tidied)
{
    bool r0 = runs_runtime(tidied, k_runtimes[0]);
    bool r1 = runs_runtime(tidied, k_runtimes[1]);
    bool both = r0 && r1;
    const char *rt = r0 ? k_runtimes[0] : r1 ? k_runtimes[1] : NULL;
    if (!rt)
        return;
    /* the image those commands name, when the script names no other */
    char *img = NULL;
    if (!c->job->image && one_image(tidied, &img) && img && *img &&
        !strchr(img, '$'))
        c->job->image = img;
    else
        free(img);
    s2r_buf_puts(pre, "s2r_container_valued='");
    const s2r_launch_grammar *g = &s2r_launch_singularity;
    for (size_t i = 0; i < g->nopts; i++)
        if (g->opts[i].nvals > 0) {
            s2r_buf_putn(pre, " ", 1);
            s2r_buf_puts(pre, g->opts[i].name);
        }
    s2r_buf_puts(pre, " '\n");
    s2r_buf_puts(pre, k_standin);
    int line = first_line(a, rt);
    int other = both ? first_line(a, k_runtimes[1]) : 0;
    if (other && (!line || other < line))
        line = other;
    s2r_body__warn(c, line, NULL,
                   "'%s'%s stay%s in the pod's script (in a loop, a block, a "
                   "function or a runscript line), and the pod's image has "
                   "no container runtime: a stand-in runs their exec "
                   "commands in the pod's image (%s), with their --env, "
                   "--pwd and --home; another image is not used, and other "
                   "subcommands fail", rt, both ? " and 'singularity'" : "",
                   both ? "" : "s",
                   c->job->image ? c->job->image : "the default");
}
