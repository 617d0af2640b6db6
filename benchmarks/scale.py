"""Scale benchmark: out-of-core training of the recommender and sentiment models at 1×, 10×, 100×.

    python data_scripts/generate_scale_data.py --app recommender --scale 1 10 100 --out /tmp/scale_data
    python data_scripts/generate_scale_data.py --app review_sentiment --scale 1 10 100 --out /tmp/scale_data
    python benchmarks/scale.py --data /tmp/scale_data [--scales 1 10 100] [--budget 60]

Every (application, scale) runs in a fresh Python subprocess, one at a time, and streams its Parquet
directory: the statistics pass over the training rows on Dask DataFrame (``shared.dask_prep``, a
threaded LocalCluster; its start is included in ``stats_pass_s``) for the id maps and rating mean,
or the label counts and Keras' streamed ``adapt()`` vocabulary, then training from a ``tf.data`` pipeline
(chunks of 65,536 rows, 50,000-row shuffle buffer, prefetch). ``mf_biased`` and ``text_cnn`` are
the applications' own models and settings, built from ``shared.models``; the two other recommender
variants show where the per-step cost of an embedding model comes from:

* recommender ``mf_biased``: the application's default MF, built by its own ``MFRegressor`` with
  ``MFSettings()`` (since issue 23: batch-row lookups, ``RowSparseAdam`` 2e-3 updating only the
  batch's rows, L2 0.15 on the looked-up rows, 64 factors, batch 512);
* recommender ``mf_dense_adam``: the default before issue 23 (``--mf-optimizer dense-adam``: Keras'
  Adam 2e-3 and an L2 of 1e-4 on the whole tables, so every step reads and writes every row);
* recommender ``mf_biased_sgd``: the same network with plain SGD (learning rate 5) and no L2 on the
  whole tables, so the gradients stay sparse (``IndexedSlices``, scatter updates of the batch rows);
  it reaches a lower test RMSE than Adam after one epoch on the 1× data (0.909 vs 0.956);
* recommender ``mf_sparse_sgd``: as ``mf_biased_sgd`` but the embedding lookups read only the batch
  rows (``tf.gather`` on the variable = ``ResourceGather``) instead of Keras 3's ``ops.take`` on the
  whole table: ``shared.models.build_matrix_factorization(..., sparse_lookup=True)``.

  Why these: Keras 3's Adam (and a table-wide L2 penalty) update every row of the embedding tables
  at every step, so the cost of a step grows with the number of users and items. With SGD the
  update is sparse, but Keras 3's ``Embedding`` reads the whole table (``ReadVariableOp``), and once
  a variable has had a sparse update TensorFlow copies it on every such read ("copy-on-read"), so
  the step still costs O(table) (``perf`` shows ~57 % of the time in that copy at 100×). Only with
  both a sparse update and a sparse read does the cost of a step stop depending on the table size,
  which is what the default ``mf_biased`` now does with Adam;
* review_sentiment: text CNN (``build_text_classifier``, encoder "cnn", 12,000 tokens, 56 per text,
  embedding 64, 64 filters × kernels 3/4/5, dropout 0.5, Adam 2e-3, batch 64).

Measured per configuration: the statistics pass (s), training throughput in examples/s over the
steps after a warm-up of ``--warmup`` steps (graph tracing excluded) and also per CPU-second of the
process (less sensitive to other users of the machine), the time per epoch (training runs for
``--budget`` seconds after the warm-up, over as many epochs as fit: the median of the epochs after the
first when there are some, otherwise extrapolated as training rows / throughput; ``notes`` says
which), and the peak resident memory (``ru_maxrss`` at the end of the subprocess) next to
the baseline right after importing TensorFlow/Keras. The 1-minute load average is recorded before
and after each configuration. The ``default`` column marks the rows run with the application's
default settings (``mf_biased``, ``text_cnn``). Writes ``benchmarks/results/scale.csv`` and ``scale.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

APPS = ("recommender", "review_sentiment")
RESULTS = ROOT / "benchmarks" / "results"
TARGET_MEMORY_RATIO = 1.3      # issue 23 (issue 12: 1.5): peak memory at 100× within 1.3× of 1×
TARGET_THROUGHPUT_DROP = 0.20  # issues 12 and 23: throughput at 100× at least 0.8× of 1×
#: review_sentiment's default settings (DeepParams "cnn"); the recommender's default is its MFSettings()
MF_DENSE_ADAM = {"n_factors": 64, "l2": 1e-4, "learning_rate": 2e-3, "batch_size": 512}  # before issue 23
MF_SGD = {"n_factors": 64, "l2": 0.0, "learning_rate": 5.0, "batch_size": 512}
MODELS = {"recommender": ("mf_biased", "mf_dense_adam", "mf_biased_sgd", "mf_sparse_sgd"),
          "review_sentiment": ("text_cnn",)}
DEFAULT_MODELS = ("mf_biased", "text_cnn")  # the applications' default settings
TEXT_CNN = {"max_tokens": 12000, "sequence_length": 56, "embedding_dim": 64, "filters": 64,
            "kernel_sizes": (3, 4, 5), "dropout": 0.5, "learning_rate": 2e-3, "batch_size": 64}
CHUNK_ROWS = 65536
SHUFFLE_BUFFER = 50000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _current_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


# ------------------------------------------------------------------------------------------ worker
def _build_sparse_mf(*, n_users: int, n_items: int, n_factors: int, global_mean: float) -> Any:
    """``build_matrix_factorization`` (no L2) with ``sparse_lookup=True``: lookups read only the batch rows."""
    from shared.models import build_matrix_factorization

    return build_matrix_factorization(n_users=n_users, n_items=n_items, n_factors=n_factors, l2=0.0,
                                      global_mean=global_mean, sparse_lookup=True, name="mf_sparse_sgd")


def run_worker(app: str, model_name: str, data: Path, *, budget: float, max_steps: int | None, warmup: int,
               seed: int) -> dict:
    """One configuration, in this (fresh) process; returns the measurements."""
    started = time.perf_counter()
    import tensorflow as tf  # noqa: F401  (the import is part of the baseline)

    from shared.models._keras import keras

    k = keras()
    out: dict[str, Any] = {"app": app, "data": str(data), "import_s": round(time.perf_counter() - started, 2),
                           "baseline_rss_mb": round(_peak_mb(), 1)}
    from shared.dask_prep import scan_training
    from shared.streaming import SplitRule, read_manifest, streaming_dataset
    from shared.training import set_seed

    manifest = read_manifest(data)
    split = SplitRule("split", train_values=("train",))
    set_seed(seed)
    if model_name not in MODELS[app]:
        raise ValueError(f"model {model_name!r} is not benchmarked for {app}; choose from {MODELS[app]}")
    if app == "recommender":
        from shared.models import build_matrix_factorization

        from applications.recommender.models import MFRegressor, MFSettings

        stats = scan_training(data, split=split, id_columns=("user", "item"), numeric_columns=("rating",))
        n_users, n_items = stats.indexes["user"].size, stats.indexes["item"].size
        mean = stats.moments["rating"].mean
        if model_name == "mf_biased":  # exactly what the application trains by default
            mf = MFRegressor(n_users=n_users, n_items=n_items, global_mean=mean, settings=MFSettings())
            model, batch = mf.model, mf.settings.batch_size
            out.update(optimizer=type(model.optimizer).__name__, l2=mf.settings.l2)
        else:
            settings = MF_DENSE_ADAM if model_name == "mf_dense_adam" else MF_SGD
            sizes = {"n_users": n_users, "n_items": n_items, "n_factors": settings["n_factors"], "global_mean": mean}
            if model_name == "mf_sparse_sgd":
                model = _build_sparse_mf(**sizes)
            else:
                model = build_matrix_factorization(**sizes, l2=settings["l2"], use_bias=True, name=model_name)
            optimizer = (k.optimizers.Adam(settings["learning_rate"]) if model_name == "mf_dense_adam"
                         else k.optimizers.SGD(settings["learning_rate"]))
            model.compile(optimizer=optimizer, loss="mse")
            batch = settings["batch_size"]
            out.update(optimizer=type(optimizer).__name__, l2=settings["l2"])
        ds = streaming_dataset(data, stats, features=("user", "item"), target="rating", batch_size=batch,
                               chunk_rows=CHUNK_ROWS, shuffle_buffer=SHUFFLE_BUFFER, seed=seed)
        out.update(model=model_name, users=len(stats.indexes["user"]), items=len(stats.indexes["item"]))
    else:
        from shared.models import build_text_classifier

        stats = scan_training(data, split=split, text_column="text", label_column="label")
        vectorizer = stats.vocabulary.vectorizer(max_tokens=TEXT_CNN["max_tokens"],
                                                 sequence_length=TEXT_CNN["sequence_length"])
        model = build_text_classifier(vectorizer=vectorizer, encoder="cnn", embedding_dim=TEXT_CNN["embedding_dim"],
                                      filters=TEXT_CNN["filters"], kernel_sizes=TEXT_CNN["kernel_sizes"],
                                      dropout=TEXT_CNN["dropout"], n_classes=2, name="text_cnn")
        model.compile(optimizer=k.optimizers.Adam(TEXT_CNN["learning_rate"]), loss="binary_crossentropy")
        batch = TEXT_CNN["batch_size"]
        ds = streaming_dataset(data, stats, features=("text",), target="label", batch_size=batch,
                               chunk_rows=CHUNK_ROWS, shuffle_buffer=SHUFFLE_BUFFER, seed=seed, single_input=True)
        out.update(model="text_cnn", vocabulary=vectorizer.vocabulary_size(), distinct_tokens=len(stats.vocabulary))
    out.update(rows_total=stats.rows_train + stats.rows_held_out, rows_train=stats.rows_train,
               stats_pass_s=round(stats.seconds, 2), rss_after_stats_mb=round(_peak_mb(), 1),
               params=int(model.count_params()), scale=manifest.get("scale"))

    times: list[float] = []
    cpu: list[float] = []
    losses: list[float] = []

    per_epoch = -(-stats.rows_train // batch)            # steps in one epoch
    last_batch = stats.rows_train - (per_epoch - 1) * batch
    sizes: list[int] = []
    epoch_times: list[float] = []

    class Meter(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if not self.model.stop_training or len(sizes) % per_epoch == 0:
                epoch_times.append(time.perf_counter() - self.epoch_started)

        def on_train_batch_end(self, step, logs=None):
            times.append(time.perf_counter())
            cpu.append(time.process_time())
            sizes.append(last_batch if step == per_epoch - 1 else batch)
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))
            measuring_since = fit_started if not warmup else times[warmup - 1] if len(times) >= warmup else None
            if (measuring_since is not None and times[-1] - measuring_since > budget) or \
                    (max_steps is not None and len(times) >= max_steps):
                self.model.stop_training = True

    # as many epochs as fit in the budget: short (1×) epochs are measured several times
    fit_started, cpu_started = time.perf_counter(), time.process_time()
    model.fit(ds, epochs=1000, verbose=0, shuffle=False, callbacks=[Meter()])
    steps = len(times)
    if steps <= warmup + 1:
        raise RuntimeError(f"only {steps} steps ran (the data has fewer batches than --warmup {warmup} + 2); "
                           "use a larger scale or lower --warmup")
    measured_steps = steps - warmup
    window = times[-1] - times[warmup - 1] if warmup else times[-1] - fit_started
    cpu_window = cpu[-1] - cpu[warmup - 1] if warmup else cpu[-1] - cpu_started
    examples = sum(sizes[warmup:])
    throughput = examples / window
    notes = []
    if len(epoch_times) >= 2:
        epoch_s = float(np.median(epoch_times[1:]))
        notes.append(f"epoch time measured: median of {len(epoch_times) - 1} epoch(s) after the first "
                     f"(the first, with tracing, took {epoch_times[0]:.1f} s)")
    elif epoch_times:
        epoch_s = epoch_times[0]
        notes.append(f"epoch time measured: one epoch, including the {warmup}-step warm-up/tracing")
    else:
        epoch_s = stats.rows_train / throughput
        notes.append(f"epoch time extrapolated: {stats.rows_train:,} training rows / throughput over steps "
                     f"{warmup + 1}-{steps} of the first epoch ({window:.0f} s, {examples:,} examples)")
    out.update(batch_size=batch, steps=steps, warmup_steps=warmup, measured_steps=measured_steps, examples=examples,
               measured_s=round(window, 2), examples_per_s=round(throughput, 1),
               examples_per_cpu_s=round(examples / cpu_window, 1) if cpu_window > 0 else None,
               cpu_share=round(cpu_window / window, 2), epoch_s=round(epoch_s, 1), epoch_measured=bool(epoch_times),
               epochs_completed=len(epoch_times),
               loss_first=round(losses[0], 4) if losses else None, loss_last=round(losses[-1], 4) if losses else None,
               peak_rss_mb=round(_peak_mb(), 1), rss_end_mb=round(_current_mb(), 1), notes="; ".join(notes))
    return out


# ------------------------------------------------------------------------------------------ driver
def _load1() -> float:
    return round(os.getloadavg()[0], 2)


def run_configuration(app: str, model: str, data: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--app", app, "--model", model,
           "--data", str(data),
           "--budget", str(args.budget), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    if args.max_steps:
        cmd += ["--max-steps", str(args.max_steps)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    load_before = _load1()
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{app}/{model} on {data} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(load_before=load_before, load_after=_load1(), subprocess_wall_s=round(wall, 1))
    return result


def summarize(rows: list[dict]) -> Any:
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["default"] = frame["model"].isin(DEFAULT_MODELS)
    frame["peak_over_baseline_mb"] = (frame["peak_rss_mb"] - frame["baseline_rss_mb"]).round(1)
    for column, name in (("peak_rss_mb", "peak_vs_1x"), ("examples_per_s", "throughput_vs_1x"),
                         ("examples_per_cpu_s", "cpu_throughput_vs_1x")):
        ref = frame[frame["scale"] == 1].set_index("model")[column]
        frame[name] = (frame[column] / frame["model"].map(ref)).round(3)
    first = ["app", "model", "default", "scale", "rows_total", "rows_train", "params", "stats_pass_s", "examples_per_s",
             "examples_per_cpu_s", "throughput_vs_1x", "cpu_throughput_vs_1x", "epoch_s", "epoch_measured",
             "baseline_rss_mb", "peak_rss_mb", "peak_over_baseline_mb", "peak_vs_1x", "load_before", "load_after",
             "cpu_share", "notes"]
    return frame[first + [c for c in frame.columns if c not in first]]


def with_earlier_rows(frame: Any, csv: Path) -> Any:
    """``frame`` plus the rows of ``csv`` for the models it did not run, in the benchmark's model order.

    A model that ran replaces all its earlier rows (its ratios to 1× come from one run)."""
    import pandas as pd

    if not csv.is_file():
        return frame
    earlier = pd.read_csv(csv)
    kept = earlier[~earlier["model"].isin(set(frame["model"]))]
    order = {model: j for j, model in enumerate(m for app in APPS for m in MODELS[app])}
    merged = pd.concat([kept, frame], ignore_index=True)
    merged = merged.sort_values(["model", "scale"], key=lambda c: c.map(order) if c.name == "model" else c,
                                kind="stable")
    return merged.reset_index(drop=True)[list(frame.columns) + [c for c in merged.columns if c not in frame.columns]]


def plot(frame: Any, path: Path) -> Path:
    """Throughput (absolute and relative to 1×, wall and per CPU-second) and peak memory vs scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shared.artifacts import save_figure

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (model, part), color in zip(frame.groupby("model", sort=False), colors):
        part = part.sort_values("scale")
        axes[0].plot(part["scale"], part["examples_per_s"], marker="o", color=color, label=f"{model} (wall)")
        axes[0].plot(part["scale"], part["examples_per_cpu_s"], marker="x", linestyle="--", color=color,
                     label=f"{model} (per CPU-s)")
        axes[1].plot(part["scale"], part["throughput_vs_1x"], marker="o", color=color, label=f"{model} (wall)")
        axes[1].plot(part["scale"], part["cpu_throughput_vs_1x"], marker="x", linestyle="--", color=color,
                     label=f"{model} (per CPU-s)")
        axes[2].plot(part["scale"], part["peak_rss_mb"], marker="o", color=color, label=model)
        one = part[part["scale"] == 1]["peak_rss_mb"]
        if len(one):
            axes[2].axhline(TARGET_MEMORY_RATIO * float(one.iloc[0]), color=color, alpha=0.35, linestyle="-.",
                            linewidth=0.8)
    axes[1].axhline(1 - TARGET_THROUGHPUT_DROP, color="black", linestyle=":", label="target (0.8 of 1×)")
    axes[2].axhline(float(frame["baseline_rss_mb"].median()), color="black", linestyle=":",
                    label="after importing TensorFlow")
    axes[2].plot([], [], color="grey", linestyle="-.", linewidth=0.8, label=f"target: {TARGET_MEMORY_RATIO:g} × peak at 1×")
    for ax, title, ylabel in ((axes[0], "training throughput", "examples / s"),
                              (axes[1], "throughput relative to 1×", "ratio"),
                              (axes[2], "peak resident memory (ru_maxrss)", "MB")):
        ax.set_xscale("log")
        ax.set_xlabel("scale (× bundled sample)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    loads = f"1-min load average {frame['load_before'].min():.1f}–{frame['load_after'].max():.1f} on 2 shared cores"
    fig.suptitle(f"Out-of-core training from Parquet, one fresh process per point ({loads})", fontsize=10)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/tmp/scale_data",
                        help="root written by data_scripts/generate_scale_data.py (holds <app>_x<scale>/)")
    parser.add_argument("--apps", nargs="+", default=list(APPS), choices=APPS, help="applications to benchmark")
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0, 10.0, 100.0], help="scales to run")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds of training measured after the warm-up steps; longer epochs are extrapolated")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (default: budget)")
    parser.add_argument("--warmup", type=int, default=20, help="first steps left out of the throughput (tracing)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", default=str(RESULTS), help="where scale.csv and scale.png go")
    parser.add_argument("--plot-only", action="store_true", help="redraw scale.png from an existing scale.csv")
    parser.add_argument("--replace", action="store_true",
                        help="write only this run's rows (default: keep the earlier rows of the models not run)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=None,
                        help="models to run (default: all: mf_biased, mf_dense_adam, mf_biased_sgd, mf_sparse_sgd, "
                             "text_cnn)")
    parser.add_argument("--app", choices=APPS, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = run_worker(args.app, args.model, Path(args.data), budget=args.budget, max_steps=args.max_steps,
                            warmup=args.warmup, seed=args.seed)
        print(json.dumps(result))
        return 0

    from shared.artifacts import write_csv

    if args.plot_only:
        import pandas as pd

        csv = Path(args.output_dir) / "scale.csv"
        print(f"wrote {plot(pd.read_csv(csv), csv.with_suffix('.png'))}")
        return 0
    plan = [(app, model, scale) for app in args.apps for model in MODELS[app]
            if args.models is None or model in args.models for scale in args.scales]
    if not plan:
        print(f"error: no configuration selected; models are {MODELS}", file=sys.stderr)
        return 2
    for app, _, scale in plan:
        data = Path(args.data) / f"{app}_x{scale:g}"
        if not data.is_dir():
            print(f"error: {data} not found; generate it with `python data_scripts/generate_scale_data.py "
                  f"--app {app} --scale {scale:g} --out {args.data}`", file=sys.stderr)
            return 2
    rows = []
    for app, model, scale in plan:
        result = run_configuration(app, model, Path(args.data) / f"{app}_x{scale:g}", args)
        rows.append(result)
        print(f"{model} x{scale:g}: {result['examples_per_s']:,.0f} ex/s, epoch {result['epoch_s']:,.0f} s "
              f"({'measured' if result['epoch_measured'] else 'extrapolated'}), peak {result['peak_rss_mb']:,.0f} MB "
              f"(after TF import {result['baseline_rss_mb']:,.0f} MB), load {result['load_before']}", flush=True)
    frame = summarize(rows)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not args.replace:
        frame = with_earlier_rows(frame, out / "scale.csv")
    write_csv(out / "scale.csv", frame)
    plot(frame, out / "scale.png")
    columns = ["model", "scale", "rows_train", "examples_per_s", "throughput_vs_1x", "cpu_throughput_vs_1x", "epoch_s",
               "peak_rss_mb", "peak_vs_1x", "load_before"]
    print(frame[columns].to_string(index=False))
    print(f"wrote {out / 'scale.csv'} and {out / 'scale.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
