"""The application registry: which case studies and examples exist, and how to load one.

Kept apart from the command line (shared/cli.py) so the report, ``deepcases reproduce`` and the
scaffold can ask "which applications are there?" without importing the CLI, and the CLI can import
them. Loading an application imports its module (and through it TensorFlow); this module alone does not.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

#: application name -> one-line description; each lives in applications/<name>/main.py
APPLICATIONS: dict[str, str] = {
    "stock_forecast": "finance: next-day stock price with LSTM/GRU and 1D-CNN vs random-walk baselines",
    "recommender": "e-commerce: matrix factorization and two-tower recommenders (MovieLens, Online Retail)",
    "review_sentiment": "social: review sentiment with BiLSTM and text CNN vs TF-IDF/NB-SVM/VADER",
    "survival": "medical: DeepSurv patient risk and horizon classifier vs Cox and random survival forest",
    "route_demand": "logistics: 14-day route demand with a global RNN/CNN vs seasonal naive and ETS",
}
#: example name -> one-line description; each lives in examples/<name>.py
EXAMPLES: dict[str, str] = {
    "digits_cnn": "the 2-D CNN on scikit-learn's bundled 8x8 digits (no download)",
}


def describe(name: str) -> str:
    """The one-line description of an application or example ('' if unregistered)."""
    return APPLICATIONS.get(name, EXAMPLES.get(name, ""))


def load_app(name: str) -> ModuleType:
    """The module of application or example ``name``: registered ones first, then any
    ``applications/NAME/main.py``. Unknown names exit with a message pointing at ``deepcases list``."""
    if name in APPLICATIONS:
        return importlib.import_module(f"applications.{name}.main")
    if name in EXAMPLES:
        return importlib.import_module(f"examples.{name}")
    module = application_folder(name)
    if module is not None:
        return module
    raise SystemExit(f"deepcases: unknown application {name!r}; `deepcases list` shows the choices")


def application_folder(name: str) -> ModuleType | None:
    """``applications/NAME/main.py`` of an application not registered in APPLICATIONS yet (e.g. one
    just written by ``deepcases new NAME``), so ``deepcases run NAME`` works right away."""
    if not name.isidentifier():
        return None
    try:
        found = importlib.util.find_spec(f"applications.{name}.main") is not None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(f"applications.{name}.main") if found else None


def available(name: str) -> bool:
    """Whether ``name`` loads (its module and the packages it needs are installed)."""
    try:
        load_app(name)
        return True
    except ModuleNotFoundError:
        return False
