#!/usr/bin/env python3
"""Job steps in the pod: batch scripts are converted with the real s2r,
and the command of the pod (from --format yaml) runs under bash with
stand-in programs that record their environment, as the pod would run it.
Checked: tasks and ranks, GPUs per task, NVIDIA_VISIBLE_DEVICES,
concurrent steps sharing GPUs and CPUs, a step waiting for free GPUs,
failing steps and `set -e`, --kill-on-bad-exit, --label, -o patterns,
--multi-prog, refused options, the pods of a PyTorchJob, the workers of an
MPIJob, and that every warning these scripts raise is true.

usage: test_steps.py --bin S2R
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

S2R = None

# records one line per task: NAME KEY=VALUE ...; waits for a barrier of
# BARRIER files when asked; exits with FAIL_RC when its task is FAIL_TASK
WORKER = r"""#!/bin/bash
name=$1; shift
line=$name
for v in SLURM_PROCID SLURM_LOCALID SLURM_NODEID SLURM_NTASKS SLURM_NPROCS \
         SLURM_STEP_ID SLURM_STEP_NUM_TASKS SLURM_STEP_NUM_NODES \
         SLURM_CPUS_PER_TASK CUDA_VISIBLE_DEVICES RANK WORLD_SIZE \
         LOCAL_RANK LOCAL_WORLD_SIZE MASTER_ADDR; do
  line+=" $v=${!v-unset}"
