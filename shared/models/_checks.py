"""Argument checks shared by the builders: each error names the argument and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NORMALIZATIONS = (None, "batch", "layer")


def positive_int(name: str, value: Any, *, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}" + (f"; {hint}" if hint else ""))
    return value


def positive_ints(name: str, values: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of ints such as (64, 32), got {values!r}")
    if not values and not allow_empty:
        raise ValueError(f"{name} must hold at least one size, got an empty sequence; pass e.g. (64,)")
    return tuple(positive_int(f"{name}[{i}]", v) for i, v in enumerate(values))


def rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}; use 0 to disable it")
    return float(value)


def non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a non-negative number, got {value!r}")
    if float(value) < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}; use 0 to disable it")
    return float(value)


def choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value
