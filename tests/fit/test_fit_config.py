"""`deepcases fit` options: YAML config, command-line precedence, --print-config, clear errors."""

import pytest
import yaml

from shared import cli
from shared.fit.config import FitConfig, from_mapping, load_yaml


def test_print_config_prints_yaml_that_reads_back_to_the_same_config(capsys, tmp_path):
    code = cli.main(["fit", "--print-config", "--target", "y", "--task", "regression", "--folds", "3",
                     "--hidden-units", "16,8", "--column-type", "zip=categorical"])
    assert code == 0
    path = tmp_path / "fit.yaml"
    path.write_text(capsys.readouterr().out)
    config = from_mapping(load_yaml(path))
    assert (config.target, config.task, config.folds) == ("y", "regression", 3)
    assert config.hidden_units == (16, 8)
    assert config.column_types == {"zip": "categorical"}
    assert config == FitConfig(target="y", task="regression", folds=3, hidden_units=(16, 8),
                               column_types={"zip": "categorical"})


def test_command_line_options_override_the_config_file(tmp_path, capsys):
    path = tmp_path / "fit.yaml"
    path.write_text("target: y\nfolds: 4\nepochs: 7\nhidden-units: [32]\ncolumn_types: {a: id}\n")
    assert cli.main(["fit", "--config", str(path), "--folds", "2", "--column-type", "b=categorical",
                     "--print-config"]) == 0
    resolved = yaml.safe_load(capsys.readouterr().out)
    assert resolved["folds"] == 2                      # command line wins
    assert resolved["epochs"] == 7 and resolved["hidden_units"] == [32]   # from the file
    assert resolved["column_types"] == {"a": "id", "b": "categorical"}
    assert resolved["batch_size"] == FitConfig.batch_size                  # default


def test_unknown_options_in_the_config_file_are_named(tmp_path, capsys):
    path = tmp_path / "fit.yaml"
    path.write_text("target: y\nfoldz: 3\n")
    assert cli.main(["fit", "--config", str(path), "--print-config"]) == 2
    assert "unknown option(s) ['foldz']" in capsys.readouterr().err


@pytest.mark.parametrize(("values", "message"), [
    ({"folds": 1}, "folds must be >= 2"),
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"task": "clustering"}, "task must be one of"),
    ({"column_types": {"a": "weird"}}, r"column_types\['a'\] must be one of"),
    ({"hidden_units": "a,b"}, "hidden_units must be a list of positive integers"),
    ({"dropout": 1.5}, r"dropout must be a number in \[0.0, 0.95\]"),
    ({"name": "../escape"}, "name must be a plain folder name"),
])
def test_bad_option_values_are_clear_errors(values, message):
    with pytest.raises(ValueError, match=message):
        from_mapping(values)


def test_a_missing_or_broken_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_yaml(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("target: [y\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_yaml(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_yaml(listing)


def test_the_run_folder_name_comes_from_the_data_file():
    assert FitConfig(data="some/dir/Breast Cancer.v2.csv").app_name == "fit_breast_cancer"
    assert FitConfig(data="x.csv", name="mine").app_name == "mine"
