"""Discrete-time survival networks: a time grid, target encoding, two Keras losses and S(t | x).

Follow-up is cut into ``n_bins`` intervals ``(edges[j], edges[j+1]]``, ``edges[0] = 0``, the other
edges at quantiles of the *training* event times (``edges[-1]`` = the last training event time).
A network has one output (a logit) per interval and is trained with either

* :func:`logistic_hazard_loss`: the logistic-hazard / Nnet-survival likelihood (Gensheimer &
  Narasimhan 2019; pycox ``LogisticHazard``): output j is the logit of the discrete hazard
  ``h_j = P(event in interval j | alive at edges[j])``;
* :func:`deephit_loss`: DeepHit for a single risk (Lee et al. 2018; pycox ``DeepHitSingle``):
  the outputs plus a fixed zero logit for "after the grid" go through a softmax to a probability
  mass function over the intervals; loss = PMF likelihood + ``alpha`` x ranking loss with ``sigma``.

Targets (:meth:`TimeGrid.encode`) are ``(n, 2)`` float32 ``[index, event]``: for an event, the
interval it fell in; for a censored subject, the number of intervals it was seen to survive in
full (0..n_bins). With that one convention the likelihood of a subject is
``prod_{k < index} (1 - h_k) * h_index ** event`` (logistic hazard), or ``f_index`` for an event
and ``S(edges[index])`` when censored (PMF); a subject censored inside an interval is counted
at risk only in the intervals before it (as pycox does), one censored exactly at an edge survives
that interval. Subject i ranks before j (DeepHit) when i had an event and ``index_j > index_i``.

    grid = TimeGrid.from_training(time_train, event_train, n_bins=20)
    model.compile(optimizer="adam", loss=logistic_hazard_loss())      # outputs = grid.n_bins, no activation
    model.fit(x, grid.encode(time_train, event_train))
    surv = grid.survival(model(x_test), times, kind="hazard")          # (n_test, len(times))

Inside an interval S(t | x) is interpolated with a **constant hazard** (log S linear between the
edges; a piecewise-exponential reading of the model): it keeps S positive and non-increasing for
either loss, and it is the continuous-time model whose interval survival is exactly ``1 - h_j``.
(Constant density, S linear, is pycox's default; the two differ by at most the curvature of exp
over one bin.) After ``edges[-1]`` S stays at its last value: the grid holds no information there,
so callers should not ask for times beyond it (the survival app refuses such a horizon).

Keras is imported only inside the loss factories, so importing this module stays light.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["TimeGrid", "logistic_hazard_loss", "deephit_loss", "hazard_to_survival", "pmf_to_survival",
           "KINDS"]

KINDS = ("hazard", "pmf")


def _as_time_event(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    from .survival import _events, _times

    t = _times(time)
    return t, _events(event, t.size)


# ------------------------------------------------------------------------------------ the grid
@dataclasses.dataclass(frozen=True)
class TimeGrid:
    """Interval edges ``0 = edges[0] < edges[1] < ... < edges[n_bins]`` of a discrete-time model."""

    edges: np.ndarray

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or edges[0] != 0 or not np.all(np.diff(edges) > 0) \
                or not np.all(np.isfinite(edges)):
            raise ValueError(f"edges must start at 0 and increase strictly (at least one interval), got "
                             f"{np.asarray(self.edges).tolist()[:6]}")
        object.__setattr__(self, "edges", edges)

    @property
    def n_bins(self) -> int:
        return int(self.edges.size - 1)

    @classmethod
    def from_training(cls, time: Any, event: Any, *, n_bins: int) -> "TimeGrid":
        """Edges at the ``k / n_bins`` quantiles (k = 1..n_bins) of the training *event* times, plus 0.

        ``n_bins`` must be >= 2 and at most the number of distinct training event times; quantiles
        that coincide (many tied event times) are merged, so the grid may have fewer bins than asked
        (logged). A cohort whose events all fall in one bin is refused.
        """
        t, e = _as_time_event(time, event)
        if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
            raise ValueError(f"n_bins (--time-bins) must be an int >= 2, got {n_bins!r}")
        event_times = t[e]
        distinct = np.unique(event_times)
        if distinct.size < 2:
            raise ValueError(f"all {event_times.size} training event(s) fall at one time "
                             f"({distinct.tolist()}), so every event would fall in one bin and a discrete-time "
                             "model learns no shape; use a cohort with events at two or more times")
        if n_bins > distinct.size:
            raise ValueError(f"n_bins (--time-bins) = {n_bins} is more than the {distinct.size} distinct event "
                             f"times of the training data; pass --time-bins {distinct.size} or fewer")
        cuts = np.quantile(event_times, np.arange(1, n_bins + 1) / n_bins)
        edges = np.unique(np.concatenate([[0.0], cuts]))
        if edges.size - 1 < n_bins:
            log.info("time grid: %d of %d quantile bins are distinct (tied event times)", edges.size - 1, n_bins)
        grid = cls(edges)
        idx, _ = grid._index(event_times, np.ones(event_times.size, bool))
        if np.unique(idx).size < 2:  # e.g. most events tied at the last event time: every quantile is that time
            raise ValueError(f"all {event_times.size} training events fall in one bin of the {n_bins}-quantile grid "
                             f"(edges {edges.tolist()}): too many are tied at one time; pass a larger --time-bins "
                             "or use a cohort whose events spread over more times")
        return grid

    def _index(self, t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inner = self.edges[1:]
        # event: the interval (edges[j], edges[j+1]] holding t; censored: intervals survived in full
        ev_idx = np.minimum(np.searchsorted(inner, t, side="left"), self.n_bins - 1)
        cens_idx = np.searchsorted(inner, t, side="right")
        return np.where(e, ev_idx, cens_idx), e

    def encode(self, time: Any, event: Any) -> np.ndarray:
        """Targets ``(n, 2)`` float32 ``[index, event]`` for the two losses (see the module docstring).

        An event after the last edge (possible for test data, never for the data the grid was built
        on) is counted in the last interval.
        """
        t, e = _as_time_event(time, event)
        idx, e = self._index(t, e)
        return np.column_stack([idx, e.astype(float)]).astype("float32")

    def empirical_logits(self, time: Any, event: Any, *, kind: str) -> np.ndarray:
        """The ``(n_bins,)`` outputs of the best network that is the same for everyone (no covariates).

        "hazard": logits of ``deaths_j / at_risk_j`` per interval (the life-table hazards; Kaplan–Meier
        at the edges when every edge is an event time); "pmf": logits of the implied interval masses
        relative to the "after the grid" mass. Hazards are clipped to [1e-4, 1 - 1e-4]. Used as the
        initial output bias, so training starts from the population curve instead of h = 1/2 per bin.
        """
        y = self.encode(time, event)
        bins = np.arange(self.n_bins)
        at_risk = ((y[:, 0] + y[:, 1])[:, None] > bins).sum(0)
        deaths = ((y[:, 1] == 1)[:, None] & (y[:, 0][:, None] == bins)).sum(0)
        h = np.clip(deaths / np.maximum(at_risk, 1), 1e-4, 1 - 1e-4)
        if kind == "hazard":
            return np.log(h / (1 - h))
        if kind == "pmf":
            s = hazard_to_survival(h[None, :])[0]
            f = np.append(-np.diff(s), s[-1])
            return np.log(f[:-1]) - np.log(f[-1])
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def survival(self, output: Any, times: Any, *, kind: str) -> np.ndarray:
        """S(times | x) ``(n, len(times))`` from the network's raw outputs ``(n, n_bins)``.

        ``kind`` "hazard" (logistic-hazard logits) or "pmf" (DeepHit logits); constant hazard inside
        an interval, constant after the last edge (module docstring).
        """
        at_edges = self.survival_at_edges(output, kind=kind)
        grid = np.asarray(times, dtype=float).reshape(-1)
        if not np.all(np.isfinite(grid)) or np.any(grid < 0):
            raise ValueError("times must be finite and >= 0 (in the units of the training durations)")
        return interpolate_constant_hazard(self.edges, at_edges, grid)

    def survival_at_own_times(self, output: Any, times: Any, *, kind: str) -> np.ndarray:
        """S(times[i] | x_i) ``(n,)``: each subject's curve at its own time (D-calibration needs it)."""
        at_edges = self.survival_at_edges(output, kind=kind)
        t = np.asarray(times, dtype=float).reshape(-1)
        if t.size != len(at_edges) or not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError(f"times must hold one finite time >= 0 per subject ({len(at_edges)}), got {t.size}")
        rows = [interpolate_constant_hazard(self.edges, at_edges[i:i + 1], t[i:i + 1])[0, 0] for i in range(t.size)]
        return np.asarray(rows, dtype=float)

    def survival_at_edges(self, output: Any, *, kind: str) -> np.ndarray:
        out = np.asarray(output, dtype=float)
        if out.ndim != 2 or out.shape[1] != self.n_bins:
            raise ValueError(f"the network output must have shape (n, {self.n_bins}) (one logit per bin), "
                             f"got {out.shape}; build the model with outputs=grid.n_bins")
        if not np.all(np.isfinite(out)):
            raise ValueError("the network output holds NaN or infinite values (a diverged training?)")
        if kind == "hazard":
            return hazard_to_survival(1.0 / (1.0 + np.exp(-out)))
        if kind == "pmf":
            padded = np.concatenate([out, np.zeros((len(out), 1))], axis=1)
            padded = np.exp(padded - padded.max(axis=1, keepdims=True))
            return pmf_to_survival(padded / padded.sum(axis=1, keepdims=True))
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"edges": self.edges.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TimeGrid":
        try:
            return cls(np.asarray(data["edges"], dtype=float))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a saved time grid ({err}); it needs edges") from err


