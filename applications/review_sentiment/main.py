"""Review sentiment: a BiLSTM, a text CNN, a Transformer and a pretrained MiniLM against the classic text baselines.

    deepcases run review_sentiment                       # bundled Rotten Tomatoes snippets, 1 seed
    deepcases run review_sentiment --seeds 3 --cv-folds 5 --results-file results/review_sentiment.json
    deepcases run review_sentiment --source csv --path reviews.csv --text-column review --label-column stars
    deepcases run review_sentiment --source parquet --path /tmp/scale_data/review_sentiment_x10   # streamed
    deepcases run review_sentiment --model-dir runs/review_sentiment/RUN --predict "a joyless slog" --explain "..."

Protocol (PROTOCOLS.md §Sentiment): stratified 80/20 split (``train_test_split``, seed 42), the deep
models' early-stopping validation part carved from the training part only, vocabularies fitted on
the training texts only; accuracy, macro F1 and ROC-AUC on the test part for the deep models and
the majority, VADER, TF-IDF + logistic regression, NB-SVM and character n-gram SVM baselines; 5-fold
stratified cross-validation of the best deep model (chosen on validation accuracy, not on test).
The from-scratch models read the NLTK-processed texts; the pretrained encoder (all-MiniLM-L6-v2,
installed by data_scripts/fetch_pretrained_text.py) reads the raw texts, frozen (sentence embeddings
+ logistic regression) or fine-tuned.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from shared.app import CaseStudyRun, RunOptions, UserError, cli_main, finish_run, start_run
from shared.options import comma_list, nested, option, parse_config
from shared.streaming import StreamOptions, check_stream_arguments
from shared.tuning import Choice, Float

from . import text as textlib
from .models import DeepParams
from shared.errors import InputFileNotFound

log = logging.getLogger(__name__)

APP = "review_sentiment"
#: the demo: a stratified 4,000-snippet slice of the bundled sample, one seed, 4 epochs at a higher rate, no CV;
#: the frozen pretrained encoder (a minute), no fine-tuning
QUICK_ARGS = ["--max-rows", "4000", "--seeds", "1", "--cv-folds", "0", "--epochs", "4", "--learning-rate", "3e-3",
              "--baseline-cv", "3", "--models", "bilstm,cnn,transformer,minilm_frozen",
              "--explain", "Not the masterpiece it wants to be, but never boring."]
#: the full PROTOCOLS.md protocol: all 12,752 snippets, 3 seeds per deep model, 5-fold CV of the best one
# Fine-tuning is the slow part on 2 CPU cores (about 4 min an epoch): 2 epochs per seed on the split, and 1 per fold
# in the CV, keep the whole protocol near its 90-minute budget (one epoch was 0.829 and two 0.833 accuracy, 1 seed).
FULL_ARGS = ["--seeds", "3", "--cv-folds", "5", "--models", "bilstm,cnn,transformer,minilm_frozen,minilm_finetuned",
             "--finetune-epochs", "2", "--cv-finetune-epochs", "1"]
DEEP_NAMES = {"bilstm": "bilstm", "cnn": "text_cnn", "transformer": "transformer_scratch",
              "minilm_frozen": "minilm_frozen", "minilm_finetuned": "minilm_finetuned"}
KIND_OF = {name: kind for kind, name in DEEP_NAMES.items()}
#: the kinds --tune and --source parquet can train (the search space and the stream are the from-scratch models')
SCRATCH_RNN_CNN = ("bilstm", "cnn")
ENSEMBLE = "bilstm_cnn_ensemble"
# The hyperparameter search space (``--tune``) of the first of --models, declared once. Trials train on the
# training part minus a stratified TUNE_VALIDATION share of it (early stopping carved from the rest, as usual)
# and are scored by accuracy on that share; the test part is never passed to the search. ``units`` is the
# LSTM units per direction (bilstm) or the filters per kernel width (cnn).
SEARCH_SPACE = [
    Float("learning_rate", 3e-4, 1e-2, log=True),
    Choice("batch_size", [32, 64, 128]),
    Choice("units", [16, 32, 64]),
    Choice("embedding_dim", [32, 64, 128]),
    Float("dropout", 0.0, 0.6, step=0.1),
    Choice("l2", [0.0, 1e-5, 1e-4, 1e-3]),
]
TUNE_VALIDATION = 0.2


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _models(text: str) -> tuple[str, ...]:
    models = comma_list(text)
    if not models or any(m not in DEEP_NAMES for m in models):
        raise ValueError(f"--models must list some of {', '.join(DEEP_NAMES)}, got {text!r}")
    return models


NLTK, USE = "NLTK preprocessing (deep models; saved beside the model)", "use the model"


@dataclasses.dataclass(frozen=True)
class SentimentConfig(RunOptions, StreamOptions):  # StreamOptions: --source parquet's split rule, chunk, buffer
    # data
    source: str = option("sample", choices=["sample", "csv", "parquet"], group="data",
                         help="sample: bundled Rotten Tomatoes snippets (offline); csv: your file (--path); parquet: "
                              "a directory of Parquet parts, trained and evaluated from a stream")
    path: str | None = option(None, group="data", help="CSV or Parquet file of labelled texts (with --source csv), "
                                                       "or a directory of Parquet files (with --source parquet)")
    text_column: str = option("text", group="data", help="column holding the texts (default: text)")
    label_column: str = option("label", group="data", help="column holding the labels (default: label)")
    positive_label: str | None = option(None, group="data",
                                        help="for two classes: the label that counts as positive (ROC-AUC, VADER); "
                                             "default: the second in sorted order")
    max_rows: int | None = option(None, group="data",
                                  help="use a stratified random subset of this many texts (quick runs); default: all")
    test_size: float = 0.2
    # NLTK preprocessing of the deep models' input
    tokenizer: str = option("treebank", choices=textlib.TOKENIZERS, group=NLTK,
                            help="treebank, regexp or tweet need no NLTK data; punkt needs `python -m nltk.downloader "
                                 "punkt_tab`")
    lowercase: bool = option(True, type=_bool, group=NLTK, help="lower-case tokens (true/false)")
    negation: bool = option(True, type=_bool, group=NLTK,
                            help="mark tokens after a negation with _NEG (nltk mark_negation; true/false)")
    stemmer: str = option("none", choices=textlib.STEMMERS, group=NLTK,
                          help="none, porter, snowball, lancaster (no data needed) or wordnet (lemmatizer; needs "
                               "`python -m nltk.downloader wordnet`)")
    stopwords: str = option("none", choices=textlib.STOPWORDS, group=NLTK,
                            help="none; sklearn (scikit-learn's English list, negations kept); nltk (needs "
                                 "`python -m nltk.downloader stopwords`)")
    # deep models
    models: tuple[str, ...] = option(("bilstm", "cnn"), convert=_models, group="deep models",
                                     help="comma-separated deep models to train: bilstm (NLP family), cnn (text CNN), "
                                          "transformer (from scratch), minilm_frozen (pretrained sentence embeddings + "
                                          "logistic regression), minilm_finetuned (pretrained, every layer trained)")
    seeds: int = option(1, group="deep models",
                        help="seeds per deep model (seed, seed+1, ...); the table shows mean ± std (protocol: 3)")
    cv_folds: int = option(0, group="deep models",
                           help="stratified k-fold CV of the best deep model over all texts (protocol: 5; 0 = off)")
    cv_finetune_epochs: int | None = option(None, group="deep models",
                                            help="minilm_finetuned in the --cv-folds CV: maximum fine-tuning epochs "
                                                 "per fold (default: --finetune-epochs)")
    deep: DeepParams = nested(DeepParams(), group="deep models")  # --epochs, --batch-size, ... (models.py)
    # baselines
    baseline_cv: int = option(5, group="baselines",
                              help="folds of the CV (on training texts) that picks C of TF-IDF + logistic regression")
    # use of the trained model
    predict: tuple[str, ...] = option((), action="append", metavar="TEXT", group=USE,
                                      help="a text to classify (repeatable); printed with label and probability")
    predict_file: str | None = option(None, group=USE,
                                      help="file of texts to classify: one per line, or a CSV with --text-column")
    explain: tuple[str, ...] = option((), action="append", metavar="TEXT", group=USE,
                                      help="a text to explain by token occlusion (repeatable): text and figure")
    model_dir: str | None = option(None, group=USE, help="a finished run directory: load its model instead of "
                                                         "training (for --predict/--explain)")
    n_explain: int = option(2, group=USE,
                            help="test reviews explained in the figures: this many correct and this many wrong")

    def pipeline(self) -> textlib.TextPipeline:
        return textlib.TextPipeline(tokenizer=self.tokenizer, lowercase=self.lowercase, negation=self.negation,
                                    stemmer=self.stemmer, stopwords=self.stopwords)


def _validate(c: SentimentConfig, error: Callable[[str], NoReturn]) -> None:
    """The checks across options (--models checks itself as it is read)."""
    p = c.deep
    checks = [(c.seeds >= 1, "--seeds must be >= 1"),
              (c.cv_folds == 0 or c.cv_folds >= 2, "--cv-folds must be 0 or >= 2"),
              (p.epochs >= 1, "--epochs must be >= 1"), (p.batch_size >= 1, "--batch-size must be >= 1"),
              (p.patience >= 0, "--patience must be >= 0"), (0 <= p.dropout < 1, "--dropout must be in [0, 1)"),
              (p.learning_rate > 0, "--learning-rate must be > 0"), (p.l2 >= 0, "--l2 must be >= 0"),
              (p.max_tokens >= 3, "--max-tokens must be >= 3"),
              (p.sequence_length >= 1, "--sequence-length must be >= 1"),
              (p.embedding_dim >= 1 and p.lstm_units >= 1 and p.filters >= 1, "sizes must be >= 1"),
              (0 < p.val_fraction < 0.5, "--val-fraction must be in (0, 0.5)"),
              (c.baseline_cv >= 2, "--baseline-cv must be >= 2"), (c.n_explain >= 0, "--n-explain must be >= 0"),
              (c.max_rows is None or c.max_rows >= 8, "--max-rows must be >= 8"),
              (c.trials >= 1, "--trials must be >= 1"),
              (c.tune is None or c.source != "parquet", "--tune needs --source sample or csv (not parquet)"),
              (c.tune is None or c.models[0] in SCRATCH_RNN_CNN,
               "--tune searches the first of --models, which must be bilstm or cnn"),
              (c.source != "parquet" or set(c.models) <= set(SCRATCH_RNN_CNN),
               "--source parquet streams the bilstm and cnn models only; pass --models bilstm,cnn"),
              (p.transformer_blocks >= 1 and p.transformer_heads >= 1, "--transformer-blocks/heads must be >= 1"),
              (p.embedding_dim % p.transformer_heads == 0 or "transformer" not in c.models,
               "--transformer-heads must divide --embedding-dim"),
              (0 <= p.transformer_dropout < 1, "--transformer-dropout must be in [0, 1)"),
              (p.finetune_epochs >= 1 and p.finetune_batch_size >= 1,
               "--finetune-epochs and --finetune-batch-size must be >= 1"),
              (p.finetune_learning_rate > 0, "--finetune-learning-rate must be > 0"),
              (c.cv_finetune_epochs is None or c.cv_finetune_epochs >= 1, "--cv-finetune-epochs must be >= 1"),
              (p.max_seq_len is None or 3 <= p.max_seq_len <= 512, "--max-seq-len must be in [3, 512]"),
              (c.source in ("csv", "parquet") or c.path is None, "--path is only used with --source csv or parquet"),
              (c.source != "parquet" or c.path is not None, "--source parquet needs --path DIR"),
              (c.source != "parquet" or c.max_rows is None,
               "--max-rows does not apply to --source parquet (the stream reads every row of the directory)"),
              (check_stream_arguments(c) is None, str(check_stream_arguments(c))),
              (c.source != "csv" or c.path is not None or c.model_dir is not None,
               "--source csv needs --path FILE")]
    for ok, message in checks:
        if not ok:
            error(message)


def parse_args(argv: Sequence[str] | None = None) -> SentimentConfig:
    return parse_config(SentimentConfig, argv, prog="deepcases run review_sentiment",
                        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                        validate=_validate)


# -- data ---------------------------------------------------------------------------------------------
def load_corpus(config: SentimentConfig):  # noqa: ANN201 - returns data.Corpus
    from . import data

    if config.source == "csv":
        if config.path is None:
            raise UserError("--source csv needs --path FILE (a CSV with a text and a label column)")
        corpus = data.load_csv(config.path, text_column=config.text_column, label_column=config.label_column,
                               positive_label=config.positive_label, encoding=config.encoding)
    else:
        corpus = data.load_sample()
    return data.stratified_subsample(corpus, config.max_rows, seed=config.seed)


def texts_to_use(config: SentimentConfig) -> list[str]:
    """The texts of --predict and --predict-file, validated."""
    texts = list(config.predict)
    if config.predict_file:
        path = Path(config.predict_file)
        if not path.is_file():
            raise InputFileNotFound(f"--predict-file not found: {path}; pass a text file (one text per line) or a CSV")
        if path.suffix.lower() in (".csv", ".parquet") or path.name.endswith((".csv.gz", ".csv.bz2")):
            from shared.data import read_table, require_columns

            frame = require_columns(read_table(path, what="--predict-file"), [config.text_column],
                                    what=f"--predict-file {path.name}", hint="pass the text column with --text-column")
            texts += [str(t) for t in frame[config.text_column].dropna()]
        else:
            texts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(texts) == len(config.predict):
            raise UserError(f"--predict-file {path} holds no texts; put one text per line")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise UserError(f"--predict text number {empty[0] + 1} is empty; pass non-empty texts")
    return texts


# -- the case study --------------------------------------------------------------------------------------
@dataclasses.dataclass
class DeepOutcome:
    """What training the deep models over the seeds produced."""

    metrics: dict[str, list[dict[str, float]]]      # model -> per-seed test metrics
    val_accuracy: dict[str, list[float]]             # model -> per-seed validation accuracy
    test_proba: dict[str, np.ndarray]                # model -> test probabilities of the first seed
    kept: dict[str, Any]                             # model -> TrainedModel of the first seed (saved)
    epoch_seconds: dict[str, list[float]]

    @property
    def best(self) -> str:
        """Highest mean validation accuracy: the test part plays no role in the choice."""
        return max(self.val_accuracy, key=lambda n: float(np.mean(self.val_accuracy[n])))

    @property
    def best_single(self) -> str:
        """The best model that is one network (saved for --predict and mapped)."""
        return max(self.kept, key=lambda n: float(np.mean(self.val_accuracy[n])))


def run_case_study(config: SentimentConfig, *, verbose: int = 0) -> CaseStudyRun:
    from shared.artifacts import fingerprint_frame
    from shared.data import stratified_split
    from shared.results import CaseStudyResult, mean_and_std

    from . import baselines as bl
    from . import models as deep

    started = time.perf_counter()
    pipeline = config.pipeline().check_resources()      # a missing NLTK resource fails before any work
    extra_texts = texts_to_use(config)
    if config.source == "parquet":  # streamed: the texts never all in memory
        return _run_parquet(config, pipeline, extra_texts, started, verbose=verbose)
    corpus = load_corpus(config)
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    dataset = {**fingerprint_frame(corpus.frame, name=corpus.name), **corpus.info()}
    run.write_data_info(dataset)
    classes, k = corpus.classes, corpus.n_classes
    raw, y = corpus.texts, corpus.labels
    t0 = time.perf_counter()
    processed = np.asarray(pipeline.process(raw), dtype=object)   # per-text and stateless: nothing is fitted
    prep_seconds = time.perf_counter() - t0
    train, test = stratified_split(y, test_size=config.test_size, seed=config.seed)
    log.info("split: %d train / %d test texts, %d classes %s; NLTK preprocessing took %.1f s",
             len(train), len(test), k, list(classes), prep_seconds)

    outcome = _train_deep_models(config, processed, raw, y, train, test, k, verbose=verbose)
    result = CaseStudyResult(app=APP, protocol=f"stratified {1 - config.test_size:.0%}/{config.test_size:.0%} "
                             f"split, seed {config.seed}", dataset=dataset)
    accuracy, acc_std, roc_scores = {}, {}, {}
    seeds = [config.seed + i for i in range(config.seeds)]
    for name, runs in outcome.metrics.items():
        mean, std = mean_and_std(runs)
        note = (f"mean of {len(runs)} seeds" if len(runs) > 1 else "1 seed") + \
            f"; val acc {np.mean(outcome.val_accuracy[name]):.4f}"
        result.add(name, "deep", mean, seeds=seeds, std=std if len(runs) > 1 else None, note=note)
        accuracy[name], acc_std[name] = mean["accuracy"], std.get("accuracy", 0.0)
        roc_scores[name] = outcome.test_proba[name]
    best, best_single = outcome.best, outcome.best_single
    log.info("best deep model on validation accuracy: %s", best)
    if config.tune:
        _tune_and_test(config, run, result, processed, y, train, test, k, seeds, verbose=verbose)

    baseline_extra = _run_baselines(config, result, raw, y, train, test, k, accuracy, roc_scores)
    first = next(iter(outcome.kept.values()))
    result.extra.update({
        "reference_protocols_md": bl.REFERENCE if _is_reference_protocol(config, corpus.name) else None,
        "best_deep_model": best, "best_deep_selection": "highest mean validation accuracy (validation carved "
        "from the training part); the test part plays no role in the choice",
        **baseline_extra,
        "seconds_per_epoch": {n: round(float(np.mean(v)), 2) for n, v in outcome.epoch_seconds.items()},
        "epochs_run": {n: len(t.history.get("loss", [])) for n, t in outcome.kept.items()},
        "model_settings": {n: t.info for n, t in outcome.kept.items() if t.info},   # e.g. MiniLM sequence length
        "nltk_preprocessing_seconds": round(prep_seconds, 2), "preprocessing": pipeline.to_dict(),
        "split": {"train": int(len(train)), "test": int(len(test)), "validation_inside_train": int(first.val_size)},
    })

    # the models and what --predict needs
    for name, trained in outcome.kept.items():
        run.save_model(trained.model, f"model_{name}")
        if trained.history:   # minilm_frozen has no epochs
            run.write_history(trained.history, f"history_{name}")
    raw_input = KIND_OF[best_single] in deep.RAW_INPUT_KINDS
    deep.write_pipeline(run.path, pipeline=pipeline, classes=classes, model_file=f"model_{best_single}.keras",
                        model_name=best_single, params=config.deep, raw_input=raw_input)
    predictor = deep.Predictor(model=outcome.kept[best_single].model, pipeline=pipeline, classes=classes,
                               model_name=best_single, raw_input=raw_input)
    _figures(config, run, outcome, predictor, processed[test], raw[test], y[test], accuracy, acc_std, roc_scores,
             train_texts=raw[train])

    results = [result]
    if config.cv_folds:
        results.append(_cross_validate(config, best, processed, raw, y, k, dataset))

    _write_user_outputs(run, predictor, extra_texts, config.explain)
    return finish_run(APP, run, results, started=started, results_file=config.results_file)


def _write_user_outputs(run: CaseStudyRun, predictor: Any, extra_texts: Sequence[str],
                        explain: Sequence[str]) -> None:
    """The predictions (--predict) and explanations (--explain) the user asked for, by ``predictor``."""
    from shared.artifacts import write_csv, write_text

    if extra_texts:
        frame = _prediction_frame(predictor, list(extra_texts))
        write_csv(run.path / "predictions.csv", frame)
        write_text(run.path / "predictions.txt", _prediction_text(frame, predictor.model_name))
    if explain:
        from . import plots

        user = [predictor.explain(t) for t in explain]
        plots.explanation_figure(run, user, "explanations_user", title=f"{predictor.model_name} on your texts")
        write_text(run.path / "explanations.txt", "\n\n".join(e.as_text() for e in user) + "\n")


def _run_parquet(config: SentimentConfig, pipeline: Any, extra_texts: list[str], started: float, *,
                 verbose: int) -> CaseStudyRun:
    """--source parquet: see stream.py; --predict/--explain then use the saved best model."""
    from . import models as deep
    from .stream import run_streaming

    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    result = run_streaming(config, run, verbose=verbose)
    if extra_texts or config.explain:
        _write_user_outputs(run, deep.load_predictor(run.path), extra_texts, config.explain)
    return finish_run(APP, run, [result], started=started, results_file=config.results_file)


def _with_hp(params: DeepParams, hp: dict[str, Any]) -> DeepParams:
    """``params`` with one point of SEARCH_SPACE (``units`` sets both the LSTM units and the CNN filters)."""
    return dataclasses.replace(params, learning_rate=float(hp["learning_rate"]), batch_size=int(hp["batch_size"]),
                               lstm_units=int(hp["units"]), filters=int(hp["units"]),
                               embedding_dim=int(hp["embedding_dim"]), dropout=float(hp["dropout"]),
                               l2=float(hp["l2"]))


def tuning_objective(config: SentimentConfig, texts: np.ndarray, labels: np.ndarray, k: int, *, verbose: int = 0
                     ) -> tuple[Any, dict[str, int]]:
    """The ``--tune`` objective: hyperparameters -> validation accuracy of the first of ``--models``.

    ``texts``/``labels`` are the (NLTK-processed) TRAINING part only; the caller never passes test
    texts. A stratified ``TUNE_VALIDATION`` share of them (seed ``--seed``) scores the trials; the rest
    trains them (vocabulary, early-stopping slice and weights). Returns the objective and the sizes.
    """
    from . import models as deep

    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    fit, val = deep.carve_validation(labels, TUNE_VALIDATION, seed=config.seed)
    kind = config.models[0]

    def objective(hp: dict[str, Any]) -> float:
        trained = deep.train(kind, texts[fit], labels[fit], params=_with_hp(config.deep, hp), n_classes=k,
                             seed=config.seed, verbose=verbose)
        return _accuracy(labels[val], deep.predict_proba(trained.model, texts[val]))

    return objective, {"fit": int(len(fit)), "validation": int(len(val))}


def _tune_and_test(config: SentimentConfig, run: Any, result: Any, processed: np.ndarray, y: np.ndarray,
                   train: np.ndarray, test: np.ndarray, k: int, seeds: list[int], *, verbose: int) -> None:
    """--tune: search on the training part, retrain the best config on all of it per seed, test once."""
    from shared.evaluation import classification_metrics
    from shared.results import mean_and_std
    from shared.tuning import tune
    from shared.viz import plot_tuning_scores

    from . import models as deep

    kind = config.models[0]
    objective, sizes = tuning_objective(config, processed[train], y[train], k, verbose=verbose)
    search = tune(objective, SEARCH_SPACE, method=config.tune, trials=config.trials, directory=run.path / "tuning",
                  direction="max", seed=config.seed)
    tuned = _with_hp(config.deep, search.best)
    runs = []
    for seed in seeds:
        trained = deep.train(kind, processed[train], y[train], params=tuned, n_classes=k, seed=seed, verbose=verbose)
        proba = deep.predict_proba(trained.model, processed[test])
        runs.append(_pick(classification_metrics(y[test], proba, labels=list(range(k)))))
    mean, std = mean_and_std(runs)
    name = f"{DEEP_NAMES[kind]}_tuned"
    result.add(name, "deep", mean, seeds=seeds, std=std if len(runs) > 1 else None,
               note=f"best of {config.trials} {config.tune}-search trials on accuracy of a {TUNE_VALIDATION:.0%} "
                    "validation share of the training part, retrained on the training part, tested once")
    result.extra["tuning"] = {
        "method": config.tune, "trials": config.trials, "model": DEEP_NAMES[kind],
        "completed_trials": int((search.trials["status"] == "COMPLETED").sum()), "best": search.best,
        "best_val_score": search.best_score, "score": "validation accuracy (share of the training part)",
        "sizes": sizes, "per_seed": runs, "search_space": [p.name for p in SEARCH_SPACE], "directory": "tuning/"}
    run.save_figure(plot_tuning_scores(search.trials, [p.name for p in SEARCH_SPACE], score_name="validation accuracy",
                                       direction="max", log_params=("learning_rate", "l2")), "tuning_scores")


def _is_reference_protocol(config: SentimentConfig, dataset_name: str) -> bool:
    from .data import SAMPLE_NAME

    return (dataset_name == SAMPLE_NAME and config.max_rows is None and config.test_size == 0.2
            and config.seed == 42)


def _train_deep_models(config: SentimentConfig, processed: np.ndarray, raw: np.ndarray, y: np.ndarray,
                       train: np.ndarray, test: np.ndarray, k: int, *, verbose: int) -> DeepOutcome:
    """Each deep model for each seed (seed, seed+1, ...); plus the BiLSTM + CNN average when both are trained.

    The from-scratch models read the NLTK-processed texts, the MiniLM ones the raw texts; every model
    carves the same validation part (same seed, same labels)."""
    from shared.evaluation import classification_metrics

    from . import models as deep

    out = DeepOutcome(metrics={}, val_accuracy={}, test_proba={}, kept={}, epoch_seconds={})
    seeds = [config.seed + i for i in range(config.seeds)]
    y_train, y_test = y[train], y[test]

    def texts_for(kind: str) -> np.ndarray:
        return raw if kind in deep.RAW_INPUT_KINDS else processed

    def record(name: str, test_p: np.ndarray, val_y: np.ndarray, val_p: np.ndarray, first: bool) -> None:
        out.metrics.setdefault(name, []).append(_pick(classification_metrics(y_test, test_p, labels=list(range(k)))))
        out.val_accuracy.setdefault(name, []).append(_accuracy(val_y, val_p))
        if first:
            out.test_proba[name] = test_p

    for seed in seeds:
        test_p, val_p = {}, {}
        for kind in config.models:
            name = DEEP_NAMES[kind]
            x_train, x_test = texts_for(kind)[train], texts_for(kind)[test]
            log.info("training %s (seed %d) on %d texts", name, seed, len(train))
            trained = deep.train(kind, x_train, y_train, params=config.deep, n_classes=k, seed=seed, verbose=verbose)
            val_idx = trained.val_idx   # positions inside the training part, used only for early stopping
            test_p[name] = deep.predict_proba(trained.model, x_test)
            val_p[name] = deep.predict_proba(trained.model, x_train[val_idx])
            record(name, test_p[name], y_train[val_idx], val_p[name], seed == seeds[0])
            out.epoch_seconds.setdefault(name, []).append(trained.epoch_seconds)
            if seed == seeds[0]:
                out.kept[name] = trained
        pair = ("bilstm", "text_cnn")
        if all(n in test_p for n in pair):   # both architectures averaged: one more deep model, no extra training
            # (same seed and labels, so both models were stopped on the same validation carve-out)
            record(ENSEMBLE, np.mean([test_p[n] for n in pair], axis=0), y_train[val_idx],
                   np.mean([val_p[n] for n in pair], axis=0), seed == seeds[0])
    return out


def _run_baselines(config: SentimentConfig, result: Any, raw: np.ndarray, y: np.ndarray, train: np.ndarray,
                   test: np.ndarray, k: int, accuracy: dict[str, float], roc_scores: dict[str, Any]) -> dict[str, Any]:
    """Fit every PROTOCOLS.md baseline on the raw training texts, score the test texts, add them to ``result``.

    Raw texts and scikit-learn's default analyzers, as the reference implementations. BLAS is kept to
    one thread: on a 2-core machine shared with other jobs, more threads only oversubscribe it.
    """
    from threadpoolctl import threadpool_limits

    from . import baselines as bl

    x_train, x_test = list(raw[train]), list(raw[test])
    seconds = {}
    with threadpool_limits(limits=1):
        for model in bl.all_baselines(k, seed=config.seed, cv=config.baseline_cv):
            t0 = time.perf_counter()
            model.fit(x_train, y[train])
            metrics, _, scores = bl.evaluate(model, x_test, y[test], n_classes=k)
            seconds[model.name] = round(time.perf_counter() - t0, 2)
            note = (f"C = {model.c_:g} by {config.baseline_cv}-fold CV on train"
                    if isinstance(model, bl.TfidfLogReg) else None)
            result.add(model.name, "baseline", metrics, note=note)
            accuracy[model.name] = metrics["accuracy"]
            roc_scores[model.name] = scores
        plain = bl.NBSVM(beta=1.0).fit(x_train, y[train])
        plain_metrics = bl.evaluate(plain, x_test, y[test], n_classes=k)[0]
    return {"nbsvm_without_interpolation": plain_metrics, "baseline_fit_seconds": seconds,
            "skipped_baselines": [] if k == 2 else ["vader (binary only)"]}


def _figures(config: SentimentConfig, run: Any, outcome: DeepOutcome, predictor: Any, x_test: np.ndarray,
             raw_test: np.ndarray, y_test: np.ndarray, accuracy: dict[str, float], acc_std: dict[str, float],
             roc_scores: dict[str, Any], *, train_texts: np.ndarray) -> None:
    """ROC curves, confusion matrix, learning curves, comparison bars, representation map, explanations."""
    from shared.artifacts import write_json, write_text

    from . import models as deep
    from . import plots

    best, best_single, classes = outcome.best, outcome.best_single, predictor.classes
    plots.roc_figure(run, y_test, {n: s for n, s in roc_scores.items() if s is not None and np.ndim(s) == 1},
                     title=f"ROC curves on the test part ({len(y_test):,} texts)")
    best_pred = deep.predicted_class(outcome.test_proba[best])
    plots.confusion_figure(run, y_test, best_pred, classes, title=f"{best}: confusion matrix (test)")
    write_json(run.path / "confusion.json", {"model": best, "classes": list(classes),
                                             "matrix": _confusion(y_test, best_pred, len(classes))})
    plots.learning_curve_figures(run, {n: t.history for n, t in outcome.kept.items() if t.history.get("loss")})
    plots.comparison_figure(run, accuracy, acc_std, deep=list(outcome.metrics))
    single_proba = outcome.test_proba[best_single]
    single_pred = deep.predicted_class(single_proba)
    names = np.asarray(classes, dtype=object)
    # the map shows the fine-tuned encoder's representation when there is one, else the best single model's
    mapped = "minilm_finetuned" if "minilm_finetuned" in outcome.kept else best_single
    map_inputs = raw_test if KIND_OF[mapped] in deep.RAW_INPUT_KINDS else x_test
    vectors = deep.sentence_vectors(outcome.kept[mapped].model, list(map_inputs))
    plots.representation_map(run, vectors, list(names[y_test]), list(raw_test),
                             list(names[deep.predicted_class(outcome.test_proba[mapped])]),
                             train_texts=list(train_texts), model_name=mapped, seed=config.seed,
                             max_points=config.map_points, methods=config.learned_maps)
    from shared.models import token_embeddings

    # learned word vectors (TensorBoard's projector): of the best single model that has its own vocabulary
    for name in sorted(outcome.kept, key=lambda n: (n != best_single, n)):
        try:
            words, word_vectors = token_embeddings(outcome.kept[name].model, max_words=5000)
        except ValueError:   # the Transformer nests its embedding; MiniLM's WordPiece table is not learned here
            continue
        if len(words) >= 3:
            run.export_embeddings("word_embeddings", word_vectors, {"word": words})
        break
    explanations = _explain_test_examples(predictor, raw_test, y_test, single_pred, single_proba, config.n_explain)
    plots.explanation_figure(run, explanations, "explanations_test",
                             title=f"{best_single} on test reviews (correct and wrong)")
    write_text(run.path / "explanations_test.txt", "\n\n".join(e.as_text() for e in explanations) + "\n")


def _pick(metrics: dict[str, float]) -> dict[str, float]:
    return {key: metrics[key] for key in ("accuracy", "macro_f1", "roc_auc")}


def _accuracy(y_true: np.ndarray, proba: np.ndarray) -> float:
    from .models import predicted_class

    return float((predicted_class(proba) == y_true).mean())


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> list[list[int]]:
    from shared.evaluation import confusion

    return confusion(y_true, y_pred, labels=list(range(k))).tolist()


def _explain_test_examples(predictor: Any, texts: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                           proba: np.ndarray, n: int) -> list[Any]:
    """Occlusion for the ``n`` most confident correct and the ``n`` most confident wrong test reviews."""
    if n == 0:
        return []
    confidence = np.abs(proba - 0.5) if proba.ndim == 1 else proba.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    short = np.array([len(t) <= 140 for t in texts])   # short reviews make readable figures
    picks = [i for i in order if y_pred[i] == y_true[i] and short[i]][:n] + \
        [i for i in order if y_pred[i] != y_true[i] and short[i]][:n]
    return [predictor.explain(str(texts[i]), true_label=predictor.classes[int(y_true[i])]) for i in picks]


def _cross_validate(config: SentimentConfig, best: str, processed: np.ndarray, raw: np.ndarray, y: np.ndarray,
                    k: int, dataset: dict[str, Any]) -> Any:
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from shared.evaluation import cross_validate, summarize_folds
    from shared.results import CaseStudyResult

    from . import baselines as bl
    from . import models as deep

    def metric(name: str):  # noqa: ANN202
        def score(y_true: Any, proba: Any) -> float:
            return _pick_one(y_true, proba, name, k)
        return score

    metrics = {m: metric(m) for m in ("accuracy", "macro_f1", "roc_auc")}
    splitter = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    kinds = [KIND_OF[best]] if best in KIND_OF else list(SCRATCH_RNN_CNN)   # the ensemble: BiLSTM + CNN
    texts = raw if kinds[0] in deep.RAW_INPUT_KINDS else processed
    params = config.deep
    if config.cv_finetune_epochs is not None:
        params = dataclasses.replace(params, finetune_epochs=config.cv_finetune_epochs)
    log.info("%d-fold CV of %s over %d texts", config.cv_folds, best, len(y))
    folds = cross_validate(lambda: deep.KerasTextClassifier(kinds, params=params, n_classes=k, seed=config.seed),
                           texts, y, splitter=splitter, metrics=metrics, seed=config.seed)
    with threadpool_limits(limits=1):
        lr_folds = cross_validate(lambda: bl.ProbaAdapter(bl.TfidfLogReg(seed=config.seed, cv=config.baseline_cv)),
                                  raw, y, splitter=splitter, metrics=metrics)
    cv = CaseStudyResult(app=APP, protocol=f"{config.cv_folds}-fold stratified CV, seed {config.seed}",
                         dataset=dataset)
    for name, kind, frame in ((best, "deep", folds), ("tfidf_logreg", "baseline", lr_folds)):
        summary = summarize_folds(frame)
        epochs = f", {params.finetune_epochs} fine-tuning epoch(s) per fold" if kinds[0] == "minilm_finetuned" else ""
        cv.add(name, kind, summary["mean"].to_dict(), std=summary["std"].to_dict(),
               note=f"mean ± std over {config.cv_folds} folds" + (epochs if kind == "deep" else ""))
        cv.extra[f"folds_{name}"] = frame.to_dict(orient="records")
    cv.extra["reference_protocols_md"] = {"tfidf_logreg_accuracy": list(bl.REFERENCE_CV_TFIDF_LOGREG)}
    return cv


def _pick_one(y_true: Any, proba: Any, name: str, k: int) -> float:
    from shared.evaluation import classification_metrics

    return classification_metrics(np.asarray(y_true), np.asarray(proba), labels=list(range(k)))[name]


def _prediction_frame(predictor: Any, texts: list[str]):  # noqa: ANN202
    import pandas as pd

    matrix = predictor.probability_matrix(texts)
    labels = [predictor.classes[i] for i in matrix.argmax(axis=1)]
    frame = pd.DataFrame({"text": texts, "label": labels, "probability": matrix.max(axis=1).round(4)})
    for j, name in enumerate(predictor.classes):
        frame[f"p_{name}"] = matrix[:, j].round(4)
    return frame


def _prediction_text(frame: Any, model_name: str) -> str:
    lines = [f"predictions of {model_name}:"]
    for row in frame.itertuples(index=False):
        snippet = row.text if len(row.text) <= 70 else row.text[:67] + "..."
        lines.append(f"  {row.label:<10} p = {row.probability:.3f}  {snippet}")
    return "\n".join(lines) + "\n"


# -- use a saved run -----------------------------------------------------------------------------------
def use_saved_model(config: SentimentConfig) -> str:
    """--model-dir: predict and explain with a saved run, no training; returns the text to print."""
    from shared.artifacts import save_figure

    from .explain import plot_explanations
    from .models import load_predictor

    texts = texts_to_use(config)
    if not texts and not config.explain:
        raise UserError("--model-dir needs something to do: add --predict TEXT, --predict-file FILE or --explain TEXT")
    predictor = load_predictor(config.model_dir)
    parts = []
    if texts:
        parts.append(_prediction_text(_prediction_frame(predictor, texts), predictor.model_name))
    if config.explain:
        found = [predictor.explain(t) for t in config.explain]
        figure = Path(config.model_dir) / "figures" / "explanations_user.png"
        save_figure(plot_explanations(found, title=f"{predictor.model_name} on your texts"), figure)
        parts.append("\n\n".join(e.as_text() for e in found) + f"\n\nfigure: {figure}\n")
    return "\n".join(parts)


def _saved_model_mode(config: SentimentConfig) -> str | None:
    return use_saved_model(config) if config.model_dir is not None else None


def _present(outcome: CaseStudyRun) -> str:
    """The user's own predictions and explanations, when the run made some."""
    paths = (outcome.run_dir.path / name for name in ("predictions.txt", "explanations.txt"))
    return "\n".join(path.read_text(encoding="utf-8") for path in paths if path.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study, shortcut=_saved_model_mode,
                    present=_present)


if __name__ == "__main__":  # pragma: no cover
    from shared.console import console_entry

    raise SystemExit(console_entry(main))
