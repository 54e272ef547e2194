"""Entry point of ``python -m mnist_lib``."""

from mnist_lib.cli import main

raise SystemExit(main())
