"""The report's tuning page: trial table (best highlighted), score figure, best config; robust to bad trials.csv."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).parent))
from test_report_helpers import make_run, png_bytes  # noqa: E402

from shared.report import build_report, load_run  # noqa: E402
from shared.results import CaseStudyResult, write_results  # noqa: E402


def assert_links_resolve(page: Path) -> None:
    for url in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
        assert "://" not in url, f"{page.name}: external reference {url}"
        assert (page.parent / unquote(url.split("#")[0])).resolve().is_file(), f"{page.name}: {url} does not resolve"

TRIALS = ("trial,status,score,learning_rate,units,dropout\n"
          "00,COMPLETED,0.0912,0.001,64,0.1\n"
          "01,COMPLETED,0.0801,0.0031622,32,0.2\n"
          "02,FAILED,,0.01,128,0.3\n"
          "03,COMPLETED,0.1034,0.0003,16,0.0\n")


def tuned_run(root: Path, app: str = "route_demand", *, trials: str | None = TRIALS, figure: bool = True,
              score: str = "validation WAPE", extra: bool = True) -> Path:
    """A finished run with a default and a tuned deep row, extra["tuning"] and tuning/trials.csv."""
    run = make_run(root, app, "r1", figures=("forecast",))
    result = CaseStudyResult(app=app, protocol="A", dataset={"name": f"{app}-sample", "rows": 1234})
    result.add("lstm", "deep", {"wape": 0.09}, seeds=[42])
    result.add("lstm_tuned", "deep", {"wape": 0.085}, seeds=[42], note="best of 4 random-search trials")
    result.add("seasonal_naive", "baseline", {"wape": 0.075})
    if extra:
        result.extra["tuning"] = {"method": "random", "trials": 4, "completed_trials": 3,
                                  "best": {"learning_rate": 0.0031622, "units": 32, "dropout": 0.2},
                                  "best_val_score": 0.0801, "score": score,
                                  "search_space": ["learning_rate", "units", "dropout"], "directory": "tuning/"}
    write_results(run / "metrics.json", [result])
    if trials is not None:
        (run / "tuning").mkdir()
        (run / "tuning" / "trials.csv").write_text(trials)
    if figure:
        (run / "figures" / "tuning_scores.png").write_bytes(png_bytes(rgb=(200, 80, 40)))
    return run


def best_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="best">(.*?)</tr>', html, flags=re.S)


def test_tuned_run_gets_a_tuning_page_linked_from_app_page_and_index(runs_dir):
    tuned_run(runs_dir)
    make_run(runs_dir, "survival", "r1")  # not tuned: no tuning page
    index = build_report([runs_dir])
    out = index.parent
    page = (out / "route_demand-tuning.html").read_text()
    assert not (out / "survival-tuning.html").exists()
    assert 'href="route_demand-tuning.html"' in (out / "route_demand.html").read_text()
    assert 'href="route_demand-tuning.html"' in index.read_text()
    # the trial table: every trial (the failed one too), its hyperparameters and score; one best row
    body = page.split('id="trials"')[1]
    for trial in ("00", "01", "02", "03"):
        assert re.search(rf"<td[^>]*>{trial}</td>", body), trial
    assert "FAILED" in body and "0.0031622" in body
    rows = best_rows(body)
    assert len(rows) == 1 and "0.0801" in rows[0] and "★" in rows[0], "lowest WAPE is the best trial"
    # the figure, the best configuration, the tuned-vs-default rows on test, the trials.csv link
    assert 'src="assets/route_demand/tuning_scores.png"' in page
    best = page.split('id="best"')[1].split('id="scores"')[0]
    assert "learning_rate" in best and "0.0031622" in best and "lstm_tuned" in best and "0.0850" in best
    assert "seasonal_naive" not in best, "only deep rows in the tuned-vs-default table"
    assert "tuning/trials.csv" in page
    for p in (index, out / "route_demand.html", out / "route_demand-tuning.html"):
        assert_links_resolve(p)


def test_higher_is_better_score_and_grouped_trials_mark_one_best_per_group(runs_dir):
    trials = ("fold,trial,status,score,units\n"
              "1,00,COMPLETED,0.71,32\n1,01,COMPLETED,0.75,64\n"
              "2,00,COMPLETED,0.80,32\n2,01,COMPLETED,0.78,64\n")
    tuned_run(runs_dir, "survival", trials=trials, score="validation harrell_c")
    page = (build_report([runs_dir]).parent / "survival-tuning.html").read_text()
    rows = best_rows(page.split('id="trials"')[1])
    assert len(rows) == 2
    assert 'best">0.75<' in rows[0] and 'best">0.8<' in rows[1], "highest C within each fold"
    assert "higher is better" in page and "of each fold" in page


def test_corrupt_empty_or_missing_trials_csv_is_reported_and_the_report_still_builds(runs_dir, caplog):
    cases = {
        "stock_forecast": ("trial;status\n\x00\x01", "lacks the column"),
        "recommender": ("", "is empty"),
        "survival": (None, "is missing"),
        "review_sentiment": (TRIALS + "04,COMPLETED,0.5,0.1\n05,COMPLETED,0.2,0.1,8,0.1,extra,fields\n",
                             "malformed row"),
    }
    for app, (text, _) in cases.items():
        tuned_run(runs_dir, app, trials=text)
    index = build_report([runs_dir])
    for app, (_, message) in cases.items():
        page = (index.parent / f"{app}-tuning.html").read_text()
        assert message in page, (app, message)
        assert "Best configuration" in page and "0.0031622" in page, "the best config from metrics.json is shown"
        assert message in (index.parent / f"{app}.html").read_text()
    assert "2 malformed row(s)" in (index.parent / "review_sentiment-tuning.html").read_text()
    binary = tuned_run(runs_dir / "more", "survival")
    (binary / "tuning" / "trials.csv").write_bytes(b"\xff\xfe\x89PNG\x00\x81 not text")
    page = (build_report([binary], out_dir=runs_dir / "more-report").parent / "survival-tuning.html").read_text()
    assert "cannot be read" in page and "No trial table" in page
    assert any("is missing" in r.getMessage() for r in caplog.records), "problems are logged too"


def test_trials_csv_without_metrics_tuning_still_gets_a_page(runs_dir):
    run = tuned_run(runs_dir, extra=False, figure=False)
    info = load_run(run).tuning
    assert info is not None and info.direction is None and not info.best_rows
    page = (build_report([run], out_dir=runs_dir / "rep").parent / "route_demand-tuning.html").read_text()
    assert "no extra[&#x27;tuning&#x27;]" in page and "direction is unknown" in page
    assert "No figure" in page


def test_untuned_runs_have_no_tuning_info_and_a_stale_page_is_removed(runs_dir):
    run = tuned_run(runs_dir)
    out = build_report([runs_dir]).parent
    assert (out / "route_demand-tuning.html").is_file()
    (run / "tuning" / "trials.csv").unlink()
    (run / "tuning").rmdir()
    result = CaseStudyResult(app="route_demand", protocol="A", dataset={"name": "x"})
    result.add("lstm", "deep", {"wape": 0.1})
    write_results(run / "metrics.json", [result])
    assert load_run(run).tuning is None
    build_report([runs_dir])
    assert not (out / "route_demand-tuning.html").exists()
