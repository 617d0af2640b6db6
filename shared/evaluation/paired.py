"""Paired tests of two models scored on the same test cases, for :mod:`shared.verdict`.

A model averaged over seeds (an ensemble) is one model: it has no spread over seeds, so the spread
rule of the verdict cannot judge it. What can is a paired test on the cases both models predicted:
the per-case loss difference ``d = loss_deep - loss_baseline``. Cases are rarely independent (one
user's ratings share the user), so the observations of the test are the per-cluster sums of ``d``
when clusters are given: a cluster-robust test that the total losses are equal.

The test covers the noise of the test sample, not the training noise a seed spread shows; each
record says so in its ``covers`` field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: the per-case loss (name, function of the error) each metric's paired test compares: the metric is a
#: monotone function of its mean
LOSSES = {"rmse": ("squared errors", np.square), "mse": ("squared errors", np.square),
          "mae": ("absolute errors", np.abs)}


def paired_loss_test(loss_deep: Sequence[float], loss_baseline: Sequence[float], *,
                     clusters: Sequence[Any] | None = None) -> dict[str, float]:
    """Two-sided t-test that two models' losses on the same cases have equal totals.

    ``clusters`` (one label per case, e.g. the user): the test runs on the per-cluster sums of the
    differences, so correlated cases inside a cluster do not pass for independent evidence.
    Returns ``p_value``, ``statistic``, ``n`` (observations: cases or clusters) and
    ``mean_difference`` (per case, deep − baseline)."""
    from scipy import stats

    a, b = np.asarray(loss_deep, dtype=float), np.asarray(loss_baseline, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"the two loss arrays must be 1-D and of one length, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("losses must be finite")
    d = a - b
    if clusters is not None:
        labels = np.asarray(clusters)
        if labels.shape != d.shape:
            raise ValueError(f"clusters must give one label per case ({d.size}), got {labels.shape}")
        _, index = np.unique(labels, return_inverse=True)
        observations = np.bincount(index, weights=d)
    else:
        observations = d
    n = int(observations.size)
    if n < 2:
        raise ValueError(f"a paired test needs at least 2 observations, got {n}")
    if np.all(observations == observations[0]):
        # no variation: the sign of the difference is certain unless it is zero
        p = 1.0 if observations[0] == 0 else 0.0
        return {"p_value": p, "statistic": float("nan"), "n": n, "mean_difference": float(d.mean())}
    test = stats.ttest_1samp(observations, 0.0)
    return {"p_value": float(test.pvalue), "statistic": float(test.statistic), "n": n,
            "mean_difference": float(d.mean())}


def paired_loss_records(deep: Mapping[str, Sequence[float]], baselines: Mapping[str, Sequence[float]], *,
                        metric: str, loss: str, clusters: Sequence[Any] | None = None,
                        cluster_name: str = "cluster") -> list[dict[str, Any]]:
    """``extra["paired_tests"]`` records on ``metric``: every deep model against every baseline.

    ``deep`` and ``baselines`` map a model name to its per-case losses on the same cases, in one
    order (``loss`` names them, e.g. "squared errors"); a case undefined (NaN) for either side of a
    pair is left out of that pair's test."""
    labels = None if clusters is None else np.asarray(clusters)
    unit = f"per-{cluster_name} " if clusters is not None else ""
    records = []
    for d_name, d_loss in deep.items():
        a = np.asarray(d_loss, dtype=float)
        for b_name, b_loss in baselines.items():
            b = np.asarray(b_loss, dtype=float)
            if a.shape != b.shape:
                raise ValueError(f"{d_name} and {b_name} have losses for different cases ({a.shape} vs {b.shape})")
            ok = np.isfinite(a) & np.isfinite(b)
            found = paired_loss_test(a[ok], b[ok], clusters=None if labels is None else labels[ok])
            records.append({"deep": d_name, "baseline": b_name, "metric": metric,
                            "p_value": found["p_value"], "n": found["n"],
                            "mean_loss_difference": found["mean_difference"],
                            "test": f"{unit}paired t-test on {loss}",
                            "covers": "the noise of the test sample, not of training (one model's predictions)"})
    return records


def paired_error_records(y_true: Sequence[float], deep: Mapping[str, np.ndarray], baselines: Mapping[str, np.ndarray],
                         *, metrics: Sequence[str] = ("rmse", "mae"), clusters: Sequence[Any] | None = None,
                         cluster_name: str = "cluster") -> list[dict[str, Any]]:
    """:func:`paired_loss_records` of point predictions of ``y_true`` on each of ``metrics``
    (squared errors for rmse and mse, absolute errors for mae)."""
    y = np.asarray(y_true, dtype=float)
    unknown = [m for m in metrics if m not in LOSSES]
    if unknown:
        raise ValueError(f"no per-case loss for {unknown}; choose from {sorted(LOSSES)}")
    records = []
    for metric in metrics:
        name, loss = LOSSES[metric]
        records += paired_loss_records(
            {n: loss(y - np.asarray(p, dtype=float)) for n, p in deep.items()},
            {n: loss(y - np.asarray(p, dtype=float)) for n, p in baselines.items()},
            metric=metric, loss=name, clusters=clusters, cluster_name=cluster_name)
    return records
