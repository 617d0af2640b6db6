"""Token occlusion: which tokens pushed a prediction which way.

For a text with processed tokens t1 … tn, the model scores the full text and the n texts with one
token left out (one batched ``predict``). A token's contribution is
``p(full) − p(without the token)`` for the class shown: for two classes the positive class
(e.g. fresh), so positive numbers push towards it and negative ones away; for more classes the
predicted class. Tokens past the model's sequence length cannot matter and get 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from .text import TextPipeline, lexicon_valence
from shared.errors import UserError


@dataclasses.dataclass(frozen=True)
class Explanation:
    text: str
    tokens: tuple[str, ...]
    contributions: tuple[float, ...]
    probability: float            # probability of ``class_name``
    class_name: str               # the class the contributions refer to
    predicted: str
    true_label: str | None = None

    @property
    def correct(self) -> bool | None:
        return None if self.true_label is None else self.true_label == self.predicted

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        order = np.argsort(-np.abs(np.asarray(self.contributions)), kind="stable")[:k]
        return [(self.tokens[i], self.contributions[i]) for i in order]

    def as_text(self, k: int = 6) -> str:
        """A few readable lines: prediction, then the strongest tokens with sign and VADER valence."""
        head = f"{self.text!r}\n  predicted {self.predicted} (p({self.class_name}) = {self.probability:.3f})"
        if self.true_label is not None:
            head += f", true {self.true_label}" + (" ✓" if self.correct else " ✗")
        lines = [head, f"  tokens that moved p({self.class_name}) (occlusion; VADER lexicon valence in brackets):"]
        for token, value in self.top(k):
            valence = lexicon_valence(token)
            lex = f" [{valence:+.1f}]" if valence is not None else ""
            direction = "towards" if value > 0 else "away from"
            lines.append(f"    {token:<18} {value:+.3f}  ({direction} {self.class_name}){lex}")
        return "\n".join(lines)


def occlusion(text: str, *, pipeline: TextPipeline, predict: Callable[[list[str]], np.ndarray],
              classes: Sequence[str], true_label: str | None = None) -> Explanation:
    """Explain one raw ``text``; ``predict`` maps processed strings to probabilities (1-D or (n, k))."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("--explain needs a non-empty text, e.g. --explain \"a gripping, well-acted thriller\"")
    tokens = pipeline.tokenize(text)
    variants = [" ".join(tokens)] + [" ".join(tokens[:i] + tokens[i + 1:]) for i in range(len(tokens))]
    proba = np.asarray(predict(variants), dtype=float)
    if proba.ndim == 1:
        column = proba
        predicted = classes[int(proba[0] >= 0.5)]
        class_name = classes[1]
    else:
        index = int(proba[0].argmax())
        column = proba[:, index]
        predicted = class_name = classes[index]
    contributions = column[0] - column[1:]
    return Explanation(text=text, tokens=tuple(tokens), contributions=tuple(float(c) for c in contributions),
                       probability=float(column[0]), class_name=class_name, predicted=predicted,
                       true_label=true_label)


def plot_explanations(explanations: Sequence[Explanation], *, title: str = "Token occlusion",
                      max_tokens: int = 40):
    """One panel per text: bars of each token's contribution in text order (green towards, red away)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shared.viz import OKABE_ITO

    if not explanations:
        raise UserError("no explanations to plot; pass at least one")
    n = len(explanations)
    width = min(max(max(len(e.tokens) for e in explanations), 8), max_tokens)
    fig, axes = plt.subplots(n, 1, figsize=(max(7.0, 0.38 * width + 2), 2.6 * n), squeeze=False)
    for ax, e in zip(axes[:, 0], explanations):
        tokens, values = list(e.tokens[:max_tokens]), np.asarray(e.contributions[:max_tokens])
        colors = [OKABE_ITO[2] if v > 0 else OKABE_ITO[3] for v in values]
        ax.bar(np.arange(len(values)), values, color=colors)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(np.arange(len(tokens)), tokens, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(f"Δ p({e.class_name})", fontsize=8)
        status = "" if e.correct is None else ("  correct" if e.correct else "  WRONG")
        truth = "" if e.true_label is None else f", true: {e.true_label}"
        snippet = e.text if len(e.text) <= 110 else e.text[:107] + "..."
        ax.set_title(f"{snippet}\npredicted: {e.predicted} (p({e.class_name}) = {e.probability:.2f}){truth}{status}",
                     fontsize=8, loc="left")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{title}: + pushes towards, − away from the class named on the axis", fontsize=10)
    fig.tight_layout()
    return fig
