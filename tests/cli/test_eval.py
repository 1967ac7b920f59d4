"""``tagbox eval`` end to end on a two-track temporary dataset."""

from __future__ import annotations

import argparse
import json
import sys

import pytest

from tagbox import metrics
from tagbox.cli import main
from tagbox.cli.eval import check_taggers, method_specs, parse_config, parse_seeds, parse_value
from tests.evaluation.helpers import clicks, tone, write_dataset, write_track


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
        (["--methods", "tagbox", "--config", "fast=seed=3"], "--config fast sets seed: use --seeds"),
        (["--methods", "mixture,hpss", "--baseline", "tagbox"], "--baseline 'tagbox' is not a method of this run"),
        (["--methods", "mixture", "--absent", "-1"], "--absent must be at least 0"),
        (["--methods", "tagbox", "--config", "fast=stepz=5"], "unknown setting 'stepz' (did you mean 'steps'?)"),
        (["--methods", "tagbox", "--config", "fast=latent=mask,components=4"],
         "components (--components) is a setting of the nmf latent; the mask latent does not take it"),
        (["--methods", "tagbox", "--config", "f=preset=faithful,init_gain=0.5"],
         "init_gain (--init-gain) is a setting of the nmf and mask latents; the vqvae latent does not take it"),
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


def test_seeds_parse_and_expand_only_the_seeded_methods():
    assert parse_seeds("0,1,2") == (0, 1, 2)
    for bad in ("0,0", "a", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seeds(bad)
    specs = method_specs("tagbox,mixture", ["a=steps=5", "b="], (0, 1))
    assert [(s.label, s.seed) for s in specs] == [
        ("tagbox:a", 0), ("tagbox:a", 1), ("tagbox:b", 0), ("tagbox:b", 1), ("mixture", None)
    ]


def test_bad_seeds_are_a_usage_error(dataset, capsys):
    with pytest.raises(SystemExit):
        main(["eval", str(dataset), "--seeds", "1,x"])
    assert "not a comma-separated list of integers" in capsys.readouterr().err


def test_dataset_folders_of_the_same_name_are_refused(tmp_path, capsys):
    write_dataset(tmp_path / "a" / "data")
    write_dataset(tmp_path / "b" / "data")
    assert main(["eval", str(tmp_path / "a" / "data"), str(tmp_path / "b" / "data"), "--methods", "mixture"]) == 1
    assert "two dataset folders are named 'data'" in capsys.readouterr().err


@pytest.fixture
def two_roots(tmp_path):
    write_track(tmp_path / "one", "song", {"piano": tone(330.0), "drums": clicks()})
    write_track(tmp_path / "two", "song", {"violin": tone(660.0), "drums": clicks(0.5)})
    return [str(tmp_path / "one"), str(tmp_path / "two")]


def test_two_roots_seeds_baseline_and_absent_sources_without_museval(two_roots, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setitem(sys.modules, "museval", None)  # as on a machine without it: find_spec says None
    out = tmp_path / "r.json"
    tiny = "taggers=debug-tiny,steps=1,components=4"
    args = ["eval", *two_roots, "--methods", "tagbox,mixture,silence", "--config", f"a={tiny}",
            "--config", f"b={tiny},lr=0.5", "--seeds", "0,1", "--baseline", "tagbox:a", "--absent", "1",
            "--tagger", "none", "--json", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "BSSEval v4 SDR skipped" in caplog.text and "BSSEval" not in printed
    assert "seeds 0,1" in printed and "Paired SI-SDRi difference from tagbox:a" in printed
    assert "| tagbox:a | 0.02 | **overall** | 4 |" in printed  # 2 tracks x 1 absent source x 2 seeds
    data = json.loads(out.read_text())
    assert data["absent_queries"] == {"one/song": ["violin"], "two/song": ["piano"]}
    assert not data["failures"]
    stems = [r for r in data["results"] if r["present"]]
    assert {(r["track"], r["method"], r["seed"]) for r in stems if r["source"] == "drums"} == {
        (t, m, s) for t in ("one/song", "two/song") for m, s in
        [("tagbox:a", 0), ("tagbox:a", 1), ("tagbox:b", 0), ("tagbox:b", 1), ("mixture", None), ("silence", None)]
    }
    queries = [r for r in data["results"] if not r["present"]]
    assert len(queries) == 2 * 2 * 2 and all({"absent", "p_before", "p_after"} <= set(r) for r in queries)
    paired = {r["method"]: r for r in data["paired"]}
    assert set(paired) == {"tagbox:b", "mixture", "silence"} and paired["tagbox:b"]["pairs"] == 8
    assert paired["silence"]["pairs"] == 0 and paired["silence"]["undefined"] == 8
    overall = {r["method"]: r for r in data["absent"] if r["source"] == "overall"}
    assert overall["tagbox:a"]["asked_absent"] == 4 and overall["tagbox:a"]["asked_present"] == 8
    rows = {r["method"]: r for r in data["summary"] if r["source"] == "overall"}
    assert rows["tagbox:a"]["seeds"] == 2 and rows["tagbox:a"]["si_sdri_seed_std"] is not None


@pytest.mark.skipif(not metrics.bss_available(), reason="museval (the musdb extra) is not installed")
def test_sdr_improvement_is_reported_beside_the_silence_anchor(dataset, tmp_path, capsys):
    out = tmp_path / "r.json"
    args = ["eval", str(dataset), "--methods", "mixture,silence", "--max-tracks", "1", "--sources", "drums",
            "--baseline", "mixture", "--json", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "BSSEval v4 SDRi" in printed and "Paired BSSEval SDRi difference from mixture" in printed
    data = json.loads(out.read_text())
    silence, mixture = (next(r for r in data["results"] if r["method"] == m) for m in ("silence", "mixture"))
    assert silence["sdr"] == 0.0 and silence["sdri"] == pytest.approx(-mixture["sdr"])
    assert mixture["sdri"] == 0.0


def test_help_explains_every_method_and_the_fooling_check(capsys):
    from tagbox.cli.eval import METHOD_NOTES
    from tagbox.evaluation.fooling import FOOLING_LOG_ODDS, FOOLING_MAX_SI_SDRI_DB
    from tagbox.evaluation.methods import METHODS

    assert list(METHOD_NOTES) == list(METHODS)
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(f"{name} ({METHOD_NOTES[name]})" in text for name in METHODS)
    assert "fooling check" in text and "flags" in text
    assert (FOOLING_LOG_ODDS, FOOLING_MAX_SI_SDRI_DB) == (1.0, 1.0)  # as the help says: odds e times, under 1 dB
