"""``tagbox eval`` end to end on a two-track temporary dataset."""

from __future__ import annotations

import json

import pytest

from tagbox.cli import main
from tagbox.cli.eval import check_taggers, method_specs, parse_config, parse_value
from tests.evaluation.helpers import write_dataset


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "data")


def test_eval_prints_every_method_and_writes_json(dataset, tmp_path, capsys):
    out = tmp_path / "results.json"
    cache = str(tmp_path / "c")
    code = main(["eval", str(dataset), "--methods", "mixture,oracle,hpss", "--json", str(out), "--cache-dir", cache])
    printed = capsys.readouterr().out
    assert code == 0
    assert "SI-SDRi (dB" in printed and "| source | n | mixture | oracle | hpss |" in printed
    assert "| **overall** | 4 | 0.0 / 0.0 |" in printed  # the identity improves nothing
    data = json.loads(out.read_text())
    assert len(data["results"]) == 12 and not data["failures"]
    overall = {r["method"]: r for r in data["summary"] if r["source"] == "overall"}
    assert set(overall) == {"mixture", "oracle", "hpss"}
    assert overall["oracle"]["si_sdri_mean"] > 10
    # The JSON is not overwritten without --force.
    assert main(["eval", str(dataset), "--methods", "mixture", "--json", str(out)]) == 1
    assert "--force" in capsys.readouterr().err


def test_sources_and_max_tracks_narrow_the_run(dataset, tmp_path, capsys):
    args = ["eval", str(dataset), "--methods", "mixture", "--sources", "drums", "--max-tracks", "1"]
    assert main(args + ["--cache-dir", str(tmp_path / "c")]) == 0
    printed = capsys.readouterr().out
    assert "1 tracks" in printed and "| drums | 1 |" in printed and "organ" not in printed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sources", "vocals"], "no track has a stem named 'vocals'; stems found: drums, organ"),
        (["--methods", "mixture,nmf"], "unknown method 'nmf'"),
        (["--methods", "mixture", "--config", "fast=steps=5"], "does not include tagbox"),
        (["--methods", "tagbox", "--config", "fast=steps"], "'steps' is not key=value"),
    ],
)
def test_bad_requests_are_one_line_errors(dataset, tmp_path, capsys, args, message):
    assert main(["eval", str(dataset), *args, "--cache-dir", str(tmp_path / "c")]) == 1
    assert message in capsys.readouterr().err


def test_folder_without_tracks_is_an_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 1
    assert "no tracks found" in capsys.readouterr().err


def test_config_values_are_typed():
    assert parse_value("100") == 100 and parse_value("0.5") == 0.5
    assert parse_value("True") is True and parse_value("none") is None
    assert parse_value("2048:1024:512") == (2048, 1024, 512)
    assert parse_value("focused") == "focused"
    name, options = parse_config("focused=objective=focused,steps=100,fft_sizes=2048:1024")
    assert name == "focused"
    assert dict(options) == {"objective": "focused", "steps": 100, "fft_sizes": (2048, 1024)}
    assert parse_config("default=") == ("default", ())


def test_fooling_check_uses_the_configured_taggers():
    plain = method_specs("mixture,oracle", [])
    assert check_taggers(None, plain, "mtat-musicnn") == ()
    assert check_taggers("mtat-musicnn,jamendo-musicnn", plain, "x") == ("mtat-musicnn", "jamendo-musicnn")
    tagbox = method_specs("tagbox,mixture", ["a=steps=5"])
    assert check_taggers(None, tagbox, "mtat-musicnn") == ("mtat-musicnn",)
    assert check_taggers("none", tagbox, "mtat-musicnn") == ()
    ensemble = method_specs("tagbox", ["a=taggers=mtat-musicnn:jamendo-musicnn"])
    assert check_taggers(None, ensemble, "x") == ("mtat-musicnn", "jamendo-musicnn")
    single = method_specs("tagbox", ["a=taggers=jamendo-musicnn"])
    assert check_taggers(None, single, "x") == ("jamendo-musicnn",)
