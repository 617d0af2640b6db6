"""The four network families and a registry that maps names to builders.

Each builder takes keyword-only options, validates them (``ValueError``/``TypeError`` naming the
argument and the fix) and returns an *uncompiled* ``keras.Model``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .attention import build_transformer_encoder
from .cnn import build_cnn1d, build_cnn2d
from .dense import build_embedding_tower, build_matrix_factorization, build_mlp, build_two_tower
from .nlp import build_text_classifier, build_text_transformer, fit_text_vectorizer, text_batch, token_embeddings
from .rnn import build_rnn

#: family name -> {model name -> builder}
FAMILIES: dict[str, dict[str, Callable[..., Any]]] = {
    "dense": {"mlp": build_mlp, "embedding_tower": build_embedding_tower,
              "matrix_factorization": build_matrix_factorization, "two_tower": build_two_tower},
    "cnn": {"cnn2d": build_cnn2d, "cnn1d": build_cnn1d},
    "rnn": {"rnn": build_rnn},
    "nlp": {"text_classifier": build_text_classifier, "text_transformer": build_text_transformer,
            "transformer_encoder": build_transformer_encoder},
}

#: model name -> builder, the registry configs name models with
BUILDERS: dict[str, Callable[..., Any]] = {name: fn for family in FAMILIES.values() for name, fn in family.items()}


def get_builder(name: str) -> Callable[..., Any]:
    """The builder registered under ``name`` (e.g. "mlp", "rnn", "cnn1d", "text_classifier")."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(BUILDERS)}")
    return BUILDERS[name]


def build_model(name: str, **options: Any) -> Any:
    """Build the registered model ``name`` with keyword ``options`` (uncompiled)."""
    return get_builder(name)(**options)


__all__ = ["BUILDERS", "FAMILIES", "build_cnn1d", "build_cnn2d", "build_embedding_tower", "build_matrix_factorization",
           "build_mlp", "build_model", "build_rnn", "build_text_classifier", "build_text_transformer", "build_transformer_encoder",
           "build_two_tower",
           "fit_text_vectorizer", "get_builder", "text_batch", "token_embeddings"]
