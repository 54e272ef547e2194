"""mnist_lib: the tested library behind the MNIST digit classification book.

Every chapter of the book calls into this package; each concern has its own module:

- :mod:`mnist_lib.data`: find, download, verify and parse MNIST.
- :mod:`mnist_lib.preprocess`: scale, flatten and split the images.
- :mod:`mnist_lib.models`: the model registry (the seed MLP and later models).
- :mod:`mnist_lib.train`: fast, deterministic training and the trained-model cache.
- :mod:`mnist_lib.evaluate`: accuracy, confusion matrix, per-class scores, error analysis.
- :mod:`mnist_lib.plots`: the book's figures, each returned as a Matplotlib Figure.

Submodules are imported on demand so that ``import mnist_lib`` stays cheap and does not load
TensorFlow. Importing any of them first quiets TensorFlow's C++ log (``TF_CPP_MIN_LOG_LEVEL=3``,
unless already set), so a notebook that imports ``mnist_lib`` before ``keras`` shows no log noise.
"""

from __future__ import annotations

import os
import sys

# Set before TensorFlow loads, wherever it is first imported from: no C++ log lines in outputs,
# and one thread per operation (see mnist_lib.train.configure_runtime for why). A value the user
# set already wins.
TENSORFLOW_LOADED_WITHOUT_THREAD_SETTINGS = (
    "tensorflow" in sys.modules and "TF_NUM_INTRAOP_THREADS" not in os.environ
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")

__version__ = "0.2.0"
__all__ = ["__version__"]
