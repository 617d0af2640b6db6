"""Survival building blocks any application can reuse: a Cox partial-likelihood loss for Keras
(Breslow ties), the Breslow baseline hazard, survival curves S(t | x) from risk scores, and
horizon labels ("dies within H days") that leave out subjects whose status at H is unknown.

Conventions: ``time`` is the observed time (event or censoring), positive and finite; ``event`` is
1 for an observed event and 0 for censoring; a *risk score* is the log partial hazard
``eta(x)`` (higher = expected to fail sooner), the raw output of a DeepSurv network or a Cox
model's linear predictor.

    model.compile(optimizer="adam", loss=cox_ph_loss())        # y = column_stack([time, event])
    model.fit(x, survival_target(time, event), batch_size=1024)
    baseline = BreslowBaseline().fit(eta_train, time_train, event_train)
    surv = baseline.survival(eta_test, times)                   # (n_test, len(times))

Keras is imported only inside :func:`cox_ph_loss`, so importing this module stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["cox_ph_loss", "cox_partial_log_likelihood", "survival_target", "BreslowBaseline", "survival_curves",
           "horizon_labels"]


# --------------------------------------------------------------------------------------- checks
def _times(values: Any, name: str = "time") -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        raise ValueError(f"{name} must be positive and finite; {int(bad.sum())} value(s) are not "
                         "(drop those subjects or fix the duration column)")
    return arr


def _events(values: Any, n: int, name: str = "event") -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be 1-D with {n} values (one per subject), got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0/1 (1 = event observed), got values "
                             f"{np.unique(arr)[:5].tolist()}; recode the event column")
    return arr.astype(bool)


def _risk(values: Any, n: int, name: str = "risk") -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(float).reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr.astype(float)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must hold one score per subject ({n}), got shape {np.shape(values)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; check the model output (a diverged training?)")
    return arr


# ----------------------------------------------------------------------------------- the loss
def survival_target(time: Any, event: Any) -> np.ndarray:
    """The ``y`` a model compiled with :func:`cox_ph_loss` is fitted on: float32 ``(n, 2)`` = [time, event]."""
    t = _times(time)
    e = _events(event, t.size)
    return np.column_stack([t, e.astype(float)]).astype("float32")


def cox_partial_log_likelihood(risk: Any, time: Any, event: Any) -> float:
    """Cox log partial likelihood with Breslow's handling of ties, in NumPy (the reference for tests).

    ``sum over events i of [eta_i - log sum_{j: t_j >= t_i} exp(eta_j)]``: subjects tied at an event
    time all stay in each other's risk set.
    """
    t = _times(time)
    e = _events(event, t.size)
    eta = _risk(risk, t.size)
    total = 0.0
    for i in np.flatnonzero(e):
        at_risk = t >= t[i]
        total += eta[i] - np.log(np.exp(eta[at_risk]).sum())
    return float(total)


def cox_ph_loss() -> Any:
    """Keras loss: negative Cox partial log-likelihood (Breslow ties), averaged over the batch's events.

    ``y_true`` is ``(batch, 2)`` = [time, event] (:func:`survival_target`); ``y_pred`` is the risk score
    ``(batch, 1)`` or ``(batch,)`` with no activation. The risk set of each event is computed
    *within the batch*: sort by time (descending), take a cumulative log-sum-exp, and for tied
    times read it at the last subject of the tie group (so ties share one risk set, as Breslow's
    approximation does). This is exact for a full batch and a stochastic approximation of the
    full-data risk set for mini-batches (larger batches, e.g. 512-1024, track it closely). A batch
    with no event contributes 0. O(n log n) memory and time, no n x n matrix.
    """
    from .models._keras import keras

    ops = keras().ops

    def cox_ph(y_true: Any, y_pred: Any) -> Any:
        y_true = ops.cast(y_true, "float32")
        eta = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
        time = ops.reshape(y_true[:, 0], (-1,))
        event = ops.reshape(y_true[:, 1], (-1,))
        order = ops.argsort(-time)                      # latest time first
        t = ops.take(time, order)
        e = ops.take(event, order)
        h = ops.take(eta, order)
        shift = ops.stop_gradient(ops.max(h))
        cum = ops.cumsum(ops.exp(h - shift))            # sum over subjects with a time >= this one's
        neg_t = -t                                      # ascending, as searchsorted needs
        last = ops.searchsorted(neg_t, neg_t, side="right") - 1   # end of each tie group
        log_risk_set = ops.log(ops.maximum(ops.take(cum, last), 1e-30)) + shift
        n_events = ops.sum(e)
        return -ops.sum(e * (h - log_risk_set)) / ops.maximum(n_events, 1.0)

    cox_ph.__name__ = "cox_ph_loss"
    return cox_ph


# ---------------------------------------------------------------------- Breslow baseline hazard
@dataclasses.dataclass
class BreslowBaseline:
    """Breslow estimate of the cumulative baseline hazard H0(t), fitted on training risk scores.

    ``H0(t) = sum over event times t_k <= t of d_k / sum_{j: t_j >= t_k} exp(eta_j - shift)``, with
    ``shift`` the mean training score (for numerical stability; it cancels out in S(t | x)).
    ``S(t | x) = exp(-H0(t) * exp(eta(x) - shift))``. Only aggregates are stored (distinct event
    times and the cumulative hazard there), so it can be saved beside a model with :meth:`to_dict`.
    """

    times: np.ndarray | None = None
    cumulative_hazard: np.ndarray | None = None
    shift: float = 0.0

    def fit(self, risk: Any, time: Any, event: Any) -> "BreslowBaseline":
        t = _times(time)
        e = _events(event, t.size)
        eta = _risk(risk, t.size)
        if not e.any():
            raise ValueError("the training data has no events; the baseline hazard needs at least one")
        self.shift = float(eta.mean())
        w = np.exp(eta - self.shift)
        order = np.argsort(t, kind="stable")
        t_sorted, w_sorted, e_sorted = t[order], w[order], e[order]
        at_risk = np.cumsum(w_sorted[::-1])[::-1]          # sum of w over j with t_j >= t_sorted[i]
        unique, first = np.unique(t_sorted, return_index=True)
        deaths = np.add.reduceat(e_sorted.astype(float), first)
        keep = deaths > 0
        self.times = unique[keep]
        self.cumulative_hazard = np.cumsum(deaths[keep] / at_risk[first][keep])
        return self

    def _check_fitted(self) -> None:
        if self.times is None or self.cumulative_hazard is None:
            raise ValueError("the baseline hazard is not fitted; call fit(risk, time, event) on training data first")

    def baseline_cumulative_hazard(self, times: Any) -> np.ndarray:
        """H0 at ``times`` (a right-continuous step function; 0 before the first event time)."""
        self._check_fitted()
        grid = np.asarray(times, dtype=float).reshape(-1)
        if not np.all(np.isfinite(grid)) or np.any(grid < 0):
            raise ValueError("times must be finite and >= 0 (days since the start of follow-up)")
        idx = np.searchsorted(self.times, grid, side="right") - 1
        return np.where(idx >= 0, self.cumulative_hazard[np.clip(idx, 0, None)], 0.0)

    def survival(self, risk: Any, times: Any) -> np.ndarray:
        """S(t | x) of shape (n_subjects, len(times))."""
        eta = np.asarray(risk, dtype=float).reshape(-1)
        if not np.all(np.isfinite(eta)):
            raise ValueError("risk holds NaN or infinite values; check the model output")
        h0 = self.baseline_cumulative_hazard(times)
        return np.exp(-np.outer(np.exp(eta - self.shift), h0))

    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {"times": self.times.tolist(), "cumulative_hazard": self.cumulative_hazard.tolist(),
                "shift": self.shift}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BreslowBaseline":
        try:
            times = np.asarray(data["times"], dtype=float)
            hazard = np.asarray(data["cumulative_hazard"], dtype=float)
            shift = float(data["shift"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a saved baseline hazard ({err}); it needs times, cumulative_hazard and shift") \
                from err
        if times.shape != hazard.shape or times.ndim != 1:
            raise ValueError("a saved baseline hazard needs times and cumulative_hazard of the same length")
        return cls(times=times, cumulative_hazard=hazard, shift=shift)


def survival_curves(train_risk: Any, train_time: Any, train_event: Any, risk: Any,
                    times: Sequence[float] | np.ndarray) -> np.ndarray:
    """One call: fit the Breslow baseline on training scores, return S(times | x) for ``risk``."""
    return BreslowBaseline().fit(train_risk, train_time, train_event).survival(risk, times)


# ----------------------------------------------------------------------------- horizon labels
def horizon_labels(time: Any, event: Any, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels for "event within ``horizon``" and the mask of subjects whose status at the horizon is known.

    label 1: the event was observed at a time <= horizon. label 0: followed past the horizon
    (time > horizon), or censored exactly at it (seen event-free through the horizon). Unknown
    (mask False, label 0 as a placeholder): censored before the horizon. Train and evaluate a
    horizon classifier only where the mask is True.
    """
    t = _times(time)
    e = _events(event, t.size)
    if isinstance(horizon, bool) or not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of time units, got {horizon!r}")
    label = e & (t <= horizon)
    known = label | (t >= horizon)
    return label.astype(int), known
