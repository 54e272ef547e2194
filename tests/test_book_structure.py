"""The book's table of contents, its chapter files and the browser tests' page list agree."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


def toc_notebooks() -> list[str]:
    return [chapter for chapter in toc_chapters() if (ROOT / f"{chapter}.ipynb").exists()]


def test_every_notebook_is_in_the_table_of_contents_in_file_order() -> None:
    notebooks = sorted(f"book/{path.stem}" for path in (ROOT / "book").glob("*.ipynb"))
    assert toc_notebooks() == notebooks


def test_the_chapters_come_first_and_the_generated_appendix_last() -> None:
    chapters = toc_chapters()
    assert chapters[:-1] == toc_notebooks()
    assert chapters[-1] == "book/appendix_benchmarks"
    assert (ROOT / "book/appendix_benchmarks.md").exists()


def test_the_browser_tests_visit_every_page_in_reading_order() -> None:
    from browser.test_site import CHAPTERS

    pages = [path.removesuffix(".html") for path, _ in CHAPTERS]
    assert pages == ["book/intro", *toc_chapters()]


def test_every_chapter_starts_with_its_title_and_stores_outputs() -> None:
    for chapter in toc_notebooks():
        notebook = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        first = "".join(notebook["cells"][0]["source"])
        assert first.startswith("# "), f"{chapter}: the first cell is not the chapter title"
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        assert code and all(cell.get("execution_count") for cell in code), (
            f"{chapter}: stored without outputs; run `make notebooks NOTEBOOKS={chapter}.ipynb`"
        )
