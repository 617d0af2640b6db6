"""shared.options: one declaration per option, read into argparse and back into the frozen config."""

from __future__ import annotations

import dataclasses

import pytest

from shared.app import RunOptions
from shared.options import comma_list, nested, option, parse_config, require_at_least


@dataclasses.dataclass(frozen=True)
class _Inner:
    epochs: int = option(5, help="maximum epochs")
    kernel_sizes: tuple[int, ...] = option((3, 4), help="widths")


def _positive(text):
    models = comma_list(text)
    if not models:
        raise ValueError(f"--models must list at least one model, got {text!r}")
    return models


@dataclasses.dataclass(frozen=True)
class _Config(RunOptions):
    source: str | None = option("sample", cli_default=None, choices=["sample", "csv"], group="data",
                                help="where from (default: derived)")
    n_origins: int = option(12, flag="--origins", group="protocol", help="forecast origins")
    rate: float | None = option(None, group="protocol", help="a rate")
    grid: tuple[float, ...] = option((1.0, 2.0), group="protocol", help="a grid")
    span: tuple[float, float] = option((0.5, 5.0), metavar=("LOW", "HIGH"), group="protocol", help="a range")
    models: tuple[str, ...] = option(("a", "b"), convert=_positive, group="protocol", help="comma-separated")
    fill: bool = option(True, flag="--no-fill", action="store_false", group="data", help="do not fill")
    texts: tuple[str, ...] = option((), action="append", metavar="TEXT", help="repeatable")
    inner: _Inner = nested(_Inner(), group="model")
    hidden: int = 7  # not an option
    trials: int = 20  # an inherited option with this application's default


def _validate(config, error):
    require_at_least(config, error, 1, "n_origins")
    return dataclasses.replace(config, source=config.source or "sample")


def _parse(argv):
    return parse_config(_Config, argv, prog="demo", description="Demo.", validate=_validate)


def test_defaults_are_the_declared_ones_and_the_config_is_frozen():
    config = _parse([])
    assert config == _Config(source="sample")
    assert config.trials == 20 and config.seed == 42 and config.inner == _Inner()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1


def test_given_options_land_in_their_fields_as_tuples():
    config = _parse(["--source", "csv", "--origins", "3", "--rate", "0.5", "--grid", "4", "5", "--span", "1", "9",
                     "--models", "x, y", "--no-fill", "--texts", "hi", "--texts", "yo", "--epochs", "9",
                     "--kernel-sizes", "2", "--seed", "3", "--tune", "grid", "--trials", "4"])
    assert (config.source, config.n_origins, config.rate, config.grid, config.span) == (
        "csv", 3, 0.5, (4.0, 5.0), (1.0, 9.0))
    assert (config.models, config.fill, config.texts, config.inner) == (
        ("x", "y"), False, ("hi", "yo"), _Inner(epochs=9, kernel_sizes=(2,)))
    assert (config.seed, config.tune, config.trials, config.hidden) == (3, "grid", 4, 7)


@pytest.mark.parametrize("argv, message", [
    (["--origins", "0"], "demo: error: --origins must be >= 1, got 0"),
    (["--models", " , "], "demo: error: --models must list at least one model, got ' , '"),
    (["--source", "web"], "argument --source: invalid choice: 'web'"),
    (["--hidden", "3"], "unrecognized arguments: --hidden 3"),
])
def test_bad_options_exit_2_with_the_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_help_has_the_groups_flags_and_texts_once(capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for text in ("--origins ORIGINS", "forecast origins", "--span LOW HIGH", "--no-fill", "--epochs EPOCHS",
                 "maximum epochs", "--trials TRIALS"):
        assert text in out, text
    headings = [line for line in out.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings == ["options:", "data:", "protocol:", "model:", "run:",
                        "hyperparameter search (training/validation data only):", "maps:"]
    assert "--hidden" not in out


def test_every_application_takes_the_learned_map_options(capsys):
    from applications.survival.main import parse_args

    config = parse_args(["--learned-maps", "pca", "--map-points", "500"])
    assert (config.learned_maps, config.map_points) == ("pca", 500)
    assert parse_args([]).learned_maps == "umap" and parse_args([]).map_points == 2000
    for bad in ("12", "many"):
        with pytest.raises(SystemExit):
            parse_args(["--map-points", bad])
        assert "--map-points must be an integer >= 30" in capsys.readouterr().err
