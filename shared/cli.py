"""The ``deepcases`` command: list, run, demo (and later reproduce, report, fit).

Each application keeps its own options; ``deepcases run APP --help`` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Sequence

from . import registry


def _cmd_list(_: argparse.Namespace) -> int:
    width = max(map(len, [*registry.APPLICATIONS, *registry.EXAMPLES]))
    print("applications (deepcases run NAME [options]; deepcases run NAME --help):")
    for name, text in registry.APPLICATIONS.items():
        status = "" if registry.available(name) else "  [not built yet]"
        print(f"  {name:<{width}}  {text}{status}")
    print("examples:")
    for name, text in registry.EXAMPLES.items():
        print(f"  {name:<{width}}  {text}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    module = registry.load_app(args.app)
    return int(module.main(args.options) or 0)


def _cmd_demo(args: argparse.Namespace) -> int:
    """Every built case study on its bundled sample with quick settings, one after another."""
    names = [n for n in registry.APPLICATIONS if registry.available(n)] or ["digits_cnn"]
    if args.only:
        names = [n for n in names if n in args.only]
    failures = []
    started = time.perf_counter()
    for i, name in enumerate(names, 1):
        print(f"\n[{i}/{len(names)}] {name} — {registry.describe(name)}", flush=True)
        module = registry.load_app(name)
        quick = list(getattr(module, "QUICK_ARGS", []))
        try:
            code = int(module.main([*quick, "--runs-dir", args.runs_dir]) or 0)
        except Exception as err:  # keep going: one failed case study must not hide the others
            logging.getLogger("deepcases").exception("%s failed", name)
            code = 1
            print(f"{name} FAILED: {err}", file=sys.stderr)
        if code:
            failures.append(name)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s; runs in {args.runs_dir}/")
    report = _maybe_report(args.runs_dir)
    if report:
        print(f"report: {report}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


def _maybe_report(runs_dir: str) -> str | None:
    try:
        report = importlib.import_module("shared.report")
    except ModuleNotFoundError:
        return None
    return str(report.build_report([runs_dir]))


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    return reproduce(quick=args.quick, check=args.check, only=args.only, results_dir=args.results_dir,
                     runs_dir=args.runs_dir, resume=args.resume, report=args.report,
                     echo=lambda message: print(message, flush=True))


def _cmd_report(args: argparse.Namespace) -> int:
    from .app import configure_logging
    from .report import build_report

    configure_logging("WARNING")  # problems with run directories are logged as warnings
    index = build_report(args.paths or ["runs"], out_dir=args.out)
    print(f"report: {index}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepcases",
        description="Deep-learning case studies (finance, e-commerce, social, medical, logistics) built on one "
                    "shared package of Keras model families, measured against simple baselines.",
        epilog="Start with `deepcases list`, then `deepcases run APP --help`.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("list", help="show the applications and examples")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("run", help="run one application: deepcases run APP [its options]",
                       description="Run one application; everything after APP goes to that application "
                                   "(see `deepcases run APP --help`).")
    p.add_argument("app", help="application name (see `deepcases list`)")
    p.add_argument("options", nargs=argparse.REMAINDER, help="options for the application")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("demo", help="all case studies on bundled samples with quick settings, then the report")
    p.add_argument("--runs-dir", default="runs", help="where run directories go (default: runs)")
    p.add_argument("--only", nargs="+", metavar="APP", help="run only these applications")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("reproduce", help="run every case study under its PROTOCOLS.md protocol; writes results/",
                       description="Run every built case study with its FULL_ARGS (or QUICK_ARGS with --quick), "
                                   "write results/<app>.json and results/README.md (quick: results/quick/), "
                                   "then the report. Resumes: finished applications are skipped.")
    p.add_argument("--quick", action="store_true",
                   help="small slices, tiny settings (the CI check); writes results/quick/ instead of results/")
    p.add_argument("--check", action="store_true",
                   help="rerun and compare with the committed results within tolerances; exit 1 on drift")
    p.add_argument("--only", nargs="+", metavar="APP", help="run only these applications")
    p.add_argument("--results-dir", default="results", help="published results folder (default: results)")
    p.add_argument("--runs-dir", default="runs", help="where run directories go (default: runs)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=None,
                   help="skip applications whose results file for this mode is complete (default: on; "
                        "off with --check unless given)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                   help="build the HTML report at the end (default: on)")
    p.set_defaults(func=_cmd_reproduce)
    p = sub.add_parser("report", help="build the static HTML report of runs (default: latest run of each app)",
                       description="Build a static HTML report (opens from disk, no network): an index with every "
                                   "application's headline numbers and one page per run.")
    p.add_argument("paths", nargs="*", metavar="RUN_DIR_OR_ROOT",
                   help="run directories, runs/APP folders or runs roots (default: runs)")
    p.add_argument("--out", default=None, help="output folder (default: <root>/report, e.g. runs/report)")
    p.set_defaults(func=_cmd_report)
    from .fit.command import FIT_DESCRIPTION, FIT_EPILOG, add_fit_arguments, add_predict_arguments
    p = sub.add_parser("fit", help="fit the shared deep models to your own table (CSV/Parquet) vs baselines",
                       description=FIT_DESCRIPTION, epilog=FIT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fit_arguments(p)
    p.set_defaults(func=_cmd_fit)
    p = sub.add_parser("predict", help="apply a `deepcases fit` run to new rows (checked against its schema)",
                       description="Apply the final model of a `deepcases fit` run to new rows. The rows are "
                                   "checked against the training schema first (missing columns, wrong types, "
                                   "unseen categories).")
    add_predict_arguments(p)
    p.set_defaults(func=_cmd_predict)
    from .scaffold import add_new_arguments
    p = sub.add_parser("new", help="write the skeleton of a new application: deepcases new NAME",
                       description="Write applications/NAME/ (data.py, main.py) and its test, reusing the shared "
                                   "dense family, cross-validation, the run artifacts and the report; then "
                                   "`deepcases run NAME` works.")
    add_new_arguments(p)
    p.set_defaults(func=_cmd_new)
    from .maps.command import MAP_DESCRIPTION, MAP_EPILOG, add_map_arguments
    p = sub.add_parser("map", help="a measured 2-D map of your own table (CSV/Parquet); --run places new rows",
                       description=MAP_DESCRIPTION, epilog=MAP_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_map_arguments(p)
    p.set_defaults(func=_cmd_map)
    return parser


def _cmd_fit(args: argparse.Namespace) -> int:
    from .fit.command import fit_command

    return fit_command(args)


def _cmd_predict(args: argparse.Namespace) -> int:
    from .fit.command import predict_command

    return predict_command(args)


def _cmd_map(args: argparse.Namespace) -> int:
    from .maps.command import map_command

    return map_command(args)


def _cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import new_command

    return new_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


def console_main() -> int:
    """The installed ``deepcases`` command: :func:`main` with TensorFlow's native noise quieted."""
    from .console import console_entry

    return console_entry(main)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(console_main())
