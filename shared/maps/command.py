"""Command-line part of ``deepcases map`` (wired into ``shared.cli``); the logic is in ``shared.maps.table``."""

from __future__ import annotations

import argparse

from .methods import MAX_GRAPH_POINTS, METHODS

MAP_DESCRIPTION = """\
Map your own table to 2-D and measure the map. Columns are prepared as `deepcases fit` prepares them
(kinds inferred; numbers imputed and standardized, categories one-hot; fitted on the training part),
the map is fitted on the training rows and places the held-out rows with its transform. Writes a run
directory: the encoder (parametric methods), coordinates.csv, quality.csv (trustworthiness,
continuity, 5-NN accuracy of --label on training and held-out rows, time, peak memory) and
figures/map.html (interactive, up to 50,000 points) and figures/map.png (datashader, every point,
above 200,000 rows; a scatter below); `deepcases report` shows the run.
With --run, places new rows on a saved map instead."""

MAP_EPILOG = """\
examples:
  deepcases map --data flights.parquet --label carrier
  deepcases map --data cancer.csv --label target --method umap
  deepcases map --run runs/map_flights/<run-id> --data new_flights.csv"""


def add_map_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--data", required=True, metavar="FILE.csv|DIR.parquet",
                        help="the table to map (or, with --run, the new rows to place)")
    parser.add_argument("--label", default=None, metavar="COLUMN",
                        help="colour by this column and score the map's 5-NN accuracy of it (categorical labels); "
                             "it is not a map feature")
    parser.add_argument("--method", default="parametric_umap", choices=METHODS,
                        help="parametric_umap (default; saves an encoder for new rows), autoencoder, umap, tsne, pca")
    parser.add_argument("--run", default=None, metavar="RUN_DIR",
                        help="place the rows of --data on the map saved in this `deepcases map` run")
    parser.add_argument("--out", default=None, metavar="FILE.csv",
                        help="with --run: where the coordinates go (default RUN_DIR/new_coordinates.csv)")
    parser.add_argument("--seed", type=int, default=0, help="one seed for the split, the subsample and the model")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of rows (default 0.2)")
    parser.add_argument("--epochs", type=int, default=None, help="parametric methods: training epochs")
    parser.add_argument("--max-graph-points", type=int, default=MAX_GRAPH_POINTS,
                        help=f"parametric methods: train on a fixed random subsample of at most this many rows "
                             f"(default {MAX_GRAPH_POINTS:,})")
    parser.add_argument("--runs-dir", default="runs", help="where run directories are written (default runs)")
    parser.add_argument("--run-id", default=None, help="name of the run directory (default: a timestamp)")
    parser.add_argument("--name", default=None, help="run folder name under --runs-dir (default map_<data stem>)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def map_command(args: argparse.Namespace) -> int:
    from shared.app import configure_logging, run_cli

    def body() -> int:
        configure_logging(args.log_level)
        if args.run:
            from .table import embed_table

            path, table = embed_table(args.run, args.data, out=args.out)
            print(table.head(10).to_string(index=False))
            print(f"{len(table)} row(s) placed on the map of {args.run}; coordinates written to {path}")
            return 0
        from .table import MapConfig, map_table

        outcome = map_table(MapConfig(data=args.data, label=args.label, method=args.method, seed=args.seed,
                                      test_fraction=args.test_fraction, epochs=args.epochs,
                                      max_graph_points=args.max_graph_points, runs_dir=args.runs_dir,
                                      run_id=args.run_id, name=args.name))
        print((outcome["run"] / "quality.md").read_text(encoding="utf-8"))
        print("map: " + " and ".join(str(outcome[k]) for k in ("page", "image") if k in outcome))
        if args.method in ("parametric_umap", "autoencoder"):
            print(f"place new rows: deepcases map --run {outcome['run']} --data NEW.csv")
        return 0

    return run_cli("map", body)
