"""A throw-away Slurm 22.05 controller on loopback for the sbatch tests.

One munged (own key, own socket) and one slurmctld (generated slurm.conf,
free TCP port on 127.0.0.1) run as the current user in a temporary folder.
There is no slurmd: the nodes never answer, so a job is stored and never
runs. The cluster has GPU nodes of several types, CPU nodes, several
partitions, licenses and a reservation, so that what a script names exists.

Nothing here needs root; as root (CI) SlurmUser is root.
"""
import ctypes
import os
import pwd
import signal
import shutil
import socket
import subprocess
import tempfile
import time

# The fake machine. Sizes are large enough for every plausible request the
# corpus and the generator make (a request larger than any node is refused
# by the controller, as on a real cluster, which says nothing about s2r).
NODE_CPUS = 256
NODE_MEM_MIB = 4 * 1024 * 1024  # 4 TiB
GPU_NODES = [
    # (node names, gres, features); gn* hold every type, so that any mix
    # of types fits on one node
    ("gn[01-32]", "gpu:a100:8,gpu:h100:8,gpu:v100:8,gpu:a40:8,"
     "gpu:rtx6000:8,gpu:l40s:8", "ib,a100,h100,v100,a40,rtx6000"),
    ("a[001-032]", "gpu:a100:8", "ib,a100"),
    ("h[001-032]", "gpu:h100:8", "ib,h100"),
]
CPU_NODES = ("c[001-064]", "ib,cpu")
GPU_TYPES = ["a100", "h100", "v100", "a40", "rtx6000", "l40s"]
ALL_GPU = "gn[01-32],a[001-032],h[001-032]"
PARTITIONS = [
    # (name, nodes, extra)
    ("gpu", ALL_GPU, "Default=YES"),
    ("gpu-short", ALL_GPU, ""),
    ("gpu-long", ALL_GPU, ""),
    ("a100", "a[001-032]", ""),
    ("h100", "h[001-032]", ""),
    ("interactive", ALL_GPU + ",c[001-064]", ""),
    ("preempt", ALL_GPU + ",c[001-064]", ""),
    ("debug", ALL_GPU + ",c[001-064]", ""),
    ("batch", ALL_GPU + ",c[001-064]", ""),
    ("cpu", "c[001-064]", ""),
    ("cpu-long", "c[001-064]", ""),
    ("standard", "c[001-064]", ""),
    ("compute", "c[001-064]", ""),
    ("bigmem", "c[001-064]", ""),
]
LICENSES = {"matlab": 100, "ansys": 50, "comsol": 20, "fluent": 20}
RESERVATIONS = {"gpu-workshop": "gn[01-12],c[001-012]",
                "maint-window": "gn[13-24],c[013-024]"}
FEATURES = ["ib", "cpu", "a100", "h100", "v100", "a40", "rtx6000"]
# DefMemPerNode: an odd default, so that "no --mem" and "--mem=0" differ in
# the stored job (MinMemoryNode=77 against MinMemoryNode=0).
DEF_MEM_PER_NODE = 77


