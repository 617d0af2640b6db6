"""What every application's entry point shares: common options, logging, the run lifecycle.

An application module ``applications/<app>/main.py`` defines a frozen config dataclass,
``parse_args(argv) -> Config``, ``run_case_study(config) -> CaseStudyRun`` and
``main(argv=None) -> int``, plus ``QUICK_ARGS`` (the demo: bundled sample, quick settings) and
``FULL_ARGS`` (the full protocol for ``deepcases reproduce``). Each option is declared once, as a
field of the config (``shared.options.option``); ``shared.options.parse_config`` builds the parser
from the fields. ``check_application(module)`` checks that contract.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .artifacts import RunDir, write_text
from .contract import ApplicationContractError, check_application  # noqa: F401 - re-exported
from .errors import InputFileNotFound, UserError  # noqa: F401 - re-exported: applications import them from here
from .options import add_options, option
from .results import CaseStudyResult

log = logging.getLogger(__name__)
TUNING_GROUP = "hyperparameter search (training/validation data only)"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommonOptions:
    """The options of every entry point (group ``run``); configs subclass it or :class:`RunOptions`."""

    seed: int = option(42, help="one seed for every random source (Python, NumPy, TensorFlow, splits)", group="run")
    runs_dir: str = option("runs", help="where run directories are written (default: runs)", group="run")
    run_id: str | None = option(None, help="name of the run directory (default: a timestamp)", group="run")
    log_level: str = option("INFO", help="logging verbosity", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                            group="run")
    results_file: str | None = option(None, group="run", help="also write the results (PROTOCOLS.md format) to "
                                                              "this file, e.g. results/APP.json")
    encoding: str = option("utf-8", group="run", metavar="CODEC",
                           help="text encoding of CSV inputs (default utf-8); e.g. latin-1, cp1252 (Windows) or "
                                "mac_roman for files from older tools")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TuneOptions:
    """``--tune random|grid|bayes`` and ``--trials N``, for applications that declare a SEARCH_SPACE."""

    tune: str | None = option(None, choices=["random", "grid", "bayes"], group=TUNING_GROUP,
                              help="search the application's SEARCH_SPACE on the validation data, then retrain the "
                                   "best configuration and evaluate it once on test")
    trials: int = option(10, help="number of tuning trials", group=TUNING_GROUP)


def _map_points(text: str) -> int:
    value = int(text) if str(text).strip().lstrip("-").isdigit() else -1
    if value < 30:   # shared.maps.learned.MIN_POINTS: trustworthiness at k = 10 and a 5-NN test part need them
        raise ValueError(f"--map-points must be an integer >= 30, got {text!r}")
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class MapOptions:
    """``--learned-maps``: how each application maps its model's representation (shared.maps.learned)."""

    learned_maps: str = option("umap", choices=["umap", "pca", "parametric", "off"], group="maps",
                               help="maps of the model's learned representation beside maps of the raw inputs: umap "
                                    "(UMAP and PCA of both; default), pca (PCA only: no numba compilation, for tiny "
                                    "runs and tests), parametric (also a parametric UMAP of the representation, a "
                                    "minute more per map) or off")
    map_points: int = option(2000, group="maps", convert=_map_points,
                             help="points in each learned map, at least 30 (a fixed random sample beyond)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions(CommonOptions, TuneOptions, MapOptions):
    """The options every application's config shares (``run`` and hyperparameter search). Application
    configs subclass it (frozen dataclasses); a subclass re-declares one with a plain default to change
    it for that application (``trials: int = 20``)."""


def add_common_arguments(parser: argparse.ArgumentParser, *, default_seed: int = 42) -> argparse.ArgumentParser:
    """The ``run`` options of :class:`CommonOptions` on a hand-written argparse parser (configs that
    subclass CommonOptions get them from ``shared.options.parse_config`` instead)."""
    add_options(parser, CommonOptions)
    parser.set_defaults(seed=default_seed)
    return parser


def configure_logging(level: str = "INFO") -> None:
    """Entry points call this; library code only logs."""
    logging.basicConfig(level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "matplotlib", "h5py", "urllib3", "yfinance", "cmdstanpy", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclasses.dataclass
class CaseStudyRun:
    """What ``run_case_study`` returns: where the artifacts are and the results they hold."""

    app: str
    run_dir: RunDir
    results: list[CaseStudyResult]
    wall_time_s: float = 0.0

    def summary_table(self) -> str:
        parts = [r.table().to_markdown() for r in self.results]
        return "\n\n".join(parts) + f"\n\nArtifacts: {self.run_dir.path}\n"


def start_run(app: str, config: Any, *, runs_dir: str | Path = "runs", run_id: str | None = None,
              seed: int | None = None) -> RunDir:
    """Create the run directory, mark it ``running`` and write the resolved config and environment first.

    Until :func:`finish_run` marks it ``done`` the run is not a result: the report and reproduce skip
    it, and an entry point that fails marks it ``failed`` with the error (:func:`cli_main`).
    """
    run = RunDir.create(app, root=runs_dir, run_id=run_id, seed=seed)
    run.write_status("running", app=app)
    _OPEN_RUNS.append(run)
    run.write_config(config)
    run.write_environment()
    return run


#: runs started in this process and not finished yet (marked failed if the entry point fails)
_OPEN_RUNS: list[RunDir] = []


def mark_open_runs(status: str, error: BaseException) -> None:
    """Mark every run this process started and did not finish as ``failed``/``interrupted`` with the error."""
    while _OPEN_RUNS:
        run = _OPEN_RUNS.pop()
        try:
            run.write_status(status, error=f"{type(error).__name__}: {error}")
        except OSError:  # the disk may be the problem; the run stays "running", which is not a result either
            log.warning("could not mark %s as %s", run.path, status)


def finish_run(app: str, run: RunDir, results: Sequence[CaseStudyResult], *, started: float,
               results_file: str | Path | None = None) -> CaseStudyRun:
    """Stamp the wall time, write ``metrics.json``, ``results.md``/``results.csv`` and, if asked,
    the published ``results_file``."""
    wall = time.perf_counter() - started
    for result in results:
        result.wall_time_s = wall
    from .results import write_results

    write_results(run.path / "metrics.json", list(results))
    if results_file is not None:
        write_results(results_file, list(results))
    outcome = CaseStudyRun(app=app, run_dir=run, results=list(results), wall_time_s=wall)
    write_text(run.path / "results.md", outcome.summary_table())
    import pandas as pd

    from .artifacts import write_csv

    frames = []
    for r in results:
        frame = r.table().to_frame()
        frame.insert(0, "dataset", r.dataset.get("name", ""))
        frame.insert(0, "protocol", r.protocol)
        frames.append(frame)
    write_csv(run.path / "results.csv", pd.concat(frames, ignore_index=True))
    run.write_status("done", app=app, wall_time_s=round(wall, 1))  # last: everything above is complete
    if run in _OPEN_RUNS:
        _OPEN_RUNS.remove(run)
    log.info("%s finished in %.1f s; artifacts in %s", app, wall, run.path)
    return outcome


def run_cli(app: str, body: Callable[[], int]) -> int:
    """Run an entry point's body; input problems become one clear line on stderr and exit code 2.

    Only ``UserError`` (raised by loaders and validation with a message that names the problem and
    the fix) is shown without a traceback. Anything else is a bug, not the user's fault: it keeps
    its traceback and Python's exit code 1.
    """
    try:
        return int(body() or 0)
    except UserError as err:
        log.debug("input error", exc_info=True)
        print(f"deepcases {app}: error: {err}", file=sys.stderr)
        return 2


def cli_main(app: str, argv: Sequence[str] | None, *, parse_args: Callable[[Sequence[str] | None], Any],
             run_case_study: Callable[..., CaseStudyRun],
             present: Callable[[CaseStudyRun], str | None] | None = None,
             shortcut: Callable[[Any], str | None] | None = None) -> int:
    """The body of every application's ``main(argv)``: parse, log, run, print the results table.

    ``present(outcome)`` returns extra text to print after the table (verdicts, plans, ...);
    ``shortcut(config)`` handles modes that do not run the case study (e.g. predicting with a saved
    model): it returns the text to print, or ``None`` to run the case study. Input problems become
    one clear line on stderr and exit code 2 (``run_cli``). Only entry points print.
    """
    def body() -> int:
        from .training import verbosity

        config = parse_args(argv)  # inside run_cli: an invalid option combination is one clear line too
        configure_logging(config.log_level)
        if shortcut is not None:
            text = shortcut(config)
            if text is not None:
                print(text)
                return 0
        try:
            outcome = run_case_study(config, verbose=verbosity())
        except (KeyboardInterrupt, SystemExit) as err:
            mark_open_runs("interrupted", err)
            raise
        except BaseException as err:
            mark_open_runs("failed", err)
            raise
        print(outcome.summary_table())
        text = present(outcome) if present is not None else None
        if text:
            print(text)
        return 0

    return run_cli(app, body)
