"""Each user's training interactions as a time-ordered item sequence, for next-item models.

Order is Protocol B's: by timestamp, ties broken by the larger item id LATER (the same order
``shared.data.leave_last_out`` uses to pick the held-out item), so the model reads the history in
exactly the order the protocol defines "latest" -- unless ``ties="shuffled"``: then interactions that
share a timestamp (one invoice, one rating session) are read in a seeded random order. That matters
because the protocol's tie rule makes the held-out item the LARGEST id of its timestamp group: read
in id order, a sequence model learns "the next id is just above the last one" (on Online Retail
91.8 % of held-out items share the timestamp of the user's previous interaction), a skill that
exists only in the protocol. Which item is held out never changes. Item positions are shifted by one: 0 is padding,
position ``p`` of the training item index is token ``p + 1``. Sequences are LEFT-padded to
``max_len``, so the latest item always sits in the last column (the causal model's prediction for
"what comes next" is read there). No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .indexing import IdIndex

PAD = 0


@dataclasses.dataclass(frozen=True)
class Sequences:
    """Next-item training pairs and the scoring histories of one interaction set.

    ``inputs``/``targets`` (n_windows, max_len): token ``targets[r, t]`` follows ``inputs[r, t]``
    (targets are the inputs shifted left by one; 0 = padding, no loss there); ``train_rows`` the user
    row of each window (users with a single interaction give none). ``history`` (n_users, max_len):
    every user's latest ``max_len`` tokens, the input that scores the next item.
    """

    inputs: np.ndarray
    targets: np.ndarray
    train_rows: np.ndarray
    history: np.ndarray

    @property
    def max_len(self) -> int:
        return int(self.history.shape[1])


TIE_ORDERS = ("protocol", "shuffled")


def ordered_tokens(frame: pd.DataFrame, users: IdIndex, items: IdIndex, *, ties: str = "protocol",
                   seed: int = 0) -> list[np.ndarray]:
    """Per user row of ``users``: its item tokens (position + 1) in Protocol B time order.

    Equal timestamps: larger id later (``ties="protocol"``) or a random order drawn from ``seed``
    (``ties="shuffled"``, see the module docstring).

    ``frame`` (columns user, item, timestamp) must be the data the indexes were built on: an item or
    user outside them is a leak or a bug, so it raises instead of being dropped silently.
    """
    missing = [c for c in ("user", "item", "timestamp") if c not in frame.columns]
    if missing:
        raise ValueError(f"interactions lack column(s) {missing}; found {list(frame.columns)}")
    if ties not in TIE_ORDERS:
        raise ValueError(f"ties must be one of {TIE_ORDERS}, got {ties!r}")
    if ties == "shuffled":
        # a hash of (user, item, seed): the same interaction gets the same key in every frame it is in
        # (fit part and whole training part), so validation and test read a basket alike
        pair = pd.util.hash_pandas_object(frame[["user", "item"]], index=False).to_numpy(np.uint64)
        tie_key = pd.util.hash_array(pair ^ np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64))
        ordered = frame.assign(_tie=tie_key).sort_values(["user", "timestamp", "_tie"], kind="mergesort")
    else:
        ordered = frame.sort_values(["user", "timestamp", "item"], kind="mergesort")
    rows = users.transform(ordered["user"])
    tokens = items.transform(ordered["item"]) + 1
    if (rows < 0).any() or (tokens < 1).any():
        raise ValueError("interactions hold users or items outside the training indexes; build the sequences "
                         "from the same training frame the indexes were fitted on")
    out = [np.empty(0, np.int32) for _ in range(len(users))]
    bounds = np.flatnonzero(np.diff(rows)) + 1
    for block_rows, block in zip(np.split(rows, bounds), np.split(tokens, bounds)):
        if block.size:
            out[int(block_rows[0])] = block.astype(np.int32)
    return out


def left_pad(seqs: list[np.ndarray], max_len: int) -> np.ndarray:
    """(len(seqs), max_len) int32: each sequence's last ``max_len`` tokens, right-aligned, 0 before them."""
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"max_len must be an int >= 1, got {max_len!r}; pass --max-len 1 or more")
    out = np.zeros((len(seqs), max_len), dtype=np.int32)
    for r, s in enumerate(seqs):
        tail = s[-max_len:]
        if tail.size:
            out[r, max_len - tail.size:] = tail
    return out


def build_sequences(frame: pd.DataFrame, users: IdIndex, items: IdIndex, *, max_len: int,
                    all_windows: bool = False, ties: str = "protocol", seed: int = 0) -> Sequences:
    """Next-item pairs at every position of each user's latest ``max_len + 1`` training interactions.

    The input is the history up to the second-to-last of them, the target the same shifted by one,
    so the last target is the user's latest TRAINING item: the held-out (test or validation) item is
    not in ``frame`` and so never appears, neither as input nor as target. With ``all_windows`` a
    longer history also yields its earlier windows (consecutive blocks of ``max_len`` targets going
    back in time, each with the item before the block as its first input), so every training
    interaction after a user's first is a target once; the scoring history stays the latest window.
    ``ties`` and ``seed`` order equal timestamps as :func:`ordered_tokens` does.
    """
    seqs = ordered_tokens(frame, users, items, ties=ties, seed=seed)
    history = left_pad(seqs, max_len)
    rows, window_inputs, window_targets = [], [], []
    for r, s in enumerate(seqs):
        end = s.size
        while end >= 2:  # a window needs an input and a target
            start = max(0, end - max_len - 1)
            w = s[start:end]
            rows.append(r)
            window_inputs.append(w[:-1])
            window_targets.append(w[1:])
            if not all_windows:
                break
            end = start + 1  # the next window's last target is this window's first input
    inputs = left_pad(window_inputs, max_len)
    targets = left_pad(window_targets, max_len)
    return Sequences(inputs=inputs, targets=targets, train_rows=np.asarray(rows, dtype=np.int64), history=history)


def item_scores(token_logits: Any) -> np.ndarray:
    """(users, n_items + 1) logits over tokens -> (users, n_items) scores over item positions (padding dropped)."""
    logits = np.asarray(token_logits)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"token logits must be (users, n_items + 1), got shape {logits.shape}")
    return logits[:, 1:]


def same_timestamp_share(train: pd.DataFrame, held_out: pd.DataFrame) -> float:
    """Share of held-out interactions whose timestamp equals their user's latest training timestamp.

    The size of the tie artifact (module docstring): under the protocol's order those held-out items
    are the largest id of a group the model already reads from."""
    if held_out.empty:
        return 0.0
    latest = train.groupby("user")["timestamp"].max()
    previous = held_out["user"].map(latest)
    return float((previous.to_numpy() == held_out["timestamp"].to_numpy()).mean())
