"""Inputs of the global model: calendar features, per-series scaling, windows around an origin.

For an origin T (the first forecast day) and a series, one sample holds

* ``past`` (window, F): for each day t in [T − window, T): the scaled demand z[t], its weekly
  change z[t] − z[t−7], the calendar of day t, and the scaled covariates of day t;
* ``future`` (horizon, G): for each target day T + h: the seasonal-naive reference
  z[T − 7 + (h mod 7)], the value one week before that, the calendar of the target day (known in
  advance) and the holiday flags of the reference day (so the model can tell when last week's
  value was itself a holiday);
* ``route``: the series index (for the learned embedding).

The target is the scaled demand *minus* the seasonal-naive reference, so the network learns
corrections to "same weekday last week". Scaling divides by each series' mean over the
training days only (:class:`SeriesScaler`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from shared.errors import UserError

SEASON = 7
#: Holidays on which US airline schedules thin out (pandas USFederalHolidayCalendar names). The
#: other four federal holidays (King, Washington, Columbus, Veterans) are bank/government holidays
#: that leave schedules alone; they get the separate ``federal_holiday`` flag.
MAJOR_HOLIDAYS = ("New Year's Day", "Memorial Day", "Independence Day", "Labor Day", "Thanksgiving Day",
                  "Christmas Day")
MAJOR_OFFSETS = (-2, -1, 0, 1, 2)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def calendar_features(dates: pd.DatetimeIndex) -> tuple[np.ndarray, list[str]]:
    """Day-of-week one-hot, a federal-holiday flag, and one-hot offsets −2 … +2 to the nearest
    major holiday (US federal holiday calendar from pandas). Returns (len(dates), 13) and names."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    dates = pd.DatetimeIndex(dates).normalize()
    if len(dates) == 0:
        raise UserError("dates is empty; pass the panel's calendar")
    holidays = USFederalHolidayCalendar().holidays(dates.min() - pd.Timedelta(days=7),
                                                   dates.max() + pd.Timedelta(days=7), return_name=True)
    dow = np.eye(7, dtype="float32")[dates.dayofweek]
    federal = dates.isin(holidays.index).astype("float32")[:, None]
    major_days = pd.DatetimeIndex(holidays.index[holidays.isin(MAJOR_HOLIDAYS)])
    offsets = np.zeros((len(dates), len(MAJOR_OFFSETS)), dtype="float32")
    for j, off in enumerate(MAJOR_OFFSETS):
        offsets[:, j] = dates.isin(major_days + pd.Timedelta(days=off))
    names = [f"dow_{d}" for d in DAY_NAMES] + ["federal_holiday"] + [
        f"major_holiday_{'m' if o < 0 else 'p'}{abs(o)}" if o else "major_holiday" for o in MAJOR_OFFSETS]
    return np.concatenate([dow, federal, offsets], axis=1), names


