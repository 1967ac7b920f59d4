"""tagbox.weights: registry, resolution order, checksums, and fetching over http:// and file://."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from functools import partial
from pathlib import Path

import pytest

from tagbox import weights
from tagbox.errors import UnknownNameError, WeightsError

PAYLOAD = b"pretend these are model weights\n" * 1000


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache of this test's own, and no mirror unless the test sets one."""
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(weights.MIRROR_ENV, raising=False)
    return tmp_path / "cache" / "weights"


@pytest.fixture
def register(monkeypatch):
    """Replace the registry by one fake model; returns a function taking ModelEntry overrides."""

    def make(**overrides) -> weights.ModelEntry:
        fields = dict(
            id="fake-tagger",
            kind="tagger",
            description="a model for tests",
            filename="model.pth",
            license="MIT",
            citation="none",
            mirror_path="fake/model.pth",
            sha256=hashlib.sha256(PAYLOAD).hexdigest(),
            size=len(PAYLOAD),
        )
        model = weights.ModelEntry(**(fields | overrides))
        monkeypatch.setattr(weights, "registry", lambda: {model.id: model})
        return model

    return make


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "served"``; yields (base URL, folder)."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/model.pth"


def files_under(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------- registry


def test_registry_hashes_match_the_shared_mirror(shared):
    sums = dict(
        reversed(line.split()) for line in (shared / "weights/sota_music_taggers/SHA256SUMS").read_text().splitlines()
    )
    taggers = [m for m in weights.registry().values() if m.kind == "tagger"]
    assert taggers
    for model in taggers:
        assert sums[model.mirror_path.removeprefix("sota_music_taggers/")] == model.sha256
        assert model.license and model.citation and model.urls


def test_unknown_model_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="unknown model 'mtat-fnc' \\(did you mean 'mtat-fcn'\\?\\); known"):
        weights.entry("mtat-fnc")


def test_real_tagger_resolves_from_the_mirror(cache, shared, monkeypatch):
    monkeypatch.setenv(weights.MIRROR_ENV, str(shared / "weights"))
    assert weights.status("mtat-fcn") == "mirror"
    assert weights.resolve("mtat-fcn") == shared / "weights/sota_music_taggers/mtat/fcn/best_model.pth"


# --------------------------------------------------------------------------- resolution


def test_resolution_order_explicit_bundled_cache_mirror(cache, register, tmp_path, monkeypatch):
    model = register(bundled="weights/fake.pth")
    package, mirror = tmp_path / "package", tmp_path / "mirror"
    monkeypatch.setattr(weights, "_PACKAGE_ROOT", package)
    monkeypatch.setenv(weights.MIRROR_ENV, str(mirror))
    places = {
        "bundled": package / "weights/fake.pth",
        "cached": weights.cached_path(model),
        "mirror": mirror / "fake/model.pth",
    }
    for path in places.values():
        path.parent.mkdir(parents=True)
        path.write_bytes(PAYLOAD)
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(PAYLOAD)

    assert weights.resolve(model.id, explicit) == explicit
    for where, path in places.items():  # each place wins over the ones after it
        assert weights.status(model.id) == where
        assert weights.resolve(model.id, download=False) == path
        path.unlink()
    assert weights.status(model.id) == "missing" and not weights.is_available(model.id)


def test_missing_weights_say_where_to_put_them(cache, register):
    register(urls=())
    with pytest.raises(WeightsError) as error:
        weights.resolve("fake-tagger")
    message = str(error.value)
    for hint in (str(cache / "fake-tagger" / "model.pth"), "$TAGBOX_WEIGHTS_MIRROR/fake/model.pth",
                 "$TAGBOX_CACHE", "`tagbox download fake-tagger`"):
        assert hint in message


def test_explicit_path_must_exist_and_match(cache, register, tmp_path):
    register()
    with pytest.raises(WeightsError, match="not found"):
        weights.resolve("fake-tagger", tmp_path / "nowhere.pth")
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(b"something else")
    with pytest.raises(WeightsError, match="checksum mismatch"):
        weights.resolve("fake-tagger", wrong)


def test_tampered_cache_copy_is_reported_never_used(cache, register, tmp_path, monkeypatch):
    model = register()
    mirror = tmp_path / "mirror"
    (mirror / "fake").mkdir(parents=True)
    (mirror / "fake/model.pth").write_bytes(PAYLOAD)
    monkeypatch.setenv(weights.MIRROR_ENV, str(mirror))
    cached = weights.cached_path(model)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD[:-1] + b"X")

    with pytest.raises(WeightsError, match=f"checksum mismatch for 'fake-tagger' at {cached}.*not used"):
        weights.resolve(model.id)
    fetched = weights.fetch(model.id)  # `tagbox download` replaces the bad copy
    assert fetched == (cached, (mirror / "fake/model.pth").as_uri())
    assert cached.read_bytes() == PAYLOAD and weights.resolve(model.id) == cached


