"""Test-wide settings: keep the user's home clean and TensorFlow quiet and single-threaded."""

from __future__ import annotations

import os
import tempfile

# Set before anything imports TensorFlow, Keras or matplotlib.
_CACHE = tempfile.mkdtemp(prefix="deepcases-tests-")
for _var, _sub in (("KERAS_HOME", "keras"), ("MPLCONFIGDIR", "matplotlib"), ("XDG_CACHE_HOME", "cache"),
                   ("NLTK_DATA", "nltk_data"), ("DEEPCASES_CACHE", "deepcases"), ("YFINANCE_CACHE", "yfinance"),
                   ("NUMBA_CACHE_DIR", "numba")):   # umap-learn / pynndescent JIT caches
    os.environ[_var] = os.path.join(_CACHE, _sub)
    os.makedirs(os.environ[_var], exist_ok=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["DEEPCASES_QUIET"] = "1"
os.environ["MPLBACKEND"] = "Agg"

import pytest  # noqa: E402


@pytest.fixture
def runs_dir(tmp_path):
    """A temporary runs/ root for end-to-end tests."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
