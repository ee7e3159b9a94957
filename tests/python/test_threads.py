"""Conversions from 8 threads at once give what one thread gives; the
calls release the GIL (a ctypes.CDLL function, not a PyDLL one)."""
from __future__ import annotations

import ctypes
import threading

from conftest import FORMATS, SCRIPTS, SITE_INI, needs_corpus

THREADS = 8
ROUNDS = 3


def outcome(s2r, data: bytes, name: str, fmt: str, config) -> tuple:
    try:
        c = s2r.convert(data, format=fmt, config=config, filename=name)
    except s2r.ConversionError as e:
        return ("refused", str(e), e.line, e.option)
    text = s2r.convert_slurm_to_runai(data, format=fmt, config=config,
                                      filename=name)
    return ("converted", c.output, text, tuple(map(str, c.diagnostics)),
            c.job["gpus_per_node"], c.workload["name"])


@needs_corpus
def test_eight_threads_agree_with_one(s2r, recwarn):
    jobs = [(p.read_bytes(), str(p), fmt, config)
            for p in SCRIPTS for fmt in FORMATS for config in (None, SITE_INI)]
    expected = [outcome(s2r, *job) for job in jobs]
    start = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    failures: list = []

    def worker(k: int) -> None:
        try:
            start.wait()
            # each thread walks the jobs from another starting point, so
            # that different scripts and formats overlap
            order = [(k * 7 + i) % len(jobs) for i in range(len(jobs))]
            results[k] = [[(i, outcome(s2r, *jobs[i])) for i in order]
                          for _ in range(ROUNDS)]
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    for rounds in results:
        for done in rounds:
            assert len(done) == len(jobs)
            for i, got in done:
                assert got == expected[i], jobs[i][1:]


def test_calls_release_the_gil(s2r):
    from s2r import _library
    lib = _library.library()
    assert type(lib) is ctypes.CDLL
    # a PyDLL function (FUNCFLAG_PYTHONAPI) would keep the GIL
    assert not lib.s2r_convert_json._flags_ & ctypes._FUNCFLAG_PYTHONAPI