def extended_calendar(dates: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    """The panel's days plus ``horizon`` more (the future calendar is known in advance)."""
    dates = pd.DatetimeIndex(dates)
    return pd.date_range(dates[0], periods=len(dates) + horizon, freq="D")


@dataclasses.dataclass(frozen=True)
class SeriesScaler:
    """Divide each series by its mean over days [0, fit_end) — the training part only."""

    level: np.ndarray
    fit_end: int

    @classmethod
    def fit(cls, values: np.ndarray, *, end: int) -> "SeriesScaler":
        values = np.asarray(values, dtype=float)
        if not 0 < end <= values.shape[1]:
            raise UserError(f"end must be in 1..{values.shape[1]}, got {end}")
        level = values[:, :end].mean(axis=1)
        level = np.where(level > 0, level, 1.0)  # a series silent during training keeps its raw scale
        return cls(level=level, fit_end=int(end))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float) / self.level[:, None]

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Undo the scaling of an array whose first axis is the series (any trailing axes)."""
        scaled = np.asarray(scaled, dtype=float)
        return scaled * self.level.reshape((-1,) + (1,) * (scaled.ndim - 1))


@dataclasses.dataclass(frozen=True)
class CovariateScaler:
    """Standardize each covariate with its mean/std over days [0, fit_end) of all series."""

    mean: dict[str, float]
    std: dict[str, float]

    @classmethod
    def fit(cls, covariates: Mapping[str, np.ndarray], *, end: int) -> "CovariateScaler":
        mean, std = {}, {}
        for key, cov in covariates.items():
            part = np.asarray(cov, dtype=float)[:, :end]
            mean[key] = float(part.mean())
            std[key] = float(part.std()) or 1.0
        return cls(mean, std)

    def transform(self, covariates: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return [(np.asarray(covariates[k], dtype=float) - self.mean[k]) / self.std[k] for k in self.mean]


@dataclasses.dataclass(frozen=True)
class WindowMaker:
    """Builds (past, future, route) inputs and residual targets around forecast origins."""

    window: int
    horizon: int
    calendar: np.ndarray  # (days + horizon, C): calendar of every panel day and the days after it
    n_covariates: int = 0
    season: int = SEASON

    def __post_init__(self) -> None:
        if self.window < self.season:
            raise UserError(f"window must be >= {self.season} days (one season), got {self.window}")
        if self.horizon < 1:
            raise UserError(f"horizon must be >= 1, got {self.horizon}")

    @property
    def min_origin(self) -> int:
        """The earliest origin with a full window and its weekly differences (window + one season)."""
        return max(self.window + self.season, 2 * self.season)

    @property
    def n_past_features(self) -> int:
        return 2 + self.calendar.shape[1] + self.n_covariates

    @property
    def n_future_features(self) -> int:
        return 2 + self.calendar.shape[1] + len(MAJOR_OFFSETS) + 1

    def _check_origins(self, origins: np.ndarray, n_days: int, *, targets: bool) -> None:
        if origins.size == 0:
            raise UserError("no forecast origins to build windows for")
        if origins.min() < self.min_origin:
            raise UserError(f"origin {int(origins.min())} is too early: windows need {self.min_origin} days before "
                             "the origin (window + one season)")
        last_needed = origins.max() + (self.horizon if targets else 0)
        if last_needed > n_days:
            raise UserError(f"origin {int(origins.max())} needs days up to {last_needed - 1} but the data end at day "
                             f"{n_days - 1}")
        if origins.max() + self.horizon > self.calendar.shape[0]:
            raise UserError("the calendar is too short for the last origin's horizon; extend it")

    def inputs(self, scaled: np.ndarray, origins: Sequence[int], series: Sequence[int], *,
               covariates: Sequence[np.ndarray] = ()) -> dict[str, np.ndarray]:
        """Model inputs for the (origin, series) pairs ``zip(origins, series)``.

        Only days before each origin are read from ``scaled`` (and ``covariates``).
        """
        z = np.asarray(scaled, dtype="float32")
        origins = np.asarray(origins, dtype=int)
        series = np.asarray(series, dtype=int)
        if origins.shape != series.shape:
            raise UserError("origins and series must pair up one to one")
        self._check_origins(origins, z.shape[1], targets=False)
        if len(covariates) != self.n_covariates:
            raise UserError(f"expected {self.n_covariates} covariate array(s), got {len(covariates)}")
        w, h, m = self.window, self.horizon, self.season
        past_days = origins[:, None] + np.arange(-w, 0)[None, :]                 # (N, W)
        level = z[series[:, None], past_days]
        change = level - z[series[:, None], past_days - m]
        parts = [level[..., None], change[..., None], self.calendar[past_days]]
        for cov in covariates:
            parts.append(np.asarray(cov, dtype="float32")[series[:, None], past_days][..., None])
        past = np.concatenate(parts, axis=-1).astype("float32")
        steps = np.arange(h)
        ref_days = origins[:, None] - m + (steps % m)[None, :]                   # last week, same weekday
        ref = z[series[:, None], ref_days]
        ref2 = z[series[:, None], ref_days - m]
        target_days = origins[:, None] + steps[None, :]
        ref_holiday = self.calendar[ref_days][..., -len(MAJOR_OFFSETS) - 1:]     # federal + major offsets
        future = np.concatenate([ref[..., None], (ref - ref2)[..., None], self.calendar[target_days], ref_holiday],
                                axis=-1).astype("float32")
        return {"past": past, "future": future, "route": series.astype("int32")}

    def reference(self, scaled: np.ndarray, origins: Sequence[int], series: Sequence[int]) -> np.ndarray:
        """Seasonal-naive reference (scaled) of each pair, (N, horizon)."""
        z = np.asarray(scaled, dtype="float32")
        origins = np.asarray(origins, dtype=int)
        series = np.asarray(series, dtype=int)
        steps = np.arange(self.horizon)
        return z[series[:, None], origins[:, None] - self.season + (steps % self.season)[None, :]]

    def targets(self, scaled: np.ndarray, origins: Sequence[int], series: Sequence[int]) -> np.ndarray:
        """Residual targets z[T + h] − reference, (N, horizon)."""
        z = np.asarray(scaled, dtype="float32")
        origins = np.asarray(origins, dtype=int)
        series = np.asarray(series, dtype=int)
        self._check_origins(origins, z.shape[1], targets=True)
        days = origins[:, None] + np.arange(self.horizon)[None, :]
        return (z[series[:, None], days] - self.reference(z, origins, series)).astype("float32")


def pairs(origins: Sequence[int], n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """All (origin, series) combinations, origin-major: (origins repeated, series tiled)."""
    origins = np.asarray(origins, dtype=int)
    return np.repeat(origins, n_series), np.tile(np.arange(n_series), len(origins))


def training_origins(*, min_origin: int, end: int, horizon: int, val_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered origins for fitting and for early stopping, all targets before ``end``.

    Validation targets fill [end − val_days, end); fitting targets end before end − val_days,
    so no fitting target lies in the validation slice and nothing at or after ``end`` is used.
    """
    if val_days < horizon:
        raise UserError(f"val_days must be >= the horizon ({horizon}), got {val_days}")
    val_start = end - val_days
    fit = np.arange(min_origin, val_start - horizon + 1)
    val = np.arange(max(val_start, min_origin), end - horizon + 1)
    if fit.size < 7 or val.size < 1:
        raise UserError(f"not enough training days before day {end}: {fit.size} fitting origins and {val.size} "
                         f"validation origins with window start {min_origin} and {val_days} validation days; "
                         "use a shorter --window, fewer --val-days, or a later first origin")
    return fit, val
