import numpy as np
import pandas as pd
import pytest

from shared.data import parse_dates, read_table, require_columns, require_finite, require_positive
from shared.data.pipelines import array_dataset, iter_parquet_batches, parquet_dataset


def test_validation_messages_name_the_problem(tmp_path):
    frame = pd.DataFrame({"date": ["2020-01-01", "not a date"], "close": [1.0, -2.0], "v": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"missing column\(s\) \['price'\]"):
        require_columns(frame, ["price"], what="prices.csv")
    with pytest.raises(ValueError, match="'v' has 1 missing or non-numeric"):
        require_finite(frame, ["v"])
    with pytest.raises(ValueError, match="'close' has 1 zero or negative"):
        require_positive(frame, ["close"])
    with pytest.raises(ValueError, match="'not a date'"):
        parse_dates(frame, "date")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_table(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n")
    with pytest.raises(ValueError, match="has no rows"):
        read_table(header_only)
    with pytest.raises(FileNotFoundError, match="check the --path"):
        read_table(tmp_path / "missing.csv")


def test_array_dataset_batches():
    ds = array_dataset(np.arange(10).reshape(5, 2), np.arange(5), batch_size=2)
    sizes = [int(x.shape[0]) for x, _ in ds]
    assert sizes == [2, 2, 1]
    with pytest.raises(ValueError, match="x has 5 rows but y has 4"):
        array_dataset(np.zeros((5, 2)), np.zeros(4))


def test_parquet_streaming_reads_in_chunks_and_sees_every_row(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for part in range(3):
        pd.DataFrame({"user": np.arange(part * 100, part * 100 + 100), "rating": np.ones(100)}).to_parquet(
            folder / f"part-{part}.parquet")
    chunks = list(iter_parquet_batches(folder, chunk_rows=40))
    assert max(len(c) for c in chunks) <= 40
    assert sum(len(c) for c in chunks) == 300
    ds = parquet_dataset(folder, features=["user"], target="rating", batch_size=64, chunk_rows=50,
                         shuffle_buffer=100, seed=3)
    users = np.concatenate([x["user"].numpy() for x, _ in ds])
    assert sorted(users.tolist()) == list(range(300))
    assert users.tolist() != list(range(300))  # shuffled within the buffer
    with pytest.raises(FileNotFoundError, match="no .parquet files"):
        list(iter_parquet_batches(tmp_path / "nothing"))