def hazard_to_survival(hazard: np.ndarray) -> np.ndarray:
    """Discrete hazards ``(n, m)`` -> S at the m + 1 edges: ``S_0 = 1``, ``S_{j+1} = S_j (1 - h_j)``."""
    h = np.clip(np.asarray(hazard, dtype=float), 0.0, 1.0)
    return np.concatenate([np.ones((len(h), 1)), np.cumprod(1.0 - h, axis=1)], axis=1)


def pmf_to_survival(pmf: np.ndarray) -> np.ndarray:
    """PMF ``(n, m + 1)`` over the m intervals and "after the grid" -> S at the m + 1 edges."""
    f = np.asarray(pmf, dtype=float)
    s = 1.0 - np.concatenate([np.zeros((len(f), 1)), np.cumsum(f[:, :-1], axis=1)], axis=1)
    return np.clip(s, 0.0, 1.0)


def interpolate_constant_hazard(edges: np.ndarray, at_edges: np.ndarray, times: np.ndarray) -> np.ndarray:
    """S at ``times`` from S at ``edges``: log S linear inside an interval, constant after the last edge."""
    idx = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, edges.size - 2)
    lo, hi = edges[idx], edges[idx + 1]
    frac = np.clip((times - lo) / (hi - lo), 0.0, 1.0)
    s_lo, s_hi = at_edges[:, idx], at_edges[:, idx + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s_lo > 0, s_hi / np.where(s_lo > 0, s_lo, 1.0), 0.0)
        out = s_lo * np.power(np.clip(ratio, 0.0, 1.0), frac)
    return np.where(times >= edges[-1], at_edges[:, -1:], out)


