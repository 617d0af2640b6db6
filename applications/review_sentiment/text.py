"""Text processing with NLTK, offline: tokenizers, negation marking, stemmers, n-grams, stop words.

Everything here works without NLTK's downloadable data: the Treebank, regular-expression and
tweet tokenizers, the Porter/Snowball/Lancaster stemmers, ``nltk.util.ngrams`` and
``nltk.sentiment.util.mark_negation``. Stop words come from scikit-learn's ``ENGLISH_STOP_WORDS``
and the sentiment lexicon from the ``vaderSentiment`` package. Options that do need downloaded
NLTK data (the punkt tokenizer, the WordNet lemmatizer, NLTK's stop-word corpus) are checked up
front: when the resource is missing, :class:`NLTKResourceMissing` names it and the command that
installs it on a machine with a network.

A :class:`TextPipeline` is saved beside the model (``pipeline.json``) so that prediction applies
exactly the preprocessing the model was trained on.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from shared.app import UserError
from shared.errors import InputFileNotFound

TOKENIZERS = ("treebank", "regexp", "tweet", "punkt")
STEMMERS = ("none", "porter", "snowball", "lancaster", "wordnet")
STOPWORDS = ("none", "sklearn", "nltk")
#: NLTK data each option needs: option -> (resource path for nltk.data.find, downloader name)
NLTK_RESOURCES = {
    ("tokenizer", "punkt"): ("tokenizers/punkt_tab/english/", "punkt_tab"),
    ("stemmer", "wordnet"): ("corpora/wordnet", "wordnet"),
    ("stopwords", "nltk"): ("corpora/stopwords", "stopwords"),
}
#: negation cues are never removed as stop words (they drive mark_negation)
NEGATORS = frozenset({"no", "not", "nor", "never", "nothing", "none", "nobody", "nowhere", "cannot", "n't",
                      "neither", "without"})
NEG_SUFFIX = "_NEG"
REGEXP_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": " - ",
                         "\u2013": " - ", "\u2026": "..."})


class NLTKResourceMissing(UserError):
    """An option needs NLTK data that is not installed (NLTK cannot download here)."""


def require_nltk_resource(resource: str, download_name: str, *, paths: Sequence[str] | None = None) -> None:
    """Raise :class:`NLTKResourceMissing` unless ``resource`` is found on NLTK's data path."""
    import nltk

    try:
        nltk.data.find(resource, paths=list(paths) if paths is not None else None)
    except LookupError:
        raise NLTKResourceMissing(
            f"NLTK resource {download_name!r} ({resource}) is not installed and cannot be downloaded on this "
            f"machine; on a machine with a network run `python -m nltk.downloader {download_name}` (or set "
            f"NLTK_DATA to a folder that holds it), or choose an option that needs no NLTK data "
            f"(--tokenizer treebank|regexp|tweet, --stemmer none|porter|snowball|lancaster, "
            f"--stopwords none|sklearn)") from None


@dataclasses.dataclass(frozen=True)
class TextPipeline:
    """Raw text → tokens: normalize quotes, tokenize, lower-case, mark negation, drop stop words, stem.

    ``process(texts)`` returns the tokens joined by single spaces, which is what the Keras
    ``TextVectorization`` layer (``standardize=None``, split on whitespace) and the saved model see.
    """

    tokenizer: str = "treebank"
    lowercase: bool = True
    negation: bool = True
    stemmer: str = "none"
    stopwords: str = "none"

    def __post_init__(self) -> None:
        for name, options in (("tokenizer", TOKENIZERS), ("stemmer", STEMMERS), ("stopwords", STOPWORDS)):
            value = getattr(self, name)
            if value not in options:
                raise UserError(f"{name} must be one of {list(options)}, got {value!r}")

    def check_resources(self, *, paths: Sequence[str] | None = None) -> "TextPipeline":
        """Fail early, with the install command, if an option needs NLTK data that is missing."""
        for (field, value), (resource, name) in NLTK_RESOURCES.items():
            if getattr(self, field) == value:
                require_nltk_resource(resource, name, paths=paths)
        return self

    # -- the steps -------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text after every step of the pipeline."""
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}; fill or drop missing texts")
        tokens = _tokenizer(self.tokenizer)(text.translate(_QUOTES))
        tokens = [t for t in (tok.strip() for tok in tokens) if t and not t.isspace()]
        if self.lowercase:
            tokens = [t.lower() for t in tokens]
        if self.negation:
            tokens = mark_negation(tokens)
        if self.stopwords != "none":
            stop = _stopword_set(self.stopwords)
            tokens = [t for t in tokens if _base(t).lower() not in stop or _base(t).lower() in NEGATORS]
        if self.stemmer != "none":
            stem = _stemmer(self.stemmer)
            tokens = [stem(_base(t)) + (NEG_SUFFIX if t.endswith(NEG_SUFFIX) else "") for t in tokens]
        return [t.replace(" ", "_") for t in tokens]

    def process(self, texts: Iterable[str]) -> list[str]:
        """Each text as its processed tokens joined by spaces (the model's input)."""
        return [" ".join(self.tokenize(t)) for t in texts]

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        import nltk

        return {**dataclasses.asdict(self), "nltk_version": nltk.__version__}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> "TextPipeline":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(payload) - fields - {"nltk_version"}
        if unknown:
            raise UserError(f"unknown text pipeline option(s) {sorted(unknown)}; the pipeline file was written by "
                             "another version: retrain the model")
        return cls(**{k: v for k, v in payload.items() if k in fields})


