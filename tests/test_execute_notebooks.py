"""scripts/execute_notebooks.py: fresh outputs stored as nbval will compare them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "execute_notebooks.py"


def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def _run(*paths: Path) -> subprocess.CompletedProcess[str]:
    # As `make notebooks` runs it: outside pytest, whose variable would stop ipykernel's capture.
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_stores_python_output_but_not_what_c_code_writes_to_the_stderr_fd(tmp_path: Path) -> None:
    # os.write(2, ...) is what TensorFlow's C++ start-up log does; nbval never sees it.
    path = _notebook(
        tmp_path / "chapter.ipynb",
        "import os, sys\n"
        "os.write(2, b'I0000 c-level log line\\n')\n"
        "print('to stderr', file=sys.stderr)",
        "print(6 * 7)",
    )
    completed = _run(path)
    assert completed.returncode == 0, completed.stderr
    first, second = nbformat.read(path, as_version=4).cells
    assert [output.text for output in first.outputs] == ["to stderr\n"]
    assert [output.text for output in second.outputs] == ["42\n"]
    assert "execution" not in first.metadata  # no run-specific timestamps


def test_a_failing_notebook_keeps_its_stored_outputs(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "broken.ipynb", "print('stored')")
    assert _run(path).returncode == 0
    before = path.read_bytes()
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "raise ValueError('boom')"
    nbformat.write(notebook, path)
    changed = path.read_bytes()
    completed = _run(path)
    assert completed.returncode == 1
    assert "boom" in completed.stderr and "unchanged" in completed.stderr
    assert path.read_bytes() == changed != before
    assert [p.name for p in tmp_path.iterdir()] == ["broken.ipynb"]  # no staging file left
