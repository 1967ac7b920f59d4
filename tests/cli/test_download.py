"""``tagbox download``: fills the cache from the mirror (or upstream), verified, and says what it did."""

from __future__ import annotations

import hashlib

import pytest

from tagbox import weights
from tagbox.cli import main


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


def test_copies_from_the_mirror_then_keeps_the_cached_copy(cache, shared, capsys):
    mirrored = shared / "weights/sota_music_taggers/mtat/fcn/best_model.pth"
    target = cache / "mtat-fcn" / "best_model.pth"
    assert main(["download", "mtat-fcn"]) == 0
    out = capsys.readouterr().out
    # the mirror is named by its resolved path, so that a symbolic link to ../shared reads the same
    assert out == f"mtat-fcn: fetched from {mirrored.resolve().as_uri()} into {target} (licence: MIT)\n"
    assert weights.sha256sum(target) == weights.entry("mtat-fcn").sha256

    assert main(["download", "mtat-fcn", "mtat-fcn"]) == 0  # repeated ids are fetched once
    assert capsys.readouterr().out == f"mtat-fcn: already in the cache {target} (licence: MIT)\n"
    assert main(["download", "--force", "mtat-fcn"]) == 0
    assert "fetched from file://" in capsys.readouterr().out


def test_noncommercial_licence_is_shown_on_download(cache, tmp_path, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    mirrored = mirror / weights.entry("jukebox-5b").mirror_path
    mirrored.parent.mkdir(parents=True)
    mirrored.write_bytes(b"stand-in for the VQ-VAE checkpoint")
    monkeypatch.setenv(weights.MIRROR_ENV, str(mirror))
    assert main(["download", "jukebox-5b"]) == 0
    assert "(licence: Noncommercial Use License" in capsys.readouterr().out
    # sha256 is null upstream: the first copy is pinned from now on
    pin = weights.expected_sha256(weights.entry("jukebox-5b"))
    assert pin == hashlib.sha256(mirrored.read_bytes()).hexdigest()


def test_unknown_id_is_one_error_line_and_fetches_nothing(cache, capsys):
    assert main(["download", "mtat-fcn", "mtat-fnc"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("tagbox: error: unknown model 'mtat-fnc' (did you mean 'mtat-fcn'?)")
    assert captured.err.count("\n") == 1
    assert not cache.exists()


@pytest.mark.parametrize("args", [[], ["--all", "mtat-fcn"]])
def test_needs_ids_or_all(cache, capsys, args):
    assert main(["download", *args]) == 1
    assert "name the models to download, or pass --all" in capsys.readouterr().err


def test_all_reports_each_model_and_fails_if_one_fails(cache, tmp_path, monkeypatch, capsys):
    good = tmp_path / "good.pth"
    good.write_bytes(b"weights")
    models = {
        name: weights.ModelEntry(
            id=name, kind="tagger", description="", filename="m.pth", license="MIT", citation="", urls=(url,),
            sha256=hashlib.sha256(b"weights").hexdigest(),
        )
        for name, url in [("ok-1", good.as_uri()), ("broken", (tmp_path / "absent.pth").as_uri()), ("ok-2", good.as_uri())]
    }
    monkeypatch.setattr(weights, "registry", lambda: models)
    assert main(["download", "--all"]) == 1
    captured = capsys.readouterr()
    assert [line.split(":")[0] for line in captured.out.splitlines()] == ["ok-1", "ok-2"]
    [error] = [line for line in captured.err.splitlines() if "error" in line]  # the rest is progress bars
    assert error.startswith("tagbox: error: weights for 'broken' are not available")
    assert "absent.pth" in error and "`tagbox download broken`" in error
