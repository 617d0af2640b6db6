"""Helpers for the report tests: fake run directories with real PNG files (no tests here, no training)."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

from shared.results import CaseStudyResult, write_results


def png_bytes(width: int = 40, height: int = 30, rgb: tuple[int, int, int] = (31, 111, 235)) -> bytes:
    """A valid RGB PNG of one colour with a diagonal stripe."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b""
    for y in range(height):
        row = bytearray()
        for x in range(width):
            row += bytes((255, 255, 255)) if abs(x - y) < 2 else bytes(rgb)
        rows += b"\x00" + bytes(row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def make_run(root: Path, app: str, run_id: str, *, deep: float = 0.8, base: float = 0.7, figures=("curves",),
             chart: bool = False, reference: bool = True, mtime: float | None = None) -> Path:
    run = root / app / run_id
    (run / "figures").mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps({"epochs": 3, "learning_rate": 0.001, "seed": 42}))
    (run / "environment.json").write_text(json.dumps({"python": "3.11", "machine": "2 cores"}))
    (run / "data.json").write_text(json.dumps({"name": f"{app}-sample", "rows": 1234,
                                               "fingerprint": "sha256:" + "ab" * 32}))
    result = CaseStudyResult(app=app, protocol="A", dataset={"name": f"{app}-sample", "rows": 1234})
    result.add("net", "deep", {"accuracy": deep, "rmse": 0.3}, seeds=[42, 43, 44], std={"accuracy": 0.01})
    result.add("majority", "baseline", {"accuracy": base, "rmse": 0.5})
    if reference:
        result.extra["reference"] = {"source": "PROTOCOLS.md", "majority": {"accuracy": 0.5778},
                                     "tf-idf + lr": {"accuracy": 0.7868}}
    write_results(run / "metrics.json", [result])
    for name in figures:
        (run / "figures" / f"{name}.png").write_bytes(png_bytes())
    if chart:
        (run / "figures" / "embedding_map.html").write_text(
            "<!DOCTYPE html><html><body><p>interactive chart</p><script>var x = 1;</script></body></html>")
    (run / "model.keras").write_bytes(b"not really a model")
    if mtime is not None:
        os.utime(run / "metrics.json", (mtime, mtime))
    return run


def add_learned_map(run_path: Path, name: str = "patients_map") -> dict:
    """A real learned map (PCA, no numba) of 3 separable classes written into an existing run folder."""
    import numpy as np

    from shared.artifacts import RunDir
    from shared.maps.learned import learned_map

    rng = np.random.default_rng(0)
    y = np.arange(150) % 3
    learned = rng.normal(size=(150, 6)) + 3.0 * y[:, None]
    raw = rng.normal(size=(150, 8))
    return learned_map(RunDir(Path(run_path)), name=name, learned=learned, raw=raw, labels=np.array(["a", "b", "c"])[y],
                       title="Patients in the last hidden layer", label_name="outcome", methods="pca",
                       hover_text=[f"patient {i}" for i in range(150)])
