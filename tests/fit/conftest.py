"""Tiny tables for the `deepcases fit` tests (seconds, not minutes): every task, mixed column kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

#: settings that keep every fit to a few eager steps
TINY = ["--folds", "2", "--epochs", "1", "--hidden-units", "8", "--batch-size", "64", "--patience", "1"]


def tabular_frame(n: int = 48, seed: int = 0) -> pd.DataFrame:
    """Numeric (with gaps), categorical (with gaps), an id, a date and a free-text column; label yes/no."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    x2 = rng.normal(size=n)
    x2[::7] = np.nan
    label = np.where(x1 + (color == "red") + 0.3 * rng.normal(size=n) > 0.3, "yes", "no")
    frame = pd.DataFrame({
        "customer_id": [f"C{1000 + i}" for i in range(n)],
        "x1": x1.round(4),
        "x2": x2.round(4),
        "color": color,
        "signup": pd.date_range("2020-01-01", periods=n, freq="3D").strftime("%Y-%m-%d"),
        "comment": [f"customer {i} wrote a long and winding note number {i}" for i in range(n)],
        "constant": 1,
        "label": label,
        "amount": (3.0 * x1 + (color == "red") * 2.0 + rng.normal(scale=0.1, size=n)).round(4),
    })
    frame.loc[frame.index.isin([3, 11]), "color"] = np.nan
    return frame


def survival_frame(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    group = rng.choice(["a", "b"], size=n)
    time = rng.exponential(scale=np.exp(-0.8 * x1) * 100) + 1.0
    event = (rng.random(n) < 0.7).astype(int)
    return pd.DataFrame({"x1": x1.round(4), "group": group, "days": time.round(1), "died": event})


def series_frame(n: int = 120, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 20 + 3 * np.sin(2 * np.pi * t / 7) + 0.05 * t + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "sales": values.round(3), "store": "main"})


def text_frame(n: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    good, bad = ["great", "lovely", "superb", "fun"], ["awful", "boring", "dull", "bad"]
    filler = ["the", "film", "plot"]
    rows = []
    for i in range(n):
        positive = i % 2 == 0
        words = list(rng.choice(good if positive else bad, size=3)) + list(rng.choice(filler, size=3))
        rng.shuffle(words)
        rows.append({"review": " ".join(words), "sentiment": "pos" if positive else "neg", "length": len(words)})
    return pd.DataFrame(rows)


@pytest.fixture
def tabular_csv(tmp_path):
    path = tmp_path / "customers.csv"
    tabular_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def tables():
    """The table builders above (test modules cannot import this conftest under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(tabular=tabular_frame, survival=survival_frame, series=series_frame, text=text_frame,
                           tiny=list(TINY))
