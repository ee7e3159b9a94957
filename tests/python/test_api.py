"""The Python API: signatures the original s2r package's callers use,
the Conversion and ConversionError contents, configurations, and no
network for the rules provider."""
from __future__ import annotations

import inspect
import pickle
import re
import subprocess
import warnings
from pathlib import Path

import pytest

from conftest import CLI, REPO, SITE_INI, cli, needs_corpus

SCRIPT = ("#!/bin/bash\n"
          "#SBATCH --job-name=train\n"
          "#SBATCH --nodes=1 --gres=gpu:a100:2\n"
          "#SBATCH --mem=16G --time=1:30:00 --array=0-3%2\n"
          "#SBATCH --mail-type=END\n"
          "module load cuda/12.1\n"
          "python train.py --seed $SLURM_ARRAY_TASK_ID\n")


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_original_entry_point(s2r):
    params = inspect.signature(s2r.convert_slurm_to_runai).parameters
    assert list(params)[0] == "slurm_script"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        text = s2r.convert_slurm_to_runai(slurm_script=SCRIPT)
    assert isinstance(text, str) and "runai" in text
    assert issubclass(s2r.ConversionError, ValueError)


def test_warnings_are_issued(s2r):
    with pytest.warns(s2r.ConversionWarning,
                      match=r"^job\.sh:5: warning: --mail-type=END"):
        s2r.convert_slurm_to_runai(SCRIPT)


def test_conversion_contents(s2r, tmp_path):
    c = s2r.convert(SCRIPT, format="json")
    assert c.format == "json" and c.output.startswith("{")
    job = c.job
    assert (job["nodes"], job["gpus_per_node"], job["gpu_type"]) == \
        (1, 2, "a100")
    assert job["mem_per_node_mib"] == 16384
    assert job["time_limit_s"] == 5400
    assert job["array"] == {"indices": [0, 1, 2, 3], "max_parallel": 2}
    assert job["directives"][0] == {"name": "job-name", "value": "train",
                                    "line": 2}
    assert c.workload["kind"] == "standard"
    assert c.workload["completions"] == 4 and c.workload["parallelism"] == 2
    assert c.workload["memory_mib"] == 16384
    mail = [w for w in c.warnings if w.option == "mail-type"][0]
    assert (mail.file, mail.line, mail.category) == ("job.sh", 5, "option")
    assert mail.message.startswith("--mail-type=END has no Run:ai")
    assert str(mail) == "job.sh:5: " + "warning: " + mail.message
    module = [w for w in c.warnings if "module load" in w.message][0]
    assert (module.line, module.option, module.category) == (6, None, "body")
    assert all(n.severity == "note" for n in c.notes)
    with pytest.raises(Exception):
        c.output = ""  # frozen
    assert pickle.loads(pickle.dumps(c)) == c


def test_same_as_cli_for_arguments(s2r, tmp_path):
    script = write(tmp_path, "my job.sbatch", SCRIPT)
    ini = write(tmp_path, "s2r.ini",
                "[core]\nformat = yaml\n[runai]\nproject = team-a\n"
                "priority = high\n[partitions]\ngpu = a100-pool\n")
    ref = cli("--config", ini, "--submit-dir", "sub/../dir", script)
    assert ref.returncode == 0
    for config in (ini, str(ini), bytes(ini)):
        c = s2r.convert(script.read_bytes(), config=config, submit_dir="sub/../dir",
                        filename=script)
        assert c.format == "yaml"
        assert c.output.encode() == ref.stdout
    assert c.workload["project"] == "team-a"
    # bytes and str give the same; the default name is from the filename
    assert s2r.convert(SCRIPT).output == s2r.convert(SCRIPT.encode()).output
    named = s2r.convert(SCRIPT.replace("#SBATCH --job-name=train\n", ""),
                        filename="Fine_Tune.sh")
    assert named.workload["name"] == "fine-tune"


def test_refused_script(s2r):
    with pytest.raises(s2r.ConversionError) as caught:
        s2r.convert("#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --time=abc\n",
                    filename="bad.sh")
    e = caught.value
    assert (e.file, e.line, e.option, e.category) == \
        ("bad.sh", 3, "time", "time")
    assert e.message.startswith("Invalid --time specification 'abc'")
    assert str(e) == f"bad.sh:3: error: {e.message}"
    again = pickle.loads(pickle.dumps(e))  # as process pools send it
    assert (again.file, again.line, again.option, str(again)) == \
        (e.file, e.line, e.option, str(e))
    with pytest.raises(s2r.ConversionError, match="DOS line breaks"):
        s2r.convert(b"#!/bin/bash\r\ntrue\r\n")
    with pytest.raises(ValueError, match="unknown format 'toml'"):
        s2r.convert(SCRIPT, format="toml")
    with pytest.raises(TypeError):
        s2r.convert(42)


