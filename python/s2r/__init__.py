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
"""
from ._convert import convert, convert_slurm_to_runai
from ._types import (ArrayFacts, Conversion, ConversionError,
                     ConversionWarning, Diagnostic, Directive, Format, Job)

try:
    from ._version import __version__  # written by setup.py
except ImportError:  # a source tree, never built
    __version__ = "0+unknown"

__all__ = [
    "ArrayFacts",
    "Conversion",
    "ConversionError",
    "ConversionWarning",
    "Diagnostic",
    "Directive",
    "Format",
    "Job",
    "convert",
    "convert_slurm_to_runai",
]
