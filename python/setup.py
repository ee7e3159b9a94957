"""Build the s2r package from the repository's C sources.

The build_ext step configures and builds the CMake project one folder up
(the repository this folder belongs to), installs it into a staging prefix and copies what
the package needs into s2r/_native/, a small relocatable prefix:

    _native/lib/libs2r.so               the converter (public s2r.h API)
    _native/bin/s2r                     the s2r program
    _native/lib/s2r/libs2r-runtime.so   its subcommands (serve, plugins ...)
    _native/lib/s2r/plugins/*.so        the in-tree plugins

and writes s2r/_version.py (the version of CMakeLists.txt's project()).

The s2r program finds the runtime and the plugins relative to itself
(<exe>/../lib/s2r), so the prefix works wherever pip puts the package.
The wheel holds no Python extension module (the binding uses ctypes), so
it is tagged py3-none-<platform>.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.dist import Distribution
from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent


def source_dir() -> Path:
    """The repository holding CMakeLists.txt and include/s2r/s2r.h."""
    root = HERE.parent
    if not (root / "CMakeLists.txt").is_file() or not (
        root / "include" / "s2r" / "s2r.h"
    ).is_file():
        sys.exit(
            f"s2r: no s2r C sources in {root}: build the package from a "
            "checkout of the repository (pip install --no-build-isolation "
            "./python)"
        )
    return root


def project_version(root: Path) -> str:
    """project(s2r VERSION x.y.z) of the top CMakeLists.txt."""
    text = (root / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\(\s*s2r\s+VERSION\s+([0-9.]+)", text)
    if not match:
        sys.exit("s2r: no 'project(s2r VERSION ...)' in CMakeLists.txt")
    return match.group(1)


def run(cmd: list) -> None:
    print("s2r:", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True)


class NativeDistribution(Distribution):
    """A distribution with native code, so that build_ext runs and the
    wheel is tagged for the platform."""

    def has_ext_modules(self) -> bool:
        return True


class BuildNative(build_ext):
    """Build libs2r.so, the s2r program, its runtime and plugins with CMake
    and copy them into the package's _native/ prefix."""

    def run(self) -> None:
        root = source_dir()
        temp = Path(self.build_temp).resolve()
        cmake_dir, stage = temp / "cmake", temp / "stage"
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(
            os.cpu_count() or 1
        )
        # the prefix (CMake's default) only names the folders s2r also
        # searches for its runtime, after its own <exe>/../lib/s2r, and
        # for plugins: those of an s2r installed there by hand
        run(["cmake", "-S", root, "-B", cmake_dir,
             "-DCMAKE_BUILD_TYPE=Release", "-DS2R_BUILD_TESTS=OFF",
             "-DCMAKE_INSTALL_PREFIX=/usr/local",
             "-DCMAKE_INSTALL_LIBDIR=lib"])
        run(["cmake", "--build", cmake_dir, "--parallel", jobs])
        shutil.rmtree(stage, ignore_errors=True)
        run(["cmake", "--install", cmake_dir, "--prefix", stage])
        package = HERE / "s2r" if self.inplace else Path(self.build_lib) / "s2r"
        self._outputs = self.copy_native(stage, package / "_native")
        version = package / "_version.py"
        version.write_text(f'__version__ = "{self.distribution.get_version()}"\n',
                           encoding="utf-8")
        self._outputs.append(str(version))

    def copy_native(self, stage: Path, dest: Path) -> list:
        shutil.rmtree(dest, ignore_errors=True)
        (dest / "bin").mkdir(parents=True)
        (dest / "lib").mkdir()
        out = [dest / "bin" / "s2r", dest / "lib" / "libs2r.so"]
        shutil.copy2(stage / "bin" / "s2r", out[0])
        # one file, the symlinks (libs2r.so -> .so.0 -> .so.0.1.0) resolved
        shutil.copy2((stage / "lib" / "libs2r.so").resolve(), out[1])
        shutil.copytree(stage / "lib" / "s2r", dest / "lib" / "s2r")
        out += sorted(p for p in (dest / "lib" / "s2r").rglob("*") if p.is_file())
        return [str(p) for p in out]

    def get_outputs(self) -> list:
        return list(getattr(self, "_outputs", []))


class Wheel(bdist_wheel):
    """py3-none-<platform>: native files, but no CPython extension."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(
    version=project_version(source_dir()),
    distclass=NativeDistribution,
    cmdclass={"build_ext": BuildNative, "bdist_wheel": Wheel},
)