# --------------------------------------------------------------------------- fetching


def test_download_over_http_with_progress(cache, register, server, capsys):
    base, served = server
    (served / "model.pth").write_bytes(PAYLOAD)
    model = register(urls=(f"{base}/model.pth",))
    path = weights.resolve(model.id)  # nothing local: downloads
    assert path == weights.cached_path(model) and path.read_bytes() == PAYLOAD
    assert "fake-tagger" in capsys.readouterr().err  # the tqdm bar
    assert files_under(cache) == ["model.pth"]
    assert weights.fetch(model.id) == (path, "cached")  # kept, not downloaded again


def test_falls_back_to_the_next_url(cache, register, server):
    base, served = server
    (served / "model.pth").write_bytes(PAYLOAD)
    register(urls=(f"{base}/gone.pth", closed_port_url(), f"{base}/model.pth"))
    assert weights.fetch("fake-tagger").source == f"{base}/model.pth"


def test_checksum_mismatch_discards_the_download(cache, register, server):
    base, served = server
    (served / "model.pth").write_bytes(b"a different file")
    register(urls=(f"{base}/model.pth",))
    with pytest.raises(WeightsError, match="checksum mismatch .*discarded") as error:
        weights.fetch("fake-tagger")
    assert "tagbox download fake-tagger" in str(error.value)
    assert files_under(cache) == []


def test_unreachable_host_explains_where_to_put_the_file(cache, register):
    url = closed_port_url()
    register(urls=(url,))
    with pytest.raises(WeightsError) as error:
        weights.resolve("fake-tagger")
    message = str(error.value)
    assert url in message and "refused" in message.lower()
    for hint in ("$TAGBOX_CACHE", "$TAGBOX_WEIGHTS_MIRROR", "`tagbox download fake-tagger`"):
        assert hint in message
    assert "\n" not in message and files_under(cache) == []
    assert not cache.exists()  # no empty model folder (nor cache) left behind


def test_failed_download_keeps_folders_that_were_there(cache, register, server):
    base, _ = server  # serves nothing: every request is a 404
    (cache / "other-model").mkdir(parents=True)
    register(urls=(f"{base}/model.pth",))
    with pytest.raises(WeightsError, match="not found"):
        weights.fetch("fake-tagger")
    assert [p.name for p in cache.iterdir()] == ["other-model"]


def test_file_urls_work(cache, register, tmp_path):
    source = tmp_path / "elsewhere.pth"
    source.write_bytes(PAYLOAD)
    register(urls=(source.as_uri(),))
    fetched = weights.fetch("fake-tagger")
    assert fetched.source == source.as_uri() and fetched.path.read_bytes() == PAYLOAD


def test_fetch_copies_from_the_mirror_and_skips_a_bad_one(cache, register, server, tmp_path, monkeypatch):
    base, served = server
    (served / "model.pth").write_bytes(PAYLOAD)
    model = register(urls=(f"{base}/model.pth",))
    mirrored = tmp_path / "mirror/fake/model.pth"
    mirrored.parent.mkdir(parents=True)
    mirrored.write_bytes(PAYLOAD)
    monkeypatch.setenv(weights.MIRROR_ENV, str(tmp_path / "mirror"))
    assert weights.fetch(model.id).source == mirrored.as_uri()

    mirrored.write_bytes(b"corrupt mirror copy")
    assert weights.fetch(model.id, force=True).source == f"{base}/model.pth"
    assert weights.cached_path(model).read_bytes() == PAYLOAD


def test_unpinned_model_is_pinned_on_first_download(cache, register, server):
    base, served = server
    (served / "model.pth").write_bytes(PAYLOAD)
    model = register(sha256=None, size=None, urls=(f"{base}/model.pth",))
    path = weights.fetch(model.id).path
    assert weights.expected_sha256(model) == hashlib.sha256(PAYLOAD).hexdigest()

    (served / "model.pth").write_bytes(b"upstream changed")  # a later download must match the pin
    with pytest.raises(WeightsError, match="checksum mismatch"):
        weights.fetch(model.id, force=True)
    assert path.read_bytes() == PAYLOAD

    path.write_bytes(b"tampered")  # and so must the cached copy
    with pytest.raises(WeightsError, match="checksum mismatch"):
        weights.resolve(model.id)


def test_bundled_models_need_no_fetch(cache, register, tmp_path, monkeypatch):
    model = register(bundled="weights/fake.pth", mirror_path=None)
    monkeypatch.setattr(weights, "_PACKAGE_ROOT", tmp_path)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights/fake.pth").write_bytes(PAYLOAD)
    assert weights.fetch(model.id) == (tmp_path / "weights/fake.pth", "bundled")
    (tmp_path / "weights/fake.pth").write_bytes(b"damaged install")
    with pytest.raises(WeightsError, match="checksum mismatch"):
        weights.fetch(model.id)
    assert files_under(cache) == []
