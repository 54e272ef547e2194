"""What every benchmark shares: the machine's description, medians, peak memory, result files.

Each benchmark prints its table and writes its measurements to ``benchmarks/results/NAME.json``
(written to a temporary file and renamed, so an interrupted run never leaves half a result); the
book's benchmark appendix is rendered from those files by :mod:`benchmarks.report`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
RESULT_FORMAT = 1
"""Bumped when the layout of a result file changes, so the report refuses stale files."""

MEMORY_SAMPLE_SECONDS = 0.05


def median(values: Iterable[float]) -> float:
    """The median of at least one value (benchmarks quote medians: these machines are noisy)."""
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def _cpu_model() -> str:
    """The processor's model name as the kernel reports it, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _git_commit() -> str:
    """The checkout's commit, with ``+changes`` when the tree differs from it."""
    try:
        commit = _git("rev-parse", "--short=10", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+changes" if dirty else commit


def machine() -> dict[str, Any]:
    """What the numbers were measured on, stored with them so the page can say so."""
    import importlib.metadata as metadata

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    tensorflow = version("tensorflow-cpu")
    if tensorflow == "not installed":
        tensorflow = version("tensorflow")
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
        "tensorflow": tensorflow,
        "keras": version("keras"),
        "mnist_lib": version("mnist-lib"),
        "commit": _git_commit(),
        "date": datetime.date.today().isoformat(),
    }


def write_results(name: str, measurements: Mapping[str, Any]) -> Path:
    """Store one benchmark's measurements with the machine and settings, atomically."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {"format": RESULT_FORMAT, "benchmark": name, "machine": machine(), **measurements}
    handle, staging = tempfile.mkstemp(dir=RESULTS_DIR, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
        os.replace(staging, path)
    finally:
        Path(staging).unlink(missing_ok=True)
    print(f"\nwrote {path}")
    return path


class PeakMemory:
    """Samples the resident memory of a process and all its descendants, keeping the peak.

    A sample sums the RSS of every live process of the tree (a notebook's kernel and the worker
    process a CNN trains in count together), every 50 ms on a background thread.
    """

    def __init__(self, pid: int, interval: float = MEMORY_SAMPLE_SECONDS) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_bytes = 0

    def _sample(self) -> int:
        total = 0
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return 0
        for process in processes:
            with contextlib.suppress(psutil.Error):  # ended between listing and reading
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Measured:
    """One command's wall time, peak memory (MiB) and outcome."""

    seconds: float
    peak_mib: float
    returncode: int
    output: str


def run_measured(
    command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> Measured:
    """Run ``command`` to the end, timing it and sampling its process tree's memory."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            with PeakMemory(process.pid) as memory:
                returncode = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    return Measured(seconds, memory.peak_bytes / 2**20, returncode, text)


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment for a child, quiet TensorFlow, unbuffered Python."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def mnist_data_dir() -> Path:
    """The folder MNIST is found in, so child processes with another cache still find it."""
    from mnist_lib.data import locate_mnist

    folder = locate_mnist()
    if folder is None:
        sys.exit(
            "benchmarks need MNIST: set MNIST_DATA_DIR to a folder holding it, or run "
            "`python -m mnist_lib data fetch` first"
        )
    return folder.resolve()
