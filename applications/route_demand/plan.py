"""Capacity plan from quantile forecasts: how many departures (or seats) to schedule per route and day.

To meet demand on a share ``service_level`` of route-days, schedule the ``service_level``
quantile of the forecast demand, rounded to a whole unit (to the nearest by default, or up).
Between two forecast quantiles the level is interpolated linearly (e.g. 0.7 between the 0.5
and 0.9 quantiles lies half-way); a level outside the forecast quantiles is refused rather than
extrapolated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from shared.errors import UserError


def quantile_at(quantiles: Sequence[float], values: np.ndarray, level: float) -> np.ndarray:
    """The ``level`` quantile from forecasts of ``quantiles`` along the last axis of ``values``."""
    qs = np.asarray([float(q) for q in quantiles])
    values = np.asarray(values, dtype=float)
    if values.shape[-1] != len(qs):
        raise UserError(f"values have {values.shape[-1]} quantiles on the last axis, expected {len(qs)}")
    if np.any(np.diff(qs) <= 0):
        raise UserError(f"quantiles must be strictly increasing, got {qs.tolist()}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not qs[0] <= level <= qs[-1]:
        raise UserError(f"service level must lie within the forecast quantiles [{qs[0]}, {qs[-1]}], got {level!r}; "
                         f"choose a level in that range or forecast more quantiles (--quantiles)")
    j = int(np.searchsorted(qs, level))
    if qs[min(j, len(qs) - 1)] == level:
        return values[..., j]
    lo, hi = qs[j - 1], qs[j]
    weight = (level - lo) / (hi - lo)
    return values[..., j - 1] + weight * (values[..., j] - values[..., j - 1])


ROUNDINGS = ("nearest", "up")


def units_to_schedule(demand_quantile: np.ndarray, *, rounding: str = "nearest") -> np.ndarray:
    """Whole units to schedule from a demand quantile (never negative).

    ``nearest`` (default): demand is a count, so a quantile forecast of 12.03 or 11.97 departures
    is an estimate of the whole number 12; ``up``: always round up (more slack, more excess).
    """
    if rounding not in ROUNDINGS:
        raise UserError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    q = np.round(np.clip(np.asarray(demand_quantile, dtype=float), 0.0, None), 6)  # float noise ignored
    return np.ceil(q) if rounding == "up" else np.floor(q + 0.5)


def capacity_plan(quantile_forecasts: np.ndarray, quantiles: Sequence[float], *, service_level: float,
                  actual: np.ndarray, series: Sequence[str], dates: pd.DatetimeIndex, origins: Sequence[int],
                  unit: str = "departures", rounding: str = "nearest") -> pd.DataFrame:
    """One row per (origin, series, day): the forecast quantiles, the units to schedule, what flew.

    ``quantile_forecasts`` is (origins, series, horizon, quantiles) and ``actual`` (origins,
    series, horizon). ``shortfall`` is demand above the plan, ``excess`` plan above demand.
    """
    q = np.asarray(quantile_forecasts, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if q.shape[:-1] != actual.shape:
        raise UserError(f"forecasts {q.shape[:-1]} and actual {actual.shape} must have the same (origins, series, "
                         "horizon) shape")
    if actual.shape[:2] != (len(origins), len(series)):
        raise UserError("actual must be (origins, series, horizon) matching origins and series")
    planned = units_to_schedule(quantile_at(quantiles, q, service_level), rounding=rounding)
    n_o, n_s, h = actual.shape
    o_idx, s_idx, h_idx = np.meshgrid(np.arange(n_o), np.arange(n_s), np.arange(h), indexing="ij")
    origins = np.asarray(origins, dtype=int)
    days = origins[o_idx] + h_idx
    frame = pd.DataFrame({"origin_date": np.asarray(dates)[origins[o_idx]].reshape(-1),
                          "series": np.asarray(series, dtype=object)[s_idx].reshape(-1),
                          "date": np.asarray(dates)[days].reshape(-1),
                          "lead_days": (h_idx + 1).reshape(-1)})
    for j, level in enumerate(quantiles):
        frame[f"q{round(100 * float(level)):02d}"] = q[..., j].reshape(-1)
    frame[f"planned_{unit}"] = planned.reshape(-1)
    frame[f"actual_{unit}"] = actual.reshape(-1)
    frame["shortfall"] = np.clip(actual - planned, 0.0, None).reshape(-1)
    frame["excess"] = np.clip(planned - actual, 0.0, None).reshape(-1)
    frame["met"] = (planned >= actual).reshape(-1)
    return frame


def plan_summary(plan: pd.DataFrame, *, unit: str = "departures") -> pd.DataFrame:
    """Per forecast origin and in total: planned vs actual units, share of route-days met, shortfall, excess."""
    planned, actual = f"planned_{unit}", f"actual_{unit}"
    if planned not in plan or actual not in plan:
        raise UserError(f"plan has no {planned!r}/{actual!r} columns; build it with capacity_plan(unit={unit!r})")

    def agg(part: pd.DataFrame) -> dict[str, float]:
        return {"route_days": int(len(part)), planned: float(part[planned].sum()), actual: float(part[actual].sum()),
                "planned_minus_actual": float(part[planned].sum() - part[actual].sum()),
                "service_achieved": float(part["met"].mean()), "shortfall": float(part["shortfall"].sum()),
                "excess": float(part["excess"].sum())}

    rows = [{"origin_date": str(pd.Timestamp(key).date()), **agg(part)} for key, part in plan.groupby("origin_date")]
    rows.append({"origin_date": "total", **agg(plan)})
    return pd.DataFrame(rows)
