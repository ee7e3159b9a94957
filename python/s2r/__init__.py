"""s2r: read SLURM batch scripts the way sbatch does and write NVIDIA
Run:ai workloads, through libs2r (the C library of the s2r program).

    import s2r
    c = s2r.convert(open("job.sh", "rb").read(), filename="job.sh")
    c.job["gpus_per_node"], c.workload["kind"], len(c.warnings)

convert() returns a Conversion (output, warnings, job, workload);
convert_slurm_to_runai() returns the text, as the original s2r package
did; both raise ConversionError (a ValueError) for a script sbatch
refuses. Conversions use the built-in rules provider only: no network,
no model. Both functions are thread-safe and release the GIL while
converting.

The names below load on first use (PEP 562), so that `import s2r`, and
the `s2r` command that starts with it, stay fast.
"""
import importlib

try:
    from ._version import __version__  # written by setup.py
except ImportError:  # a source tree, never built
    __version__ = "0+unknown"

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers see
    from ._convert import convert, convert_slurm_to_runai
    from ._types import (ArrayFacts, Conversion, ConversionError,
                         ConversionWarning, Diagnostic, Directive, Format, Job)

_MODULE_OF = {
    "convert": "_convert",
    "convert_slurm_to_runai": "_convert",
    "ArrayFacts": "_types",
    "Conversion": "_types",
    "ConversionError": "_types",
    "ConversionWarning": "_types",
    "Diagnostic": "_types",
    "Directive": "_types",
    "Format": "_types",
    "Job": "_types",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_MODULE_OF))
