"""shared.app.check_application: every application, the `deepcases new` skeleton, and the check failing."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
import types
from pathlib import Path

import pytest

from shared.app import ApplicationContractError, check_application
from shared.registry import APPLICATIONS, EXAMPLES, load_app
from shared.results import CaseStudyResult, validate_results
from shared.scaffold import new_application

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [*APPLICATIONS, *EXAMPLES])
def test_every_registered_application_keeps_the_contract(name):
    module = load_app(name)
    published = ROOT / "results" / f"{name}.json"
    check_application(module, results_file=published if published.is_file() else None)


def test_a_freshly_generated_skeleton_keeps_the_contract(tmp_path, monkeypatch):
    new_application("contract_demo", directory=tmp_path / "contractapps", tests_dir=tmp_path / "contracttests")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        check_application("contractapps.contract_demo.main")
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "contractapps"]:
            del sys.modules[name]


@dataclasses.dataclass(frozen=True)
class _Frozen:
    seed: int = 42
    runs_dir: str = "runs"
    run_id: str | None = None
    log_level: str = "INFO"
    results_file: str | None = None


@dataclasses.dataclass
class _Mutable:  # the same fields, not frozen
    seed: int = 42
    runs_dir: str = "runs"
    run_id: str | None = None
    log_level: str = "INFO"
    results_file: str | None = None


def _fake_app(config_class=_Frozen, **overrides):
    """A module that keeps the contract, with ``overrides`` replacing (or, as None, removing) attributes."""
    module = types.ModuleType("fake_app")

    def main(argv=None):
        if argv == ["--help"]:
            print("usage: fake_app [-h]")
            raise SystemExit(0)
        return 0

    attrs = {"QUICK_ARGS": ["--quick"], "FULL_ARGS": [], "parse_args": lambda argv=None: config_class(),
             "run_case_study": lambda config, verbose=0: None, "main": main, **overrides}
    for key, value in attrs.items():
        if value is not None:
            setattr(module, key, value)
    return module


def test_the_fake_application_itself_passes():
    check_application(_fake_app())  # so the failures below come from the one rule each breaks


@pytest.mark.parametrize("overrides, rule", [
    ({"FULL_ARGS": None}, "FULL_ARGS is a list of str"),
    ({"QUICK_ARGS": "--epochs 3"}, "QUICK_ARGS is a list of str"),
    ({"run_case_study": None}, "run_case_study is a function"),
    ({"parse_args": lambda argv=None: {"seed": 1}}, "returns a frozen dataclass"),
    ({"parse_args": lambda argv=None: (_ for _ in ()).throw(SystemExit(2))}, "parse_args(QUICK_ARGS) works"),
    ({"main": lambda argv=None: 0}, "main(['--help']) prints the help and exits 0"),
])
def test_the_check_names_the_broken_rule(overrides, rule):
    with pytest.raises(ApplicationContractError, match=re.escape(rule)):
        check_application(_fake_app(**overrides))


def test_a_config_that_is_not_frozen_fails():
    with pytest.raises(ApplicationContractError, match="frozen=True"):
        check_application(_fake_app(config_class=_Mutable))


def test_a_config_without_the_run_options_fails():
    @dataclasses.dataclass(frozen=True)
    class Bare:
        epochs: int = 3

    with pytest.raises(ApplicationContractError, match="lacks .*'seed'.*RunOptions"):
        check_application(_fake_app(config_class=Bare))


def test_an_application_with_tune_but_no_search_space_fails():
    @dataclasses.dataclass(frozen=True)
    class Tunable(_Frozen):
        tune: str | None = None

    with pytest.raises(ApplicationContractError, match="declares SEARCH_SPACE"):
        check_application(_fake_app(config_class=Tunable))
    check_application(_fake_app(config_class=Tunable, SEARCH_SPACE=["learning_rate"]))


def _result():
    result = CaseStudyResult(app="demo", protocol="A", dataset={"name": "toy"}, wall_time_s=1.5)
    result.add("mlp", "deep", {"rmse": 0.9}, seeds=[1])
    result.add("mean", "baseline", {"rmse": 1.0})
    return result.to_dict()


def test_validate_results_accepts_what_write_results_writes():
    assert validate_results(_result()) == [_result()]
    assert len(validate_results([_result(), _result()])) == 2


@pytest.mark.parametrize("break_it, message", [
    (lambda r: r.pop("wall_time_s"), r"lacks \['wall_time_s'\]"),
    (lambda r: r.pop("environment"), r"lacks \['environment'\]"),
    (lambda r: r["models"][0].update(kind="neural"), "kind 'neural'"),
    (lambda r: r["models"][0]["metrics"].update(RMSE=1.0), "metric 'RMSE'; metric names are lower-case"),
    (lambda r: r["models"][1]["metrics"].update(rmse="low"), "must be a number or null"),
    (lambda r: r.update(models=[]), "non-empty list"),
    (lambda r: r.update(app=""), "'app' must be a non-empty string"),
])
def test_validate_results_names_the_broken_field(break_it, message):
    result = _result()
    break_it(result)
    with pytest.raises(ValueError, match=message):
        validate_results(result)


def test_a_results_file_of_the_wrong_shape_fails_the_contract(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"app": "x", "protocol": "A", "dataset": {}, "models": []}))
    with pytest.raises(ApplicationContractError, match="PROTOCOLS.md shape"):
        check_application(_fake_app(), results_file=path)