def mark_negation(tokens: list[str]) -> list[str]:
    """NLTK's ``mark_negation``: append ``_NEG`` to tokens after a negation up to the next . : ; ! ?"""
    from nltk.sentiment.util import mark_negation as _mark

    return _mark(list(tokens), shallow=True)


def ngrams(tokens: Sequence[str], n: int) -> list[str]:
    """Word n-grams (``nltk.util.ngrams``) joined by ``_``, e.g. for n-gram features or display."""
    from nltk.util import ngrams as _ngrams

    if n < 1:
        raise UserError(f"n must be >= 1, got {n}")
    return ["_".join(g) for g in _ngrams(list(tokens), n)]


def _base(token: str) -> str:
    return token[: -len(NEG_SUFFIX)] if token.endswith(NEG_SUFFIX) else token


@functools.lru_cache(maxsize=None)
def _tokenizer(name: str) -> Any:
    if name == "treebank":
        from nltk.tokenize import TreebankWordTokenizer

        treebank = TreebankWordTokenizer().tokenize
        # Treebank expects one sentence (it splits only a final period): split sentences first with a
        # regular expression, since NLTK's punkt sentence splitter needs downloaded data.
        return lambda text: [tok for sentence in _SENTENCE_END.split(text) for tok in treebank(sentence)]
    if name == "regexp":
        from nltk.tokenize import RegexpTokenizer

        return RegexpTokenizer(REGEXP_PATTERN).tokenize
    if name == "tweet":
        from nltk.tokenize import TweetTokenizer

        return TweetTokenizer(preserve_case=True, reduce_len=True).tokenize
    resource, download = NLTK_RESOURCES[("tokenizer", "punkt")]
    require_nltk_resource(resource, download)
    from nltk.tokenize import word_tokenize

    return word_tokenize


@functools.lru_cache(maxsize=None)
def _stemmer(name: str) -> Any:
    if name == "porter":
        from nltk.stem import PorterStemmer

        return PorterStemmer().stem
    if name == "snowball":
        from nltk.stem import SnowballStemmer

        return SnowballStemmer("english").stem
    if name == "lancaster":
        from nltk.stem import LancasterStemmer

        return LancasterStemmer().stem
    resource, download = NLTK_RESOURCES[("stemmer", "wordnet")]
    require_nltk_resource(resource, download)
    from nltk.stem import WordNetLemmatizer

    return WordNetLemmatizer().lemmatize


@functools.lru_cache(maxsize=None)
def _stopword_set(name: str) -> frozenset[str]:
    if name == "sklearn":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    resource, download = NLTK_RESOURCES[("stopwords", "nltk")]
    require_nltk_resource(resource, download)
    from nltk.corpus import stopwords

    return frozenset(stopwords.words("english"))


@functools.lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """Token → mean valence (−4 … +4) from the lexicon file the ``vaderSentiment`` package ships."""
    import vaderSentiment.vaderSentiment as vs

    path = Path(vs.__file__).with_name("vader_lexicon.txt")
    if not path.is_file():
        raise InputFileNotFound(f"the VADER lexicon is missing at {path}; reinstall vaderSentiment "
                                "(`pip install --force-reinstall vaderSentiment`)")
    lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2:
            try:
                lexicon[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return lexicon


def lexicon_valence(token: str) -> float | None:
    """VADER valence of a processed token (negation suffix removed), or None if not in the lexicon."""
    return vader_lexicon().get(re.sub(f"{NEG_SUFFIX}$", "", token).lower())
