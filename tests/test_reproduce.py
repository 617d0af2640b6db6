"""`deepcases reproduce` with fake application modules (no training): failures, resume, check, README."""

from __future__ import annotations

import argparse
import json
import types
from pathlib import Path

import pytest

from shared import cli, registry
from shared import reproduce as rp
from shared.app import add_common_arguments
from shared.results import CaseStudyResult, write_results

REFERENCE = {"source": "PROTOCOLS.md, fake section", "persistence": {"rmse": 20.076, "mae": 13.11}}


def make_app(name: str, *, deep: float = 0.5, base: float = 1.0, deep_std: float | None = None,
             fail: str | None = None, write_results_file: bool = True, quick_args=("--size", "tiny"),
             full_args=("--size", "full")) -> types.ModuleType:
    """A module shaped like applications/<app>/main.py whose main writes results instantly."""
    module = types.ModuleType(f"fake_{name}")
    module.QUICK_ARGS = list(quick_args)
    module.FULL_ARGS = list(full_args)
    module.calls = []
    module.values = {"deep": deep, "base": base}

    def main(argv=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--size")
        add_common_arguments(parser)
        args = parser.parse_args(argv)
        module.calls.append(list(argv))
        if fail == "raise":
            raise RuntimeError(f"{name} exploded on purpose")
        if fail == "code":
            return 3
        result = CaseStudyResult(app=name, protocol="P1", dataset={"name": f"{name}-data", "rows": 10},
                                 extra={"reference": REFERENCE})
        std = None if deep_std is None else {"rmse": deep_std}
        result.add("net", "deep", {"rmse": module.values["deep"], "mae": 0.4}, seeds=[1, 2, 3], std=std)
        result.add("naive", "baseline", {"rmse": module.values["base"], "mae": 0.9})
        result.wall_time_s = 1.0
        run = Path(args.runs_dir) / name / args.run_id
        run.mkdir(parents=True, exist_ok=True)
        write_results(run / "metrics.json", [result])
        if write_results_file and args.results_file:
            write_results(args.results_file, [result])
        return 0

    module.main = main
    return module


@pytest.fixture
def apps(monkeypatch):
    """Install fake applications in place of shared.registry's; returns the name -> module dict."""
    fakes: dict[str, types.ModuleType] = {}

    def install(**modules):
        fakes.clear()
        fakes.update(modules)
        monkeypatch.setattr(registry, "APPLICATIONS", {n: f"fake {n}" for n in modules})

    def load_app(name):
        if name not in fakes:
            raise ModuleNotFoundError(name)
        return fakes[name]

    monkeypatch.setattr(registry, "load_app", load_app)
    return install


def run(tmp_path, **kwargs):
    lines: list[str] = []
    kwargs.setdefault("report", False)
    code = rp.reproduce(results_dir=tmp_path / "results", runs_dir=tmp_path / "runs", echo=lines.append, **kwargs)
    return code, "\n".join(lines)


def test_a_failing_application_does_not_stop_the_others(apps, tmp_path):
    good, bad, worse = make_app("good"), make_app("bad", fail="raise"), make_app("worse", fail="code")
    apps(bad=bad, good=good, worse=worse)
    code, out = run(tmp_path)
    assert code == 1
    assert good.calls and bad.calls and worse.calls
    assert (tmp_path / "results" / "good.json").is_file()
    assert not (tmp_path / "results" / "bad.json").exists()
    assert "FAILED bad: RuntimeError: bad exploded on purpose" in out
    assert "FAILED worse: exited with code 3" in out
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "**FAILED**" in readme and "bad exploded on purpose" in readme
    assert "| good | done |" in readme and "| bad | failed |" in readme


def test_full_args_deterministic_run_id_and_results_file(apps, tmp_path):
    app = make_app("one")
    apps(one=app)
    assert run(tmp_path)[0] == 0
    argv = app.calls[0]
    assert argv[:2] == ["--size", "full"]
    assert argv[argv.index("--run-id") + 1] == "reproduce-full"
    assert argv[argv.index("--results-file") + 1] == str(tmp_path / "results" / "one.json")
    assert (tmp_path / "runs" / "one" / "reproduce-full" / "metrics.json").is_file()


def test_quick_mode_writes_results_quick_and_never_the_full_results(apps, tmp_path):
    app = make_app("one")
    apps(one=app)
    assert run(tmp_path, quick=True)[0] == 0
    assert app.calls[0][:2] == ["--size", "tiny"]
    assert (tmp_path / "results" / "quick" / "one.json").is_file()
    assert (tmp_path / "results" / "quick" / "README.md").is_file()
    assert not (tmp_path / "results" / "one.json").exists()


def test_resume_skips_finished_applications_and_reruns_failed_ones(apps, tmp_path):
    good, bad = make_app("good"), make_app("bad", fail="raise")
    apps(good=good, bad=bad)
    assert run(tmp_path)[0] == 1
    code, out = run(tmp_path)  # the interrupted/failed reproduce continues
    assert len(good.calls) == 1, "a finished application must not run again"
    assert len(bad.calls) == 2, "a failed application runs again"
    assert "[1/2] good: skipped" in out
    code, out = run(tmp_path, resume=False)
    assert len(good.calls) == 2


def test_resume_reruns_when_the_settings_changed(apps, tmp_path):
    app = make_app("one")
    apps(one=app)
    run(tmp_path)
    app.FULL_ARGS = ["--size", "bigger"]
    _, out = run(tmp_path)
    assert len(app.calls) == 2 and "settings changed" in out


def test_results_taken_from_the_run_directory_when_the_app_ignores_results_file(apps, tmp_path):
    app = make_app("old", write_results_file=False)
    apps(old=app)
    assert run(tmp_path)[0] == 0
    saved = json.loads((tmp_path / "results" / "old.json").read_text())
    assert saved["app"] == "old" and {m["name"] for m in saved["models"]} == {"net", "naive"}


def test_readme_has_both_tables_reference_source_machine_and_tolerance(apps, tmp_path):
    apps(one=make_app("one", deep_std=0.01))
    run(tmp_path)
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "| net | deep | **0.5000 ± 0.0100** | **0.4000** | 1, 2, 3 |" in readme
    assert "| naive | baseline | 1.0000 | 0.9000 |" in readme
    assert rp.REFERENCE_HEADING in readme
    assert "| persistence | 20.0760 | 13.1100 |" in readme
    assert "Source: PROTOCOLS.md, fake section" in readme
    assert "Machine:" in readme and "cores" in readme and "Wall time" in readme
    assert "max(3 × std across seeds, 2% of the value)" in readme
    assert not list((tmp_path / "results").glob("*.tmp")), "README and results are written atomically"


def test_check_passes_within_tolerance_and_detects_drift(apps, tmp_path):
    app = make_app("one", deep_std=0.01)
    apps(one=app)
    assert run(tmp_path, quick=True)[0] == 0  # the committed quick results
    committed = (tmp_path / "results" / "quick" / "one.json").read_text()

    app.values["deep"] = 0.5 + 0.025  # within 3·std = 0.03
    code, out = run(tmp_path, quick=True, check=True)
    assert code == 0, out
    assert "check passed" in out
    assert (tmp_path / "results" / "quick" / "one.json").read_text() == committed, "check never overwrites"

    app.values["deep"] = 0.6  # beyond max(0.03, 0.01)
    code, out = run(tmp_path, quick=True, check=True)
    assert code == 1
    assert "DRIFT one | protocol P1 | one-data | net | rmse: committed 0.5 -> now 0.6" in out

    app.values.update(deep=0.5, base=1.0 + 1e-6)  # baselines must match exactly
    code, out = run(tmp_path, quick=True, check=True)
    assert code == 1 and "naive | rmse" in out and "net | rmse" not in out


def test_check_without_committed_results_fails_with_the_fix(apps, tmp_path):
    apps(one=make_app("one"))
    code, out = run(tmp_path, quick=True, check=True)
    assert code == 1
    assert "no committed results" in out and "deepcases reproduce --quick" in out


def test_only_runs_the_named_application_and_rejects_unknown_ones(apps, tmp_path):
    a, b = make_app("a"), make_app("b")
    apps(a=a, b=b)
    assert run(tmp_path, only=["b"])[0] == 0
    assert not a.calls and len(b.calls) == 1
    code, out = run(tmp_path, only=["zzz"])
    assert code == 2 and "unknown application" in out


def test_compare_results_tolerances_and_structure():
    def item(models, protocol="A"):
        return {"app": "x", "protocol": protocol, "dataset": {"name": "d"}, "models": models}

    old = [item([{"name": "net", "kind": "deep", "metrics": {"rmse": 1.0, "mae": None}, "std": {"rmse": 0.0}},
                 {"name": "base", "kind": "baseline", "metrics": {"rmse": 2.0}}])]
    same = json.loads(json.dumps(old))
    assert rp.compare_results("x", old, same) == []
    near = json.loads(json.dumps(old))
    near[0]["models"][0]["metrics"]["rmse"] = 1.019  # 2 % of 1.0 when std is 0
    near[0]["models"][1]["metrics"]["rmse"] = 2.0 * (1 + 1e-12)
    assert rp.compare_results("x", old, near) == []
    far = json.loads(json.dumps(old))
    far[0]["models"][0]["metrics"]["rmse"] = 1.021
    (drift,) = rp.compare_results("x", old, far)
    assert (drift.model, drift.metric, drift.old, drift.new) == ("net", "rmse", 1.0, 1.021)
    assert drift.tolerance == pytest.approx(0.02)
    gone = [item([old[0]["models"][1]])]
    assert [d.model for d in rp.compare_results("x", old, gone)] == ["net"]
    other = [item(old[0]["models"], protocol="B")]
    reasons = {d.reason for d in rp.compare_results("x", old, other)}
    assert any("missing in the rerun" in r for r in reasons) and any("new result" in r for r in reasons)
    became_nan = json.loads(json.dumps(old))
    became_nan[0]["models"][1]["metrics"]["rmse"] = None
    assert [d.metric for d in rp.compare_results("x", old, became_nan)] == ["rmse"]


def test_tolerance_is_the_documented_one():
    assert rp.tolerance("baseline", 10.0, 10.0) == pytest.approx(1e-8)
    assert rp.tolerance("deep", 10.0, 10.5, std=0.01) == pytest.approx(0.2)
    assert rp.tolerance("deep", 10.0, 10.5, std=0.1) == pytest.approx(0.3)


def test_cli_reproduce_subcommand(apps, tmp_path, capsys):
    apps(one=make_app("one"))
    code = cli.main(["reproduce", "--quick", "--no-report", "--results-dir", str(tmp_path / "res"),
                     "--runs-dir", str(tmp_path / "runs")])
    assert code == 0
    out = capsys.readouterr().out
    assert "[1/1] one: running quick protocol" in out and "[1/1] one: done" in out
    assert (tmp_path / "res" / "quick" / "one.json").is_file()


def test_reproduce_builds_the_report_of_its_runs(apps, tmp_path):
    apps(one=make_app("one"))
    code, out = run(tmp_path, report=True)
    assert code == 0
    assert (tmp_path / "runs" / "report" / "index.html").is_file()
    assert (tmp_path / "runs" / "report" / "one.html").is_file()


def test_an_interrupted_reproduce_continues_where_it_stopped(apps, tmp_path):
    first, second = make_app("first"), make_app("second")
    real_main = second.main

    def interrupted(argv=None):
        second.calls.append(list(argv))
        raise KeyboardInterrupt

    second.main = interrupted
    apps(first=first, second=second)
    code, out = run(tmp_path)
    assert code == 130 and "run the same command again" in out
    assert (tmp_path / "results" / "first.json").is_file()
    second.main = real_main
    code, out = run(tmp_path)
    assert code == 0 and len(first.calls) == 1 and "[1/2] first: skipped" in out
    assert (tmp_path / "results" / "second.json").is_file()


def test_results_written_by_the_app_itself_are_skipped_with_their_own_wall_time(apps, tmp_path):
    """An application run by hand with --results-file results/<app>.json: reproduce keeps it and
    shows the wall time that run recorded, not 0 s."""
    app = make_app("one")
    apps(one=app)
    result = CaseStudyResult(app="one", protocol="P1", dataset={"name": "one-data", "rows": 10})
    result.add("net", "deep", {"rmse": 0.5, "mae": 0.4})
    result.wall_time_s = 1234.5
    write_results(tmp_path / "results" / "one.json", [result])
    code, out = run(tmp_path)
    assert code == 0 and app.calls == [] and "[1/1] one: skipped" in out
    readme = (tmp_path / "results" / "README.md").read_text(encoding="utf-8")
    assert "| one | done | 1234 s |" in readme or "| one | done | 1,234 s |" in readme, readme[:800]


def test_an_application_interrupted_mid_run_resumes_its_finished_units(apps, tmp_path):
    """reproduce reruns an interrupted application with the same --run-id, so the units it finished (one
    model, seed and fold each; shared.resume) are read back and only the rest is computed."""
    from shared.resume import Resume

    module = make_app("seeds")
    computed: list[int] = []
    interrupt_after = {"n": 1}

    def main(argv=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--size")
        add_common_arguments(parser)
        args = parser.parse_args(argv)
        run = Path(args.runs_dir) / "seeds" / args.run_id
        resume = Resume(run, {"size": args.size})
        scores = []
        for seed in (1, 2, 3):
            def train(seed=seed):
                computed.append(seed)
                return 0.5 + seed / 100
            scores.append(resume.unit(f"P1/net/seed{seed}", train))
            if len(computed) == interrupt_after["n"] and seed < 3:
                raise KeyboardInterrupt  # the user pressed Ctrl-C after the first seed finished
        result = CaseStudyResult(app="seeds", protocol="P1", dataset={"name": "d", "rows": 10})
        result.add("net", "deep", {"rmse": sum(scores) / 3}, seeds=[1, 2, 3])
        result.add("naive", "baseline", {"rmse": 1.0})
        result.wall_time_s = 1.0
        write_results(args.results_file, [result])
        return 0

    module.main = main
    apps(seeds=module)
    code, out = run(tmp_path)
    assert code == 130 and computed == [1]
    interrupt_after["n"] = 0  # no more interruptions
    code, out = run(tmp_path)
    assert code == 0 and computed == [1, 2, 3], "seed 1 was read back, not trained again"
    (result,) = rp.load_results(tmp_path / "results" / "seeds.json")
    assert result["models"][0]["metrics"]["rmse"] == pytest.approx((0.51 + 0.52 + 0.53) / 3)


def _with_config(module, default_epochs: int):
    """Give a fake application a parse_args returning a frozen config with one code default."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Config:
        size: str
        epochs: int = default_epochs
        tags: frozenset = frozenset({"b", "a", "c"})

    def parse_args(argv):
        return Config(size=argv[argv.index("--size") + 1])

    module.parse_args = parse_args
    return module


def test_resume_reruns_when_a_default_changed_with_the_same_arguments(apps, tmp_path):
    app = _with_config(make_app("one"), default_epochs=10)
    apps(one=app)
    run(tmp_path)
    state = json.loads((tmp_path / "results" / rp.STATE_FILE).read_text())
    assert state["apps"]["one"]["settings"] == rp.settings_fingerprint(app, app.FULL_ARGS)
    _, out = run(tmp_path)
    assert len(app.calls) == 1 and "skipped" in out, "same arguments, same defaults: nothing to rerun"
    _with_config(app, default_epochs=20)  # the code's default moved, FULL_ARGS did not
    _, out = run(tmp_path)
    assert len(app.calls) == 2 and "settings changed" in out and "(a default)" in out


def test_settings_fingerprint_is_stable_and_tolerates_modules_without_a_config(tmp_path):
    app = _with_config(make_app("one"), default_epochs=10)
    first = rp.settings_fingerprint(app, ["--size", "full"])
    assert first == rp.settings_fingerprint(app, ["--size", "full"])
    assert first != rp.settings_fingerprint(app, ["--size", "tiny"])
    assert rp.settings_fingerprint(make_app("bare"), ["--size", "full"]) is None

    def broken(argv):
        raise SystemExit(2)

    app.parse_args = broken
    assert rp.settings_fingerprint(app, ["--size", "full"]) is None


def test_a_state_without_fingerprints_is_judged_by_its_arguments(apps, tmp_path):
    app = make_app("one")
    apps(one=app)
    run(tmp_path)
    _with_config(app, default_epochs=10)  # results written before fingerprints existed
    _, out = run(tmp_path)
    assert len(app.calls) == 1 and "skipped" in out
