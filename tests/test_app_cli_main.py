"""shared.app.cli_main: the body every application's main() shares."""

from __future__ import annotations

import dataclasses
import re

import pytest

from shared.app import InputFileNotFound, UserError, cli_main


@dataclasses.dataclass(frozen=True)
class _Config:
    log_level: str = "WARNING"
    mode: str = "run"


class _Outcome:
    def summary_table(self) -> str:
        return "| model | score |"


def _parse(argv):
    if argv and argv[0] == "--bad":
        raise UserError("column 'close' is missing; pass --close-column")
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
        raise InputFileNotFound("no file prices.csv; pass --path to an existing CSV")

    assert cli_main("demo", argv, parse_args=_parse, run_case_study=run) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"deepcases demo: error: {message}" and captured.out == ""


@pytest.mark.parametrize("bug", [ValueError("operands could not be broadcast together"),
                                 TypeError("'NoneType' object is not subscriptable"),
                                 FileNotFoundError("/tmp/cache/internal.bin")])
def test_a_bug_keeps_its_traceback_and_is_not_blamed_on_the_input(capsys, bug):
    """Only UserError is the user's fault: a ValueError from deep in a library is a crash, not exit 2."""
    def run(config, *, verbose):
        raise bug

    with pytest.raises(type(bug), match=re.escape(str(bug))):
        cli_main("demo", [], parse_args=_parse, run_case_study=run)
    assert "error:" not in capsys.readouterr().err


def test_user_errors_are_value_errors_and_a_missing_file_is_also_a_file_not_found_error():
    assert issubclass(UserError, ValueError)
    assert issubclass(InputFileNotFound, UserError) and issubclass(InputFileNotFound, FileNotFoundError)


def test_a_run_rejected_after_it_started_is_marked_failed_and_is_no_result(tmp_path, capsys):
    from shared.app import start_run
    from shared.artifacts import read_status, run_is_done
    from shared.report.runs import load_run

    started = []

    def run(config, *, verbose):
        started.append(start_run("demo", config, runs_dir=tmp_path, run_id="r1"))
        assert read_status(started[-1].path)["status"] == "running"
        raise UserError("price file is missing column(s) ['Close']; pass --close-column")

    assert cli_main("demo", [], parse_args=_parse, run_case_study=run) == 2
    status = read_status(started[0].path)
    assert status["status"] == "failed" and "missing column(s) ['Close']" in status["error"]
    assert not run_is_done(started[0].path)
    info = load_run(started[0].path)
    assert any(p.startswith("this run is failed (UserError: price file") for p in info.problems)


def test_a_finished_run_is_marked_done_last(tmp_path):
    from shared.app import finish_run, start_run
    from shared.artifacts import read_status
    from shared.results import CaseStudyResult

    run = start_run("demo", _Config(), runs_dir=tmp_path, run_id="ok")
    result = CaseStudyResult(app="demo", protocol="A", dataset={"name": "d"})
    result.add("net", "deep", {"accuracy": 0.9})
    finish_run("demo", run, [result], started=0.0)
    assert read_status(run.path)["status"] == "done" and (run.path / "metrics.json").is_file()