def _die_with_parent():
    """The daemons end with the test, however it ends (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Unavailable(Exception):
    """slurmctld or munged is not installed or cannot start here."""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


def slurm_conf(d, user, port):
    nodes = []
    for names, gres, feat in GPU_NODES:
        nodes.append(f"NodeName={names} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} "
                     f"RealMemory={NODE_MEM_MIB} Gres={gres} "
                     f"Feature={feat} State=UNKNOWN")
    nodes.append(f"NodeName={CPU_NODES[0]} NodeAddr=127.0.0.1 "
                 f"CPUs={NODE_CPUS} RealMemory={NODE_MEM_MIB} "
                 f"Feature={CPU_NODES[1]} State=UNKNOWN")
    parts = [f"PartitionName={n} Nodes={nodes_} MaxTime=UNLIMITED "
             f"State=UP {extra}".rstrip() for n, nodes_, extra in PARTITIONS]
    lic = ",".join(f"{k}:{v}" for k, v in LICENSES.items())
    return "\n".join([
        "ClusterName=s2rtest",
        "SlurmctldHost=localhost(127.0.0.1)",
        f"SlurmctldPort={port}",
        f"SlurmdPort={_free_port()}",
        f"SlurmUser={user}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={d}/munge/socket",
        f"StateSaveLocation={d}/state",
        f"SlurmdSpoolDir={d}/spool",
        f"SlurmctldPidFile={d}/slurmctld.pid",
        f"SlurmctldLogFile={d}/slurmctld.log",
        "SlurmctldDebug=info",
        "SchedulerType=sched/builtin",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "GresTypes=gpu",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "MpiDefault=none",
        "MailProg=/bin/true",
        "ReturnToService=0",
        f"Licenses={lic}",
        "MinJobAge=2",
        "MaxJobCount=100000",
        "MaxArraySize=1001",
        f"DefMemPerNode={DEF_MEM_PER_NODE}",
        "SlurmdTimeout=3600",
        *nodes,
        *parts,
        "",
    ])


class Cluster:
    """Start with Cluster(), use env for clients, stop() at the end."""

    def __init__(self, log=print):
        self.log = log
        self.procs = []
        self.generation = 0
        self.munged = _which("munged")
        self.slurmctld = _which("slurmctld")
        self.sbatch = _which("sbatch")
        self.scontrol = _which("scontrol")
        self.scancel = _which("scancel")
        if not (self.munged and self.slurmctld and self.sbatch and
                self.scontrol):
            raise Unavailable("slurmctld, slurm-client or munge is not "
                              "installed (scripts/install-slurm.sh)")
        self.dir = tempfile.mkdtemp(prefix="s2r-slurm-")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self._prepare()
        self._launch()

    def _prepare(self):
        d = self.dir
        os.chmod(d, 0o755)  # munged wants a socket folder others can reach
        for sub in ("munge", "state", "spool", "jobs"):
            os.mkdir(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o755)
        key = os.path.join(d, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        self.user = pwd.getpwuid(os.getuid()).pw_name
        port = _free_port()
        self.conf = os.path.join(d, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write(slurm_conf(d, self.user, port))
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        for k in list(self.env):
            if k.startswith(("SBATCH_", "SLURM_")) and k != "SLURM_CONF":
                del self.env[k]  # the submitter's own defaults stay out

    def _launch(self):
        d = self.dir
        key = os.path.join(d, "munge", "munge.key")
        self._spawn([self.munged, "-F", "--force",
                     f"--socket={d}/munge/socket", f"--key-file={key}",
                     f"--pid-file={d}/munge/munged.pid",
                     f"--log-file={d}/munge/munged.log",
                     f"--seed-file={d}/munge/munged.seed"], "munged")
        self._wait(lambda: os.path.exists(f"{d}/munge/socket"), "munged")
        self._spawn([self.slurmctld, "-D", "-i", "-f", self.conf],
                    "slurmctld")
        self._wait(self._ping, "slurmctld")
        for name, nodes in RESERVATIONS.items():
            self.run([self.scontrol, "create", "reservation",
                      f"ReservationName={name}", "StartTime=now",
                      "Duration=UNLIMITED", f"Nodes={nodes}",
                      f"Users={self.user}", "Flags=IGNORE_JOBS"], check=True)

    def alive(self):
        return all(p.poll() is None for _, p in self.procs)

    def restart(self):
        """A new controller (and munged) after one died."""
        self.stop(keep=True)
        state = os.path.join(self.dir, "state")
        shutil.rmtree(state, ignore_errors=True)
        os.mkdir(state)
        # new job ids, so that no record of the dead one is taken for a new
        self.generation += 1
        with open(self.conf, "a") as f:
            f.write(f"FirstJobId={1000000 * self.generation}\n")
        for f in ("socket", "socket.lock", "munged.pid"):
            try:
                os.unlink(os.path.join(self.dir, "munge", f))
            except FileNotFoundError:
                pass
        self._launch()

    def _spawn(self, argv, name):
        out = open(os.path.join(self.dir, name + ".out"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL,
                             env=getattr(self, "env", os.environ),
                             preexec_fn=_die_with_parent)
        out.close()
        self.procs.append((name, p))

    def _ping(self):
        r = subprocess.run([self.scontrol, "ping"], env=self.env,
                           capture_output=True, text=True)
        return "is UP" in r.stdout

    def _wait(self, ready, name, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for n, p in self.procs:
                if p.poll() is not None:
                    raise Unavailable(f"{n} exited with {p.returncode}: "
                                      f"{self.tail(n)}")
            if ready():
                return
            time.sleep(0.2)
        raise Unavailable(f"{name} did not come up in {seconds} s: "
                          f"{self.tail(name)}")

    def tail(self, name, n=2000):
        try:
            with open(os.path.join(self.dir, name + ".out"), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def run(self, argv, check=False, **kw):
        r = subprocess.run(argv, env=self.env, capture_output=True,
                           text=True, errors="replace", **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
        return r

    def stop(self, keep=False):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        if keep:
            return
        if os.environ.get("S2R_SBATCH_KEEP"):
            self.log(f"cluster files kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
