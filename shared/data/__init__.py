"""Data utilities: leakage-free splits, sliding windows, tf.data pipelines, schema checks."""

from .splits import (chronological_split, leave_last_out, stratified_split, walk_forward_splits)
from .validation import (read_table, require_columns, require_finite, require_non_empty, require_positive,
                         parse_dates)
from .windows import sliding_windows

__all__ = ["chronological_split", "leave_last_out", "parse_dates", "read_table", "require_columns",
           "require_finite", "require_non_empty", "require_positive", "sliding_windows", "stratified_split",
           "walk_forward_splits"]
