"""The book's own costs: building the site, and nbval over every chapter, with peak memory.

- **Site**: ``jupyter-book build`` exactly as ``make site`` runs it (from the stored outputs,
  warnings as errors), first into an empty output folder (a clean build), then again with nothing
  changed (a rebuild), repeated.
- **nbval per chapter**: each chapter alone, exactly as ``make nbval`` runs it, once from an
  empty model cache in reading order (what CI pays: the chapters train every model) and then again
  with every model cached (what a maintainer pays after a change), repeated.

Every run is a child process whose wall time and peak memory (all its processes together: pytest,
the notebook's kernel, a training worker) are recorded. The data is taken from where the library
finds it now; the model cache of the cold pass is a fresh temporary folder.

    .venv/bin/python -m benchmarks.book_speed --repeats 3

Not a test: it prints and records, it asserts nothing. A chapter that fails nbval stops it.
Results go to ``benchmarks/results/book.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import (
    ROOT,
    Measured,
    child_env,
    median,
    mnist_data_dir,
    run_measured,
    write_results,
)
from benchmarks.tables import Table

REBUILD_TARGET_SECONDS = 20.0
BIN = Path(sys.executable).parent


def chapters() -> list[str]:
    """The chapters in reading order, as the table of contents lists them."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [
        chapter["file"]
        for part in toc["parts"]
        for chapter in part["chapters"]
        if (ROOT / f"{chapter['file']}.ipynb").exists()
    ]


def _site_command(output: Path) -> list[str]:
    return [
        str(BIN / "jupyter-book"),
        "build",
        str(ROOT),
        "--path-output",
        str(output),
        "-W",
        "-n",
        "--keep-going",
    ]


def _nbval_command(chapter: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        "book/nbval-sanitize.cfg",
        f"{chapter}.ipynb",
    ]


def _checked(what: str, measured: Measured) -> dict[str, float]:
    if measured.returncode != 0:
        raise SystemExit(f"{what} failed (exit {measured.returncode}):\n{measured.output[-4000:]}")
    print(f"  {what:<44} {measured.seconds:7.1f} s  {measured.peak_mib:7.0f} MiB", flush=True)
    return {"seconds": measured.seconds, "peak_mib": measured.peak_mib}


def measure_site(repeats: int, env: dict[str, str]) -> dict[str, list[dict[str, float]]]:
    """Clean builds and rebuilds of the site, each pair into its own empty folder."""
    runs: dict[str, list[dict[str, float]]] = {"clean": [], "rebuild": []}
    for repeat in range(1, repeats + 1):
        with tempfile.TemporaryDirectory(prefix="mnist-book-site-") as output:
            for kind in ("clean", "rebuild"):
                measured = run_measured(_site_command(Path(output)), env=env)
                runs[kind].append(_checked(f"site {kind} build {repeat}/{repeats}", measured))
    return runs


def measure_nbval(
    cold: bool, repeats: int, data_dir: Path
) -> dict[str, dict[str, list[dict[str, float]]]]:
    """nbval of each chapter alone: a cold pass from an empty cache, then ``repeats`` warm ones."""
    names = chapters()
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"cold": [], "warm": []} for name in names
    }
    with tempfile.TemporaryDirectory(prefix="mnist-book-cache-") as cache:
        env = child_env(MNIST_DATA_DIR=str(data_dir), MNIST_OFFLINE="1", MNIST_CACHE_DIR=cache)
        passes = (["cold"] if cold else []) + ["warm"] * repeats
        if not cold:  # the warm passes need every model: one unmeasured pass trains them
            passes.insert(0, "fill")
        for number, kind in enumerate(passes, start=1):
            print(f"nbval pass {number}/{len(passes)} ({kind})", flush=True)
            for name in names:
                measured = run_measured(_nbval_command(name), env=env)
                result = _checked(f"{name} ({kind})", measured)
                if kind != "fill":
                    runs[name][kind].append(result)
    return runs


# --------------------------------------------------------------------------------------------
# Summaries, shared by the printout and the book's appendix


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """Medians of the site builds and of each chapter's nbval runs, and the rebuild target."""
    site = {
        kind: {
            "seconds": median(run["seconds"] for run in runs),
            "peak_mib": median(run["peak_mib"] for run in runs),
        }
        for kind, runs in document["site"].items()
    }
    nbval = {}
    for name, kinds in document["nbval"].items():
        nbval[name] = {
            kind: {
                "seconds": median(run["seconds"] for run in runs),
                "peak_mib": max(run["peak_mib"] for run in runs),
            }
            for kind, runs in kinds.items()
            if runs
        }
    totals = {
        kind: sum(row[kind]["seconds"] for row in nbval.values() if kind in row)
        for kind in ("cold", "warm")
    }
    return {
        "site": site,
        "rebuild_met": site["rebuild"]["seconds"] < REBUILD_TARGET_SECONDS,
        "nbval": nbval,
        "nbval_totals": totals,
        "nbval_peak_mib": max(kind["peak_mib"] for row in nbval.values() for kind in row.values()),
    }


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def site_table(document: dict[str, Any]) -> Table:
    """Clean build and rebuild of the site: median time and peak memory."""
    site = summary(document)["site"]
    rows = [
        [label, _duration(site[kind]["seconds"]), f"{site[kind]['peak_mib']:,.0f} MiB"]
        for kind, label in (("clean", "clean build"), ("rebuild", "rebuild, nothing changed"))
    ]
    return Table(["site build", "time", "peak memory"], rows, [False, True, True])


def nbval_table(document: dict[str, Any]) -> Table:
    """Per chapter: nbval from an empty model cache and with every model cached, peak memory."""
    result = summary(document)
    rows = []
    for name, row in result["nbval"].items():
        cold = row.get("cold")
        rows.append(
            [
                Path(name).name,
                _duration(cold["seconds"]) if cold else "-",
                _duration(row["warm"]["seconds"]),
                f"{max(kind['peak_mib'] for kind in row.values()):,.0f} MiB",
            ]
        )
    totals = result["nbval_totals"]
    rows.append(
        [
            "all chapters",
            _duration(totals["cold"]) if totals["cold"] else "-",
            _duration(totals["warm"]),
            f"{result['nbval_peak_mib']:,.0f} MiB",
        ]
    )
    header = ["chapter", "empty cache", "models cached", "peak memory"]
    return Table(header, rows, [False, True, True, True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="site builds and warm nbval passes")
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the nbval pass from an empty model cache (it trains every model: ~25 min)",
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if shutil.which("jupyter-book", path=str(BIN)) is None:
        sys.exit(f"jupyter-book is not installed next to {sys.executable}: run `make install`")

    data_dir = mnist_data_dir()
    env = child_env()
    print("site builds", flush=True)
    site = measure_site(args.repeats, env)
    nbval = measure_nbval(not args.no_cold, args.repeats, data_dir)
    document = {
        "settings": {"repeats": args.repeats, "cold": not args.no_cold},
        "site": site,
        "nbval": nbval,
    }
    result = summary(document)
    print(f"\nmedians of {args.repeats} run(s); cold nbval: one pass")
    print(site_table(document).text())
    print(
        f"rebuild target (< {REBUILD_TARGET_SECONDS:g} s): "
        f"{'met' if result['rebuild_met'] else 'missed'}\n"
    )
    print(nbval_table(document).text())
    write_results("book", document)


if __name__ == "__main__":
    main()
