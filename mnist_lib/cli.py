"""``python -m mnist_lib``: get and verify the data, train a model, evaluate it.

Every subcommand has ``--help``. Bad arguments give a usage message on stderr and exit code 2;
a library error (missing data, a corrupt file) gives one readable line and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from mnist_lib import __version__
from mnist_lib.errors import MnistError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value}")
    return value


def _fraction_or_count(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction or a count, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a fraction or a count, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text}")
    if value >= 1 and not value.is_integer():
        raise argparse.ArgumentTypeError(
            f"expected a fraction below 1 (0.1) or a whole count (6000), got {text}"
        )
    return int(value) if value >= 1 else value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {2**32 - 1}, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _model_name(text: str) -> str:
    from mnist_lib.models import available_models

    if text not in available_models():
        known = ", ".join(available_models())
        raise argparse.ArgumentTypeError(f"unknown model {text!r} (choose from {known})")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m mnist_lib`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="python -m mnist_lib",
        description="MNIST digit classification: data, training and evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"mnist_lib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="find, download or verify the MNIST files")
    data_actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")
    where = data_actions.add_parser("where", help="show where the data is looked for and found")
    fetch = data_actions.add_parser("fetch", help="download MNIST into the cache folder")
    fetch.add_argument("--dest", type=Path, help="folder to download into (default: the cache)")
    fetch.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per request")
    verify = data_actions.add_parser("verify", help="check every file's format and checksum")
    for sub in (where, verify):
        sub.add_argument("--data-dir", type=Path, help="look here first")

    def add_training_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--recipe",
            type=_recipe_name,
            help="one of the book's models by name (`recipes` lists them); "
            "replaces the options below",
        )
        sub.add_argument("--model", type=_model_name, help="registered model (default: seed_mlp)")
        sub.add_argument("--epochs", type=_positive_int, help="default: 10")
        sub.add_argument("--batch-size", type=_positive_int, help="default: 32")
        sub.add_argument(
            "--validation",
            type=_fraction_or_count,
            help="held-out share (0.1, the default) or count (6000) of the training set; "
            "0 for none",
        )
        sub.add_argument("--seed", type=_seed, help="default: 0")
        sub.add_argument("--data-dir", type=Path, help="folder holding MNIST")
        sub.set_defaults(subparser=sub)  # for errors that need the usage of this command

    train = commands.add_parser("train", help="train a model (or take it from the cache)")
    add_training_options(train)
    train.add_argument("--retrain", action="store_true", help="ignore the cache and train anew")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")

    evaluate = commands.add_parser("evaluate", help="test-set accuracy, loss and per-class scores")
    add_training_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the numbers as JSON")

    models = commands.add_parser("models", help="list the registered models")
    recipes = commands.add_parser("recipes", help="list the book's models, trainable with --recipe")
    for sub in (where, fetch, verify, models, recipes):
        sub.set_defaults(subparser=sub)
    return parser


_RECIPE_FIXES = ("model", "epochs", "batch_size", "validation", "seed")


def _config(args: argparse.Namespace):
    from mnist_lib.train import SEED_RECIPE

    given = [name for name in _RECIPE_FIXES if getattr(args, name) is not None]
    if args.recipe is not None:
        if given:
            options = ", ".join("--" + name.replace("_", "-") for name in given)
            args.subparser.error(f"--recipe fixes the whole recipe; leave out {options}")
        from mnist_lib.recipes import recipe

        return recipe(args.recipe)
    changes = {
        "model": args.model,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "validation_size": args.validation,
        "seed": args.seed,
    }
    return SEED_RECIPE.replace(**{k: v for k, v in changes.items() if v is not None})


def _recipe_name(text: str) -> str:
    from mnist_lib.recipes import book_recipes

    if text not in book_recipes():
        known = ", ".join(book_recipes())
        raise argparse.ArgumentTypeError(f"unknown recipe {text!r} (choose from {known})")
    return text


def _run_data(args: argparse.Namespace) -> int:
    from mnist_lib import data

    if args.action == "where":
        found = data.locate_mnist(args.data_dir)
        for how, folder in data.search_dirs(args.data_dir):
            mark = "found" if found == folder else "     "
            print(f"{mark}  {how:<18} {folder}")
        if found is None:
            print("no copy of MNIST found; `python -m mnist_lib data fetch` downloads it")
            return 1
        return 0
    if args.action == "fetch":
        folder = data.download_mnist(args.dest, timeout=args.timeout)
        print(f"downloaded and verified the four MNIST files into {folder}")
        return 0
    checks = data.verify_mnist(args.data_dir)
    for check in checks:
        status = "ok " if check.ok else "BAD"
        print(f"{status}  {check.name:<28} {check.path or '-'}  {check.problem}".rstrip())
    return 0 if all(check.ok for check in checks) else 1


def _run_train(args: argparse.Namespace) -> int:
    from mnist_lib.data import load_mnist
    from mnist_lib.train import trained_model

    config = _config(args)
    data = load_mnist(args.data_dir)

    def show(log) -> None:
        print(log.format(), flush=True)

    result = trained_model(
        config, data, retrain=args.retrain, progress=None if args.quiet else show
    )
    source = "from the cache" if result.from_cache else "trained now"
    last = {name: values[-1] for name, values in result.history.items()}
    summary = "  ".join(f"{name} {value:.4f}" for name, value in last.items())
    label = args.recipe or config.model
    print(f"{label} ({source}, {result.train_seconds:.1f} s of training): {summary}")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from mnist_lib.data import load_mnist
    from mnist_lib.evaluate import evaluate_predictions, format_scores_table, predict_proba
    from mnist_lib.preprocess import scale_images
    from mnist_lib.train import trained_model

    config = _config(args)
    data = load_mnist(args.data_dir)
    result = trained_model(config, data)
    probabilities = predict_proba(result.model, scale_images(data.test.images))
    evaluation = evaluate_predictions(data.test.labels, probabilities)
    if args.json:
        report = {
            "model": config.model,
            "recipe": args.recipe,
            "accuracy": evaluation.accuracy,
            "loss": evaluation.loss,
            "errors": evaluation.error_count,
            "per_class": [score.__dict__ for score in evaluation.scores],
        }
        print(json.dumps(report, indent=2))
        return 0
    label = args.recipe or config.model
    print(f"{label}: test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f};")
    print(f"{evaluation.error_count} of {len(data.test.labels)} test digits misclassified\n")
    print(format_scores_table(evaluation.scores))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported with the usage of the command they were given to, not the top level
        getattr(args, "subparser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "data":
            return _run_data(args)
        if args.command == "train":
            return _run_train(args)
        if args.command == "evaluate":
            return _run_evaluate(args)
        if args.command == "recipes":
            from mnist_lib.recipes import book_recipes

            for name, config in book_recipes().items():
                print(f"{name:<28} {config.model}, {config.epochs} epochs")
            return 0
        from mnist_lib.models import available_models

        print("\n".join(available_models()))
        return 0
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was written to the cache", file=sys.stderr)
        return 130
