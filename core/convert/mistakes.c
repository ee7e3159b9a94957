/* mistakes.c: likely mistakes sbatch accepts (see mistakes.h). */
#include "convert.h"
#include "mistakes.h"

#include "slurm/slurm.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The first line at or after @p off that uses variable @p name outside a
 * comment line, or 0. */
static int line_using(const char *buf, size_t len, size_t off,
                      const char *name)
{
    size_t n = strlen(name);
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        line += buf[i] == '\n';
    const char *p = buf + off, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *q = p;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        for (; q < e && *q != '#' && q + n <= e; q++)
            if (!memcmp(q, name, n) && (q == p || !word_char(q[-1])) &&
                (q + n == e || !word_char(q[n])))
                return line;
        line++;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int warn_array_index(const s2r_job *job, const char *buf, size_t len,
                            size_t body_off, s2r_diags *d)
{
    if (!job->uses_array_index || job->array)
        return 0;
    int use = line_using(buf, len, body_off, "SLURM_ARRAY_TASK_ID");
    bool late = false;
    int off = s2r_slurm__disabled_directive(buf, len, body_off, "array",
                                            &late);
    char why[200] = "";
    if (off && late)
        snprintf(why, sizeof(why), "; the #SBATCH --array on line %d comes "
                 "after the first command, where sbatch no longer reads "
                 "directives", off);
    else if (off)
        snprintf(why, sizeof(why), "; line %d holds an --array in a comment "
                 "sbatch does not read (a directive is '#SBATCH' at the "
                 "start of the line)", off);
    return s2r_diags_add(d, S2R_SEV_WARNING, job->file, use, "array",
                         "the script reads SLURM_ARRAY_TASK_ID but is no job "
                         "array (no --array): SLURM leaves it unset and the "
                         "job runs once%s", why) ? S2R_ENOMEM : 0;
}

/* Where the job's image came from: a directive, or the main command. */
static const s2r_directive *image_directive(const s2r_job *job)
{
    if (!job->container_image || strcmp(job->container_image, job->image))
        return NULL;
    for (size_t i = job->n_directives; i-- > 0;)
        if (!strcmp(job->directives[i].name, "container-image") ||
            !strcmp(job->directives[i].name, "image"))
            return &job->directives[i];
    return NULL;
}

static int warn_image_digest(const s2r_job *job, s2r_diags *d)
{
    static const char *const algs[] = {":sha256:", ":sha384:", ":sha512:",
                                       NULL};
    const char *img = job->image, *at = NULL;
    if (!img || strchr(img, '@'))
        return 0;
    for (size_t i = 0; algs[i] && !at; i++)
        at = strstr(img, algs[i]);
    if (!at)
        return 0;
    const s2r_directive *dv = image_directive(job);
    int line = dv ? dv->line : job->main_line;
    return s2r_diags_add(d, S2R_SEV_WARNING, job->file, line,
                         dv ? dv->name : NULL,
                         "image '%s' is not a valid OCI reference: a digest "
                         "follows '@' ('%.*s@%s'); no registry serves it "
                         "as written", img, (int)(at - img), img, at + 1)
               ? S2R_ENOMEM : 0;
}

int s2r_convert__warn_mistakes(const s2r_job *job, const char *buf,
                               size_t len, size_t body_off, s2r_diags *d)
{
    if (warn_array_index(job, buf, len, body_off, d))
        return S2R_ENOMEM;
    return warn_image_digest(job, d);
}
