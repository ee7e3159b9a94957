"""convert() and convert_slurm_to_runai(): one script through libs2r."""
from __future__ import annotations

import os
import warnings
from typing import Optional, Union

from . import _library
from ._types import (Conversion, ConversionError, ConversionWarning,
                     Diagnostic, Format)

Script = Union[str, bytes]
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

FORMATS = ("cli", "yaml", "json")


def _script_bytes(script: Script) -> bytes:
    if isinstance(script, bytes):
        return script
    if isinstance(script, str):
        # surrogate escapes (open(..., errors="surrogateescape")) give
        # back the bytes they stand for
        return script.encode("utf-8", "surrogateescape")
    raise TypeError(f"script must be str or bytes, not {type(script).__name__}")


def _submit_dir(submit_dir: PathArg) -> bytes:
    """Absolute and folded (//, /./, /../) without touching the file
    system, as ``s2r --submit-dir``."""
    path = os.fsencode(os.fspath(submit_dir))
    if not path:
        raise ValueError("submit_dir is empty")
    path = os.path.abspath(path)
    if path.startswith(b"//") and not path.startswith(b"///"):
        path = path[1:]  # POSIX keeps a leading "//"; s2r folds it
    return path


def convert(
    script: Script,
    *,
    format: Optional[Format] = None,
    config: Optional[PathArg] = None,
    submit_dir: Optional[PathArg] = None,
    filename: PathArg = "job.sh",
) -> Conversion:
    """Convert a SLURM batch script with the built-in rules provider.

    The same conversion as ``s2r [--format F] [--config C] [--submit-dir D]
    FILENAME``, in this process: no network, no model.

    Args:
        script: the script, as text or as the exact bytes (a script with
            DOS line breaks is refused, as by sbatch: read files with
            ``Path.read_bytes()`` or ``open(path, newline="")``).
        format: "cli" (a bash script calling ``runai ... submit``), "yaml"
            (a manifest for ``runai workload submit -f``) or "json" (the
            REST body); None: the configuration's ``[core] format``, else
            "cli".
        config: a site configuration (s2r.ini). Its ``[core] provider``
            must be the rules provider.
        submit_dir: the directory sbatch would run in (SLURM_SUBMIT_DIR);
            made absolute against the current directory.
        filename: the script's name in messages, and the default job name.

    Returns:
        A Conversion: ``output``, ``warnings`` (and ``notes``,
        ``diagnostics``), ``job`` and ``workload``.

    Raises:
        ConversionError: sbatch would refuse the script, or the
            configuration is invalid, cannot be read, or names another
            provider. A ValueError.
        ValueError: ``format`` is not cli, yaml or json.
        TypeError: ``script`` is neither str nor bytes.
        MemoryError: libs2r ran out of memory.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (cli, yaml or json)")
    status, doc = _library.convert_json(
        os.fsencode(os.fspath(filename)),
        _script_bytes(script),
        format.encode() if format is not None else None,
        os.fsencode(os.fspath(config)) if config is not None else None,
        _submit_dir(submit_dir) if submit_dir is not None else None,
    )
    diagnostics = tuple(Diagnostic.from_json(d) for d in doc["diagnostics"])
    if status != _library.S2R_OK:
        raise ConversionError(diagnostics)
    return Conversion(doc["output"], doc["format"], diagnostics, doc["job"],
                      doc["workload"])


def convert_slurm_to_runai(
    slurm_script: Script,
    *,
    format: Optional[Format] = None,
    config: Optional[PathArg] = None,
    submit_dir: Optional[PathArg] = None,
    filename: PathArg = "job.sh",
) -> str:
    """Convert a SLURM batch script and return the Run:ai workload text.

    The original s2r package's entry point, with its name and first
    argument; the conversion is convert()'s (see there for the
    arguments), so the text is byte for byte what the s2r program prints.
    Each warning is issued as a ConversionWarning (``warnings`` module),
    since only the text is returned.

    Raises:
        ConversionError: as convert().
    """
    conversion = convert(slurm_script, format=format, config=config,
                         submit_dir=submit_dir, filename=filename)
    for warning in conversion.warnings:
        warnings.warn(ConversionWarning(warning.text), stacklevel=2)
    return conversion.output
