"""Start N Python processes that form one TensorFlow multi-worker cluster on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_workers(script: str, n: int = 2, timeout: float = 300) -> list[tuple[int, str, str]]:
    """Run ``script`` (``python -c``) as workers 0..n-1 of one ``TF_CONFIG`` cluster; (returncode, stdout,
    stderr) of each, in worker order."""
    workers = [f"127.0.0.1:{_free_port()}" for _ in range(n)]
    procs = []
    for index in range(n):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "CUDA_VISIBLE_DEVICES": ""}
        procs.append(subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            proc.kill()
    return results
