"""shared.app.cli_main: the body every application's main() shares."""

from __future__ import annotations

import dataclasses

import pytest

from shared.app import cli_main


@dataclasses.dataclass(frozen=True)
class _Config:
    log_level: str = "WARNING"
    mode: str = "run"


class _Outcome:
    def summary_table(self) -> str:
        return "| model | score |"


def _parse(argv):
    if argv and argv[0] == "--bad":
        raise ValueError("column 'close' is missing; pass --close-column")
    return _Config(mode=argv[0] if argv else "run")


def test_runs_prints_the_table_then_the_presented_text(capsys):
    calls = []

    def run(config, *, verbose):
        calls.append((config.mode, verbose))
        return _Outcome()

    assert cli_main("demo", [], parse_args=_parse, run_case_study=run, present=lambda o: "verdict: no edge") == 0
    assert calls == [("run", 0)]
    assert capsys.readouterr().out.splitlines() == ["| model | score |", "verdict: no edge"]


def test_shortcut_replaces_the_case_study(capsys):
    def run(config, *, verbose):  # pragma: no cover - must not be called
        raise AssertionError("the case study ran in shortcut mode")

    code = cli_main("demo", ["predict"], parse_args=_parse, run_case_study=run,
                    shortcut=lambda c: "predictions written to out.csv" if c.mode == "predict" else None)
    assert code == 0 and capsys.readouterr().out.strip() == "predictions written to out.csv"


@pytest.mark.parametrize("argv, message", [
    (["--bad"], "column 'close' is missing; pass --close-column"),   # invalid options, from parse_args
    (["run"], "no file prices.csv; pass --path to an existing CSV"),  # bad input, from the case study
])
def test_input_errors_are_one_line_and_exit_2(capsys, argv, message):
    def run(config, *, verbose):
        raise FileNotFoundError("no file prices.csv; pass --path to an existing CSV")

    assert cli_main("demo", argv, parse_args=_parse, run_case_study=run) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"deepcases demo: error: {message}" and captured.out == ""
