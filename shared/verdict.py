"""One rule for calling a deep model ahead of, tied with or behind a baseline.

The notes, the results tables, ``results/README.md`` and the HTML report all use :func:`compare`,
so a difference inside the noise is a tie everywhere, never a "win":

- where the application computed a paired test of the two models on the same test cases
  (Diebold–Mariano, a binomial sign test, per-fold differences), its p-value decides: ahead or
  behind when ``p < alpha`` (0.05), otherwise a tie within noise;
- otherwise the spread decides: the standard deviation over seeds or folds of each side (a
  deterministic baseline has none), combined as ``sqrt(s_deep² + s_baseline²)`` — the spread of the
  difference of two independent estimates. ``|difference| > spread`` is ahead or behind, anything
  inside it a tie within noise;
- one seed, no fold spread and no paired test: there is no noise estimate, so no verdict.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

Outcome = Literal["ahead", "tie", "behind", "no verdict"]

RULE = ("Verdict rule: the deep model is ahead of (or behind) the baseline only when the difference "
        "exceeds the noise — a paired test's p < 0.05 where the application computed one, otherwise "
        "|difference| > √(s_deep² + s_baseline²), the combined standard deviation over seeds or folds. "
        "Inside that spread it is a tie within noise; with one seed and no fold spread or paired test "
        "there is no spread, hence no verdict.")


#: metric names (or parts of them) where a smaller value is better; everything else is "higher is better"
#: (the project's table metrics, and Keras' training metrics as the learning curves name them)
_LOWER_IS_BETTER = ("rmse", "mae", "mape", "mase", "smape", "wape", "ibs", "brier", "loss", "error", "pinball",
                    "mse", "msle", "perplexity", "time", "qlike", "interval_score", "winkler", "crossentropy",
                    "hinge", "divergence", "kld", "logcosh", "poisson")
#: metric names where neither direction is "better" (shown, never ranked)
_UNRANKED = ("coverage_width", "rows", "n_", "count")


def higher_is_better(metric: str) -> bool | None:
    """True if a larger value of ``metric`` is better, False if smaller is, None if it is not a score.

    Follows the scikit-learn naming habit of PROTOCOLS.md: errors (rmse, mae, mape, mase, smape, wape,
    ibs, qlike, the interval (Winkler) score, ...) are lower-is-better; scores (accuracy, macro_f1, roc_auc, harrell_c, hr@10, ndcg@10,
    directional_accuracy, ...) are higher-is-better. ``interval_coverage`` is ranked as higher-is-better.
    """
    name = metric.lower()
    if any(name.startswith(u) or name == u for u in _UNRANKED):
        return None
    if name.startswith("mae_ratio") or any(part in name for part in _LOWER_IS_BETTER):
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A metric's value with the spread behind it: ``std`` over ``n`` seeds or folds (None: unknown)."""

    value: float
    std: float | None = None
    n: int | None = None

    @property
    def spread(self) -> float | None:
        """The usable standard deviation: None for a single run (a std of one value is no spread)."""
        if self.std is None or not math.isfinite(self.std) or self.std < 0:
            return None
        if self.n is not None and self.n < 2:
            return None
        if self.n is None and self.std == 0:
            return None
        return float(self.std)


@dataclasses.dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    difference: float            # deep − baseline, in the metric's own units
    spread: float | None         # the combined spread the call was made against
    p_value: float | None = None
    test: str | None = None      # the paired test's name, when a p-value decided
    runs: int | None = None      # seeds or folds behind the deep model's value, when known

    def text(self, digits: int = 4) -> str:
        gap = f"{abs(self.difference):.{digits}f}"
        if self.outcome == "no verdict":
            why = "1 seed, no spread" if self.runs in (None, 1) else f"no spread given over its {self.runs} seeds"
            return f"{why}: not a verdict (difference {gap})"
        if self.p_value is not None:
            basis = f"{self.test or 'paired test'} p = {self.p_value:.3g}"
        else:
            basis = f"spread {self.spread:.{digits}f}"
        if self.outcome == "tie":
            return f"tie within noise (difference {gap}, {basis})"
        return f"deep {self.outcome} by {gap} ({basis})"


def compare(deep: Estimate, baseline: Estimate, *, higher_is_better: bool, p_value: float | None = None,
            test: str | None = None, alpha: float = 0.05) -> Verdict:
    """The verdict of ``deep`` against ``baseline`` on one metric (see the module docstring)."""
    if not (math.isfinite(deep.value) and math.isfinite(baseline.value)):
        raise ValueError(f"cannot compare non-finite values (deep {deep.value}, baseline {baseline.value})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    difference = float(deep.value - baseline.value)
    better = difference > 0 if higher_is_better else difference < 0
    direction: Outcome = "ahead" if better else "behind"
    if p_value is not None:
        if not 0 <= p_value <= 1:
            raise ValueError(f"p_value must be in [0, 1], got {p_value}")
        outcome: Outcome = direction if p_value < alpha and difference != 0 else "tie"
        return Verdict(outcome, difference, None, float(p_value), test)
    spreads = [s for s in (deep.spread, baseline.spread) if s is not None]
    if not spreads:
        return Verdict("no verdict", difference, None, runs=deep.n)
    spread = math.sqrt(sum(s * s for s in spreads))
    outcome = direction if abs(difference) > spread else "tie"
    return Verdict(outcome, difference, spread)
