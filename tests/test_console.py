"""Entry points quiet TensorFlow's native start-up noise, and only that (shared.console)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_NOISY_SCRIPT = r"""
import os, sys
from shared.console import quiet_native_logs
print("active" if quiet_native_logs(sys.argv[1:]) else "inactive", flush=True)
os.write(2, b"E0000 00:00:1796 9145 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n")
os.write(2, b"I0000 00:00:1796 9145 port.cc:153] oneDNN custom operations are on. You may see ...\n")
os.write(2, b"W0000 00:00:1796 9145 op_level_cost_estimator.cc:699] a real warning stays\n")
print("Traceback (most recent call last): a Python error stays", file=sys.stderr)
raise SystemExit(3)
"""


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DEEPCASES_NATIVE_LOGS")}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environment, timeout=120,
                          check=False, cwd=REPO)


def test_known_noise_is_dropped_and_real_messages_stay():
    done = _run("-c", _NOISY_SCRIPT)
    assert done.stdout.strip() == "active" and done.returncode == 3
    assert done.stderr.splitlines() == [
        "W0000 00:00:1796 9145 op_level_cost_estimator.cc:699] a real warning stays",
        "Traceback (most recent call last): a Python error stays"]


@pytest.mark.parametrize("args, env", [(["--log-level", "DEBUG"], {}), ([], {"TF_CPP_MIN_LOG_LEVEL": "0"}),
                                       ([], {"DEEPCASES_NATIVE_LOGS": "1"})])
def test_nothing_is_hidden_when_the_user_asked_for_it(args, env):
    done = _run("-c", _NOISY_SCRIPT, *args, env=env)
    assert done.stdout.strip() == "inactive"
    assert "failed call to cuInit" in done.stderr and "oneDNN custom operations" in done.stderr


def test_a_real_tensorflow_start_is_quiet():
    script = ("from shared.console import quiet_native_logs; quiet_native_logs([]);"
              "import tensorflow as tf; print(float(tf.reduce_sum(tf.ones((2, 2)))))")
    done = _run("-c", script)
    assert done.returncode == 0 and done.stdout.strip() == "4.0"
    assert "cuInit" not in done.stderr and "oneDNN" not in done.stderr, done.stderr


def test_sigterm_stops_the_entry_point_like_ctrl_c_and_marks_the_run_interrupted(tmp_path):
    script = f"""
import os, signal, sys, dataclasses
from shared.app import cli_main, start_run
from shared.console import console_entry

@dataclasses.dataclass(frozen=True)
class C:
    log_level: str = "WARNING"

def run(config, *, verbose):
    start_run("demo", config, runs_dir={str(tmp_path)!r}, run_id="r")
    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("not reached: SIGTERM stops the run")

console_entry(lambda argv: cli_main("demo", argv, parse_args=lambda a: C(), run_case_study=run), [])
"""
    done = _run("-c", script)
    assert done.returncode != 0 and "not reached" not in done.stderr
    status = json.loads((tmp_path / "demo" / "r" / "status.json").read_text())
    assert status["status"] == "interrupted" and "signal 15" in status["error"]
