/* unwrap.c: the wrappers and launchers in front of the main program
 * (srun, mpirun/mpiexec, conda run, singularity/apptainer exec|run,
 * time/exec/nohup/command, bash -c '...', torchrun, accelerate launch,
 * deepspeed), read with the launchers' own option grammars (launchers.h).
 * See analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_python(const char *v)
{
    const char *b = s2r_body__base_name(v);
    return !strncmp(b, "python", 6) &&
           (b[6] == '\0' || isdigit((unsigned char)b[6]));
}

void s2r_body__unwrap_free(unwrap *u)
{
    free(u->image);
    free(u->local_image_name);
    free(u->c_workdir);
    s2r_envv_clear(&u->c_env);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

bool s2r_body__is_local_image(const char *v)
{
    return v[0] == '/' || v[0] == '.' || v[0] == '~' || v[0] == '$' ||
           ends_with(v, ".sif") || ends_with(v, ".sqsh") ||
           ends_with(v, ".squashfs") || ends_with(v, ".simg") ||
           ends_with(v, ".img");
}

static char *pyxis_image(const char *v)
{
    /* [USER@][REGISTRY#]IMAGE[:TAG] -> REGISTRY/IMAGE[:TAG] */
    const char *at = strchr(v, '@');
    const char *hash = strchr(v, '#');
    if (at && (!hash || at < hash))
        v = at + 1;
    char *out = strdup(v);
    if (out && (hash = strchr(out, '#')))
        out[hash - out] = '/';
    return out;
}

static void set_image(unwrap *u, const char *v, bool pyxis)
{
    free(u->image);
    u->image = NULL;
    if (s2r_body__is_local_image(v)) {
        u->local_image = true;
        free(u->local_image_name);
        u->local_image_name = strdup(v);
        return;
    }
    u->local_image = false;
    u->image = pyxis ? pyxis_image(v) : strdup(v);
}

static void note_dropped(unwrap *u, const char *opt)
{
    size_t l = strlen(u->dropped);
    if (strstr(u->dropped, opt))
        return;
    snprintf(u->dropped + l, sizeof(u->dropped) - l, "%s%s", l ? ", " : "",
             opt);
}

/* "--opt=value" or "--opt value": the value of option @p name at word j */
static const char *opt_value(const unwrap *u, size_t j, const char *name,
                             const char *shrt)
{
    const char *o = u->words[j].value ? u->words[j].value : "";
    size_t nl = strlen(name);
    if (!strncmp(o, name, nl) && o[nl] == '=')
        return o + nl + 1;
    if ((!strcmp(o, name) || (shrt && !strcmp(o, shrt))) && j + 1 < u->n)
        return u->words[j + 1].value ? u->words[j + 1].value : "";
    return NULL;
}

/* K=V entries of a comma list (srun --export, singularity --env) */
static void add_env_list(unwrap *u, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t)
            continue;
        *eq = '\0';
        s2r_envv_set(&u->c_env, t, eq + 1);
    }
    free(dup);
}

/* srun's options from word @p j (pyxis --container-*, --export, -n):
 * the index of the first word after them. */
static size_t unwrap_srun(unwrap *u, size_t j)
{
    u->srun = true;
    while (j < u->n) {
        const char *o = u->words[j].value ? u->words[j].value : "";
        const char *val;
        if ((val = opt_value(u, j, "--container-image", NULL))) {
            set_image(u, val, true);
        } else if ((val = opt_value(u, j, "--container-workdir", NULL))) {
            free(u->c_workdir);
            u->c_workdir = strdup(val);
        } else if (opt_value(u, j, "--container-mounts", NULL)) {
            note_dropped(u, "srun --container-mounts");
        } else if (opt_value(u, j, "--container-env", NULL)) {
            note_dropped(u, "srun --container-env");
        } else if ((val = opt_value(u, j, "--export", NULL))) {
            add_env_list(u, val);
        } else if ((val = opt_value(u, j, "--ntasks", "-n"))) {
            u->srun_tasks = strtoll(val, NULL, 10);
        } else if (!strncmp(o, "-n", 2) && isdigit((unsigned char)o[2])) {
            u->srun_tasks = strtoll(o + 2, NULL, 10);
        }
        size_t nj = s2r_launch__skip_option(s2r_launch_srun, u->words, u->n,
                                            j);
        if (nj == j)
            break;
        j = nj;
    }
    return j;
}

/* singularity/apptainer exec|run from word @p j (its options, then the
 * image): the index of the first word after the image. */
static size_t unwrap_container(unwrap *u, size_t j, bool run)
{
    while (j < u->n) {
        const char *val;
        if ((val = opt_value(u, j, "--pwd", NULL))) {
            free(u->c_workdir);
            u->c_workdir = strdup(val);
        } else if ((val = opt_value(u, j, "--env", NULL))) {
            add_env_list(u, val);
        } else if (opt_value(u, j, "--bind", "-B") ||
                   opt_value(u, j, "--mount", NULL)) {
            note_dropped(u, "--bind");
        } else if (opt_value(u, j, "--env-file", NULL)) {
            note_dropped(u, "--env-file");
        } else if (opt_value(u, j, "--overlay", "-o")) {
            note_dropped(u, "--overlay");
        }
        size_t nj = s2r_launch__skip_option(s2r_launch_singularity, u->words,
                                            u->n, j);
        if (nj == j)
            break;
        j = nj;
    }
    if (j < u->n) {
        const char *img = u->words[j].value ? u->words[j].value : "";
        if (!strncmp(img, "docker://", 9)) {
            set_image(u, img + 9, false);
        } else {
            free(u->image);
            u->image = NULL;
            u->local_image = true;
            free(u->local_image_name);
            u->local_image_name = strdup(img);
        }
        j++;
    }
    /* `run` starts the image's runscript with these arguments */
    u->run_args = run;
    return j;
}

