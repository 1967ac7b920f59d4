"""``tagbox list``: one line per registered model with kind, size, status and licence."""

from __future__ import annotations

import pytest

from tagbox import weights
from tagbox.cli import main


def listed(capsys, *args: str) -> dict[str, str]:
    assert main(["list", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "SIZE", "STATUS", "LICENCE"]
    return {line.split()[0]: line for line in lines[1:]}


def test_lists_every_model_with_its_status_and_licence(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path))  # an empty cache: taggers come from the mirror
    rows = listed(capsys)
    assert list(rows) == list(weights.registry())
    assert rows["mtat-fcn"].split()[:5] == ["mtat-fcn", "tagger", "1.9", "MB", "mirror"]
    assert rows["mtat-fcn"].endswith("  MIT")
    jukebox = rows["jukebox-5b"].split()
    assert jukebox[:4] == ["jukebox-5b", "generator", "unknown", "missing"]
    assert "Noncommercial Use License" in rows["jukebox-5b"] and "noncommercial use only" in rows["jukebox-5b"]


def test_status_follows_the_files(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path))
    cached = weights.cached_path(weights.entry("msd-crnn"))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"present")
    assert listed(capsys)["msd-crnn"].split()[4] == "cached"
    monkeypatch.delenv(weights.MIRROR_ENV)
    assert listed(capsys)["mtat-fcn"].split()[4] == "missing"


def test_kind_filter(capsys):
    for kind in ("tagger", "generator"):
        ids = [m.id for m in weights.registry().values() if m.kind == kind]
        assert list(listed(capsys, "--kind", kind)) == ids
    assert "jukebox-5b" in ids and "mtat-fcn" not in ids
    with pytest.raises(SystemExit) as exit_:
        main(["list", "--kind", "vocoder"])
    assert exit_.value.code == 2
    assert "invalid choice: 'vocoder'" in capsys.readouterr().err


@pytest.mark.parametrize("size, text", [(None, "unknown"), (512, "512 B"), (1_902_811, "1.9 MB"), (5 * 10**9, "5.0 GB")])
def test_human_size(size, text):
    from tagbox.cli.list import human_size

    assert human_size(size) == text


def test_sources_show_which_taggers_can_name_each(capsys):
    assert main(["list", "sources"]) == 0
    out = capsys.readouterr().out
    table, legend = out.split("\n\n")
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert set(rows) >= {"vocals", "bass", "saxophone", "trumpet"}
    assert "mtat-musicnn, mtat-fcn " in rows["vocals"] and "jamendo (instrument---voice)" in rows["vocals"]
    assert "jamendo-musicnn, jamendo-fcn (added)" in rows["bass"] and "mtat (" not in rows["bass"]
    assert rows["saxophone"].split()[1:] == ["none", "none"]
    assert "debug-tiny" not in out
    assert main(["list", "sources", "--kind", "tagger"]) == 1
    assert capsys.readouterr().err.startswith("tagbox: error: --kind chooses among models")


def test_the_default_taggers_listed_are_those_a_separation_steers_with():
    """What ``tagbox list sources`` says the default ensemble steers each source with, against the ensemble itself."""
    from tagbox.cli._taggers import default_taggers
    from tagbox.config import DEFAULT_TAGGERS
    from tagbox.sources import SOURCE_NAMES, source_tags
    from tagbox.taggers.ensemble import TaggerEnsemble

    ensemble = TaggerEnsemble.load(DEFAULT_TAGGERS)
    for source in SOURCE_NAMES:
        chosen = ensemble.naming(source, extend=True, warn=lambda message: None)
        assert default_taggers(source) == tuple(t.id for t in chosen if source_tags(source, t.vocabulary)), source