def test_configuration_errors(s2r, tmp_path):
    with pytest.raises(s2r.ConversionError) as caught:
        s2r.convert(SCRIPT, config=tmp_path / "missing.ini")
    assert caught.value.file == str(tmp_path / "missing.ini")
    assert caught.value.category == "config"
    bad = write(tmp_path, "bad.ini", "[runai]\npriority = urgent\n")
    with pytest.raises(s2r.ConversionError) as caught:
        s2r.convert(SCRIPT, config=bad)
    assert (caught.value.file, caught.value.line) == (str(bad), 2)


def test_other_providers_are_refused_not_called(s2r, tmp_path, monkeypatch):
    ini = write(tmp_path, "llm.ini",
                "[core]\nprovider = llm\n[provider.llm]\nplugin = local-llm\n"
                "endpoint = http://127.0.0.1:9/v1\n")
    with pytest.raises(s2r.ConversionError) as caught:
        s2r.convert(SCRIPT, config=ini)
    e = caught.value
    assert (e.file, e.line, e.option, e.category) == \
        (str(ini), 2, "provider", "config")
    assert "built-in rules provider" in e.message
    rules = write(tmp_path, "rules.ini",
                  "[core]\nprovider = mine\n[provider.mine]\nplugin = rules\n")
    assert s2r.convert(SCRIPT, config=rules).output == s2r.convert(SCRIPT).output
    # the environment that sends the s2r program to a server is not read
    write(tmp_path, "job.sh", SCRIPT)
    ref = subprocess.run([str(CLI), "job.sh"], cwd=tmp_path,
                         capture_output=True, check=True).stdout
    monkeypatch.setenv("S2R_API_ENDPOINT", "http://127.0.0.1:9/")
    # the program ran in tmp_path: its submit directory
    assert s2r.convert(SCRIPT, submit_dir=tmp_path).output.encode() == ref


def public_functions() -> set:
    header = (REPO / "include" / "s2r" / "s2r.h").read_text(encoding="utf-8")
    header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    return set(re.findall(r"\b(s2r_[a-z0-9_]+)\s*\(", header))


def test_library_exports_the_public_api_only(s2r):
    lib = Path(s2r.__file__).parent / "_native" / "lib" / "libs2r.so"
    nm = subprocess.run(["nm", "-D", "--defined-only", lib],
                        capture_output=True, text=True, check=True).stdout
    exported = {f[2] for f in map(str.split, nm.splitlines())
                if len(f) == 3 and f[1] in "TDBRW"}
    assert exported == public_functions()
    needs = subprocess.run(["nm", "-D", "--undefined-only", lib],
                           capture_output=True, text=True, check=True).stdout
    for call in ("socket", "connect", "getaddrinfo", "curl_easy_perform",
                 "dlopen"):
        assert not re.search(rf"\b{call}\b", needs), call


def test_typed_package(s2r):
    package = Path(s2r.__file__).parent
    assert (package / "py.typed").is_file()
    for name in set(s2r.__all__) - {"Format"}:  # Format: a Literal alias
        assert getattr(s2r, name).__doc__, name
    assert s2r.__version__ == re.search(
        r"project\(s2r VERSION ([0-9.]+)",
        (REPO / "CMakeLists.txt").read_text()).group(1)


@needs_corpus
def test_readme_notebook_example(s2r, tmp_path, monkeypatch, capsys):
    from conftest import SCRIPTS, facts
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    example = [b for b in blocks if 'Path("jobs")' in b][0]
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for p in SCRIPTS:
        (jobs / p.name).write_bytes(p.read_bytes())
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["script", "workload", "nodes", "GPUs", "type"]
    table = {line.split()[0]: line.split() for line in lines[1:]}
    assert len(table) == len(SCRIPTS)
    for p in SCRIPTS:
        case, row = facts(p), table[p.name]
        if not case["valid"]:
            assert row[1] == "refused"
            continue
        assert int(row[3]) == case["nodes"] * case["gpus_per_node"]