/* The wrapper at word @p i (time/exec/nohup/command, srun, mpirun,
 * conda run, singularity exec|run): the index after it and its options,
 * or @p i when word @p i is no wrapper. */
static size_t skip_wrapper(unwrap *u, size_t i)
{
    const char *v = u->words[i].value ? u->words[i].value : "";
    const char *b = s2r_body__base_name(v);
    if (!strcmp(v, "time") || !strcmp(v, "exec") || !strcmp(v, "nohup") ||
        !strcmp(v, "command")) {
        if (u->kw_to == i)
            u->kw_to = i + 1;
        return i + 1;
    }
    if (!strcmp(b, "srun"))
        return unwrap_srun(u, i + 1);
    if (!strcmp(b, "mpirun") || !strcmp(b, "mpiexec") ||
        !strcmp(b, "orterun") || !strcmp(b, "mpiexec.hydra")) {
        u->mpi = true;
        u->mpi_at = i;
        u->mpi_opts = i + 1;
        u->mpi_prog = s2r_launch__skip_options(s2r_launch_mpirun, u->words,
                                               u->n, i + 1);
        return u->mpi_prog;
    }
    if ((!strcmp(b, "conda") || !strcmp(b, "mamba") ||
         !strcmp(b, "micromamba")) &&
        i + 1 < u->n && s2r_body__word_is(&u->words[i + 1], "run")) {
        /* the environment must be part of the image */
        u->conda_run = true;
        return s2r_launch__skip_options(s2r_launch_conda_run, u->words, u->n,
                                        i + 2);
    }
    if ((!strcmp(b, "singularity") || !strcmp(b, "apptainer")) &&
        i + 1 < u->n &&
        (s2r_body__word_is(&u->words[i + 1], "exec") ||
         s2r_body__word_is(&u->words[i + 1], "run")))
        return unwrap_container(u, i + 2,
                                s2r_body__word_is(&u->words[i + 1], "run"));
    return i;
}

/* bash -c / sh -c at word @p i: a literal string is analysed as a body
 * (true); a computed one that runs a torch launcher is opaque. */
static bool shell_string(unwrap *u, size_t i)
{
    const char *b = s2r_body__base_name(u->words[i].value ? u->words[i].value
                                                          : "");
    if ((strcmp(b, "bash") && strcmp(b, "sh")) || i + 2 >= u->n ||
        !s2r_body__word_is(&u->words[i + 1], "-c"))
        return false;
    if (u->words[i + 2].literal) {
        u->shell_string = true;
        u->shell_word = &u->words[i + 2];
        u->prog = i;
        return true;
    }
    if (u->words[i + 2].value) {
        const char *t = u->words[i + 2].value;
        if (strstr(t, "torchrun") || strstr(t, "accelerate launch") ||
            strstr(t, "torch.distributed.run") || strstr(t, "deepspeed "))
            u->opaque_torch = true;
    }
    return false;
}

/* The launcher at word @p i, if any: torchrun (also python -m
 * torch.distributed.run|launch), accelerate launch, deepspeed. */
static void find_launcher(unwrap *u, size_t i)
{
    const char *v = u->words[i].value ? u->words[i].value : "";
    const char *b = s2r_body__base_name(v);
    const s2r_launch_grammar *g = NULL;
    if (!strcmp(b, "torchrun") ||
        (is_python(v) && i + 2 < u->n &&
         s2r_body__word_is(&u->words[i + 1], "-m") &&
         (s2r_body__word_is(&u->words[i + 2], "torch.distributed.run") ||
          s2r_body__word_is(&u->words[i + 2], "torch.distributed.launch")))) {
        u->lk = L_TORCHRUN;
        u->launch_opts = !strcmp(b, "torchrun") ? i + 1 : i + 3;
        g = s2r_launch_torchrun;
    } else if (!strcmp(b, "accelerate") && i + 1 < u->n &&
               s2r_body__word_is(&u->words[i + 1], "launch")) {
        u->lk = L_ACCELERATE;
        u->launch_opts = i + 2;
        g = s2r_launch_accelerate;
    } else if (!strcmp(b, "deepspeed")) {
        u->lk = L_DEEPSPEED;
        u->launch_opts = i + 1;
        g = s2r_launch_deepspeed;
    } else {
        return;
    }
    u->launch_at = i;
    u->script = s2r_launch__skip_options(g, u->words, u->n, u->launch_opts);
}

void s2r_body__unwrap(const sh_cmd *cmd, unwrap *u)
{
    memset(u, 0, sizeof(*u));
    u->words = cmd->words;
    u->n = cmd->nwords;
    size_t i = sh_cmd_first_arg(cmd);
    u->prefix_end = i;
    u->kw_from = u->kw_to = i;
    while (i < u->n) {
        size_t next = skip_wrapper(u, i);
        if (next == i)
            break;
        i = next;
        if (u->run_args)
            break; /* singularity run: the image's runscript, its args */
    }
    if (!u->run_args && i < u->n) {
        if (shell_string(u, i))
            return;
        find_launcher(u, i);
    }
    u->prog = i;
}
