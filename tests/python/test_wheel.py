"""`python3 -m build --no-isolation --wheel` from a clean copy of the
sources, with nothing but Debian's python3 and what
scripts/install-deps.sh installs (a bare environment: no user site, no
other python3 on PATH); the wheel installs into a plain venv and works."""
from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from conftest import REPO, check, make_venv, run

BARE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SCRIPT = b"#!/bin/bash\n#SBATCH --gres=gpu:2\npython train.py\n"


BUILT = ("build", ".git", "dist", "_native", "__pycache__", "node_modules")


def not_sources(folder: str, names: list) -> list:
    return [n for n in names if (Path(folder) / n).is_dir() and
            (n.startswith(BUILT) or n.endswith(".egg-info"))]


def copy_sources(dest: Path) -> None:
    """The files git knows of (tracked, or new and not ignored), else the
    folder without build trees."""
    try:
        names = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z", "--cached",
             "--others", "--exclude-standard"],
            capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(REPO, dest, ignore=not_sources, dirs_exist_ok=True)
        return
    for name in filter(None, names.decode().split("\0")):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def test_wheel_from_a_clean_copy(tmp_path):
    src, home = tmp_path / "src", tmp_path / "home"
    src.mkdir()
    home.mkdir()
    copy_sources(src)
    bare = {"PATH": BARE_PATH, "HOME": str(home), "LANG": "C.UTF-8"}
    check([shutil.which("python3", path=BARE_PATH), "-m", "build",
           "--no-isolation", "--wheel", "--outdir", tmp_path / "dist",
           src / "python"], env=bare)
    wheels = list((tmp_path / "dist").glob("*.whl"))
    assert len(wheels) == 1
    assert wheels[0].name.startswith("s2r-") and \
        wheels[0].name.endswith("-py3-none-linux_x86_64.whl")
    with zipfile.ZipFile(wheels[0]) as whl:
        entries = {i.filename: i for i in whl.infolist()}
        for need in ("s2r/__init__.py", "s2r/py.typed",
                     "s2r/_native/lib/libs2r.so", "s2r/_native/bin/s2r",
                     "s2r/_native/lib/s2r/libs2r-runtime.so"):
            assert need in entries, need
        assert entries["s2r/_native/bin/s2r"].external_attr >> 16 & 0o111
        points = [n for n in entries if n.endswith("entry_points.txt")][0]
        assert b"s2r = s2r.__main__:main" in whl.read(points)

    env = make_venv(tmp_path / "plain", False)
    check([env / "bin" / "python", "-m", "pip", "install", "--no-index",
           "--no-deps", wheels[0]], env=bare)
    p = check([env / "bin" / "python", "-c",
               "import sys, s2r; c = s2r.convert(sys.stdin.buffer.read());"
               "print(c.job['gpus_per_node'], c.workload['kind'])"],
              input=SCRIPT, env=bare)
    assert p.stdout == b"2 standard\n"
    p = run([env / "bin" / "s2r", "-"], input=SCRIPT, env=bare)
    assert p.returncode == 0 and b"runai training standard submit" in p.stdout
