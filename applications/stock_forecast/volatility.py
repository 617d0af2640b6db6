"""The volatility target (PROTOCOLS.md §Finance — volatility target): data, references and scores.

Returns r_t = 100 · ln(AdjClose_t / AdjClose_{t−1}) in %. For every test day t a model forecasts
the variance f_t (%²) of r_t from the true history of days < t. Realized-variance proxies of
day t: Parkinson P_t = (100 · ln(High_t / Low_t))² / (4 ln 2) (the range estimator; it misses
the overnight gap, so it runs below r² on average) and the squared return r_t².

Scores: QLIKE = mean(proxy/f − ln(proxy/f) − 1) over days with proxy > 0 and MSE = mean((proxy −
f)²), each against both proxies; one-day normal VaR at 1 % and 5 % = mu + z_alpha · √f with mu
the train+validation mean return, its violation rate (r_t < VaR_t), the Kupiec unconditional
coverage p-value and Christoffersen's independence p-value (violations should not cluster).

References (``arch``, normal errors, constant mean), each fitted once on the train+validation
returns and run over the test span with those parameters fixed: the constant train+validation
variance, EWMA λ = 0.94 (RiskMetrics) seeded with the train+validation variance at the first
return and run through all returns, GARCH(1,1) and GJR-GARCH(1,1,1) (``arch_model(...).fix``
filters the whole series with the fitted parameters), and HAR(1, 5, 22) on the Parkinson proxy
(``arch.univariate.HARX``, least squares on train+validation, fixed through test).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

log = logging.getLogger(__name__)

VAR_LEVELS = (0.01, 0.05)
PROXIES = ("parkinson", "r2")
EWMA_LAMBDA = 0.94

#: PROTOCOLS.md §Finance — volatility target reference numbers (display only, never reported as ours)
REFERENCE = {
    "constant": {"qlike_parkinson": 1.4603, "qlike_r2": 2.4017, "mse_parkinson": 2.0880, "mse_r2": 3.9430,
                 "var1_violation_rate": 0.0079, "var1_kupiec_p": 0.55, "var5_violation_rate": 0.0265,
                 "var5_kupiec_p": 0.001},
    "ewma": {"qlike_parkinson": 0.5787, "qlike_r2": 1.8784, "mse_parkinson": 0.6248, "mse_r2": 2.7869,
             "var1_violation_rate": 0.0185, "var1_kupiec_p": 0.035, "var5_violation_rate": 0.0450,
             "var5_kupiec_p": 0.52},
    "garch": {"qlike_parkinson": 0.6616, "qlike_r2": 1.8011, "mse_parkinson": 0.6286, "mse_r2": 2.7508,
              "var1_violation_rate": 0.0159, "var1_kupiec_p": 0.13, "var5_violation_rate": 0.0278,
              "var5_kupiec_p": 0.002},
    "gjr_garch": {"qlike_parkinson": 0.6418, "qlike_r2": 1.7682, "mse_parkinson": 0.6688, "mse_r2": 2.6613,
                  "var1_violation_rate": 0.0146, "var1_kupiec_p": 0.24, "var5_violation_rate": 0.0317,
                  "var5_kupiec_p": 0.014},
}
#: the columns where "best reference" is picked for the Diebold–Mariano comparison
LOSS_COLUMNS = ("qlike_parkinson", "qlike_r2", "mse_parkinson", "mse_r2")


# ------------------------------------------------------------------------------------------- data


@dataclasses.dataclass(frozen=True)
class VolatilityData:
    """Returns, proxies and the split, all indexed by price row (row 0 has no return: NaN)."""

    returns: np.ndarray
    parkinson: np.ndarray
    train_end: int
    val_end: int
    dates: pd.Series

    @property
    def r2(self) -> np.ndarray:
        return self.returns ** 2

    @property
    def test(self) -> np.ndarray:
        return np.arange(self.val_end, len(self.returns))

    @property
    def mean_return(self) -> float:
        """Train + validation mean return (the VaR's mean)."""
        return float(np.mean(self.returns[1:self.val_end]))

    def proxy(self, name: str) -> np.ndarray:
        if name not in PROXIES:
            raise ValueError(f"proxy must be one of {PROXIES}, got {name!r}")
        return self.parkinson if name == "parkinson" else self.r2


def percent_log_returns(close: np.ndarray) -> np.ndarray:
    close = np.asarray(close, dtype=float)
    out = np.full(close.shape, np.nan)
    out[1:] = 100.0 * np.diff(np.log(close))
    return out


def parkinson_variance(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """(100 · ln(High/Low))² / (4 ln 2), in %²."""
    high, low = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    if np.any(high < low):
        raise ValueError("High below Low on some day; check the column order of the price data")
    return (100.0 * np.log(high / low)) ** 2 / (4.0 * math.log(2.0))


def volatility_data(frame: pd.DataFrame, *, train_end: int, val_end: int) -> VolatilityData:
    missing = [c for c in ("high", "low") if c not in frame.columns]
    if missing:
        from shared.errors import UserError

        raise UserError(f"--target volatility needs High and Low prices (the Parkinson proxy); this data lacks "
                        f"{missing}. Use the bundled sample, yfinance, or a CSV with High and Low columns")
    return VolatilityData(returns=percent_log_returns(frame["close"].to_numpy()),
                          parkinson=parkinson_variance(frame["high"].to_numpy(), frame["low"].to_numpy()),
                          train_end=int(train_end), val_end=int(val_end), dates=frame["date"])


# ------------------------------------------------------------------------------------------- scores


def qlike_error(proxy: Any, forecast: Any) -> float:
    """mean(proxy/f − ln(proxy/f) − 1) over the days with proxy > 0 (0 for a perfect forecast)."""
    p, f = np.asarray(proxy, dtype=float), np.asarray(forecast, dtype=float)
    if p.shape != f.shape:
        raise ValueError(f"proxy {p.shape} and forecast {f.shape} must be aligned day by day")
    if np.any(~np.isfinite(f)) or np.any(f <= 0):
        raise ValueError("variance forecasts must be finite and > 0")
    keep = p > 0
    x = p[keep] / f[keep]
    return float(np.mean(x - np.log(x) - 1.0))


def qlike_losses(proxy: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Per-day QLIKE (NaN where the proxy is 0), for Diebold–Mariano tests."""
    p, f = np.asarray(proxy, dtype=float), np.asarray(forecast, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = p / f
        return np.where(p > 0, x - np.log(x) - 1.0, np.nan)


def kupiec_pvalue(violations: Any, level: float) -> float:
    """Kupiec (1995) unconditional-coverage LR test p-value: is the violation rate ``level``?"""
    v = np.asarray(violations, dtype=bool).reshape(-1)
    n, x = v.size, int(v.sum())
    if n == 0:
        raise ValueError("no days to test")

    def loglik(p: float) -> float:
        return (n - x) * _log(1.0 - p) + x * _log(p)

    lr = -2.0 * (loglik(level) - loglik(x / n))
    return float(stats.chi2.sf(max(lr, 0.0), df=1))


def christoffersen_pvalue(violations: Any) -> float:
    """Christoffersen (1998) independence LR test p-value: does a violation make the next one likelier?

    First-order Markov chain of the hit sequence: pi01 = P(hit | no hit yesterday), pi11 = P(hit |
    hit yesterday), against one common rate. 1.0 when there are no (or only) violations.
    """
    v = np.asarray(violations, dtype=bool).reshape(-1).astype(int)
    if v.size < 2:
        raise ValueError("the independence test needs at least two days")
    prev, cur = v[:-1], v[1:]
    n00 = int(np.sum((prev == 0) & (cur == 0)))
    n01 = int(np.sum((prev == 0) & (cur == 1)))
    n10 = int(np.sum((prev == 1) & (cur == 0)))
    n11 = int(np.sum((prev == 1) & (cur == 1)))
    if n01 + n11 == 0 or n00 + n10 == 0:
        return 1.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    restricted = (n00 + n10) * _log(1 - pi) + (n01 + n11) * _log(pi)
    unrestricted = n00 * _log(1 - pi01) + n01 * _log(pi01) + n10 * _log(1 - pi11) + n11 * _log(pi11)
    lr = -2.0 * (restricted - unrestricted)
    return float(stats.chi2.sf(max(lr, 0.0), df=1))


def _log(p: float) -> float:
    return math.log(p) if p > 0 else 0.0  # used only as count · log(p); a zero count makes the term 0


def var_violations(returns: np.ndarray, forecast: np.ndarray, *, mean: float, level: float) -> np.ndarray:
    """Days whose return falls below the normal VaR mean + z_level · √f."""
    var = mean + stats.norm.ppf(level) * np.sqrt(np.asarray(forecast, dtype=float))
    return np.asarray(returns, dtype=float) < var


def volatility_metrics(data: VolatilityData, forecast: np.ndarray) -> dict[str, float]:
    """The protocol's columns for one forecast over the test days (aligned with ``data.test``)."""
    t = data.test
    f = np.asarray(forecast, dtype=float)
    if f.shape != t.shape:
        raise ValueError(f"forecast must hold one variance per test day ({t.size}), got shape {f.shape}")
    out: dict[str, float] = {}
    for proxy in PROXIES:
        p = data.proxy(proxy)[t]
        out[f"qlike_{proxy}"] = qlike_error(p, f)
        out[f"mse_{proxy}"] = float(np.mean((p - f) ** 2))
    for level in VAR_LEVELS:
        hits = var_violations(data.returns[t], f, mean=data.mean_return, level=level)
        tag = f"var{round(100 * level)}"
        out[f"{tag}_violation_rate"] = float(hits.mean())
        out[f"{tag}_kupiec_p"] = kupiec_pvalue(hits, level)
        out[f"{tag}_christoffersen_p"] = christoffersen_pvalue(hits)
    return out


def daily_losses(data: VolatilityData, forecast: np.ndarray) -> dict[str, np.ndarray]:
    """Per-day loss of each LOSS_COLUMNS entry (QLIKE NaN where the proxy is 0)."""
    t = data.test
    out = {}
    for proxy in PROXIES:
        p = data.proxy(proxy)[t]
        out[f"qlike_{proxy}"] = qlike_losses(p, forecast)
        out[f"mse_{proxy}"] = (p - forecast) ** 2
    return out


def diebold_mariano_losses(loss_model: np.ndarray, loss_reference: np.ndarray) -> dict[str, float]:
    """One-step Diebold–Mariano test on two per-day loss series (days where either is NaN dropped).

    d = loss_model − loss_reference; HLN-corrected t statistic with t(n−1). ``p_better``: one-sided
    p-value that the model's mean loss is lower; ``p_two_sided``.
    """
    d = np.asarray(loss_model, dtype=float) - np.asarray(loss_reference, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    var = float(np.var(d))
    if n < 3:
        return {"dm_stat": 0.0, "p_better": 0.5, "p_two_sided": 1.0}
    if var <= 0:  # the same difference every day: no doubt about its sign
        mean = float(d.mean())
        return {"dm_stat": float(np.sign(mean) * np.inf) if mean else 0.0,
                "p_better": 0.0 if mean < 0 else (1.0 if mean > 0 else 0.5), "p_two_sided": 0.0 if mean else 1.0}
    t = float(d.mean() / math.sqrt(var / n) * math.sqrt((n - 1) / n))
    return {"dm_stat": t, "p_better": float(stats.t.cdf(t, df=n - 1)),
            "p_two_sided": float(2 * stats.t.sf(abs(t), df=n - 1))}


# ------------------------------------------------------------------------------------------- references


def constant_forecast(data: VolatilityData) -> np.ndarray:
    return np.full(data.test.size, float(np.var(data.returns[1:data.val_end])))


def ewma_forecast(data: VolatilityData, *, lam: float = EWMA_LAMBDA) -> np.ndarray:
    """RiskMetrics: f_{t+1} = λ f_t + (1 − λ) r_t², f at the first return = train+validation variance."""
    r = data.returns
    s = float(np.var(r[1:data.val_end]))
    f = np.empty(len(r))
    f[0] = np.nan
    for t in range(1, len(r)):
        f[t] = s
        s = lam * s + (1.0 - lam) * r[t] ** 2
    return f[data.test]


def garch_forecast(data: VolatilityData, *, gjr: bool = False) -> tuple[np.ndarray, dict[str, float]]:
    """GARCH(1,1) or GJR-GARCH(1,1,1), fitted on train+validation returns, filtered through test."""
    from arch import arch_model

    orders = {"p": 1, "o": 1, "q": 1} if gjr else {"p": 1, "q": 1}
    r = data.returns
    fitted = arch_model(r[1:data.val_end], mean="Constant", vol="GARCH", dist="normal", **orders).fit(disp="off")
    fixed = arch_model(r[1:], mean="Constant", vol="GARCH", dist="normal", **orders).fix(fitted.params)
    sigma = np.asarray(fixed.conditional_volatility)  # sigma of r[1:], each from days before it
    return sigma[data.val_end - 1:] ** 2, {k: float(v) for k, v in fitted.params.items()}


def har_forecast(data: VolatilityData) -> tuple[np.ndarray, dict[str, float]]:
    """HAR(1, 5, 22) on the Parkinson proxy (arch HARX, OLS on train+validation, fixed through test).

    A forecast below the smallest positive training proxy is raised to it (a variance must be > 0).
    """
    from arch.univariate import HARX

    p = data.parkinson
    model = HARX(pd.Series(p), lags=[1, 5, 22])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(last_obs=data.val_end, disp="off")
    fc = res.forecast(horizon=1, start=data.val_end - 1, reindex=False).mean.to_numpy()[:, 0]
    # the row for day s forecasts s + 1: rows val_end−1 … n−2 forecast the test days
    forecast = fc[:data.test.size]
    floor = float(np.min(p[:data.val_end][p[:data.val_end] > 0]))
    return np.maximum(forecast, floor), {k: float(v) for k, v in res.params.items()}


def reference_forecasts(data: VolatilityData) -> dict[str, tuple[np.ndarray, str]]:
    """name -> (test-day variance forecasts, description)."""
    garch, _ = garch_forecast(data)
    gjr, _ = garch_forecast(data, gjr=True)
    har, _ = har_forecast(data)
    return {
        "constant": (constant_forecast(data), "constant train+validation variance"),
        "ewma": (ewma_forecast(data), "EWMA λ = 0.94 (RiskMetrics), seeded with the train+validation variance"),
        "garch": (garch, "GARCH(1,1), arch, fitted on train+validation, fixed through test"),
        "gjr_garch": (gjr, "GJR-GARCH(1,1,1), arch, fitted on train+validation, fixed through test"),
        "har_parkinson": (har, "HAR(1,5,22) on the Parkinson proxy (arch HARX), not in PROTOCOLS.md"),
    }
