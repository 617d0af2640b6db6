"""The report of REAL case-study runs in headless Chromium: every application's page shows its learned
map with the quality numbers, and every image on it loads.

CI runs it after ``make check`` (``reproduce --quick --check`` writes the five quick runs and their
report to ``runs/report``) with ``DEEPCASES_CASE_STUDY_REPORT=runs/report/index.html``; without that
variable the test is skipped (the other browser tests use synthetic runs and need no case study).
A set variable whose report is missing fails: CI must not pass by skipping.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_browser import CHROMIUM, body_attr, dump_dom  # noqa: E402

APPS = ("stock_forecast", "recommender", "review_sentiment", "survival", "route_demand")
VARIABLE = "DEEPCASES_CASE_STUDY_REPORT"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: install it with "
                                                     "`bash .ci/install-browser.sh` (Debian's chromium package)"),
    pytest.mark.skipif(not os.environ.get(VARIABLE), reason=f"{VARIABLE} is not set: run `make check` first and "
                                                            f"point it at runs/report/index.html"),
]


@pytest.fixture(scope="module")
def report() -> Path:
    index = Path(os.environ[VARIABLE]).resolve()  # relative to where pytest runs; a file URI needs it absolute
    assert index.is_file(), f"{VARIABLE}={index} does not exist: the case studies' report was not built"
    return index


@pytest.mark.parametrize("app", APPS)
def test_every_application_page_shows_a_measured_learned_map(report, app, tmp_path):
    page = report.parent / f"{app}.html"
    assert page.is_file(), f"no report page for {app}"
    dom = dump_dom(page, tmp_path / "profile")
    assert body_attr(dom, "data-images-ok") == "true", (app, body_attr(dom, "data-images"))
    assert 'id="maps"' in dom, f"{app}: no map section"
    section = dom.split('id="maps"')[1].split('id="figures"')[0]
    images = re.findall(r'<img src="([^"]+)"', section)
    assert images and all((report.parent / src).is_file() for src in images), (app, images)
    assert "trustworthiness" in section and "5-NN accuracy" in section
    numbers = [float(v) for v in re.findall(r"<td[^>]*>(?:<strong>)?(0\.\d{3}|1\.000)(?:</strong>)?</td>", section)]
    assert len(numbers) >= 4 and all(0.0 <= v <= 1.0 for v in numbers), (app, numbers[:8])
