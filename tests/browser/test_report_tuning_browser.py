"""The tuning page in headless Chromium: its figure loads and its links resolve, from disk, no network."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_report_tuning import tuned_run  # noqa: E402

from shared.report import build_report  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: install it with "
                                                     "`bash .ci/install-browser.sh` (Debian's chromium package)"),
]


def test_tuning_page_images_load_in_a_browser(tmp_path):
    tuned_run(tmp_path / "runs")
    page = build_report([tmp_path / "runs"]).parent / "route_demand-tuning.html"
    done = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-dev-shm-usage",
                           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
                           page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<body\b[^>]*\bdata-images-ok="([^"]*)"', done.stdout)
    assert match and match.group(1) == "true", "every image of the tuning page loads"
    assert 'class="best"' in done.stdout and "trials.csv" in done.stdout
