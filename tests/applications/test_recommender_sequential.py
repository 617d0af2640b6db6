"""Sequential recommenders: the sequence builder, causality, the tied full-softmax loss, ranking by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.recommender.evaluate import evaluate_ranker, rank_top_k
from applications.recommender.indexing import IdIndex, interaction_matrix
from applications.recommender.sequences import build_sequences, left_pad, ordered_tokens
from applications.recommender.splits import protocol_b_split


def _frame(rows):
    return pd.DataFrame({"user": [r[0] for r in rows], "item": [r[1] for r in rows],
                         "timestamp": pd.to_datetime([r[2] for r in rows], unit="s")})


def test_sequences_follow_protocol_order_with_ties_left_padding_and_shift():
    # user 1: items 30 @ t=5, then 10 and 20 tie at t=7 (larger id later: 10, 20), then 40 @ t=9
    frame = _frame([(1, 40, 9), (1, 20, 7), (1, 30, 5), (1, 10, 7), (2, 20, 1)])
    users, items = IdIndex(frame["user"]), IdIndex(frame["item"])  # item tokens: 10->1, 20->2, 30->3, 40->4
    seq = build_sequences(frame, users, items, max_len=5)
    assert ordered_tokens(frame, users, items)[0].tolist() == [3, 1, 2, 4]
    assert seq.history.tolist() == [[0, 3, 1, 2, 4], [0, 0, 0, 0, 2]]
    # user 2 has one interaction: a history, but no next-item pair
    assert seq.train_rows.tolist() == [0]
    assert seq.inputs.tolist() == [[0, 0, 3, 1, 2]] and seq.targets.tolist() == [[0, 0, 1, 2, 4]]
    # padding sits exactly where there is no target (no loss on it)
    assert ((seq.inputs == 0) == (seq.targets == 0)).all()


def test_max_len_keeps_the_latest_items_and_windows_cover_every_target_once():
    frame = _frame([(1, i, i) for i in range(1, 8)])  # tokens 1..7 in time order
    users, items = IdIndex(frame["user"]), IdIndex(frame["item"])
    latest = build_sequences(frame, users, items, max_len=3)
    assert latest.history.tolist() == [[5, 6, 7]]
    assert latest.inputs.tolist() == [[4, 5, 6]] and latest.targets.tolist() == [[5, 6, 7]]
    every = build_sequences(frame, users, items, max_len=3, all_windows=True)
    assert every.inputs.tolist() == [[4, 5, 6], [1, 2, 3]] and every.targets.tolist() == [[5, 6, 7], [2, 3, 4]]
    assert sorted(every.targets[every.targets > 0].tolist()) == [2, 3, 4, 5, 6, 7]


def test_the_held_out_item_never_enters_the_sequences():
    frame = _frame([(u, i, t) for u in (1, 2, 3) for t, i in enumerate(np.random.default_rng(u).permutation(12)[:6])])
    train, test = protocol_b_split(frame, min_interactions=2)
    users, items = IdIndex(train["user"]), IdIndex(train["item"])
    seq = build_sequences(train, users, items, max_len=10, all_windows=True)
    tokens = items.transform(test["item"]) + 1  # 0 where the item is only in test (it cannot appear at all)
    assert (tokens > 0).sum() >= 2  # the check below must bite: most held-out items are other users' training items
    for user, token in zip(test["user"], tokens):
        row = users.transform([user])[0]
        windows = seq.train_rows == row
        if token == 0:
            continue
        assert token not in seq.history[row]
        assert token not in seq.inputs[windows] and token not in seq.targets[windows]


def test_bad_inputs_are_clear_errors():
    frame = _frame([(1, 10, 1), (1, 20, 2)])
    users, items = IdIndex(frame["user"]), IdIndex([10])  # item 20 is outside the training index
    with pytest.raises(ValueError, match="outside the training indexes"):
        ordered_tokens(frame, users, items)
    with pytest.raises(ValueError, match="max_len must be an int >= 1"):
        left_pad([np.array([1])], 0)
    with pytest.raises(ValueError, match="lack column"):
        ordered_tokens(frame.drop(columns="timestamp"), users, items)


def test_parse_args_validates_the_sequential_options():
    from applications.recommender.main import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--max-len", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--seq-models", "bert4rec"])
    with pytest.raises(SystemExit):
        parse_args(["--seq-models", "sasrec", "--seq-dim", "10", "--sasrec-heads", "3"])
    assert parse_args(["--seq-models"]).seq_models == ()
    assert parse_args(["--seq-models", "sasrec", "gru4rec", "sasrec"]).seq_models == ("sasrec", "gru4rec")


def test_max_len_below_one_names_the_option(capsys):
    from applications.recommender.main import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--max-len", "0"])
    assert "--max-len must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--sasrec-max-len", "0"])
    assert "--sasrec-max-len must be >= 1" in capsys.readouterr().err


def test_each_sequential_model_reads_its_own_history_length():
    from applications.recommender.main import parse_args, seq_settings

    config = parse_args(["--max-len", "30", "--sasrec-max-len", "120"])
    assert seq_settings(config, "gru4rec").max_len == 30
    assert seq_settings(config, "sasrec").max_len == 120
    # sasrec's default history is 50 items: a validation tie with 200 at a quarter of the cost
    defaults = parse_args([])
    assert seq_settings(defaults, "sasrec").max_len == 50
    assert defaults.seq_refit is True and parse_args(["--no-seq-refit"]).seq_refit is False


def test_ranking_one_user_by_hand_excludes_seen_and_unknown_items():
    from applications.recommender.sequential_protocol import _columns_scorer

    class Fixed:  # a trained model reduced to its outputs: one user state, three item vectors
        def user_states(self, history):
            return np.array([[1.0, 2.0]] * len(history), dtype=np.float32)

        def item_embeddings(self):
            return np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)  # model items a, b, c

        def item_bias(self):
            return np.array([0.5, 0.0, 0.0], dtype=np.float32)

    model_items, items = IdIndex(["a", "b", "c"]), IdIndex(["a", "b", "c", "d"])  # "d" unknown to the model
    score = _columns_scorer(Fixed(), np.zeros((1, 4), np.int32), model_items, items)
    assert score(np.array([0])).tolist() == [[1.5, 2.0, 3.0, -np.inf]]  # u·a + 0.5, u·b = 2, u·c = 3
    seen = interaction_matrix(np.array([0]), np.array([2]), n_users=1, n_items=4)  # the user has c
    assert rank_top_k(score, seen, np.array([0]), k=3).tolist() == [[1, 0, 3]]  # b, a, then d last
    outcome = evaluate_ranker(score, seen, np.array([0]), np.array([0]), k=1)  # held-out a is 2nd: a miss at 1
    assert outcome.metrics == {"hr@1": 0.0, "ndcg@1": 0.0}


def test_remapped_history_drops_items_the_model_never_saw():
    from applications.recommender.sequential_protocol import _remapped_history

    train = _frame([(1, 10, 1), (1, 99, 2), (1, 20, 3)])
    history = _remapped_history(train, IdIndex([1]), IdIndex([10, 20]), 4)
    assert history.tolist() == [[0, 0, 1, 2]]


# ----------------------------------------------------------------------------------------------- models
def _causal_check(model, max_len, n_items, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, n_items + 1, size=(4, max_len)).astype(np.int32)
    tokens[:, :2] = 0  # left padding
    base = model(tokens, training=False).numpy()
    for t in range(2, max_len - 1):
        changed = tokens.copy()
        changed[:, t + 1:] = rng.integers(1, n_items + 1, size=(4, max_len - t - 1))
        out = model(changed, training=False).numpy()
        np.testing.assert_allclose(out[:, :t + 1], base[:, :t + 1], atol=1e-5,
                                   err_msg=f"position {t} saw a later item")
        assert not np.allclose(out[:, t + 1:], base[:, t + 1:])  # the later positions did change


def test_gru4rec_is_causal_and_round_trips(tmp_path):
    from applications.recommender.sequential import build_gru4rec
    from shared.models._keras import keras

    model = build_gru4rec(n_items=20, max_len=8, dim=8, layers=1, dropout=0.1)
    _causal_check(model, 8, 20)
    path = tmp_path / "gru4rec.keras"
    model.save(path)
    tokens = np.array([[0, 0, 3, 4, 5, 6, 7, 8]], np.int32)
    np.testing.assert_allclose(keras().models.load_model(path)(tokens).numpy(), model(tokens).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="max_len must be >= 1"):
        build_gru4rec(n_items=20, max_len=0)


def test_sasrec_is_causal_through_the_shared_encoder():
    pytest.importorskip("shared.models.attention")
    from applications.recommender.sequential import build_sasrec

    model = build_sasrec(n_items=20, max_len=8, dim=8, blocks=2, heads=2, dropout=0.1)
    _causal_check(model, 8, 20)


def test_full_softmax_loss_matches_a_hand_computed_cross_entropy():
    from applications.recommender.sequential import SequentialRanker, SequentialSettings

    ranker = SequentialRanker(n_items=3, settings=SequentialSettings(architecture="gru4rec", max_len=3, dim=4,
                                                                     blocks=1, dropout=0.0))
    tokens = np.array([[0, 1, 2], [3, 1, 2]], np.int32)
    targets = np.array([[0, 2, 3], [1, 2, 3]], np.int32)
    hidden = ranker.model(tokens, training=False).numpy()
    table = ranker.embedding.get_weights()[0]  # (4, dim): row 0 = padding, never a prediction
    bias = np.array([9.0, 0.3, -0.2, 0.1], np.float32)  # the padding bias must not matter either
    ranker.output_layer.set_weights([bias])
    per_row = ranker.trainer({"tokens": tokens, "targets": targets}, training=False).numpy()
    expected = []
    for r in range(2):
        total = 0.0
        for t in range(3):
            if targets[r, t] == 0:
                continue
            logits = hidden[r, t] @ table[1:].T + bias[1:]
            total += np.log(np.exp(logits).sum()) - logits[targets[r, t] - 1]
        expected.append(total)
    np.testing.assert_allclose(per_row, expected, rtol=1e-5)


def test_sequential_ranker_learns_a_deterministic_next_item_rule():
    from applications.recommender.sequential import SequentialRanker, SequentialSettings
    from shared.training import set_seed

    set_seed(0)
    n, length = 12, 6
    rng = np.random.default_rng(0)
    starts = rng.integers(0, n, size=240)
    seqs = (starts[:, None] + np.arange(length + 1)[None, :]) % n + 1  # each item is followed by the next id
    ranker = SequentialRanker(n_items=n, settings=SequentialSettings(architecture="gru4rec", max_len=length, dim=16,
                                                                     blocks=1, dropout=0.0, learning_rate=1e-2,
                                                                     batch_size=32))
    history = ranker.fit(seqs[:, :-1], seqs[:, 1:], epochs=25)
    assert history["loss"][-1] < history["loss"][0]
    predicted = ranker.scorer(seqs[:20, 1:])(np.arange(20)).argmax(axis=1) + 1  # next after the last input
    assert (predicted == seqs[:20, -1] % n + 1).mean() >= 0.9


def test_shuffled_ties_hide_the_id_order_the_tie_rule_leaks():
    from applications.recommender.sequences import same_timestamp_share

    # one basket of 8 items at t=5 (in id order under the protocol), then the next basket at t=9
    frame = _frame([(1, i, 5) for i in range(10, 90, 10)] + [(1, 95, 9), (2, 10, 1), (2, 20, 2)])
    users, items = IdIndex(frame["user"]), IdIndex(frame["item"])
    protocol = ordered_tokens(frame, users, items)[0]
    assert protocol.tolist() == list(range(1, 10))  # ids ascending inside the basket: the leak
    orders = [ordered_tokens(frame, users, items, ties="shuffled", seed=s)[0] for s in range(4)]
    for order in orders:
        assert sorted(order[:8].tolist()) == list(range(1, 9)) and order[8] == 9  # baskets stay in time order
    assert len({tuple(o.tolist()) for o in orders}) > 1  # the seed draws the order inside a basket...
    again = ordered_tokens(frame, users, items, ties="shuffled", seed=2)[0]
    assert again.tolist() == orders[2].tolist()  # ...reproducibly
    # an interaction keeps its place whatever else the frame holds (fit part vs whole training part)
    part = frame[frame["item"] != 40]
    sub = ordered_tokens(part, IdIndex(part["user"]), items, ties="shuffled", seed=2)[0]
    assert sub.tolist() == [t for t in orders[2].tolist() if t != items.transform([40])[0] + 1]
    with pytest.raises(ValueError, match="ties must be one of"):
        ordered_tokens(frame, users, items, ties="random")
    # the artifact's size: user 1's held-out 95 @ t=9 is alone, user 2's 20 @ t=2 too; then a tie
    train, test = frame[frame["item"] != 95], frame[frame["item"] == 95]
    assert same_timestamp_share(train, test) == 0.0
    tied = frame.assign(timestamp=frame["timestamp"].where(frame["item"] != 95, frame["timestamp"].iloc[0]))
    assert same_timestamp_share(tied[tied["item"] != 95], tied[tied["item"] == 95]) == 1.0


def test_sequential_seeds_are_resumable_units(tmp_path):
    """A rerun in the same run directory reads every seed back, the first seed's weights included."""
    from applications.recommender.main import _matrix
    from applications.recommender.sequential import SequentialSettings
    from applications.recommender.sequential_protocol import SplitData, run_sequential
    from applications.recommender.splits import validation_split
    from shared.resume import Resume

    rng = np.random.default_rng(0)
    frame = _frame([(u, int(i), t) for u in range(20) for t, i in enumerate(rng.permutation(30)[:8])])
    train, test = protocol_b_split(frame, min_interactions=3)
    fit, val = validation_split(train, min_interactions=3)
    users, items, f_users, f_items = (IdIndex(train["user"]), IdIndex(train["item"]), IdIndex(fit["user"]),
                                      IdIndex(fit["item"]))
    split = SplitData(train=train, fit=fit, users=users, items=items, f_users=f_users, f_items=f_items,
                      x=_matrix(users, items, users.transform(train["user"]), items.transform(train["item"])),
                      fx=_matrix(f_users, f_items, f_users.transform(fit["user"]), f_items.transform(fit["item"])),
                      rows=users.transform(test["user"]), held=items.transform(test["item"]),
                      v_rows=f_users.transform(val["user"]), v_held=f_items.transform(val["item"]))
    settings = SequentialSettings(architecture="gru4rec", max_len=6, dim=8, epochs=2, patience=1, batch_size=8)
    outcomes = []
    for _ in range(2):
        resume = Resume(tmp_path, {"test": 1})
        outcomes.append(run_sequential(settings, split, seeds=[3, 4], refit=True, resume=resume, key="movielens/B/gru"))
    assert resume.reused == ["movielens/B/gru/seed3", "movielens/B/gru/seed4"]
    first, again = outcomes
    assert [o.metrics for o in again.per_seed] == [o.metrics for o in first.per_seed]
    assert np.array_equal(again.model.item_embeddings(), first.model.item_embeddings())
    assert np.array_equal(again.user_states, first.user_states)
    assert np.allclose(again.model.user_states(np.zeros((1, 6), np.int32) + 1),
                       first.model.user_states(np.zeros((1, 6), np.int32) + 1))
