"""route_demand killed in the middle of training resumes with the same --run-id and ends with the metrics of
an uninterrupted run (issue 17: runs that survive interruption, end to end)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--learned-maps", "pca", "--top-routes", "3", "--origins", "2", "--epochs", "5", "--patience", "5", "--seeds", "2", "--window", "14",
        "--val-days", "21", "--units", "8", "--models", "rnn", "--skip-autoets", "--log-level", "WARNING"]


def _command(runs: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "applications.route_demand.main", *ARGS, "--runs-dir", str(runs), "--run-id", run_id]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "DEEPCASES_QUIET": "1"}


def _models(run: Path) -> dict[str, dict]:
    payload = json.loads((run / "metrics.json").read_text())
    return {m["name"]: m["metrics"] for m in (payload if isinstance(payload, list) else [payload])[0]["models"]}


def test_killed_twice_during_the_second_seed_it_resumes_to_the_uninterrupted_metrics(tmp_path):
    runs = tmp_path / "runs"
    straight = subprocess.run(_command(runs, "straight"), env=_env(), cwd=REPO, capture_output=True, text=True,
                              timeout=600, check=False)
    assert straight.returncode == 0, straight.stderr[-3000:]

    run = runs / "route_demand" / "killed"
    checkpoint = run / "resume" / "fits" / "rnn" / "seed43" / "fit0" / "state.json"
    # SIGTERM (handled: the run is marked interrupted) after seed 43's first epoch, then SIGKILL (no handler
    # runs: the run stays "running") after its second; each rerun resumes where the last one stopped
    for sig, epoch, status in ((signal.SIGTERM, 1, "interrupted"), (signal.SIGKILL, 2, "running")):
        process = subprocess.Popen(_command(runs, "killed"), env=_env(), cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.is_file() and json.loads(checkpoint.read_text())["epoch"] >= epoch:
                break  # seed 42 is a finished unit; seed 43 is training past this epoch
            time.sleep(0.05)
        assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()[-2000:]}"
        process.send_signal(sig)
        process.wait(timeout=120)
        assert process.returncode != 0
        assert json.loads((run / "status.json").read_text())["status"] == status  # either way: not a result
        assert (run / "resume" / "units" / "rnn" / "seed42.pkl").is_file() and not (run / "metrics.json").exists()

    resumed = subprocess.run(_command(runs, "killed"), env=_env(), cwd=REPO, capture_output=True, text=True,
                             timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run / "status.json").read_text())["status"] == "done"
    assert _models(run) == _models(runs / "route_demand" / "straight")
