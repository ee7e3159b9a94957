"""Fixtures of the Python package tests: the repository, the s2r program
of the build tree (the reference), the shared corpus, and ONE virtual
environment with the package installed from the repository, shared by
every test.

    S2R_SOURCE_DIR   the repository (default: two folders up)
    S2R_BINARY_DIR   the CMake build tree with s2r (default: build/)
    S2R_SHARED_DIR   the shared folder with corpus/ and tools/ (default:
                     ../shared beside the repository; relative to it)
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(os.environ.get("S2R_SOURCE_DIR")
            or Path(__file__).resolve().parents[2]).resolve()
BUILD = Path(os.environ.get("S2R_BINARY_DIR") or REPO / "build").resolve()
SHARED = REPO / os.environ.get("S2R_SHARED_DIR", "../shared")
CORPUS = SHARED / "corpus"
SITE_INI = SHARED / "tools" / "site-example.ini"
CLI = BUILD / "s2r"
FORMATS = ("cli", "yaml", "json")
SCRIPTS = sorted(CORPUS.glob("*.sbatch")) if CORPUS.is_dir() else []

needs_corpus = pytest.mark.skipif(
    not SCRIPTS or not SITE_INI.is_file(),
    reason=f"no shared corpus at {CORPUS} (set S2R_SHARED_DIR)")


def clean_env(**extra: str) -> dict:
    """The environment without what would make s2r call a server."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("S2R_API_ENDPOINT", "S2R_SHARED_SECRET")}
    env.update(extra)
    return env


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("env", clean_env())
    return subprocess.run([str(c) for c in cmd], capture_output=True, **kw)


def check(cmd: list, **kw) -> subprocess.CompletedProcess:
    p = run(cmd, **kw)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n"
                    f"{p.stdout.decode(errors='replace')}\n"
                    f"{p.stderr.decode(errors='replace')}")
    return p


def cli(*args) -> subprocess.CompletedProcess:
    """The s2r program of the build tree."""
    return run([CLI, *args])


def facts(script: Path) -> dict:
    import json
    return json.loads(script.with_name(script.stem + ".facts.json")
                      .read_text(encoding="utf-8"))


def site_packages(venv: Path) -> Path:
    v = sys.version_info
    return venv / "lib" / f"python{v.major}.{v.minor}" / "site-packages"


def make_venv(path: Path, system_site: bool) -> Path:
    flags = ["--system-site-packages"] if system_site else []
    check([sys.executable, "-m", "venv", *flags, path])
    return path


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Path:
    """A fresh venv (Debian's setuptools visible) with
    `pip install --no-build-isolation ./python` done once."""
    root = make_venv(tmp_path_factory.mktemp("venv") / "env", True)
    check([root / "bin" / "python", "-m", "pip", "install", "--no-index",
           "--no-deps", "--no-build-isolation", "--no-cache-dir",
           REPO / "python"])
    return root


@pytest.fixture(scope="session")
def s2r(venv):
    """The s2r package imported from the venv (this interpreter is the
    one the venv was made from)."""
    sys.path.insert(0, str(site_packages(venv)))
    module = importlib.import_module("s2r")
    assert Path(module.__file__).resolve().is_relative_to(venv.resolve())
    return module
