"""Runs that survive interruption: finished units are read back, the training in progress resumes.

An application wraps each piece of work that can be redone alone (one model, seed and fold) in a
unit of its run:

    resume = Resume(run.path, config)
    scores = resume.unit(f"{dataset}/fold{k}/deepsurv/seed{s}", lambda: train_and_score(...))

The first run computes the unit and stores its result (``resume/units/<key>.pkl``, atomically).
Rerunning the same command with the same ``--run-id`` reads finished units back instead of
recomputing them. Inside a unit, every :func:`shared.training.fit_keras` call checkpoints its
training at the end of each epoch (weights, optimizer, early-stopping state, history) under
``resume/fits/<key>/<n>/``; after a kill (SIGTERM or SIGKILL, even in the middle of an epoch) it
continues from the last completed epoch.

Why the result equals an uninterrupted run's: a resumable fit runs one epoch per ``model.fit``
call and reseeds Python, NumPy and TensorFlow before each epoch from (unit, fit, epoch), so an
epoch's shuffling does not depend on how many epochs ran in this process; every variable of the
model (seed-generator states of dropout included), every optimizer variable and the early-stopping
state are restored exactly. Results of units are pickles of the application's own objects: they
are read back only by the same code and version in the same run directory. A different
configuration under the same run id starts the units afresh (the cached ones are set aside).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import logging
import pickle
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .artifacts import atomic_path

log = logging.getLogger(__name__)
T = TypeVar("T")

#: config fields that do not change what a run computes (where its files go, how loud it is)
_RUN_ONLY_FIELDS = ("runs_dir", "run_id", "log_level", "results_file")


@dataclasses.dataclass
class _Scope:
    fits_dir: Path
    key: str
    fits: int = 0


_ACTIVE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("deepcases_resume_scope", default=None)


def config_fingerprint(config: Any) -> str:
    """A hash of what the configuration makes the run compute (paths and verbosity left out)."""
    if dataclasses.is_dataclass(config):
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    elif isinstance(config, dict):
        values = dict(config)
    else:
        values = {"config": repr(config)}
    for name in _RUN_ONLY_FIELDS:
        values.pop(name, None)
    text = json.dumps(values, sort_keys=True, default=_stable_repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stable_repr(value: Any) -> Any:
    # a set's repr follows string hashing, which changes between processes
    return sorted(map(repr, value)) if isinstance(value, (set, frozenset)) else repr(value)


def _safe_key(key: str) -> str:
    if not key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"a unit key is a non-empty path of names such as 'support/fold1/deepsurv/seed42', got {key!r}")
    return "".join(c if c.isalnum() or c in "/._-@=" else "_" for c in key)


class Resume:
    """The resumable units of one run directory (see the module docstring)."""

    def __init__(self, run_dir: str | Path, config: Any = None) -> None:
        self.root = Path(run_dir) / "resume"
        self.units_dir = self.root / "units"
        self.fits_dir = self.root / "fits"
        self.reused: list[str] = []
        fingerprint = config_fingerprint(config)
        marker = self.root / "config.sha"
        if marker.is_file() and marker.read_text().strip() != fingerprint:
            aside = self.root.with_name(f"resume-stale-{marker.read_text().strip()}")
            log.warning("run directory %s was used with another configuration; its finished units are moved to %s "
                        "and the run starts afresh", run_dir, aside)
            shutil.rmtree(aside, ignore_errors=True)
            self.root.rename(aside)
        self.root.mkdir(parents=True, exist_ok=True)
        if not marker.is_file():
            with atomic_path(marker) as tmp:
                tmp.write_text(fingerprint + "\n")

    def unit(self, key: str, compute: Callable[[], T]) -> T:
        """The stored result of unit ``key``, or ``compute()``'s, stored before it is returned.

        Every random source is seeded from ``key`` before ``compute`` runs, so a unit computes the same
        whether or not the units before it were read back instead of computed."""
        safe = _safe_key(key)
        path = self.units_dir / f"{safe}.pkl"
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    value = pickle.load(handle)
                self.reused.append(key)
                log.info("resumed: %s read back from %s", key, path)
                return value
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as err:
                log.warning("cannot read the stored unit %s (%s); computing it again", path, err)
        from .training import derived_seed, set_seed

        set_seed(derived_seed(key))  # a unit depends on its key, not on the units computed before it
        with self.scope(safe):
            value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, tmp.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        shutil.rmtree(self.fits_dir / safe, ignore_errors=True)  # its checkpoints are no longer needed
        return value

    @contextlib.contextmanager
    def scope(self, key: str) -> Iterator[None]:
        """Make the fits inside resumable (nested scopes: the innermost wins)."""
        token = _ACTIVE.set(_Scope(self.fits_dir / _safe_key(key), key))
        try:
            yield
        finally:
            _ACTIVE.reset(token)


def next_fit_checkpoint() -> tuple[Path, str] | None:
    """For :func:`shared.training.fit_keras`: the checkpoint folder of the next fit in the active unit
    and a name to derive its per-epoch seeds from, or None outside any unit (a plain fit)."""
    scope = _ACTIVE.get()
    if scope is None:
        return None
    index = scope.fits
    scope.fits += 1
    return scope.fits_dir / f"fit{index}", f"{scope.key}#{index}"
