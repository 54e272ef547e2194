"""The benchmark tooling: tables, summaries, the appendix page, peak memory and result files.

The benchmarks themselves are measurements, not tests; what is tested is that they summarise and
report correctly, and that the committed appendix is what the committed results render to.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import benchmark_documents as documents
import pytest

from benchmarks import book_speed, common, inference_speed, report, training_speed
from benchmarks.tables import Table


def all_documents(**changes: dict) -> dict[str, dict]:
    made = {
        "training": documents.training(),
        "inference": documents.inference(),
        "book": documents.book(),
    }
    made.update(changes)
    return made


# ------------------------------------------------------------------------------------------
# Tables


def test_table_text_aligns_numbers_right_and_words_left() -> None:
    table = Table(["name", "seconds"], [["a", "1.0"], ["longer", "10.5"]], [False, True])
    assert table.text().splitlines() == ["name    seconds", "a           1.0", "longer     10.5"]


def test_table_markdown_marks_alignment_and_escapes_pipes() -> None:
    table = Table(["run", "s"], [["a|b", "2"]], [False, True])
    assert table.markdown().splitlines() == ["| run | s |", "| :--- | ---: |", "| a\\|b | 2 |"]


def test_table_refuses_a_ragged_row() -> None:
    with pytest.raises(ValueError, match="2 cells"):
        Table(["a", "b"], [["only one"]], [False, False])


# ------------------------------------------------------------------------------------------
# Summaries


def test_training_summary_takes_medians_and_judges_the_targets() -> None:
    result = training_speed.summary(documents.training(plain_seconds=100.0, lib_seconds=10.0))
    assert result["rows"]["plain model.fit"]["seconds"] == 100.0  # median of 95, 100, 105
    assert result["speedup"] == pytest.approx(10.0)
    assert result["accuracy_points"] == pytest.approx(0.2)
    assert result["speedup_met"] and result["accuracy_met"]
    assert result["rows"]["mnist_lib.train"]["samples_per_second"] == pytest.approx(60_000)
    assert result["cnn_first_epoch_seconds"] == 40.0
    assert result["cnn_epoch_seconds"] == 31.0  # the later epochs only: 30 and 32
    assert result["cnn_full_minutes"] == pytest.approx(15 * 31 / 60)


def test_training_summary_reports_a_missed_speed_target() -> None:
    result = training_speed.summary(documents.training(plain_seconds=40.0, lib_seconds=10.0))
    assert result["speedup"] == pytest.approx(4.0)
    assert not result["speedup_met"]


def test_inference_summary_and_table() -> None:
    document = documents.inference()
    assert inference_speed.summary(document) == {"speedup_1": 100.0, "speedup_1000": 25.0}
    table = inference_speed.table(document)
    assert table.rows[0] == [
        "reference",
        "15 \u2192 1,500 (100x)",
        "10,000 \u2192 250,000 (25x)",
    ]


def test_book_summary_totals_and_rebuild_target() -> None:
    result = book_speed.summary(documents.book(rebuild_seconds=5.0))
    assert result["nbval"]["book/01_data"]["warm"]["seconds"] == 8.0  # median of 7, 9, 8
    assert result["nbval_totals"] == {"cold": 378.0, "warm": 28.0}
    assert result["nbval_peak_mib"] == 2_000.0
    assert result["rebuild_met"]
    assert not book_speed.summary(documents.book(rebuild_seconds=25.0))["rebuild_met"]
    rows = book_speed.nbval_table(documents.book()).rows
    assert rows[1] == ["08_convolutional", "6 min 10 s", "20.0 s", "2,000 MiB"]
    assert rows[-1][0] == "all chapters"


def test_book_chapters_follow_the_table_of_contents() -> None:
    names = book_speed.chapters()
    assert names[0] == "book/01_data" and names[-1] == "book/10_comparison"
    assert len(names) == 10  # the appendix is a page, not a notebook: no nbval


# ------------------------------------------------------------------------------------------
# The page


def test_page_states_the_measured_figures_and_the_machine() -> None:
    page = report.render(all_documents())
    assert "**10.0 times** as fast as plain\n`model.fit` (target: at least 5 times; met)" in page
    assert "| mnist_lib.train | 10.0 | 1.00 | 60,000 | 97.70% | 10.00x |" in page
    assert "A rebuild takes 5.0 s" in page
    assert "| processor | Test CPU |" in page
    assert "{figure} figures/benchmark_times.svg" in page


def test_page_says_when_a_target_is_missed() -> None:
    page = report.render(all_documents(training=documents.training(plain_seconds=40.0)))
    assert "(target: at least 5 times; **missed**)" in page


def test_page_lists_each_machine_when_the_benchmarks_ran_on_different_ones() -> None:
    other = documents.inference()
    other["machine"] = {**other["machine"], "cpu": "Other CPU"}
    page = report.render(all_documents(inference=other))
    assert "| processor | Test CPU | Other CPU | Test CPU |" in page


def test_figure_is_the_same_svg_for_the_same_results() -> None:
    first = report.draw_figure(all_documents())
    assert first.startswith("<?xml") and "<svg" in first
    assert first == report.draw_figure(all_documents())
    assert "Testing each chapter" in first


def test_committed_page_and_figure_are_rendered_from_the_committed_results() -> None:
    documents_now = report.load_results()
    assert report.PAGE.read_text(encoding="utf-8") == report.render(documents_now), (
        "book/appendix_benchmarks.md is out of date: run `python -m benchmarks.report`"
    )
    assert report.FIGURE.read_text(encoding="utf-8") == report.draw_figure(documents_now)


@pytest.mark.parametrize("damage", ["missing", "not json", "old format"])
def test_unusable_results_say_which_benchmark_to_run(tmp_path: Path, damage: str) -> None:
    for name, document in all_documents().items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    broken = tmp_path / "inference.json"
    if damage == "missing":
        broken.unlink()
    elif damage == "not json":
        broken.write_text("{", encoding="utf-8")
    else:
        broken.write_text(json.dumps({**documents.inference(), "format": 0}), encoding="utf-8")
    with pytest.raises(report.ResultsError) as caught:
        report.load_results(tmp_path)
    assert str(broken) in str(caught.value)
    assert "benchmarks.inference_speed" in str(caught.value) or "again" in str(caught.value)


# ------------------------------------------------------------------------------------------
# Measuring


def test_run_measured_sees_the_peak_memory_of_a_grandchild() -> None:
    # A child starts a grandchild that holds 300 MiB for a moment: the tree's peak must show it.
    grandchild = "b = bytearray(300 * 2**20); import time; time.sleep(0.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    measured = common.run_measured([sys.executable, "-c", child])
    assert measured.returncode == 0
    assert measured.peak_mib > 300
    assert 0.5 < measured.seconds < 30


def test_run_measured_reports_failure_and_output() -> None:
    measured = common.run_measured([sys.executable, "-c", "print('hello'); raise SystemExit(3)"])
    assert measured.returncode == 3
    assert "hello" in measured.output


def test_write_results_is_atomic_and_records_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    path = common.write_results("example", {"settings": {"repeats": 1}})
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == common.RESULT_FORMAT
    assert document["benchmark"] == "example" and document["settings"] == {"repeats": 1}
    assert document["machine"]["logical_cpus"] >= 1 and document["machine"]["python"]
    assert [p.name for p in path.parent.iterdir()] == ["example.json"]


def test_median_of_nothing_is_an_error() -> None:
    assert common.median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        common.median([])
