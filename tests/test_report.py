"""The static HTML report: pages, figures, relative links, broken run directories, atomic writes."""

from __future__ import annotations

import json
import logging
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_report_helpers import make_run, png_bytes  # noqa: E402

from shared import cli  # noqa: E402
from shared.report import build_report, find_runs, headline, higher_is_better, reference_table  # noqa: E402
from shared.report.tables import results_table  # noqa: E402


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.refs.append((tag, value))


def refs_of(page: Path) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs


def assert_links_resolve(page: Path) -> None:
    for tag, url in refs_of(page):
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"{page.name}: external reference {url!r} in <{tag}>"
        target = (page.parent / unquote(parsed.path)).resolve()
        assert target.is_file(), f"{page.name}: <{tag}> {url!r} does not resolve to a file"


def test_report_has_index_and_app_pages_with_figures_tables_config(runs_dir):
    make_run(runs_dir, "stock_forecast", "r1", figures=("forecast", "residuals"), chart=True)
    make_run(runs_dir, "survival", "r1", deep=0.6, base=0.7)
    index = build_report([runs_dir])
    assert index == runs_dir / "report" / "index.html"
    html = index.read_text()
    assert 'href="stock_forecast.html"' in html and 'href="survival.html"' in html
    assert "deep ahead by 0.1000 (spread 0.0100)" in html and "deep behind by 0.1000 (spread 0.0100)" in html
    assert "Verdict rule:" in html and 'class="verdict deep"' in html and 'class="verdict baseline"' in html
    page = (runs_dir / "report" / "stock_forecast.html").read_text()
    for text in ("Results", "net", "majority", "0.8000 ± 0.0100", "Reference (PROTOCOLS.md",
                 "tf-idf + lr", "0.7868", "Data fingerprint", "stock_forecast-sample", "Configuration",
                 "learning_rate", "Environment", "2 cores", "<iframe", "embedding_map.html", "model.keras"):
        assert text in page, text
    assert 'src="assets/stock_forecast/forecast.png"' in page
    assert (runs_dir / "report" / "assets" / "stock_forecast" / "forecast.png").read_bytes() == png_bytes()
    for p in (index, runs_dir / "report" / "stock_forecast.html", runs_dir / "report" / "survival.html"):
        assert_links_resolve(p)
    assert not list((runs_dir / "report").rglob("*.tmp")), "every file is written atomically"
    assert "stylesheet" not in page and "http://" not in page and "https://" not in page


def test_report_uses_the_latest_finished_run_of_each_app(runs_dir, caplog):
    make_run(runs_dir, "recommender", "old", deep=0.1, mtime=1_000_000)
    make_run(runs_dir, "recommender", "new", deep=0.9, mtime=2_000_000)
    unfinished = make_run(runs_dir, "recommender", "crashed", deep=0.5)
    (unfinished / "metrics.json").unlink()
    found, problems = find_runs([runs_dir])
    assert [run.name for run, _ in found] == ["new"] and not problems
    page = (build_report([runs_dir]).parent / "recommender.html").read_text()
    assert "0.9000" in page and "crashed has no metrics.json" in page


def test_explicit_run_dirs_each_get_a_page(runs_dir, tmp_path):
    a = make_run(runs_dir, "recommender", "a")
    b = make_run(runs_dir, "recommender", "b")
    index = build_report([a, b], out_dir=tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").glob("*.html")} == {"index.html", "recommender--a.html",
                                                                  "recommender--b.html"}
    assert_links_resolve(tmp_path / "out" / "recommender--b.html")
    assert_links_resolve(index)


