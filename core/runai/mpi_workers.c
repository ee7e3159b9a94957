/* mpi_workers.c: what the worker pods of an MPIJob run (runai.h). The
 * mpi-operator v2 launcher starts the ranks on the workers over ssh
 * (sshAuthMountPath), so each worker runs the set-up lines the ranks need
 * (s2r_job.worker_setup) and then sshd in the foreground, as the
 * operator's own default worker command does (/usr/sbin/sshd -De); the
 * key it mounts is group-readable, hence StrictModes=no. */
#include "runai.h"
#include "pod.h"

#include "base/base.h"
#include "shell/shell.h"

#include <stdlib.h>
#include <string.h>

static const char sshd_start[] =
    "s2r_sshd=$(command -v sshd || echo /usr/sbin/sshd)\n"
    "if [ ! -x \"$s2r_sshd\" ]; then\n"
    "    echo 's2r: this image has no sshd; the MPIJob launcher starts the "
    "ranks on the workers over ssh (mpi-operator v2): use an image with "
    "openssh-server' >&2\n"
    "    exit 1\n"
    "fi\n"
    "mkdir -p /run/sshd\n"
    "ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A >/dev/null\n"
    "exec \"$s2r_sshd\" -De -o StrictModes=no\n";

int s2r_mpi_worker_command(const s2r_workload *wl, const s2r_job *job,
                           s2r_strv *out)
{
    s2r_buf b = {0};
    /* the set-up may name files after the job (stage_$SLURM_JOB_ID), as
     * the launcher's script, which has the same number, does */
    if (job->worker_setup && strstr(job->worker_setup, "SLURM_JOB"))
        s2r_pod__job_id(&b, wl);
    if (job->worker_setup)
        s2r_buf_puts(&b, job->worker_setup);
    s2r_buf_puts(&b, sshd_start);
    return s2r_shell_bash_c(out, &b);
}
