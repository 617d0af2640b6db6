"""Parametric UMAP against UMAP on each application's own learned representation (issue 22's target).

    python benchmarks/maps_apps.py [--seeds 0 1] [--apps stock_forecast survival ...]

Every application runs its quick case study (``QUICK_ARGS``, bundled sample) once per seed in a fresh
subprocess with ``--learned-maps parametric``: each learned map then holds, on the same points (at
most 2,000, a fixed sample by the seed), the parametric UMAP, UMAP and PCA of the model's
representation and PCA and UMAP of the raw inputs, all measured by ``shared.maps.quality``
(trustworthiness and continuity at k = 10 in the space mapped, 5-NN accuracy of the map's label in
2-D). The seed sets the model and the map alike, so the spread is over both.

The target (issue 22): the parametric map's trustworthiness within 0.01 of UMAP's, and its 5-NN
accuracy at least UMAP's; "at least" is judged with the spread: a mean below UMAP's by less than the
larger seed spread is a tie, which meets it. Writes ``benchmarks/results/maps_apps.csv`` (one row per
map, method and seed) and ``maps_apps.json`` (mean ± sd per map and method, and the verdicts).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

APPS = ("stock_forecast", "recommender", "review_sentiment", "survival", "route_demand")
RESULTS = ROOT / "benchmarks" / "results"
TRUST_MARGIN = 0.01
CLI = "import sys; from shared.cli import main; sys.exit(main(sys.argv[1:]))"


def run_app(app: str, seed: int, runs: Path, env: dict) -> tuple[list[dict], float]:
    """One quick case study with parametric learned maps; the quality rows of its maps."""
    from shared import registry

    quick = list(registry.load_app(app).QUICK_ARGS)
    run_id = f"maps-bench-{seed}"
    status = runs / app / run_id / "status.json"
    if status.is_file() and json.loads(status.read_text(encoding="utf-8"))["status"] == "done":
        return _map_rows(app, seed, runs / app / run_id), float("nan")   # --scratch: finished earlier
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CLI, "run", app, *quick, "--seed", str(seed), "--learned-maps",
                           "parametric", "--runs-dir", str(runs), "--run-id", run_id, "--log-level", "WARNING"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{app} seed {seed} failed:\n{proc.stderr[-3000:]}")
    return _map_rows(app, seed, runs / app / run_id), wall


def _map_rows(app: str, seed: int, run: Path) -> list[dict]:
    rows = []
    for file in sorted((run / "maps").glob("*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        for m in record["rows"]:
            rows.append({"app": app, "map": record["name"], "label": record.get("label"), "seed": seed,
                         "space": m["space"], "method": m["method"], "points": m["n_points"],
                         "dimensions": m["n_features"], "trustworthiness": m["trustworthiness"],
                         "continuity": m["continuity"], "knn_accuracy": m["knn_accuracy"],
                         "fit_seconds": m["fit_seconds"]})
    return rows


def verdicts(frame) -> list[dict]:
    """Per map: parametric vs UMAP of the same learned vectors, mean ± sd over the seeds."""
    out = []
    learned = frame[frame["space"] == "learned"]
    for (app, name), group in learned.groupby(["app", "map"], sort=False):
        stats = group.groupby("method")[["trustworthiness", "knn_accuracy", "fit_seconds"]].agg(["mean", "std"])
        if not {"parametric_umap", "umap"} <= set(stats.index):
            continue
        p, u = stats.loc["parametric_umap"], stats.loc["umap"]
        spread = float(np.nanmax([p[("knn_accuracy", "std")], u[("knn_accuracy", "std")], 0.0]))  # 1 seed: 0
        trust_gap = float(p[("trustworthiness", "mean")] - u[("trustworthiness", "mean")])
        knn_gap = float(p[("knn_accuracy", "mean")] - u[("knn_accuracy", "mean")])
        out.append({"app": app, "map": name, "seeds": int(group["seed"].nunique()),
                    **{f"{m}_{k}_{s}": round(float(stats.loc[m][(k, s)]), 4) for m in ("parametric_umap", "umap")
                       for k in ("trustworthiness", "knn_accuracy", "fit_seconds") for s in ("mean", "std")},
                    "trust_gap": round(trust_gap, 4), "knn_gap": round(knn_gap, 4), "knn_spread": round(spread, 4),
                    "trust_within_0.01": trust_gap >= -TRUST_MARGIN,
                    "knn_at_least_umap": knn_gap >= -spread})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--apps", nargs="+", choices=APPS, default=list(APPS))
    parser.add_argument("--scratch", default=None, metavar="DIR",
                        help="where the runs go (default: a new temp folder); runs finished there are read back")
    args = parser.parse_args(argv)
    import pandas as pd

    from shared.artifacts import environment, write_csv, write_json

    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="deepcases-maps-apps-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "KERAS_HOME": os.environ.get("KERAS_HOME", str(scratch / "keras")),
           "MPLCONFIGDIR": os.environ.get("MPLCONFIGDIR", str(scratch / "matplotlib")),
           "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "deepcases-numba"))}
    rows, walls = [], []
    for app in args.apps:
        for seed in args.seeds:
            found, wall = run_app(app, seed, scratch / "runs", env)
            rows += found
            walls.append({"app": app, "seed": seed, "wall_s": round(wall, 1), "load_after": os.getloadavg()[0]})
            print(f"{app} seed {seed}: {len(found)} map rows in {wall:.0f} s", flush=True)
    frame = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_csv(RESULTS / "maps_apps.csv", frame.round(4))
    summary = verdicts(frame)
    write_json(RESULTS / "maps_apps.json", {"environment": environment(), "seeds": args.seeds, "runs": walls,
                                             "target": f"parametric trustworthiness within {TRUST_MARGIN} of UMAP's "
                                                       "and 5-NN accuracy at least UMAP's (a gap inside the larger "
                                                       "seed spread is a tie)",
                                             "maps": summary})
    for s in summary:
        print(f"{s['app']}/{s['map']}: parametric T {s['parametric_umap_trustworthiness_mean']:.3f} vs UMAP "
              f"{s['umap_trustworthiness_mean']:.3f} (gap {s['trust_gap']:+.3f}); 5-NN "
              f"{s['parametric_umap_knn_accuracy_mean']:.3f} vs {s['umap_knn_accuracy_mean']:.3f} "
              f"(gap {s['knn_gap']:+.3f}, spread {s['knn_spread']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