def test_broken_and_old_run_dirs_are_reported_and_the_rest_still_builds(runs_dir, caplog):
    make_run(runs_dir, "stock_forecast", "good")
    missing = make_run(runs_dir, "recommender", "r1")
    for name in ("config.json", "environment.json", "data.json"):
        (missing / name).unlink()
    truncated = make_run(runs_dir, "survival", "r1")
    (truncated / "metrics.json").write_text('{"app": "survival", "models": [')
    old = make_run(runs_dir, "route_demand", "r1")
    (old / "metrics.json").write_text(json.dumps({"wape": 0.08, "mase": 2.4}))
    weird = make_run(runs_dir, "review_sentiment", "r1")
    (weird / "metrics.json").write_text(json.dumps({"app": "review_sentiment", "protocol": "A", "dataset": {},
                                                    "models": [{"name": "x"}, {"name": "y", "kind": "deep",
                                                                               "metrics": {"accuracy": 0.7}}]}))
    (weird / "figures" / "empty.png").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        index = build_report([runs_dir, runs_dir / "does-not-exist"])
    out = index.parent
    assert "config.json is missing" in caplog.text and "data.json is missing" in caplog.text
    assert "metrics.json cannot be read" in caplog.text
    assert "older format" in caplog.text and "does-not-exist does not exist" in caplog.text
    assert "without a name or metrics" in caplog.text and "empty figure file" in caplog.text
    assert "config.json is missing" in (out / "recommender.html").read_text()
    route = (out / "route_demand.html").read_text()
    assert "older format" in route and "0.0800" in route and "wape" in route
    assert "metrics.json cannot be read" in (out / "survival.html").read_text()
    assert "0.7000" in (out / "review_sentiment.html").read_text()
    assert "does-not-exist does not exist" in index.read_text()
    assert "0.8000" in (out / "stock_forecast.html").read_text()
    for page in out.glob("*.html"):
        assert_links_resolve(page)


def test_empty_root_gives_an_index_that_says_what_to_run(tmp_path, caplog):
    root = tmp_path / "runs"
    root.mkdir()
    index = build_report([root])
    assert "No runs found" in index.read_text() and "no run directories under" in caplog.text


def test_rebuilding_removes_figures_the_run_no_longer_has(runs_dir):
    run = make_run(runs_dir, "survival", "r1", figures=("km", "calibration"))
    build_report([runs_dir])
    (run / "figures" / "calibration.png").unlink()
    build_report([runs_dir])
    assert [p.name for p in (runs_dir / "report" / "assets" / "survival").iterdir()] == ["km.png"]


def test_chart_loading_javascript_from_the_network_is_flagged(runs_dir, caplog):
    run = make_run(runs_dir, "recommender", "r1")
    (run / "figures" / "map.html").write_text('<script src="https://cdn.plot.ly/plotly.min.js"></script>')
    build_report([runs_dir])
    assert "will not work offline" in caplog.text


def test_cli_report_subcommand(runs_dir, tmp_path, capsys):
    make_run(runs_dir, "recommender", "r1")
    assert cli.main(["report", str(runs_dir), "--out", str(tmp_path / "rep")]) == 0
    assert f"report: {tmp_path / 'rep' / 'index.html'}" in capsys.readouterr().out
    assert (tmp_path / "rep" / "recommender.html").is_file()


def test_default_out_dir_follows_the_root(runs_dir):
    run = make_run(runs_dir, "recommender", "r1")
    assert build_report([run]) == runs_dir / "report" / "index.html"
    assert build_report([runs_dir / "recommender"]) == runs_dir / "report" / "index.html"


@pytest.mark.parametrize("metric, expected", [("rmse", False), ("mae_ratio_to_persistence", False), ("ibs", False),
                                              ("smape", False), ("accuracy", True), ("hr@10", True),
                                              ("harrell_c", True), ("directional_accuracy", True),
                                              ("val_mean_absolute_error", False), ("kl_divergence", False),
                                              ("val_binary_crossentropy", False), ("val_accuracy", True)])
def test_metric_direction(metric, expected):
    from shared.viz._common import _lower_is_better

    assert higher_is_better(metric) is expected
    assert _lower_is_better(metric) is (not expected)  # the learning curves mark their best epoch by the same list


def test_headline_and_best_cells():
    result = {"protocol": "A", "dataset": {"name": "d"}, "models": [
        {"name": "a", "kind": "deep", "metrics": {"rmse": 0.9, "hr@10": 0.05}},
        {"name": "b", "kind": "deep", "metrics": {"rmse": 0.8, "hr@10": 0.04}},
        {"name": "c", "kind": "baseline", "metrics": {"rmse": 0.85, "hr@10": 0.07}}]}
    h = headline(result)
    # no seeds, no spread: the best deep model and baseline are found, but no verdict is claimed
    assert (h.metric, h.deep, h.baseline, h.deep_wins) == ("rmse", ("b", 0.8), ("c", 0.85), None)
    assert h.verdict.startswith("1 seed, no spread: not a verdict")
    table = results_table(result)
    assert (1, 2) in table.emphasis and (2, 3) in table.emphasis and len(table.emphasis) == 2


