"""The application contract as a check, in the spirit of scikit-learn's ``check_estimator``.

    from shared.app import check_application
    check_application(applications.survival.main)            # raises ApplicationContractError

The rules (each failure names its rule): the module defines ``QUICK_ARGS`` and ``FULL_ARGS`` (lists
of strings), ``parse_args``, ``run_case_study`` and ``main``; an application whose config has a
``tune`` option declares a non-empty ``SEARCH_SPACE``; ``parse_args(QUICK_ARGS)`` and
``parse_args(FULL_ARGS)`` return a frozen dataclass (assigning a field raises
``FrozenInstanceError``) holding the common run options; ``main(["--help"])`` prints the help and
exits 0. Optionally, a results file the application wrote validates against the PROTOCOLS.md shape.
Nothing is trained: the check parses arguments and renders the help only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from .results import validate_results

#: fields every config holds (shared.app.CommonOptions): cli_main and start_run read them
RUN_FIELDS = ("seed", "runs_dir", "run_id", "log_level", "results_file")


class ApplicationContractError(AssertionError):
    """An application module breaks a rule of the contract; the message names the rule and the fix."""


def _fail(module: ModuleType, rule: str, problem: str) -> None:
    raise ApplicationContractError(f"{module.__name__}: rule {rule!r} broken: {problem}")


def _parse(module: ModuleType, name: str) -> Any:
    argv = getattr(module, name)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return module.parse_args(list(argv))
    except SystemExit as exit_:
        _fail(module, f"parse_args({name}) works",
              f"parse_args({argv!r}) exited with code {exit_.code}: {err.getvalue().strip()[-300:]}")
    except Exception as exc:  # noqa: BLE001 - any error is a broken rule, reported with its message
        _fail(module, f"parse_args({name}) works", f"parse_args({argv!r}) raised {type(exc).__name__}: {exc}")
    return None


def _check_config(module: ModuleType, name: str, config: Any) -> None:
    rule = f"parse_args({name}) returns a frozen dataclass"
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        _fail(module, rule, f"got {type(config).__name__}; return an instance of a @dataclasses.dataclass(frozen=True)")
    fields = dataclasses.fields(config)
    if not fields:
        _fail(module, rule, f"{type(config).__name__} has no fields")
    try:
        setattr(config, fields[0].name, getattr(config, fields[0].name))
    except dataclasses.FrozenInstanceError:
        pass
    else:
        _fail(module, rule, f"assigning {type(config).__name__}.{fields[0].name} worked; declare the config with "
                            "@dataclasses.dataclass(frozen=True)")
    missing = [f for f in RUN_FIELDS if not hasattr(config, f)]
    if missing:
        _fail(module, "the config holds the common run options",
              f"{type(config).__name__} lacks {missing}; subclass shared.app.RunOptions (or CommonOptions)")


def _check_help(module: ModuleType) -> None:
    out, err = io.StringIO(), io.StringIO()
    code: Any = "no SystemExit"
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            module.main(["--help"])
    except SystemExit as exit_:
        code = exit_.code
    except Exception as exc:  # noqa: BLE001
        _fail(module, "main(['--help']) prints the help and exits 0", f"it raised {type(exc).__name__}: {exc}")
    if code not in (0, None) or "usage:" not in out.getvalue():
        _fail(module, "main(['--help']) prints the help and exits 0",
              f"exit code {code!r}, stdout {out.getvalue()[:200]!r}, stderr {err.getvalue()[:200]!r}")


def check_application(module: ModuleType | str, *, results_file: str | Path | None = None) -> None:
    """Raise :class:`ApplicationContractError` naming the first contract rule ``module`` breaks
    (a module or its dotted name); ``results_file``, if given, must hold PROTOCOLS.md results."""
    if isinstance(module, str):
        module = importlib.import_module(module)
    for name in ("QUICK_ARGS", "FULL_ARGS"):
        value = getattr(module, name, None)
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            _fail(module, f"{name} is a list of str",
                  f"{name} is {value!r}; define {name} = ['--option', 'value', ...] at module level")
    for name in ("parse_args", "run_case_study", "main"):
        if not callable(getattr(module, name, None)):
            _fail(module, f"{name} is a function", f"define {name}(...) at module level")
    for name in ("QUICK_ARGS", "FULL_ARGS"):
        config = _parse(module, name)
        _check_config(module, name, config)
    if any(f.name == "tune" for f in dataclasses.fields(config)):
        space = getattr(module, "SEARCH_SPACE", None)
        if not isinstance(space, list) or not space:
            _fail(module, "an application with --tune declares SEARCH_SPACE",
                  f"SEARCH_SPACE is {space!r}; declare the searched hyperparameters (shared.tuning) or drop --tune")
    _check_help(module)
    if results_file is not None:
        try:
            validate_results(json.loads(Path(results_file).read_text(encoding="utf-8")))
        except (ValueError, OSError) as err:
            _fail(module, "its results file has the PROTOCOLS.md shape", f"{results_file}: {err}")
