"""What a conversion gives back: Conversion, Diagnostic, Job, and the
ConversionError raised for a script sbatch refuses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import (Any, Dict, List, Literal, Optional, Sequence, Tuple,
                    TypedDict, Union)

Format = Literal["cli", "yaml", "json"]
Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Diagnostic:
    """One message of a conversion, as the s2r program prints it.

    ``category`` sorts messages for a reader; the rules are documented
    with s2r_convert_json() in include/s2r/s2r.h: "usage", "config", "time",
    "array", "image", "option", "format", "directive", "script",
    "storage" or "body".
    """

    severity: Severity
    file: Optional[str]   #: script or configuration name
    line: int             #: 1-based; 0 when not tied to a line
    option: Optional[str]  #: sbatch long option without dashes, or None
    category: str
    message: str          #: one sentence, never a secret
    text: str             #: "file:line: warning: message"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Diagnostic":
        return cls(d["severity"], d["file"], d["line"], d["option"],
                   d["category"], d["message"], d["text"])


class ArrayFacts(TypedDict):
    """--array: every index, expanded and ascending, and the %N throttle."""

    indices: List[int]
    max_parallel: Optional[int]


class Directive(TypedDict):
    """One effective #SBATCH option (last occurrence wins)."""

    name: str             #: long name without dashes ("cpus-per-task")
    value: Optional[str]  #: value as sbatch read it (quotes removed)
    line: int


class Job(TypedDict):
    """What sbatch makes of the script: the corpus facts schema.

    Units: memory in MiB, time in seconds, CPUs in cores, GPUs in whole
    devices, all per node.
    """

    id: str                       #: the script name given
    valid: bool
    job_name: Optional[str]       #: --job-name verbatim
    nodes: int                    #: --nodes minimum (default 1)
    tasks_per_node: int
    gpus_per_node: int
    gpu_type: Optional[str]       #: "a100", "h100" ... or None
    cpus_per_node: int
    mem_per_node_mib: Union[int, Literal["all"], None]  #: "all": --mem=0
    time_limit_s: Optional[int]   #: None: no limit or not given
    array: Optional[ArrayFacts]
    image: Optional[str]          #: OCI reference the main command runs in
    workdir: Optional[str]
    env: Dict[str, str]
    command_tokens: List[str]     #: argv of the main computation
    distributed: Optional[Literal["pytorch", "mpi"]]
    directives: List[Directive]


@dataclass(frozen=True)
class Conversion:
    """A converted script.

    ``output`` is the Run:ai workload, byte for byte what
    ``s2r --format FORMAT`` prints; ``job`` what sbatch makes of the
    script; ``workload`` the Run:ai side (keys as s2r_workload in
    include/s2r/s2r.h: kind, name, pods, workers, gpus, cpus, memory_mib, image,
    command, env, node_pools, completions, parallelism, array_indices,
    time_limit_s ...; per pod, memory in MiB, time in seconds).
    """

    output: str
    format: Format
    diagnostics: Tuple[Diagnostic, ...]
    job: Job
    workload: Dict[str, Any]

    @property
    def warnings(self) -> Tuple[Diagnostic, ...]:
        """What has no exact Run:ai equivalent (the s2r program's
        warnings)."""
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def notes(self) -> Tuple[Diagnostic, ...]:
        """Informative messages (``s2r -v``)."""
        return tuple(d for d in self.diagnostics if d.severity == "note")


class ConversionError(ValueError):
    """The script is refused as sbatch would refuse it, or the
    configuration or the request is invalid.

    ``file``, ``line``, ``option`` and ``message`` are those of the first
    error (``message`` is sbatch's own wording where sbatch refuses);
    ``errors`` holds every error, ``diagnostics`` everything the
    conversion said. ``str()`` gives the lines the s2r program prints.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: Tuple[Diagnostic, ...] = tuple(diagnostics)
        self.errors: Tuple[Diagnostic, ...] = tuple(
            d for d in self.diagnostics if d.severity == "error")
        first = self.errors[0] if self.errors else None
        self.file: Optional[str] = first.file if first else None
        self.line: int = first.line if first else 0
        self.option: Optional[str] = first.option if first else None
        self.category: str = first.category if first else "usage"
        self.message: str = first.message if first else "conversion failed"
        super().__init__("\n".join(e.text for e in self.errors)
                         or self.message)

    def __reduce__(self):
        # pickled with its diagnostics (multiprocessing, process pools)
        return (type(self), (self.diagnostics,))


class ConversionWarning(UserWarning):
    """A warning of convert_slurm_to_runai(), which returns only text."""