@pytest.mark.parametrize("reference", [
    {"persistence": {"rmse": 20.076, "mae": 13.11}},
    [{"name": "persistence", "rmse": 20.076, "mae": 13.11}],
    {"source": "PROTOCOLS.md", "models": [{"model": "persistence", "metrics": {"rmse": 20.076, "mae": 13.11}}]},
])
def test_reference_shapes(reference):
    table = reference_table(reference)
    assert table.columns == ["reference", "rmse", "mae"]
    assert table.rows == [["persistence", "20.0760", "13.1100"]]


def test_reference_nested_and_text_values():
    table = reference_table({"SUPPORT": {"cox": {"harrell_c": "0.7707 ± 0.0073", "ibs": 0.1496}},
                             "GBSG2": {"cox": {"harrell_c": {"mean": 0.6823, "std": 0.0567}}}})
    assert table.rows[0] == ["SUPPORT / cox", "0.7707 ± 0.0073", "0.1496"]
    assert table.rows[1] == ["GBSG2 / cox", "0.6823 ± 0.0567", "–"]
    assert reference_table("just text") is None


def test_reference_found_under_the_keys_applications_use(runs_dir):
    from shared.report.tables import find_reference

    assert find_reference({"reference": None, "reference_protocols_md": {"a": {"rmse": 1.0}}}) == \
        ("reference_protocols_md", {"a": {"rmse": 1.0}})
    assert find_reference({"persistence_vs_reference": {}}) is None
    run = make_run(runs_dir, "stock_forecast", "r1", reference=False)
    payload = json.loads((run / "metrics.json").read_text())
    payload["extra"] = {"reference_protocols_md": {"persistence": {"rmse": 20.076}}, "verdicts": ["x"]}
    (run / "metrics.json").write_text(json.dumps(payload))
    page = (build_report([runs_dir]).parent / "stock_forecast.html").read_text()
    assert "Reference (PROTOCOLS.md" in page and "20.0760" in page and "<li>x</li>" in page


def test_a_failed_run_never_shows_up_as_a_result(runs_dir):
    """status.json decides: a newer run marked failed is skipped even though it wrote metrics.json."""
    from shared.artifacts import RunDir

    make_run(runs_dir, "recommender", "good", deep=0.9, mtime=1_000_000)
    failed = make_run(runs_dir, "recommender", "bad", deep=0.123, mtime=2_000_000)
    RunDir(failed).write_status("failed", error="UserError: interactions file is missing column(s) ['rating']")
    found, _ = find_runs([runs_dir])
    assert [run.name for run, _ in found] == ["good"]
    page = (build_report([runs_dir]).parent / "recommender.html").read_text()
    assert "0.9000" in page and "0.1230" not in page
    assert "a newer run bad failed: UserError: interactions file is missing column(s) [&#x27;rating&#x27;]" in page


def test_a_learned_map_gets_its_own_section_with_figure_quality_table_and_page(tmp_path):
    from test_report_helpers import add_learned_map

    run = make_run(tmp_path / "runs", "survival", "r1", figures=("km_by_risk_group",))
    written = add_learned_map(run)
    learned_row, raw_row = written["rows"]
    build_report([tmp_path / "runs"], out_dir=tmp_path / "report")
    page = (tmp_path / "report" / "survival.html").read_text(encoding="utf-8")
    maps_part, figures_part = page.split('id="maps"')[1].split('id="figures"')
    assert "Patients in the last hidden layer" in maps_part and "assets/survival/patients_map.png" in maps_part
    assert "assets/survival/patients_map.html" in maps_part and "trustworthiness" in maps_part
    assert f"{learned_row['trustworthiness']:.3f}" in maps_part and f"{raw_row['knn_accuracy']:.3f}" in maps_part
    # shown once: the map's figure is not repeated among the other figures
    assert "patients_map" not in figures_part.split('id="data"')[0] and "km_by_risk_group" in figures_part


def test_a_broken_map_record_is_a_problem_not_a_crash(tmp_path):
    run = make_run(tmp_path / "runs", "survival", "r1")
    (run / "maps").mkdir()
    (run / "maps" / "half.json").write_text('{"name": "half"')
    (run / "maps" / "other.json").write_text('{"name": "other"}')
    build_report([tmp_path / "runs"], out_dir=tmp_path / "report")
    page = (tmp_path / "report" / "survival.html").read_text(encoding="utf-8")
    assert "maps/half.json cannot be read" in page and "maps/other.json is not a learned-map record" in page
    assert 'id="maps"' not in page