# ---------------------------------------------------------------------------------- the losses
_REGISTERED: dict[str, Any] = {}


def _loss_classes() -> dict[str, Any]:
    """Define (once) and register the two losses as serializable Keras ``Loss`` classes."""
    if _REGISTERED:
        return _REGISTERED
    from .models._keras import keras

    k = keras()
    ops = k.ops

    def targets(y_true: Any, m: int) -> tuple[Any, Any, Any]:
        y_true = ops.cast(y_true, "float32")
        idx = ops.reshape(y_true[:, 0], (-1, 1))
        event = ops.reshape(y_true[:, 1], (-1, 1))
        bins = ops.reshape(ops.arange(m, dtype="float32"), (1, -1))
        return idx, event, bins

    @k.saving.register_keras_serializable(package="deepcases")
    class LogisticHazardLoss(k.losses.Loss):
        """Negative log-likelihood of the logistic-hazard model, mean over the batch's subjects.

        ``y_pred`` ``(batch, m)`` logits of the interval hazards; ``y_true`` = ``TimeGrid.encode``.
        Per subject: binary cross-entropy of "event in interval k" summed over the intervals it was
        at risk in, ``k < index + event`` (label 1 only at k = index for an event).
        """

        def __init__(self, name: str = "logistic_hazard_loss", **kwargs: Any) -> None:
            kwargs.pop("reduction", None)
            super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)

        def call(self, y_true: Any, y_pred: Any) -> Any:
            z = ops.cast(y_pred, "float32")
            idx, event, bins = targets(y_true, ops.shape(z)[1])
            at_risk = ops.cast(bins < idx + event, "float32")
            label = ops.cast(ops.equal(bins, idx), "float32") * event
            # BCE with logits: softplus(z) - label * z
            bce = ops.softplus(z) - label * z
            return ops.sum(at_risk * bce, axis=1)

    @k.saving.register_keras_serializable(package="deepcases")
    class DeepHitLoss(k.losses.Loss):
        """DeepHit (single risk): PMF negative log-likelihood + ``alpha`` x ranking loss, batch means.

        ``y_pred`` ``(batch, m)`` logits; a zero logit is appended for "after the grid" and a softmax
        gives the PMF ``f``. Likelihood per subject: ``-log f_index`` for an event, ``-log S(edges[index])
        = -log sum_{k >= index} f_k`` when censored. Ranking: over pairs with i an event and
        ``index_j > index_i``, ``exp(-(F_i(index_i) - F_j(index_i)) / sigma)`` with ``F`` the CDF through
        an interval, averaged over all batch x batch pairs (as pycox does).
        """

        def __init__(self, alpha: float = 0.5, sigma: float = 0.1, name: str = "deephit_loss",
                     **kwargs: Any) -> None:
            kwargs.pop("reduction", None)
            super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)
            self.alpha, self.sigma = float(alpha), float(sigma)

        def call(self, y_true: Any, y_pred: Any) -> Any:
            z = ops.cast(y_pred, "float32")
            n = ops.shape(z)[0]
            z = ops.concatenate([z, ops.zeros_like(z[:, :1])], axis=1)
            m1 = ops.shape(z)[1]
            idx, event, bins = targets(y_true, m1)
            log_norm = ops.logsumexp(z, axis=1, keepdims=True)
            at_idx = ops.cast(ops.equal(bins, idx), "float32")
            log_f = ops.sum(at_idx * z, axis=1, keepdims=True) - log_norm
            tail = ops.where(bins >= idx, z, -1e30)
            log_s = ops.logsumexp(tail, axis=1, keepdims=True) - log_norm
            nll = -(event * log_f + (1.0 - event) * log_s)
            if self.alpha == 0:
                return ops.reshape(nll, (-1,))
            pmf = ops.softmax(z, axis=1)
            cdf = ops.cumsum(pmf, axis=1)                              # F through each interval
            f_at = ops.matmul(cdf, ops.transpose(at_idx))              # [j, i] = F_j(index_i)
            own = ops.reshape(ops.diagonal(f_at), (1, -1))             # F_i(index_i)
            diff = own - f_at                                          # [j, i]
            idx_row = ops.reshape(idx, (1, -1))
            comparable = ops.cast(idx > idx_row, "float32") * ops.reshape(event, (1, -1))   # [j, i]
            rank = ops.sum(comparable * ops.exp(-diff / self.sigma), axis=1) / ops.cast(n, "float32")
            # per-row share so that the batch mean of (nll + alpha * rank) is nll mean + alpha * pair mean
            return ops.reshape(nll, (-1,)) + self.alpha * rank

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma}

    _REGISTERED.update(LogisticHazardLoss=LogisticHazardLoss, DeepHitLoss=DeepHitLoss)
    return _REGISTERED


def logistic_hazard_loss() -> Any:
    """The logistic-hazard negative log-likelihood as a registered Keras loss (mean over subjects)."""
    return _loss_classes()["LogisticHazardLoss"]()


def deephit_loss(*, alpha: float = 0.5, sigma: float = 0.1) -> Any:
    """DeepHit's single-risk loss ``nll + alpha * ranking`` (Lee et al. 2018's form, not pycox's convex mix)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha (--deephit-alpha) must be a number >= 0 (weight of the ranking loss), got {alpha!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma (--deephit-sigma) must be a number > 0 (scale of the ranking loss), got {sigma!r}")
    return _loss_classes()["DeepHitLoss"](alpha=float(alpha), sigma=float(sigma))
