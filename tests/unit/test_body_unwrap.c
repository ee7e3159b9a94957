/* test_body_unwrap.c: the wrappers and launchers s2r_body__unwrap() finds
 * in front of a program (core/body/unwrap.c), told apart by the name of
 * each word: the keywords as whole words only, srun, the MPI launchers
 * and horovodrun, conda run, container runtimes, bash -c strings and the
 * framework launchers (the names s2r_launch_identify() knows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "body/analysis.h"

/* what one command's unwrap says */
enum { SRUN = 1, MPI = 2, HOROVOD = 4, CONDA_RUN = 8, SHELL = 16,
       LOCAL = 32 };
typedef struct expect {
    const char *cmd;
    size_t prog;  /* the program's word */
    size_t kw_to; /* keywords and computed prefixes end here */
    int flags;    /* srun, mpi, horovod, conda_run, shell_string,
                     local_image */
    launcher lk;
} expect;

static void check(const expect *e)
{
    sh_body b;
    assert_int_equal(sh_lex(&b, e->cmd, strlen(e->cmd), 1), 0);
    assert_int_equal(b.n, 1);
    unwrap u;
    s2r_body__unwrap(&b.stmts[0].cmds[0], &u, NULL);
    int flags = (u.srun ? SRUN : 0) | (u.mpi ? MPI : 0) |
                (u.horovod ? HOROVOD : 0) | (u.conda_run ? CONDA_RUN : 0) |
                (u.shell_string ? SHELL : 0) | (u.local_image ? LOCAL : 0);
    if (u.prog != e->prog || u.kw_to != e->kw_to || flags != e->flags ||
        u.lk != e->lk)
        fail_msg("'%s': prog %zu kw_to %zu flags %d lk %d", e->cmd, u.prog,
                 u.kw_to, flags, (int)u.lk);
    s2r_body__unwrap_free(&u);
    sh_body_free(&b);
}

static void test_unwrap__names(void **state)
{
    (void)state;
    static const expect cases[] = {
        /* keywords: the word itself, not a path to a program of the name */
        {"time python a.py", 1, 1, 0, L_NONE},
        {"exec nohup command python a.py", 3, 3, 0, L_NONE},
        {"/usr/bin/time python a.py", 0, 0, 0, L_NONE},
        {"timer python a.py", 0, 0, 0, L_NONE},
        /* a computed prefix in front of a launcher */
        {"$PRE torchrun a.py", 1, 1, 0, L_TORCHRUN},
        {"$PRE python a.py", 0, 0, 0, L_NONE},
        /* srun, with a path too */
        {"srun -n 2 python a.py", 3, 0, SRUN, L_NONE},
        {"/usr/bin/srun python a.py", 1, 0, SRUN, L_NONE},
        {"srunner python a.py", 0, 0, 0, L_NONE},
        /* MPI launchers and horovodrun */
        {"mpirun -np 4 ./a.out", 3, 0, MPI, L_NONE},
        {"mpiexec ./a.out", 1, 0, MPI, L_NONE},
        {"/opt/mpi/bin/mpiexec.hydra ./a.out", 1, 0, MPI, L_NONE},
        {"orterun ./a.out", 1, 0, MPI, L_NONE},
        {"prterun ./a.out", 1, 0, MPI, L_NONE},
        {"mpirun2 ./a.out", 0, 0, 0, L_NONE},
        {"horovodrun -np 4 python a.py", 3, 0, MPI | HOROVOD, L_NONE},
        /* conda run, only with run */
        {"conda run -n env python a.py", 4, 0, CONDA_RUN, L_NONE},
        {"micromamba run -n env python a.py", 4, 0, CONDA_RUN, L_NONE},
        {"mamba activate env", 0, 0, 0, L_NONE},
        /* container runtimes */
        {"apptainer exec img.sif python a.py", 3, 0, LOCAL, L_NONE},
        {"singularity exec docker://nvcr.io/x:1 python a.py", 3, 0, 0,
         L_NONE},
        {"podman-hpc run --rm img python a.py", 4, 0, 0, L_NONE},
        {"docker run img python a.py", 3, 0, 0, L_NONE},
        {"enroot start mycontainer python a.py", 3, 0, LOCAL, L_NONE},
        {"enroot import docker://x", 0, 0, 0, L_NONE},
        /* bash -c strings */
        {"bash -c 'python a.py'", 0, 0, SHELL, L_NONE},
        {"/bin/sh -c 'python a.py'", 0, 0, SHELL, L_NONE},
        {"zsh -c 'python a.py'", 0, 0, 0, L_NONE},
        /* framework launchers */
        {"torchrun --nproc_per_node=2 a.py", 0, 0, 0, L_TORCHRUN},
        {"deepspeed a.py", 0, 0, 0, L_DEEPSPEED},
        {"accelerate launch a.py", 0, 0, 0, L_ACCELERATE},
        {"accelerate config", 0, 0, 0, L_NONE},
        {"python3 -u -m torch.distributed.run a.py", 0, 0, 0, L_TORCHRUN},
        {"/usr/bin/python -m torch.distributed.launch a.py", 0, 0, 0,
         L_TORCHRUN},
        {"pythonic -m torch.distributed.run a.py", 0, 0, 0, L_NONE},
        {"srun torchrun a.py", 1, 0, SRUN, L_TORCHRUN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unwrap__names),
    };
    return cmocka_run_group_tests_name("body_unwrap", tests, NULL, NULL);
}
