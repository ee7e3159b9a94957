"""The installed `s2r` command and `python -m s2r` are the s2r program:
the same output and exit status as the build tree's, with its runtime
and plugins found inside the package."""
from __future__ import annotations

from conftest import SCRIPTS, SITE_INI, cli, facts, needs_corpus, run


def test_version_and_help(venv, s2r):
    p = run([venv / "bin" / "s2r", "--version"])
    assert (p.returncode, p.stdout) == (0, f"s2r {s2r.__version__}\n".encode())
    p = run([venv / "bin" / "python", "-m", "s2r", "--help"])
    assert p.returncode == 0 and p.stdout.startswith(b"usage: s2r")
    p = run([venv / "bin" / "s2r"])
    assert p.returncode == 2 and b"no script given" in p.stderr


@needs_corpus
def test_converts_as_the_build_tree(venv):
    for script in SCRIPTS[:6] + [s for s in SCRIPTS if not facts(s)["valid"]]:
        for args in (["-f", "yaml"], ["-f", "json", "--config", SITE_INI],
                     ["--config", SITE_INI]):
            ref = cli(*args, script)
            for command in ([venv / "bin" / "s2r"],
                            [venv / "bin" / "python", "-m", "s2r"]):
                p = run([*command, *args, script])
                assert (p.returncode, p.stdout, p.stderr) == \
                    (ref.returncode, ref.stdout, ref.stderr), (command, args)


def test_runtime_and_plugins_from_the_package(venv, s2r):
    p = run([venv / "bin" / "s2r", "plugins"])
    assert p.returncode == 0, p.stderr
    native = str(venv.resolve())
    assert b"rules" in p.stdout
    assert f"{native}/".encode() in p.stdout
    assert b"s2r-remote.so" in p.stdout
