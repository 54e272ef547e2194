"""Re-execute chapters in place, storing fresh outputs without run-specific metadata.

    .venv/bin/python scripts/execute_notebooks.py book/01_data.ipynb [...]

Each notebook runs in a fresh kernel in its own folder. Execution timestamps that Jupyter writes
into cell metadata are dropped, so re-running an unchanged chapter leaves its file unchanged and a
diff shows only real output changes. A notebook that raises is not written: its old outputs stay.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

RUN_SPECIFIC_METADATA = ("execution", "ExecuteTime")

KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
"""Keep what C libraries write straight to the process's stderr (TensorFlow's start-up log lines,
with a timestamp and process id, on some processors even at ``TF_CPP_MIN_LOG_LEVEL=3``) out of
the stored outputs. nbval's kernels never capture it either (ipykernel does not under pytest), so
a stored line of it could never match; Python's own ``sys.stderr`` is still stored."""


def execute(path: Path, timeout: int) -> None:
    """Run ``path`` top to bottom and write it back with its new outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=KERNEL_ARGUMENTS,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        for key in RUN_SPECIFIC_METADATA:
            cell.metadata.pop(key, None)
    nbformat.validate(notebook)
    staging = path.with_name(f".{path.name}.tmp")
    nbformat.write(notebook, staging)
    staging.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        try:
            execute(path, args.timeout)
        except CellExecutionError as error:
            print(f"{path} failed; its stored outputs are unchanged:\n{error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
