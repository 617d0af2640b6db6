"""The report in a real browser: headless Chromium loads every image and link from disk, no network.

Needs Debian's ``chromium`` (``bash .ci/install-browser.sh``); run with ``pytest -m browser tests/browser``.
The screenshots go to ``runs/report-screenshot.png`` and ``runs/report-screenshot-app.png``
(``DEEPCASES_SCREENSHOT_DIR`` overrides the folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_report_helpers import add_learned_map, make_run  # noqa: E402

from shared.report import build_report  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: install it with "
                                                     "`bash .ci/install-browser.sh` (Debian's chromium package)"),
]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def dump_dom(page: Path, profile: Path) -> str:
    done = chromium("--dump-dom", page.as_uri(), profile=profile)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def body_attr(dom: str, name: str) -> str | None:
    match = re.search(r"<body\b[^>]*\b" + re.escape(name) + r'="([^"]*)"', dom)
    return match.group(1) if match else None


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if k in ("href", "src") and v]


def real_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.5))
    t = np.arange(60)
    ax.plot(t, np.sin(t / 6) + t / 30, label="actual")
    ax.plot(t, np.sin((t - 1) / 6) + t / 30, "--", label="forecast")
    ax.set_title("Forecast vs actual (test)")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "runs"
    run = make_run(root, "stock_forecast", "20250101-120000", deep=0.55, base=0.537, figures=(), chart=True)
    real_png(run / "figures" / "forecast_vs_actual.png")
    shutil.copyfile(run / "figures" / "forecast_vs_actual.png", run / "figures" / "residuals.png")
    add_learned_map(run, "market_days_map")
    broken = make_run(root, "survival", "r1", figures=("km_by_risk_group",))
    (broken / "config.json").unlink()
    return build_report([root])


@pytest.fixture
def profile(tmp_path):
    return tmp_path / "chromium-profile"


def test_every_image_loads_and_every_link_resolves(report, profile):
    pages = [report, report.parent / "stock_forecast.html", report.parent / "survival.html"]
    for page in pages:
        dom = dump_dom(page, profile)
        assert body_attr(dom, "data-images-ok") == "true", (page.name, body_attr(dom, "data-images"))
        loaded, total = map(int, body_attr(dom, "data-images").split(" ")[0].split("/"))
        assert loaded == total and total >= 1, page.name
        parser = Refs()
        parser.feed(dom)
        assert parser.refs, page.name
        for url in parser.refs:
            parsed = urlparse(url)
            assert parsed.scheme in ("", "file") and not parsed.netloc, f"{page.name}: network reference {url}"
            target = Path(unquote(parsed.path)) if parsed.scheme == "file" else page.parent / unquote(parsed.path)
            assert target.is_file(), f"{page.name}: link {url} does not resolve"


def test_a_missing_image_is_detected(report, profile, tmp_path):
    """The in-page check really fails when an image is gone (so a pass above means something)."""
    copy = tmp_path / "report"
    shutil.copytree(report.parent, copy)
    (copy / "assets" / "stock_forecast" / "residuals.png").unlink()
    dom = dump_dom(copy / "stock_forecast.html", profile)
    assert body_attr(dom, "data-images-ok") == "false"


def test_screenshots(report, profile):
    out_dir = Path(os.environ.get("DEEPCASES_SCREENSHOT_DIR", REPO / "runs"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for page, name, size in ((report, "report-screenshot.png", "1280,900"),
                             (report.parent / "stock_forecast.html", "report-screenshot-app.png", "1280,1800")):
        shot = out_dir / name
        shot.unlink(missing_ok=True)
        done = chromium(f"--screenshot={shot}", f"--window-size={size}", page.as_uri(), profile=profile)
        assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
        import matplotlib.image as mpimg

        pixels = mpimg.imread(shot)
        width = int(size.split(",")[0])
        assert pixels.shape[1] == width and pixels.std() > 0.05, "the screenshot is blank"


def test_the_rendered_headline_states_a_verdict_and_its_rule(report, profile):
    """deep 0.55 ± 0.01 over 3 seeds vs majority 0.537: the gap 0.013 exceeds the spread 0.01, so the
    rendered headline says ahead, in the verdict cell, with the rule under the table."""
    dom = dump_dom(report, profile)
    cell = re.search(r'<td class="verdict ([a-z]*)">([^<]*)</td>', dom)
    assert cell is not None, "no verdict cell in the rendered headline table"
    assert cell.groups() == ("deep", "deep ahead by 0.0130 (spread 0.0100)")
    assert "Verdict rule:" in dom and "tie within noise" in dom


def test_the_learned_map_section_renders_its_figure_table_and_interactive_page(report, profile):
    dom = dump_dom(report.parent / "stock_forecast.html", profile)
    section = dom.split('id="maps"')[1].split('id="figures"')[0]
    assert 'src="assets/stock_forecast/market_days_map.png"' in section
    assert section.count("<tr") == 3 and "trustworthiness" in section     # header + learned PCA + raw PCA
    chart = dump_dom(report.parent / "assets" / "stock_forecast" / "market_days_map.html", profile)
    assert "js-plotly-plot" in chart and "patient 7" in chart              # plotly drew it, hover text inlined


def test_a_deepcases_map_run_gets_a_page_with_its_image_quality_table_and_interactive_map(tmp_path, profile):
    import numpy as np
    import pandas as pd

    from shared.maps.table import MapConfig, map_table

    rng = np.random.default_rng(0)
    group = np.arange(240) % 3
    frame = pd.DataFrame(rng.normal(size=(240, 4)) + 5.0 * group[:, None], columns=list("abcd"))
    frame["group"] = np.array(["g0", "g1", "g2"])[group]
    csv = tmp_path / "clusters.csv"
    frame.to_csv(csv, index=False)
    runs = tmp_path / "runs"
    map_table(MapConfig(data=str(csv), label="group", method="pca", runs_dir=str(runs), run_id="m"))
    index = build_report([runs], out_dir=tmp_path / "report", results_dir=None)
    dom = dump_dom(index.parent / "map_clusters.html", profile)
    assert body_attr(dom, "data-images-ok") == "true", body_attr(dom, "data-images")
    section = dom.split('id="maps"')[1].split('id="figures"')[0]
    assert "Map of the table" in dom and 'src="assets/map_clusters/map.png"' in section
    assert section.count("<tr") == 3 and "held-out rows (transform)" in section   # header + fitted + held-out
    chart = dump_dom(index.parent / "assets" / "map_clusters" / "map.html", profile)
    assert "js-plotly-plot" in chart