done
# one write per line: concurrent tasks append whole lines
printf '%s args=%s\n' "$line" "$*" >> "$REC/tasks"
if [ -n "${HOLD:-}" ]; then
  # the GPUs this task sees must be held by no other task now
  for g in ${CUDA_VISIBLE_DEVICES//,/ }; do
    mkdir "$REC/hold.$g" 2>/dev/null || echo "gpu $g shared" >> "$REC/conflicts"
  done
fi
if [ -n "${BARRIER:-}" ]; then
  touch "$REC/barrier.$name.$SLURM_PROCID"
  for i in $(seq 600); do
    [ "$(ls "$REC" | grep -c '^barrier\.')" -ge "$BARRIER" ] && break
    sleep 0.05
  done
  [ "$(ls "$REC" | grep -c '^barrier\.')" -ge "$BARRIER" ] || { echo "barrier not met" >> "$REC/conflicts"; }
fi
if [ -n "${HOLD:-}" ]; then
  sleep 0.2
  for g in ${CUDA_VISIBLE_DEVICES//,/ }; do rmdir "$REC/hold.$g"; done
fi
[ "${FAIL_TASK:-x}" = "$name.$SLURM_PROCID" ] && exit "${FAIL_RC:-3}"
[ "${SLOW_TASK:-x}" = "$name.$SLURM_PROCID" ] && sleep 30
exit 0
"""


def convert(script, fmt="yaml", check=True):
    d = tempfile.mkdtemp(prefix="s2r-steps-")
    path = os.path.join(d, "job.sbatch")
    with open(path, "w") as fh:
        fh.write(script)
    # the steps' output stays on the pod's stdout and stderr, where these
    # tests read it: no slurm-%j.out copy
    site = os.path.join(d, "s2r.ini")
    with open(site, "w") as fh:
        fh.write("[site]\nslurm_log = false\n")
    p = subprocess.run([S2R, "-v", "--config", site, "--format", fmt, path],
                       capture_output=True, text=True,
                       env=dict(os.environ, S2R_CONFIG=""))
    shutil.rmtree(d)
    if check and p.returncode != 0:
        raise AssertionError("s2r failed: %s" % p.stderr)
    return p


def manifest(script):
    p = convert(script)
    return yaml.safe_load(p.stdout), p.stderr


def containers(doc):
    """(role, container) of each pod group"""
    spec = doc["spec"]
    if doc["kind"] == "Job":
        return [("main", spec["template"]["spec"]["containers"][0])]
    groups = spec.get("pytorchReplicaSpecs") or spec.get("mpiReplicaSpecs")
    return [(r.lower(), g["template"]["spec"]["containers"][0])
            for r, g in groups.items()]


def program(container):
    """the argv the pod script runs as "$@" (the words after s2r-job), or
    the whole command when it is not wrapped"""
    argv = container["command"] + (container.get("args") or [])
    return argv[argv.index("s2r-job") + 1:] if "s2r-job" in argv else argv


class Pod:
    """A folder with the stand-in programs on PATH, where a pod's command
    runs under bash."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="s2r-pod-")
        self.bin = os.path.join(self.dir, "bin")
        self.rec = os.path.join(self.dir, "rec")
        os.mkdir(self.bin)
        os.mkdir(self.rec)
        self.tool("worker", WORKER)
        # python NAME ARGS: a Python program that records like worker
        self.tool("python", "#!/bin/bash\nexec worker \"$@\"\n")

    def tool(self, name, text):
        p = os.path.join(self.bin, name)
        with open(p, "w") as fh:
            fh.write(text)
        os.chmod(p, 0o755)

    def env_of(self, container, **env):
        e = {"PATH": self.bin + ":/usr/bin:/bin", "HOME": self.dir,
             "TMPDIR": self.dir, "REC": self.rec}
        for c in container.get("env") or []:
            e[c["name"]] = str(c["value"])
        e.update({k: str(v) for k, v in env.items()})
        return e

    def run(self, container, **env):
        argv = container["command"] + (container.get("args") or [])
        return subprocess.run(argv, cwd=self.dir,
                              env=self.env_of(container, **env),
                              capture_output=True, text=True, timeout=120)

    def start(self, container):
        """the command as a container's first process: a session of its
        own, as the container runtime starts it"""
        argv = container["command"] + (container.get("args") or [])
        return subprocess.Popen(argv, cwd=self.dir,
                                env=self.env_of(container),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def tasks(self, name=None):
        out = []
        path = os.path.join(self.rec, "tasks")
        if not os.path.exists(path):
            return out
        with open(path) as fh:
            lines = fh.readlines()
        for line in lines:
            words = line.rstrip("\n").split(" ")
            rec = {"name": words[0]}
            for w in words[1:]:
                if "=" in w and not w.startswith("args="):
                    k, v = w.split("=", 1)
                    rec[k] = v
            rec["args"] = line.split(" args=", 1)[1].rstrip("\n")
            if name is None or rec["name"] == name:
                out.append(rec)
        return out

    def conflicts(self):
        p = os.path.join(self.rec, "conflicts")
        return open(p).read() if os.path.exists(p) else ""

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Steps(unittest.TestCase):
    def setUp(self):
        self.pod = Pod()

    def tearDown(self):
        self.pod.close()

    def job(self, script, **env):
        doc, err = manifest(script)
        self.doc, self.err = doc, err
        role, c = containers(doc)[0]
        return self.pod.run(c, **env)

    def test_tasks_get_ranks_and_their_gpus(self):
        r = self.job("#!/bin/bash\n#SBATCH --ntasks=4 --gpus-per-task=1\n"
                     "srun bash -c 'worker train --rank $SLURM_PROCID'\n"
                     "echo done\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("done", r.stdout)
        t = sorted(self.pod.tasks("train"), key=lambda x: x["SLURM_PROCID"])
        self.assertEqual([x["SLURM_PROCID"] for x in t], ["0", "1", "2", "3"])
        self.assertEqual({x["SLURM_NTASKS"] for x in t}, {"4"})
        self.assertEqual([x["args"] for x in t],
                         ["--rank %d" % i for i in range(4)])
        # the job's --gpus-per-task=1 (SLURM_GPUS_PER_TASK): a step that
        # names no GPUs gives each task its own, as srun(1) does
        self.assertEqual(sorted(x["CUDA_VISIBLE_DEVICES"] for x in t),
                         ["0", "1", "2", "3"])
        self.assertEqual(self.doc["kind"], "Job")

    def test_one_pod_for_nodes_gives_tasks_their_node(self):
        # one pod stands for 2 nodes (cp, a helper, launches nothing
        # Run:ai spreads): each task has its node's index, its local index
        # there and that node's GPUs, as on the 2 nodes
        self.pod.tool("cp", "#!/bin/bash\nexec worker \"$@\"\n")
        r = self.job("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 "
                     "--gpus-per-node=2\n"
                     "srun cp all\n"
                     "srun -r1 -N1 -n1 cp second\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.doc["kind"], "Job")
        t = {x["SLURM_PROCID"]: x for x in self.pod.tasks("all")}
        self.assertEqual(sorted(t), ["0", "1", "2", "3"])
        self.assertEqual([t[p]["SLURM_NODEID"] for p in "0123"],
                         ["0", "0", "1", "1"])
        self.assertEqual([t[p]["SLURM_LOCALID"] for p in "0123"],
                         ["0", "1", "0", "1"])
        self.assertEqual([t[p]["CUDA_VISIBLE_DEVICES"] for p in "0123"],
                         ["0,1", "0,1", "2,3", "2,3"])
        self.assertEqual({x["SLURM_STEP_NUM_NODES"] for x in t.values()},
                         {"2"})
        s = self.pod.tasks("second")
        self.assertEqual([x["SLURM_NODEID"] for x in s], ["1"])
        self.assertEqual(s[0]["CUDA_VISIBLE_DEVICES"], "2,3")

    def test_one_pod_for_nodes_gives_each_node_its_step_gpus(self):
        # GPUs per node of a step: each node's tasks share their node's,
        # never the other node's
        self.pod.tool("cp", "#!/bin/bash\nexec worker \"$@\"\n")
        r = self.job("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 "
                     "--gpus-per-node=2\n"
                     "srun --gpus-per-node=1 cp one\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        t = {x["SLURM_PROCID"]: x for x in self.pod.tasks("one")}
        gpus = [t[p]["CUDA_VISIBLE_DEVICES"] for p in "0123"]
        self.assertEqual(gpus[0], gpus[1])
        self.assertEqual(gpus[2], gpus[3])
        self.assertNotEqual(gpus[0], gpus[2])

    def test_container_runtime_in_a_function_runs_in_the_pod(self):
        # the pod's image has no singularity: the stand-in runs the exec
        # command itself, with its --env and --pwd for that command only
        os.makedirs(os.path.join(self.pod.dir, "sub"), exist_ok=True)
        r = self.job("#!/bin/bash\n"
                     "run() { singularity exec --env A=1 --pwd $PWD/sub "
                     "docker://a/b:1 worker inner \"$@\"; }\n"
                     "run x y\nworker outer\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stays in the pod's script", self.err)
        inner = self.pod.tasks("inner")
        self.assertEqual(len(inner), 1)
        self.assertEqual(inner[0]["args"], "x y")
        self.assertEqual(len(self.pod.tasks("outer")), 1)

    def test_two_steps_keep_their_own_size(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 5\n"
                     "srun -n 2 --label bash -c 'worker a'\n"
                     "srun -n 3 bash -c 'worker b'\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(x["SLURM_PROCID"] for x in self.pod.tasks("a")),
                         ["0", "1"])
        self.assertEqual(sorted(x["SLURM_PROCID"] for x in self.pod.tasks("b")),
                         ["0", "1", "2"])
        steps = {x["SLURM_STEP_ID"] for x in self.pod.tasks("a")} | \
            {x["SLURM_STEP_ID"] for x in self.pod.tasks("b")}
        self.assertEqual(steps, {"0", "1"})

    def test_gpus_per_task_split_the_pod(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 2 --gres=gpu:4 -c 3\n"
                     "srun -n 2 --gpus-per-task=2 python two\n"
                     "srun -n 1 python all\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        two = {x["SLURM_PROCID"]: x for x in self.pod.tasks("two")}
        self.assertEqual(two["0"]["CUDA_VISIBLE_DEVICES"], "0,1")
        self.assertEqual(two["1"]["CUDA_VISIBLE_DEVICES"], "2,3")
        self.assertEqual(two["0"]["SLURM_CPUS_PER_TASK"], "3")
        # no GPU option: the step sees all of the pod's GPUs
        self.assertEqual(self.pod.tasks("all")[0]["CUDA_VISIBLE_DEVICES"],
                         "unset")

    def test_nvidia_visible_devices_counts_the_pod_gpus(self):
        script = ("#!/bin/bash\n#SBATCH -n 2 --gres=gpu:4\n"
                  "srun -n 2 --gpus-per-task=1 python g\n")
        r = self.job(script, NVIDIA_VISIBLE_DEVICES="GPU-aa,GPU-bb")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(x["CUDA_VISIBLE_DEVICES"]
                                for x in self.pod.tasks("g")), ["0", "1"])
        self.pod.close()
        self.pod = Pod()
        r = self.job("#!/bin/bash\n#SBATCH -n 3 --gres=gpu:4\n"
                     "srun -n 3 --gpus-per-task=1 python g\n",
                     NVIDIA_VISIBLE_DEVICES="GPU-aa,GPU-bb")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("the pod has 2", r.stderr)
        for v in ("all", "void", ""):
            self.pod.close()
            self.pod = Pod()
            r = self.job(script, NVIDIA_VISIBLE_DEVICES=v)
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_concurrent_exclusive_steps_share_the_gpus(self):
        steps = "".join("srun --exclusive -n1 --gres=gpu:1 python w%d &\n" % i
                        for i in range(4))
        r = self.job("#!/bin/bash\n#SBATCH --ntasks=4 --gpus-per-task=1\n"
                     + steps + "wait\necho all done\n", BARRIER=4, HOLD=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.pod.conflicts(), "")
        gpus = sorted(x["CUDA_VISIBLE_DEVICES"] for x in self.pod.tasks())
        self.assertEqual(gpus, ["0", "1", "2", "3"])
        self.assertEqual(len({x["SLURM_STEP_ID"] for x in self.pod.tasks()}), 4)

    def test_a_step_waits_for_free_gpus(self):
        steps = "".join("srun --exclusive -n1 --gres=gpu:1 python w%d &\n" % i
                        for i in range(6))
        r = self.job("#!/bin/bash\n#SBATCH -n 2 --gres=gpu:2\n" + steps +
                     "wait\n", HOLD=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.pod.conflicts(), "")
        self.assertEqual(len(self.pod.tasks()), 6)

    def test_failing_task_stops_set_e(self):
        script = ("#!/bin/bash\n#SBATCH -n 3\nset -e\n"
                  "srun bash -c 'worker s'\nworker after\n")
        r = self.job(script, FAIL_TASK="s.1", FAIL_RC=7)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(self.pod.tasks("after"), [])
        self.assertEqual(len(self.pod.tasks("s")), 3)

    def test_first_failing_status_and_kill_on_bad_exit(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 2\n"
                     "srun -K bash -c 'worker k'\necho rc=$?\n",
                     FAIL_TASK="k.0", FAIL_RC=5, SLOW_TASK="k.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rc=5", r.stdout)

    def test_step_status_is_the_highest_of_its_tasks(self):
        # srun(1) RETURN VALUE: the highest exit code of all tasks
        r = self.job("#!/bin/bash\n#SBATCH -n 3\n"
                     "srun bash -c 'exit $((SLURM_PROCID + 2))'\necho rc=$?\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rc=4", r.stdout)

    def test_label_output_and_multi_prog(self):
        self.pod.tool("hello.sh", "#!/bin/bash\necho \"hi $SLURM_PROCID\"\n")
        with open(os.path.join(self.pod.dir, "mp.conf"), "w") as fh:
            fh.write("# ranks\n0 worker first %t\n1-2 worker rest %t %o\n")
        r = self.job("#!/bin/bash\n#SBATCH -n 3\n"
                     "srun --label ./bin/hello.sh\n"
                     "srun -o out-%t.log ./bin/hello.sh\n"
                     "srun --multi-prog mp.conf\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.split("\n")[:3]),
                         ["0: hi 0", "1: hi 1", "2: hi 2"])
        for t in range(3):
            with open(os.path.join(self.pod.dir, "out-%d.log" % t)) as fh:
                self.assertEqual(fh.read(), "hi %d\n" % t)
        self.assertEqual(self.pod.tasks("first")[0]["args"], "0")
        self.assertEqual(sorted(x["args"] for x in self.pod.tasks("rest")),
                         ["1 0", "2 1"])

    def test_srun_made_mpirun_gives_each_rank_its_task_id(self):
        # an Open MPI mpirun: -np N PROGRAM, each rank with its
        # OMPI_COMM_WORLD_RANK, as the image's would start them
        self.pod.tool("mpirun", "#!/bin/bash\n[ \"$1\" = -np ] || exit 9\n"
                      "n=$2; shift 2\nfor ((i = 0; i < n; i++)); do\n"
                      "  OMPI_COMM_WORLD_RANK=$i OMPI_COMM_WORLD_LOCAL_RANK=$i "
                      "\"$@\" &\ndone\nwait\n")
        r = self.job("#!/bin/bash\n#SBATCH --ntasks=4\nsrun worker shard\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mpirun -np 4 bash -c",
                      " ".join(containers(self.doc)[0][1]["command"]))
        t = self.pod.tasks("shard")
        self.assertEqual(sorted(x["SLURM_PROCID"] for x in t),
                         ["0", "1", "2", "3"])
        self.assertEqual(sorted(x["SLURM_LOCALID"] for x in t),
                         ["0", "1", "2", "3"])

    def test_tasks_read_the_steps_standard_input(self):
        # srun passes its stdin on: a heredoc to one task, a copy of it to
        # each of several, none to the others of --input=0
        r = self.job("#!/bin/bash\n#SBATCH -n 2\n"
                     "srun -n 1 cat <<'EOF'\none task\nEOF\n"
                     "echo piped | srun -n 1 wc -c\n"
                     "srun -n 2 cat <<'EOF'\nevery task\nEOF\n"
                     "srun -n 2 --input=0 cat <<'EOF'\ntask 0\nEOF\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.split("\n")
        self.assertEqual(lines.count("one task"), 1, r.stdout)
        self.assertEqual(lines.count("6"), 1, r.stdout)
        self.assertEqual(lines.count("every task"), 2, r.stdout)
        self.assertEqual(lines.count("task 0"), 1, r.stdout)

    def test_srun_inside_a_task_uses_its_resources(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 2 --gres=gpu:2\n"
                     "srun -n 2 --gpus-per-task=1 bash -c "
                     "'srun -n 1 bash -c \"worker inner\"'\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        inner = sorted(x["CUDA_VISIBLE_DEVICES"] for x in self.pod.tasks("inner"))
        self.assertEqual(inner, ["0", "1"])

    def test_refused_option_fails_the_step_as_warned(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 1\nsrun worker a\n"
                     "srun --pty bash\n")
        self.assertIn("srun --pty has no equivalent", self.err)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--pty has no equivalent in a Run:ai pod", r.stderr)

    def test_gpus_the_pod_lacks_are_warned_and_refused(self):
        r = self.job("#!/bin/bash\n#SBATCH -n 1\nsrun worker a\n"
                     "srun --gres=gpu:2 python b\n")
        self.assertIn("asks for 2 GPU(s) on a node, and the pod that runs it "
                      "has 0", self.err)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.pod.tasks("b"), [])

    def test_lightning_becomes_a_pytorchjob_with_rank_variables(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH --nodes=2 "
                            "--ntasks-per-node=4 --gres=gpu:4\n"
                            "srun python lightning train.py\n")
        self.assertEqual(doc["kind"], "PyTorchJob")
        self.assertIn("every PyTorchJob pod runs its node's tasks", err)
        c = containers(doc)[1][1]
        r = self.pod.run(c, PET_NODE_RANK=1, RANK=1, MASTER_ADDR="master-0")
        self.assertEqual(r.returncode, 0, r.stderr)
        t = sorted(self.pod.tasks(), key=lambda x: int(x["SLURM_PROCID"]))
        self.assertEqual([x["SLURM_PROCID"] for x in t], ["4", "5", "6", "7"])
        self.assertEqual([x["RANK"] for x in t], ["4", "5", "6", "7"])
        self.assertEqual([x["LOCAL_RANK"] for x in t], ["0", "1", "2", "3"])
        self.assertEqual({x["WORLD_SIZE"] for x in t}, {"8"})
        self.assertEqual({x["SLURM_NODEID"] for x in t}, {"1"})
        self.assertEqual({x["MASTER_ADDR"] for x in t}, {"master-0"})
        self.assertEqual(sorted(x["CUDA_VISIBLE_DEVICES"] for x in t),
                         ["unset"] * 4)

    def test_one_node_step_runs_on_the_first_pod_only(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=1 "
                            "--gres=gpu:8\n"
                            "srun -N1 -n1 worker prep\n"
                            "srun torchrun --nproc_per_node 8 train.py\n")
        self.assertEqual(doc["kind"], "PyTorchJob")
        self.pod.tool("torchrun", "#!/bin/bash\nworker torchrun \"$@\"\n")
        for rank in (0, 1):
            c = containers(doc)[rank][1]
            self.pod.run(c, PET_NODE_RANK=rank, RANK=rank)
        self.assertEqual(len(self.pod.tasks("prep")), 1)
        self.assertEqual(len(self.pod.tasks("torchrun")), 2)

    def test_mpijob_workers_run_the_setup_then_sshd(self):
        doc, err = manifest(
            "#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4\n"
            "cat > scf.in <<EOF\n&control /\nEOF\nmkdir -p tmp\n"
            "python prep.py\nmpirun pw.x -in scf.in\n")
        self.assertEqual(doc["kind"], "MPIJob")
        roles = dict(containers(doc))
        self.assertIn("mpirun -np 8 pw.x", roles["launcher"]["command"][2])
        self.pod.tool("sshd", "#!/bin/bash\necho \"sshd $*\" > $REC/sshd\n")
        self.pod.tool("ssh-keygen", "#!/bin/bash\nexit 0\n")
        r = self.pod.run(roles["worker"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.pod.dir, "scf.in")))
        self.assertTrue(os.path.isdir(os.path.join(self.pod.dir, "tmp")))
        with open(os.path.join(self.pod.rec, "sshd")) as fh:
            self.assertIn("-De", fh.read())
        self.assertIn("worker pods run line(s) 3, 6", err)
        self.assertNotIn("prep.py", roles["worker"]["command"][2])

    def test_mpijob_workers_have_the_job_id_their_setup_reads(self):
        doc, err = manifest(
            "#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4\n"
            "STAGE=stage_$SLURM_JOB_ID\nmkdir -p $STAGE\n"
            "mpirun ./solver $STAGE\n")
        roles = dict(containers(doc))
        self.pod.tool("sshd", "#!/bin/bash\nexit 0\n")
        self.pod.tool("ssh-keygen", "#!/bin/bash\nexit 0\n")
        env = {"RUNAI_JOB_UUID": "b3c1d2"}
        r = self.pod.run(roles["worker"], **env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # the launcher's script computes the same number from the same UUID
        job_id = subprocess.run(
            ["bash", "-c", "printf %s b3c1d2 | cksum"], capture_output=True,
            text=True).stdout.split()[0]
        self.assertTrue(os.path.isdir(os.path.join(self.pod.dir,
                                                   "stage_" + job_id)))

    def test_image_without_sshd_says_so(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 -n 4\nmpirun ./a.out\n")
        r = self.pod.run(dict(containers(doc))["worker"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has no sshd", r.stderr)

    def test_one_node_mpi_runs_mpirun_in_one_pod(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -n 96\n"
                            "srun --mpi=pmix lmp -in in.equil\n")
        self.assertEqual(doc["kind"], "Job")
        c = containers(doc)[0][1]
        self.assertEqual(program(c)[:3], ["mpirun", "-np", "96"])
        self.assertIn("one node: the MPI ranks start with mpirun inside one "
                      "pod", err)
        env = {e["name"]: e["value"] for e in c["env"]}
        self.assertEqual(env["OMPI_ALLOW_RUN_AS_ROOT"], "1")

    def test_side_step_of_an_mpi_program_becomes_mpirun(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -n 5\n"
                            "srun -n 2 ./A\nsrun -n 3 ./B\n")
        text = containers(doc)[0][1]["command"][2]
        # each rank gets its task's SLURM_PROCID, the main step and a side
        # step alike
        self.assertIn("mpirun -np 2 bash -c 'export SLURM_PROCID=", text)
        self.assertIn("' s2r-task ./A\n", text)
        self.assertIn("mpirun -np 3 bash -c 'export SLURM_PROCID=", text)
        self.assertIn("' s2r-task ./B\n", text)
        self.assertIn("becomes 'mpirun -np 3'", err)

    def test_side_step_of_an_mpijob_runs_on_the_launcher(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2\n"
                            "srun -n 1 hostname\nmpirun ./solver\n")
        self.assertIn("runs on the MPIJob's launcher pod", err)
        self.assertIn("srun -n 1 hostname",
                      dict(containers(doc))["launcher"]["command"][2])

    def test_big_body_is_refused(self):
        data = "x" * 100 + "\n"
        body = "cat > data.txt <<'EOF'\n" + data * 2000 + "EOF\npython a.py\n"
        p = convert("#!/bin/bash\n#SBATCH -c 1\n" + body, check=False)
        self.assertEqual(len(body) // 1024, 197)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("but Linux passes one argument of at most 128 KiB",
                      p.stderr)
        p = convert("#!/bin/bash\n#SBATCH -c 1\n" + body[:60000] +
                    "\nEOF\npython a.py\n", check=False)
        self.assertEqual(p.returncode, 0, p.stderr)


class Interpreters(unittest.TestCase):
    """A script whose #! names another interpreter: per sbatch(1) the
    script is copied and executed, so the pod writes it to a file and runs
    its #! line on that file (perl -c or node -c would only check it)."""

    def setUp(self):
        self.pod = Pod()

    def tearDown(self):
        self.pod.close()

    def run_script(self, script):
        p = convert(script)
        doc = yaml.safe_load(p.stdout)
        role, c = containers(doc)[0]
        return self.pod.run(c), p.stderr

    def test_perl_runs_its_file_with_logs_and_status(self):
        r, err = self.run_script(
            "#!/usr/bin/perl -w\n#SBATCH -c 1\n#SBATCH -o perl-%j.out\n"
            "use strict;\nmy $n = 0;\n$n++ for 1..3;\n"
            "print \"n=$n job=$ENV{SLURM_JOB_ID} it's \", "
            "(-f $0 ? \"file $0\" : \"no file\"), \"\\n\";\n"
            "print STDERR \"to stderr\\n\";\nexit 3;\n")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn("Can't open perl script", r.stderr)
        self.assertIn("n=3 job=", r.stdout)
        self.assertIn("it's file " + self.pod.dir + "/s2r-job.", r.stdout)
        self.assertIn("to stderr", r.stdout)
        logs = [f for f in os.listdir(self.pod.dir) if f.startswith("perl-")]
        self.assertEqual(len(logs), 1)
        with open(os.path.join(self.pod.dir, logs[0])) as fh:
            self.assertIn("n=3", fh.read())
        self.assertIn("runs its #! line on that file ('/usr/bin/perl -w "
                      "FILE')", err)
        self.assertNotIn("-c SCRIPT", err)

    def test_python_has_its_file(self):
        r, err = self.run_script(
            "#!/usr/bin/env python3\n#SBATCH -c 1\n"
            "import os, sys\n"
            "print('file', __file__ == sys.argv[0], os.path.isfile(__file__))\n"
            "print('args', sys.argv[1:], os.environ['SLURM_JOB_ID'] != '')\n"
            "print(open(__file__).read().splitlines()[0])\n"
            "sys.exit(5)\n")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("file True True", r.stdout)
        self.assertIn("args [] True", r.stdout)
        self.assertIn("#!/usr/bin/env python3", r.stdout)

    def test_interpreter_the_image_has_elsewhere_is_on_path(self):
        # #!/usr/bin/Rscript where the image has /usr/local/bin/Rscript
        self.pod.tool("myinterp",
                      "#!/bin/bash\necho \"interp $# $1 $(head -n1 \"$2\")\"\n")
        r, err = self.run_script("#!/no/such/bin/myinterp -q\nwhatever\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("interp 2 -q #!/no/such/bin/myinterp -q", r.stdout)

    def test_big_script_is_refused(self):
        body = ("# " + "x" * 98 + "\n") * 1400
        p = convert("#!/usr/bin/perl\n#SBATCH -c 1\n" + body, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("but Linux passes one argument of at most 128 KiB",
                      p.stderr)


class Warnings(unittest.TestCase):
    """Each warning these scripts raise says what the workload does."""

    def test_cluster_daemons_run_in_one_pod(self):
        doc, err = manifest(
            "#!/bin/bash\n#SBATCH -N 3 --ntasks-per-node=1 --gpus-per-task=1\n"
            "srun -N1 -n1 ray start --head --block &\n"
            "srun -N2 -n2 -r1 ray start --address $H:6379 --block &\n"
            "python tune.py\n")
        self.assertIn("starts a Ray cluster across the job's 3 nodes", err)
        self.assertEqual(doc["kind"], "Job")
        self.assertIn("python tune.py", containers(doc)[0][1]["command"][2])

    def test_workflow_manager_is_named(self):
        doc, err = manifest("#!/bin/bash\nsnakemake --slurm -j 100\n")
        self.assertIn("runs Snakemake", err)
        doc, err = manifest("#!/bin/bash\nnextflow run main.nf\n")
        self.assertNotIn("submits its own SLURM jobs", err)

    def test_slurm_clients_in_handlers_are_named(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -c 2\n"
                            "trap 'scontrol requeue $SLURM_JOB_ID' USR1\n"
                            "python t.py &\nwait\n")
        self.assertIn("line 3 runs scontrol requeue when it is reached", err)
        self.assertIn("scontrol requeue", containers(doc)[0][1]["command"][2])
        doc, err = manifest("#!/bin/bash\necho 'no sbatch here'\npython t.py\n")
        self.assertNotIn("submit SLURM jobs", err)

    def test_host_lists_per_workload(self):
        script = ("#!/bin/bash\n#SBATCH -N %d --ntasks-per-node=1 --gres=gpu:8\n"
                  "head=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -1)\n"
                  "srun torchrun --nproc_per_node 8 --rdzv_endpoint $head:29500 "
                  "t.py\n")
        doc, err = manifest(script % 2)
        self.assertEqual(doc["kind"], "PyTorchJob")
        self.assertIn("the PyTorchJob sets MASTER_ADDR", err)
        doc, err = manifest(script % 1)
        self.assertIn("becomes 'hostname'", err)
        text = containers(doc)[0][1]["command"][2]
        self.assertIn("head=$(hostname | head -1)", text)

    def test_top_level_sbatch_is_dropped(self):
        doc, err = manifest("#!/bin/bash\npython t.py\nsbatch next.sh\n")
        self.assertIn("dropped 'sbatch next.sh': a Run:ai pod cannot submit "
                      "SLURM jobs", err)
        self.assertEqual(program(containers(doc)[0][1]), ["python", "t.py"])

    def test_host_list_of_an_mpijob_is_dropped(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4\n"
                            "scontrol show hostnames > hosts.txt\n"
                            "mpirun -machinefile hosts.txt ./a.out\n")
        self.assertEqual(doc["kind"], "MPIJob")
        self.assertIn("the MPIJob's launcher reaches the workers through its "
                      "hostfile", err)
        launcher = dict(containers(doc))["launcher"]
        self.assertEqual(program(launcher), ["mpirun", "-np", "8", "./a.out"])

    def test_another_image_in_a_step_is_refused(self):
        pod = Pod()
        try:
            doc, err = manifest("#!/bin/bash\n#SBATCH -n 1\n"
                                "srun --container-image=nvcr.io#nvidia/pytorch:24.01-py3 "
                                "python a\n"
                                "srun --container-image=docker.io#library/ubuntu:22.04 "
                                "python b\n")
            self.assertIn("names image docker.io/library/ubuntu:22.04, but the "
                          "pod runs nvcr.io/nvidia/pytorch:24.01-py3", err)
            r = pod.run(containers(doc)[0][1])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("a step cannot switch images", r.stderr)
            self.assertEqual(len(pod.tasks("a")), 1)
            self.assertEqual(pod.tasks("b"), [])
        finally:
            pod.close()

    def test_mpirun_does_not_apply_per_task_options(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4\n"
                            "srun -o out-%t.log --label ./a.out\n")
        self.assertIn("srun -o, --label: mpirun starts the MPI program's ranks "
                      "and does not apply them", err)
        launcher = dict(containers(doc))["launcher"]
        argv = program(launcher)
        self.assertEqual(argv[:5], ["mpirun", "-np", "8", "bash", "-c"])
        self.assertEqual(argv[6:], ["s2r-task", "./a.out"])

    def test_nodes_without_a_launch_are_one_pod(self):
        pod = Pod()
        try:
            # cp stages data: a helper, no launch
            pod.tool("cp", "#!/bin/bash\nexec worker stage \"$@\"\n")
            doc, err = manifest("#!/bin/bash\n#SBATCH -N 2\n"
                                "srun -N2 --ntasks-per-node=1 bash -c "
                                "'mkdir -p stage && cp in.dat stage/'\n"
                                "python main.py\n")
            self.assertIn("the workload is one pod with the CPUs, memory "
                          "and GPUs of all 2 nodes, where srun steps run all "
                          "their tasks", err)
            self.assertEqual(doc["kind"], "Job")
            res = containers(doc)[0][1]["resources"]
            self.assertEqual(res["requests"]["cpu"], "2")
            r = pod.run(containers(doc)[0][1])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(pod.tasks("stage")), 2)
            self.assertEqual(len(pod.tasks("main.py")), 1)
        finally:
            pod.close()

    def test_pytorchjob_lines_outside_the_launch_are_named(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 "
                            "--gpus-per-node=2\n"
                            "srun -N1 -n1 python prep.py\n"
                            "srun python train.py\n"
                            "python evaluate.py > results.txt\n"
                            "echo done\n")
        self.assertEqual(doc["kind"], "PyTorchJob")
        self.assertIn("line 3: the srun step runs on 1 of the PyTorchJob's 2 "
                      "pods; the other pods do not wait for it", err)
        self.assertIn("runs 2 times, where SLURM runs it once on the first "
                      "node: line 5 'python evaluate.py > results.txt';", err)
        self.assertNotIn("'echo done'", err)

    def test_sigterm_reaches_the_body_and_the_logs_keep_its_output(self):
        # Kubernetes stops a pod with SIGTERM to its first process; SLURM
        # signals every process of the job: the body's trap runs, and
        # what it prints reaches the -o and -e files
        doc, _ = manifest("#!/bin/bash\n#SBATCH -o out.log -e err.log\n"
                          "save() { echo saving; echo saved >&2; exit 3; }\n"
                          "trap save TERM\n"
                          "touch started\nsleep 60 &\nwait\n")
        pod = Pod()
        try:
            p = pod.start(containers(doc)[0][1])
            # the body has started and both tee processes have opened
            # their files (they start beside the body: a SIGTERM in the
            # instant before a tee ignores it would stop that tee)
            ready = [os.path.join(pod.dir, f)
                     for f in ("started", "out.log", "err.log")]
            for _ in range(600):
                if all(os.path.exists(f) for f in ready):
                    break
                time.sleep(0.05)
            self.assertTrue(all(os.path.exists(f) for f in ready))
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 3, err)
            with open(os.path.join(pod.dir, "out.log")) as fh:
                self.assertEqual(fh.read(), "saving\n")
            with open(os.path.join(pod.dir, "err.log")) as fh:
                self.assertEqual(fh.read(), "saved\n")
        finally:
            pod.close()

    def test_torchrun_without_srun_on_several_nodes_is_said(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH --nodes=2 "
                            "--gpus-per-node=4\n"
                            "torchrun --nproc_per_node=4 train.py\n")
        self.assertEqual(doc["kind"], "PyTorchJob")
        self.assertIn("line 3: the launcher is not started by srun, so under "
                      "SLURM it runs on the first of the 2 nodes only", err)
        doc, err = manifest("#!/bin/bash\n#SBATCH --nodes=2 "
                            "--gpus-per-node=4\n"
                            "srun torchrun --nproc_per_node=4 train.py\n")
        self.assertNotIn("not started by srun", err)

    def test_long_body_is_warned(self):
        body = "cat > d.txt <<'EOF'\n" + ("y" * 99 + "\n") * 1100 + "EOF\nz\n"
        p = convert("#!/bin/bash\n" + body)
        self.assertIn("the pod's command is 108 KiB: Linux passes one argument "
                      "of at most 128 KiB", p.stderr)

    def test_binds_are_named_and_not_mounted(self):
        doc, err = manifest("#!/bin/bash\n#SBATCH -G 1\n"
                            "apptainer exec --nv -B /scratch/x:/data:ro "
                            "docker://ghcr.io/a/b:1 python t.py\n")
        self.assertIn("container bind /scratch/x -> /data (read-only)", err)
        c = containers(doc)[0][1]
        # no [storage] entry covers /scratch: only the pod's /dev/shm
        self.assertEqual([m["mountPath"] for m in c.get("volumeMounts", [])],
                         ["/dev/shm"])
        self.assertEqual(c["image"], "ghcr.io/a/b:1")


def main():
    global S2R
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    S2R = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=1)


if __name__ == "__main__":
    main()
