"""Tests of the command line, ``python -m mnist_lib`` (mnist_lib.cli)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mnist_fixtures import REAL_MNIST

import mnist_lib.train as train_module
from mnist_lib import __version__
from mnist_lib.cli import main
from mnist_lib.data import FILES
from mnist_lib.model_cache import MODEL_FILE, ModelCache
from mnist_lib.train import TrainConfig

Captured = pytest.CaptureFixture[str]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No data anywhere, no downloads, an empty cache; returns the cache root."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    return tmp_path / "cache-root"


@pytest.fixture()
def real_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MNIST_DATA_DIR", str(REAL_MNIST))
    return REAL_MNIST


def exit_code(argv: list[str]) -> int:
    """The exit code of ``main(argv)``, whether it returns it or argparse raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as stop:
        return 0 if stop.code is None else stop.code


def run_module(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mnist_lib", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def assert_one_error_line(stderr: str) -> str:
    """The library error is reported as one "error: ..." message, never a traceback."""
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ")
    assert stderr.count("error: ") == 1
    return stderr


# ------------------------------------------------------------------------------------------
# Help and bad arguments


HELP_COMMANDS = [
    [],
    ["data"],
    ["data", "where"],
    ["data", "fetch"],
    ["data", "verify"],
    ["train"],
    ["evaluate"],
    ["models"],
    ["recipes"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_exits_zero_with_usage(command: list[str], capsys: Captured) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"usage: python -m mnist_lib {' '.join(command)}".rstrip())
    assert err == ""


def test_top_level_help_lists_every_command(capsys: Captured) -> None:
    assert exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("data", "train", "evaluate", "models"):
        assert command in out


def test_training_help_lists_the_options(capsys: Captured) -> None:
    assert exit_code(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--model", "--epochs", "--batch-size", "--validation", "--seed", "--retrain"):
        assert option in out


def test_version(capsys: Captured) -> None:
    assert exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mnist_lib {__version__}"


# Each bad command line: the command whose usage must be shown, and the reason to give.
BAD_ARGUMENTS: dict[str, tuple[list[str], str, str]] = {
    # the top level
    "no command": ([], "", "the following arguments are required: COMMAND"),
    "unknown command": (["bogus"], "", "invalid choice: 'bogus'"),
    "option before the command": (["--fast", "models"], "models", "unrecognized arguments: --fast"),
    # data and its actions
    "data without action": (["data"], "data", "the following arguments are required: ACTION"),
    "unknown data action": (["data", "burn"], "data", "invalid choice: 'burn'"),
    "where: unknown option": (["data", "where", "--all"], "data where", "unrecognized arguments"),
    "where: missing value": (
        ["data", "where", "--data-dir"],
        "data where",
        "expected one argument",
    ),
    "fetch: missing value": (["data", "fetch", "--dest"], "data fetch", "expected one argument"),
    "fetch: timeout text": (
        ["data", "fetch", "--timeout", "soon"],
        "data fetch",
        "--timeout: expected a number of seconds, got 'soon'",
    ),
    "fetch: negative timeout": (
        ["data", "fetch", "--timeout", "-5"],
        "data fetch",
        "--timeout: expected a positive number of seconds, got -5",
    ),
    "fetch: zero timeout": (["data", "fetch", "--timeout", "0"], "data fetch", "positive number"),
    "fetch: timeout nan": (["data", "fetch", "--timeout", "nan"], "data fetch", "positive number"),
    "fetch: extra argument": (
        ["data", "fetch", "now"],
        "data fetch",
        "unrecognized arguments: now",
    ),
    "verify: missing value": (["data", "verify", "--data-dir"], "data verify", "expected one"),
    "verify: unknown option": (["data", "verify", "--fix"], "data verify", "unrecognized"),
    # train and evaluate
    "unknown model": (["train", "--model", "no_such_net"], "train", "unknown model 'no_such_net'"),
    "model: missing value": (["evaluate", "--model"], "evaluate", "expected one argument"),
    "epochs: missing value": (["train", "--epochs"], "train", "--epochs: expected one argument"),
    "epochs 0": (["train", "--epochs", "0"], "train", "positive whole number, got 0"),
    "epochs -3": (["train", "--epochs", "-3"], "train", "positive whole number, got -3"),
    "epochs x": (["train", "--epochs", "x"], "train", "positive whole number, got 'x'"),
    "epochs 1.5": (["evaluate", "--epochs", "1.5"], "evaluate", "positive whole number"),
    "batch size -1": (["evaluate", "--batch-size", "-1"], "evaluate", "positive whole number"),
    "batch size text": (["train", "--batch-size", "big"], "train", "got 'big'"),
    "negative validation": (["train", "--validation", "-0.1"], "train", "0 or more"),
    "validation text": (["train", "--validation", "half"], "train", "fraction or a count"),
    "validation 1.5": (
        ["train", "--validation", "1.5"],
        "train",
        "expected a fraction below 1 (0.1) or a whole count (6000), got 1.5",
    ),
    "validation nan": (["evaluate", "--validation", "nan"], "evaluate", "got 'nan'"),
    "validation inf": (["train", "--validation", "inf"], "train", "got 'inf'"),
    "seed text": (["train", "--seed", "one"], "train", "expected a whole number, got 'one'"),
    "seed 1.5": (["evaluate", "--seed", "1.5"], "evaluate", "expected a whole number"),
    "negative seed": (["train", "--seed", "-1"], "train", "seed from 0 to 4294967295, got -1"),
    "seed too large": (["train", "--seed", str(2**32)], "train", "got 4294967296"),
    "unknown recipe": (
        ["train", "--recipe", "nope"],
        "train",
        "unknown recipe 'nope' (choose from",
    ),
    "recipe: missing value": (["evaluate", "--recipe"], "evaluate", "expected one argument"),
    "recipe and epochs": (
        ["evaluate", "--recipe", "cnn", "--epochs", "3", "--seed", "1"],
        "evaluate",
        "--recipe fixes the whole recipe; leave out --epochs, --seed",
    ),
    "train: unknown option": (["train", "--fast"], "train", "unrecognized arguments: --fast"),
    "train: flag with a value": (["train", "--retrain", "yes"], "train", "unrecognized arguments"),
    "evaluate: train's option": (["evaluate", "--retrain"], "evaluate", "unrecognized arguments"),
    # models and recipes
    "models: unknown option": (["models", "--fast"], "models", "unrecognized arguments: --fast"),
    "models: extra argument": (["models", "cnn"], "models", "unrecognized arguments: cnn"),
    "recipes: unknown option": (["recipes", "--all"], "recipes", "unrecognized arguments: --all"),
}


def test_bad_arguments_cover_every_command() -> None:
    assert {usage for _, usage, _ in BAD_ARGUMENTS.values()} == {
        " ".join(command) for command in HELP_COMMANDS
    }


def test_unknown_model_error_names_the_known_models(capsys: Captured) -> None:
    assert exit_code(["evaluate", "--model", "nope"]) == 2
    assert "seed_mlp" in capsys.readouterr().err


def assert_usage_error(out: str, err: str, case: str) -> None:
    """Nothing on stdout; the usage of the right command and the reason on stderr."""
    _, usage_of, reason = BAD_ARGUMENTS[case]
    command = f"python -m mnist_lib {usage_of}".rstrip()
    assert out == ""
    assert err.startswith(f"usage: {command} [-h]")
    assert f"\n{command}: error: " in err
    assert reason in err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_exit_two_with_usage(case: str, capsys: Captured) -> None:
    with pytest.raises(SystemExit) as stop:
        main(BAD_ARGUMENTS[case][0])
    assert stop.value.code == 2
    assert_usage_error(*capsys.readouterr(), case)


@pytest.mark.parametrize(
    "case",
    ["no command", "epochs 0", "negative seed", "fetch: zero timeout", "recipes: unknown option"],
)
def test_module_run_with_bad_arguments_exits_two(case: str, isolated_env: Path) -> None:
    """The same through a real ``python -m mnist_lib`` process: its exit code and streams."""
    result = run_module(*BAD_ARGUMENTS[case][0], env={"MNIST_OFFLINE": "1"})
    assert result.returncode == 2
    assert_usage_error(result.stdout, result.stderr, case)


# ------------------------------------------------------------------------------------------
# models and data


def test_models_lists_seed_mlp(capsys: Captured) -> None:
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "seed_mlp" in out.split()
    assert err == ""


def test_data_where_finds_mnist_data_dir(
    real_data: Path, isolated_env: Path, capsys: Captured
) -> None:
    assert main(["data", "where"]) == 0
    lines = capsys.readouterr().out.splitlines()
    found = [line for line in lines if line.startswith("found")]
    assert len(found) == 1
    assert "$MNIST_DATA_DIR" in found[0]
    assert found[0].endswith(str(real_data))
    assert any(line.endswith(str(isolated_env / "data")) for line in lines)  # also lists the cache


def test_data_where_with_data_dir_argument(
    real_data: Path, tmp_path: Path, capsys: Captured
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "where", "--data-dir", str(empty)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(str(empty))
    assert not lines[0].startswith("found")
    assert next(line for line in lines if line.startswith("found")).endswith(str(real_data))


def test_data_where_finds_nothing(isolated_env: Path, capsys: Captured) -> None:
    assert main(["data", "where"]) == 1
    out = capsys.readouterr().out
    assert "found " not in out
    assert "no copy of MNIST found" in out
    assert "data fetch" in out
    assert not (isolated_env / "data").exists()  # nothing was downloaded


def test_data_where_with_a_partial_copy_is_a_library_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / FILES[0].name).symlink_to(REAL_MNIST / FILES[0].name)
    monkeypatch.setenv("MNIST_DATA_DIR", str(partial))
    assert main(["data", "where"]) == 1
    err = assert_one_error_line(capsys.readouterr().err)
    assert "incomplete" in err
    assert FILES[1].name in err


def test_data_verify_real_data(real_data: Path, capsys: Captured) -> None:
    assert main(["data", "verify"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    for line, spec in zip(lines, FILES, strict=True):
        assert line.startswith("ok ")
        assert spec.name in line
        assert str(real_data / spec.name) in line


def test_data_verify_reports_a_corrupt_file(tmp_path: Path, capsys: Captured) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for spec in FILES[:3]:
        (folder / spec.name).symlink_to(REAL_MNIST / spec.name)
    # The test labels, cut short: a gzip stream that ends early.
    whole = gzip.compress(gzip.decompress((REAL_MNIST / FILES[3].name).read_bytes()))
    (folder / FILES[3].name).write_bytes(whole[: len(whole) // 2])

    assert main(["data", "verify", "--data-dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert [line[:3] for line in lines] == ["ok ", "ok ", "ok ", "BAD"]
    assert FILES[3].name in lines[3]
    assert "truncated" in lines[3]


def test_data_verify_with_nothing_anywhere(capsys: Captured) -> None:
    assert main(["data", "verify"]) == 1
    err = assert_one_error_line(capsys.readouterr().err)
    assert "MNIST was not found" in err


def test_data_fetch_offline_fails_cleanly(tmp_path: Path, capsys: Captured) -> None:
    # Offline mode does not stop an explicit fetch, so point it at nowhere instead: the test
    # must never reach the network.
    import mnist_lib.data as data_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data_module, "MIRRORS", ())
        assert main(["data", "fetch", "--dest", str(tmp_path / "dl")]) == 1
    assert_one_error_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------
# Library errors


def test_missing_data_is_one_error_line_and_exit_one(capsys: Captured) -> None:
    assert main(["train", "--epochs", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_error_line(err)
    assert "MNIST was not found" in err


def test_module_run_with_missing_data_has_no_traceback(isolated_env: Path) -> None:
    result = run_module(
        "evaluate",
        "--epochs",
        "1",
        env={"MNIST_OFFLINE": "1", "MNIST_CACHE_DIR": str(isolated_env), "MNIST_DATA_DIR": ""},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "MNIST was not found" in result.stderr


def test_unusable_validation_size_is_a_library_error(real_data: Path, capsys: Captured) -> None:
    # 70,000 held-out images cannot come out of a 60,000-image training set.
    assert main(["train", "--epochs", "1", "--validation", "70000"]) == 1
    err = assert_one_error_line(capsys.readouterr().err)
    assert "validation_size" in err


# ------------------------------------------------------------------------------------------
# train and evaluate on the real data


def test_train_then_evaluate_uses_the_cache(
    real_data: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    config = TrainConfig(epochs=1)
    cache = ModelCache(isolated_env / "models")
    entry = cache.entry_dir(config)

    assert main(["train", "--epochs", "1", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 1  # --quiet: no per-epoch lines, only the summary
    assert out.startswith("seed_mlp (trained now, ")
    assert "val_accuracy" in out
    assert (entry / MODEL_FILE).is_file()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again although the cache holds the model")

    monkeypatch.setattr(train_module, "train", refuse)

    assert main(["train", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("seed_mlp (from the cache, ")
    assert "epoch 1/1" not in out  # a cache hit trains nothing, so reports no epochs

    assert main(["evaluate", "--epochs", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    report = json.loads(out)
    assert report["model"] == "seed_mlp"
    assert 0.9 < report["accuracy"] <= 1.0
    assert report["loss"] > 0
    assert report["errors"] == round((1 - report["accuracy"]) * 10_000)
    assert [row["digit"] for row in report["per_class"]] == list(range(10))
    assert sum(row["support"] for row in report["per_class"]) == 10_000

    assert main(["evaluate", "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert f"test accuracy {report['accuracy']:.4f}" in text
    assert f"{report['errors']} of 10000 test digits misclassified" in text
    assert "macro" in text

    assert {p.name for p in cache.root.iterdir()} == {entry.name, cache.lock_path(config).name}


# ------------------------------------------------------------------------------------------
# The book's recipes


def test_recipes_lists_every_book_model(capsys: Captured) -> None:
    from mnist_lib.recipes import book_recipes

    assert exit_code(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(book_recipes())
    assert any(line.startswith("best-cnn") and "cnn, 15 epochs" in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--recipe", "cnn", "--quiet"], "cnn"),
        (["train", "--epochs", "2", "--seed", "3", "--quiet"], None),
    ],
)
def test_train_takes_the_recipe_or_the_options(
    argv: list[str],
    expected: str | None,
    real_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Captured,
) -> None:
    from mnist_lib.recipes import recipe
    from mnist_lib.train import SEED_RECIPE, TrainResult

    seen: list[TrainConfig] = []

    def fake_trained_model(config: TrainConfig, data: object, **_: object) -> TrainResult:
        seen.append(config)
        return TrainResult(model=None, config=config, history={"loss": [0.5]}, train_seconds=1.0)

    monkeypatch.setattr(train_module, "trained_model", fake_trained_model)
    assert exit_code(argv) == 0
    wanted = recipe(expected) if expected else SEED_RECIPE.replace(epochs=2, seed=3)
    assert seen == [wanted]
    assert capsys.readouterr().out.startswith(expected or "seed_mlp")
