"""The shared search: every method runs, the best config is the best trial, a rerun resumes."""

import pandas as pd
import pytest

from shared.tuning import Choice, Float, Int, tune

SPACE = [Float("x", -2.0, 2.0, step=0.5), Int("n", 1, 3), Choice("flag", [True, False])]


def _objective(calls):
    def score(hp):
        calls.append(hp)
        return (hp["x"] - 0.5) ** 2 + hp["n"] + (0 if hp["flag"] else 1)
    return score


@pytest.mark.parametrize("method", ["random", "grid", "bayes"])
def test_search_returns_the_best_trial_and_logs_trials(tmp_path, method):
    calls = []
    result = tune(_objective(calls), SPACE, method=method, trials=4, directory=tmp_path, seed=1)
    assert len(calls) == 4
    scores = [(c["x"] - 0.5) ** 2 + c["n"] + (0 if c["flag"] else 1) for c in calls]
    assert result.best_score == pytest.approx(min(scores))
    frame = pd.read_csv(result.trials_csv)
    assert len(frame) == 4 and {"x", "n", "flag", "score"} <= set(frame.columns)
    assert any((tmp_path / "hparams").rglob("*tfevents*"))


def test_interrupted_search_resumes(tmp_path):
    first = []
    tune(_objective(first), SPACE, method="random", trials=2, directory=tmp_path, seed=3)
    second = []
    result = tune(_objective(second), SPACE, method="random", trials=4, directory=tmp_path, seed=3)
    assert len(first) == 2 and len(second) == 2  # the two finished trials were not rerun
    assert len(result.trials) == 4


def test_bad_search_definitions(tmp_path):
    with pytest.raises(ValueError, match="method must be one of"):
        tune(lambda hp: 0.0, SPACE, method="evolution", directory="unused")
    with pytest.raises(ValueError, match="low < high"):
        Float("lr", 1.0, 0.1)
    with pytest.raises(ValueError, match="low must be > 0"):
        Float("lr", 0.0, 0.1, log=True)
    with pytest.raises(ValueError, match="grid search needs a step"):
        tune(lambda hp: 0.0, [Float("lr", 0.1, 1.0)], method="grid", directory=tmp_path / "grid")
    assert not (tmp_path / "grid").exists()  # nothing written for a rejected search
