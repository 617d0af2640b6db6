"""Survival loaders and CSV validation: real datasets load with the protocol's shape, the outcome
leak of SUPPORT's fac_sfdm2 is shown and removed, bad CSVs give clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.survival.data import (load_csv, load_dataset, load_support, median_event_time,
                                        validate_survival_frame)


@pytest.fixture(scope="module")
def support():
    return load_support()


def test_support_loads_9105_patients_without_id_and_leaky_column(support):
    assert support.n == 9105 and support.n_events == 6201
    assert "pid" not in support.covariates and "fac_sfdm2" not in support.covariates
    assert set(support.dropped) == {"pid", "fac_sfdm2"}
    assert all(c.startswith("num_") for c in support.numeric)
    assert all(c.startswith("fac_") for c in support.categorical)
    assert median_event_time(support) == 58
    assert np.all(support.time > 0) and set(np.unique(support.event)) == {0, 1}


@pytest.mark.parametrize("name, rows, events, horizon", [("whas500", 500, 215, 166), ("gbsg2", 686, 299, 646)])
def test_scikit_survival_datasets_and_their_horizons(name, rows, events, horizon):
    data = load_dataset(name)
    assert (data.n, data.n_events, median_event_time(data)) == (rows, events, horizon)
    assert data.categorical and data.numeric


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="unknown dataset 'mimic'.*support"):
        load_dataset("mimic")


def test_fac_sfdm2_leaks_the_outcome_and_dropping_it_removes_the_leak():
    """A logistic regression at H = 58 days on a slice of SUPPORT: near-perfect AUC with fac_sfdm2,
    an ordinary clinical AUC without it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from applications.survival.features import SurvivalPreprocessor
    from shared.survival import horizon_labels

    aucs = {}
    for keep in (True, False):
        data = load_support(keep_leaky=keep)
        label, known = horizon_labels(data.time, data.event, 58)
        rows = np.flatnonzero(known)[:3000]
        train, test = train_test_split(rows, test_size=0.5, random_state=0, stratify=label[rows])
        pre = SurvivalPreprocessor(data.numeric, data.categorical).fit(data.covariates.iloc[train])
        model = LogisticRegression(max_iter=2000).fit(pre.transform(data.covariates.iloc[train]), label[train])
        aucs[keep] = roc_auc_score(label[test], model.predict_proba(pre.transform(data.covariates.iloc[test]))[:, 1])
    assert aucs[True] > 0.97, aucs
    assert aucs[False] < 0.93 and aucs[True] - aucs[False] > 0.05, aucs


def _cohort(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"days": rng.integers(1, 300, n).astype(float), "died": (rng.random(n) < 0.5).astype(int),
                         "age": rng.normal(60, 10, n), "stage": rng.choice(["I", "II", "III"], n)})


def test_csv_loader_types_columns(tmp_path):
    frame = _cohort()
    frame.loc[3, "stage"] = np.nan
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    data = load_csv(path, duration_column="days", event_column="died")
    assert data.numeric == ("age",) and data.categorical == ("stage",)
    assert data.covariates.loc[3, "stage"] == "missing"
    assert data.n == 40 and data.name == "cohort"


@pytest.mark.parametrize("mutate, match", [
    (lambda f: f.assign(days=f.days.where(f.index != 5, -3.0)), "duration column 'days'.*positive and finite"),
    (lambda f: f.assign(days=f.days.where(f.index != 5, 0.0)), "zero or negative.*positive and finite"),
    (lambda f: f.assign(days=f.days.where(f.index != 5, np.nan)), "missing.*positive and finite"),
    (lambda f: f.assign(days=f.days.astype(object).where(f.index != 5, "soon")), "'soon'"),
    (lambda f: f.assign(died=f.died.where(f.index != 2, 2)), "event column 'died' must hold 0/1"),
    (lambda f: f.assign(died=0), "0 event.*at least 5"),
    (lambda f: f.assign(age=np.nan), r"\['age'\] are entirely missing"),
    (lambda f: f.drop(columns=["died"]), "missing column.*'died'.*--event-column"),
    (lambda f: f[["days", "died"]], "no covariate columns"),
    (lambda f: f.head(12), "only 12 rows"),
])
def test_bad_csvs_give_clear_errors(tmp_path, mutate, match):
    path = tmp_path / "bad.csv"
    mutate(_cohort()).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        load_csv(path, duration_column="days", event_column="died")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_csv(tmp_path / "nope.csv", duration_column="d", event_column="e")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_csv(tmp_path / "empty.csv", duration_column="d", event_column="e")


def test_text_events_are_accepted_when_they_are_0_1_or_true_false():
    frame = _cohort().assign(died=lambda f: np.where(f.died == 1, "True", "false"))
    data = validate_survival_frame(frame, duration="days", event="died")
    assert data.n_events == (frame.died == "True").sum()
    with pytest.raises(ValueError, match="found \\['dead'"):
        validate_survival_frame(frame.assign(died="dead"), duration="days", event="died")
