"""`deepcases new NAME`: the generated application runs, and its generated test passes untouched."""

import importlib
import os
import subprocess
import sys

import pytest

from shared import cli, registry
from shared.scaffold import new_application


def _forget(prefixes):
    for name in [m for m in sys.modules if m.split(".")[0] in prefixes]:
        del sys.modules[name]


class _Outcomes:
    """A pytest plugin that counts the outcomes of the inner run."""

    def __init__(self):
        self.passed, self.failed = [], []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome == "failed":
            (self.passed if report.outcome == "passed" else self.failed).append(report.nodeid)


def test_the_generated_test_passes_untouched(tmp_path, monkeypatch):
    """Generate into a temporary package folder, put it on sys.path, run its test with pytest."""
    written = new_application("demo_app", directory=tmp_path / "genapps", tests_dir=tmp_path / "gentests")
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == ["genapps/__init__.py", "genapps/demo_app/__init__.py", "genapps/demo_app/data.py",
                     "genapps/demo_app/main.py", "gentests/test_demo_app_app.py"]
    main_text = (tmp_path / "genapps/demo_app/main.py").read_text()
    for contract in ("@dataclasses.dataclass(frozen=True)", "def parse_args(", "def run_case_study(",
                     "def main(", "QUICK_ARGS", "FULL_ARGS", "build_mlp", "cross_validate", "finish_run"):
        assert contract in main_text, contract
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    outcomes = _Outcomes()
    try:
        code = pytest.main([str(tmp_path / "gentests"), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
                           plugins=[outcomes])
    finally:
        _forget({"genapps", "test_demo_app_app"})
    assert outcomes.failed == []
    assert code == 0 and len(outcomes.passed) == 5, outcomes.passed


def test_deepcases_run_finds_a_new_application_folder(tmp_path, monkeypatch, capsys):
    """`deepcases run NAME` loads applications/NAME/main.py without registration (the run itself is
    exercised by the generated test above)."""
    import applications

    new_application("demo_run", directory=tmp_path / "applications", tests_dir=tmp_path / "tests")
    monkeypatch.setattr(applications, "__path__", [*applications.__path__, str(tmp_path / "applications")])
    importlib.invalidate_caches()
    try:
        module = registry.load_app("demo_run")
        assert module.APP == "demo_run" and module.QUICK_ARGS and module.FULL_ARGS
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["run", "demo_run", "--help"])
        assert exit_info.value.code == 0
        assert "deepcases run demo_run" in capsys.readouterr().out
    finally:
        for name in [m for m in sys.modules if m.startswith("applications.demo_run")]:
            del sys.modules[name]
    with pytest.raises(SystemExit, match="unknown application 'not_there'"):
        cli.main(["run", "not_there"])


def test_new_refuses_bad_names_taken_names_and_existing_folders(tmp_path, capsys):
    target = ["--dir", str(tmp_path / "apps"), "--tests-dir", str(tmp_path / "tests")]
    assert cli.main(["new", "Bad-Name", *target]) == 2
    assert "lower-case Python identifier" in capsys.readouterr().err
    assert cli.main(["new", "class", *target]) == 2                      # a Python keyword
    assert cli.main(["new", "survival", *target]) == 2
    assert "already a deepcases application" in capsys.readouterr().err
    assert cli.main(["new", "churn", *target]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "deepcases run churn" in out
    before = (tmp_path / "apps/churn/main.py").read_text()
    assert cli.main(["new", "churn", *target]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (tmp_path / "apps/churn/main.py").read_text() == before       # never overwritten


@pytest.mark.slow
def test_the_generated_test_passes_in_a_fresh_interpreter(tmp_path):
    """The same proof in a subprocess with PYTHONPATH (a fresh TensorFlow import: slow on 2 cores)."""
    new_application("fresh_app", directory=tmp_path / "applications", tests_dir=tmp_path / "tests")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DEEPCASES_QUIET": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout
