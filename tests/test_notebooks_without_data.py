"""Every chapter, run in a real Jupyter kernel on a machine without MNIST: one readable message.

Each chapter is executed with nbclient in a kernel of this environment's Python (the way nbval's
``--nbval-current-env`` runs them), with ``MNIST_DATA_DIR`` an empty folder, downloads off and an
empty cache. It must stop at its first cell that needs the data, and that cell's error output must
be a short message saying how to get the data, not a traceback through the library. Only the
cells up to that one run, so each chapter takes a few seconds. The stored notebooks are read,
never written.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
DATA_CALL = re.compile(r"\b(load_mnist|trained_model)\(")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture()
def no_data_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the kernel inherits: no MNIST anywhere, no downloads, this checkout's mnist_lib."""
    (tmp_path / "no-mnist").mkdir()
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "no-mnist"))
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return tmp_path


def first_data_cell(notebook: nbformat.NotebookNode) -> int:
    """The index of the first code cell that calls load_mnist() or trained_model()."""
    return next(
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and DATA_CALL.search(cell.source)
    )


def error_outputs(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_without_data_shows_one_readable_message(
    chapter: Path, no_data_anywhere: Path
) -> None:
    stored = chapter.read_bytes()
    notebook = nbformat.reads(stored.decode("utf-8"), as_version=4)
    for cell in notebook.cells:  # the stored outputs go: what is left after the run, it made
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # A first cell of our own: which mnist_lib does the kernel import?
    notebook.cells.insert(
        0, nbformat.v4.new_code_cell("import mnist_lib\nprint(mnist_lib.__file__)")
    )
    stop = first_data_cell(notebook)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(chapter.parent)}},
    )
    with pytest.raises(CellExecutionError):
        client.execute()

    assert chapter.read_bytes() == stored
    imported = notebook.cells[0].outputs[0]["text"].strip()
    assert Path(imported) == ROOT / "mnist_lib" / "__init__.py"
    failed = [i for i, cell in enumerate(notebook.cells) if error_outputs(cell)]
    assert failed == [stop], f"stopped at cell {failed}, the first data cell is {stop}"
    assert all(not cell.get("outputs") for cell in notebook.cells[stop + 1 :])

    (error,) = error_outputs(notebook.cells[stop])
    assert error.ename == "DataNotFoundError"
    shown = ANSI.sub("", "\n".join(error.traceback))
    lines = shown.splitlines()
    assert lines[0].startswith("DataNotFoundError: MNIST was not found.")
    assert len(lines) <= 15, shown
    for needed in ("MNIST was not found", "MNIST_DATA_DIR", "data fetch", "MNIST_OFFLINE=1"):
        assert needed in shown
    for unwanted in ("Traceback", 'File "', "site-packages", "mnist_lib/"):
        assert unwanted not in shown
    assert str(no_data_anywhere / "no-mnist") in shown  # names the place it looked


def test_a_wrong_call_in_a_notebook_keeps_its_traceback(no_data_anywhere: Path) -> None:
    """The contrast: an InputError shows the traceback, down to the reader's own line."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "from mnist_lib.preprocess import scale_images\n"
            "scale_images([[0.5] * 784])  # the reader's mistake"
        )
    )
    client = NotebookClient(notebook, timeout=60, kernel_name="python3")
    with pytest.raises(CellExecutionError):
        client.execute()
    (error,) = error_outputs(notebook.cells[0])
    assert error.ename == "InputError"
    shown = ANSI.sub("", "\n".join(error.traceback))
    assert "the reader's mistake" in shown
    assert "preprocess.py" in shown
