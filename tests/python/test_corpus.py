"""The binding against the s2r program on the shared corpus: the same
bytes on standard output, the same warnings and errors, in all three
formats, with and without the site configuration; and for every script
sbatch refuses, a ConversionError naming file, line and option."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from conftest import FORMATS, SCRIPTS, SITE_INI, cli, facts, needs_corpus

CONFIGS = (None, SITE_INI)
# what sbatch makes of the script, in the units of the corpus facts
RESOURCE_FACTS = ("job_name", "nodes", "tasks_per_node", "gpus_per_node",
                  "gpu_type", "cpus_per_node", "mem_per_node_mib",
                  "time_limit_s", "array")


def cli_args(script: Path, fmt: str, config) -> list:
    return ["--format", fmt, *(["--config", config] if config else []),
            script]


def raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def printed(diagnostics) -> bytes:
    """What the s2r program writes to standard error without -v."""
    return b"".join(raw(d.text) + b"\n" for d in diagnostics
                    if d.severity != "note")


def convert_both(s2r, data: bytes, script: Path, fmt: str, config):
    kw = dict(format=fmt, config=config, filename=str(script))
    with warnings.catch_warnings(record=True) as issued:
        warnings.simplefilter("always")
        text = s2r.convert_slurm_to_runai(data, **kw)
    conversion = s2r.convert(data, **kw)
    assert [str(w.message) for w in issued
            if w.category is s2r.ConversionWarning] == \
        [d.text for d in conversion.warnings]
    return text, conversion


@needs_corpus
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_corpus_as_the_cli(s2r, script):
    data = script.read_bytes()
    valid = facts(script)["valid"]
    for fmt in FORMATS:
        for config in CONFIGS:
            ref = cli(*cli_args(script, fmt, config))
            where = f"{script.name} --format {fmt} --config {config}"
            if not valid:
                assert ref.returncode == 1, where
                continue
            assert ref.returncode == 0, where
            text, conversion = convert_both(s2r, data, script, fmt, config)
            assert raw(text) == ref.stdout, where
            assert raw(conversion.output) == ref.stdout, where
            assert conversion.format == fmt
            assert printed(conversion.diagnostics) == ref.stderr, where


@needs_corpus
@pytest.mark.parametrize("script", [s for s in SCRIPTS if facts(s)["valid"]],
                         ids=lambda p: p.stem)
def test_corpus_job_and_warnings(s2r, script):
    case = facts(script)
    conversion = s2r.convert(script.read_bytes(), filename=str(script))
    job = conversion.job
    for key in RESOURCE_FACTS:
        assert job[key] == case[key], key
    assert job["valid"] is True and job["id"] == str(script)
    for key in ("nodes", "tasks_per_node", "gpus_per_node", "cpus_per_node"):
        assert type(job[key]) is int
    warned = {w.option for w in conversion.warnings}
    assert set(case["must_warn"]) <= warned
    for w in conversion.warnings:
        assert w.file == str(script) and isinstance(w.line, int)
        assert w.category in {"option", "time", "array", "image", "format",
                              "directive", "storage", "body"}
        if w.option == "time":
            assert w.category == "time"
    workload = conversion.workload
    assert workload["kind"] in {"standard", "pytorch", "mpi", "workspace",
                                "inference"}
    assert workload["gpus"] == job["gpus_per_node"]


@needs_corpus
@pytest.mark.parametrize("script", [s for s in SCRIPTS
                                    if not facts(s)["valid"]],
                         ids=lambda p: p.stem)
def test_corpus_refused(s2r, script):
    data = script.read_bytes()
    for fmt in FORMATS:
        for config in CONFIGS:
            ref = cli(*cli_args(script, fmt, config))
            assert ref.returncode == 1
            kw = dict(format=fmt, config=config, filename=str(script))
            for call in (s2r.convert, s2r.convert_slurm_to_runai):
                with pytest.raises(s2r.ConversionError) as caught:
                    call(data, **kw)
                e = caught.value
                assert isinstance(e, ValueError)
                assert e.file == str(script)
                assert e.message and e.errors[0].message == e.message
                where = f"{e.file}:{e.line}:" if e.line else f"{e.file}:"
                assert str(e).startswith(where)
                assert raw(str(e)) + b"\n" == ref.stderr
                assert printed(e.diagnostics) == ref.stderr
