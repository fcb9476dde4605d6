"""The project's ``kedro run --params``: colon and equals forms, errors, validation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kedro.framework.cli.cli import KedroCLI
from kedro.framework.cli.utils import _split_params

from microexpression_pipeline.cli import cli, split_params


def _parse(parser, value: str):
    command = click.Command("run", params=[click.Option(["--params"])])
    ctx = click.Context(command)
    return parser(ctx, command.params[0], value)


EQUALS_ITEMS = [
    "mode=binary",
    "model=cnn+lstm",
    "training.epochs=3",
    "training.learning_rate=0.003",
    "training.early_stopping=true",
    "flag=False",
    "seed=0",
    "name=a:b:c",
    "uri=s3://bucket/data",
    "evaluation.protocol=loso,training.batch_size=16",
]


@pytest.mark.parametrize("item", EQUALS_ITEMS)
def test_colon_form_types_values_exactly_like_kedro(item: str) -> None:
    expected = _parse(_split_params, item)  # Kedro's own parser, `=` form
    colon = ",".join(part.replace("=", ":", 1) for part in item.split(","))
    assert _parse(split_params, colon) == expected
    assert _parse(split_params, item) == expected


def test_values_are_typed() -> None:
    parsed = _parse(split_params, "training.epochs:3,lr:0.5,flag:true,mode:binary")
    assert parsed == {"training": {"epochs": 3}, "lr": 0.5, "flag": True, "mode": "binary"}
    assert type(parsed["training"]["epochs"]) is int
    assert type(parsed["flag"]) is bool


def test_list_values_keep_their_commas() -> None:
    parsed = _parse(split_params, "synthetic.margin_frames:[1,2],mode:binary,x={a: 1, b: 2}")
    assert parsed == {
        "synthetic": {"margin_frames": [1, 2]},
        "mode": "binary",
        "x": {"a": 1, "b": 2},
    }


def test_first_separator_wins() -> None:
    assert _parse(split_params, "a=b:c") == {"a": "b:c"}
    assert _parse(split_params, "a:b=c") == {"a": "b=c"}


@pytest.mark.parametrize("bad", ["modebinary", ":binary", "=binary", "mode:binary,oops"])
def test_malformed_item_is_a_usage_error_showing_both_forms(bad: str) -> None:
    with pytest.raises(click.BadParameter) as excinfo:
        _parse(split_params, bad)
    message = str(excinfo.value)
    assert "key:value" in message
    assert "key=value" in message


def test_project_run_keeps_every_kedro_option() -> None:
    from kedro.framework.cli.project import run as kedro_run

    ours = cli.commands["run"]
    assert [p.name for p in ours.params] == [p.name for p in kedro_run.params] + ["verbose"]
    assert ours.params[[p.name for p in ours.params].index("params")].callback is split_params
    # Kedro's own command object is left untouched.
    kedro_params = kedro_run.params[[p.name for p in kedro_run.params].index("params")]
    assert kedro_params.callback is not split_params


def _invoke(project: Path, *args: str):
    return CliRunner().invoke(KedroCLI(project_path=project), list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("mode:foo", ["mode", "'foo'", "binary, multiclass, megc3"]),
        ("mode=foo", ["mode", "'foo'", "binary, multiclass, megc3"]),
        (
            "model:resnet",
            [
                "model",
                "3dcnn, cnn_lstm, convlstm2d, 2dcnn, ststnet, offapexnet, "
                "rcn_a, cnn+lstm, rcn-a, study, flow, all",
            ],
        ),
        ("training.epochs:-1", ["training.epochs", "greater than or equal to 0", "-1"]),
        ("seed:-1", ["seed", "non-negative integer", "-1"]),
        ("seed:abc", ["seed", "'abc'"]),
        ("data_source:nope", ["data_source", "'nope'", "synthetic, real"]),
    ],
)
def test_bad_values_stop_the_run_before_any_node(
    project_copy: Path, params: str, expected: list[str]
) -> None:
    result = _invoke(project_copy, "run", "--params", params)
    assert result.exit_code == 2, result.output
    for fragment in expected:
        assert fragment in result.output
    # Nothing ran: no MLflow run started, no data written.
    if (project_copy / "mlflow.db").exists():
        with sqlite3.connect(project_copy / "mlflow.db") as db:
            assert db.execute("select count(*) from runs").fetchone() == (0,)
    assert not any((project_copy / "data").iterdir())


def test_malformed_item_through_the_real_cli(project_copy: Path) -> None:
    result = _invoke(project_copy, "run", "--params", "modebinary")
    assert result.exit_code == 2
    assert "key:value" in result.output
    assert "key=value" in result.output
