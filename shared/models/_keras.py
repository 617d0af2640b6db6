"""Lazy access to Keras, so that ``import shared`` does not import TensorFlow."""

from __future__ import annotations

import os
from typing import Any


def keras() -> Any:
    """Return the ``keras`` module (Keras 3), importing TensorFlow on first use."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # silence C++ info logs, keep warnings
    import keras as _k

    major = int(_k.__version__.split(".")[0])
    if major < 3:  # pragma: no cover - guarded by pyproject
        raise ImportError(f"deepcases needs Keras 3, found keras {_k.__version__}; run `pip install 'keras>=3'`")
    from ._custom import register_custom_objects

    register_custom_objects(_k)  # so saved models with deepcases layers load with plain load_model
    return _k
