"""The primary metric of each evaluation protocol, declared once (PROTOCOLS.md).

The headline of the report and of ``results/README.md`` compares the best deep model with the
strongest baseline on these metrics, in this order. A result may also name its own primary metrics
(``"primary_metrics": [...]`` in the results file, e.g. a new application written with
``deepcases new``); without either, the headline uses the result's first metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: app -> {protocol key: metrics}. A key matches a result whose protocol equals it or, for keys longer
#: than one character, contains it (case-insensitive); "*" is the application's default.
PRIMARY_METRICS: dict[str, dict[str, tuple[str, ...]]] = {
    "stock_forecast": {"volatility": ("qlike_parkinson", "qlike_r2"), "*": ("mae_ratio_to_persistence",)},
    "recommender": {"A": ("rmse",), "B": ("hr@10",)},
    "review_sentiment": {"*": ("accuracy",)},
    "survival": {"*": ("harrell_c", "ibs")},
    "route_demand": {"*": ("wape",)},
}


def primary_metrics(result: Mapping[str, Any]) -> tuple[str, ...]:
    """The primary metrics of one result (PROTOCOLS.md shape); empty if nothing declares them."""
    own = result.get("primary_metrics")
    if isinstance(own, (list, tuple)) and own and all(isinstance(m, str) for m in own):
        return tuple(own)
    table = PRIMARY_METRICS.get(str(result.get("app", "")))
    if not table:
        return ()
    protocol = str(result.get("protocol", ""))
    for key, metrics in table.items():
        if key == "*":
            continue
        if protocol == key or (len(key) > 1 and key.lower() in protocol.lower()):
            return metrics
    return table.get("*", ())
