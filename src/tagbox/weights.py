"""Pretrained weights: a registry kept as data, and a resolver that never uses a bad file.

``tagbox/data/models.json`` lists every model tagbox can load (id, upstream URLs, sha256,
size, licence, citation). :func:`resolve` finds a model's file in this order:

1. an explicit path given by the caller;
2. the bundled copy shipped inside the package (models the project trained itself);
3. the cache directory (``$TAGBOX_CACHE``, default: the user cache dir);
4. a local mirror laid out like the upstream repositories (``$TAGBOX_WEIGHTS_MIRROR``;
   tests and CI point it at ``../shared/weights``);
5. a download from the upstream URLs into the cache, with a progress bar.

Every file is checked against its sha256 before use. Models whose upstream file could not be
pinned (``sha256: null``) are trusted on first download and pinned in the cache from then on.
:func:`fetch` (``tagbox download``) fills the cache from the mirror, else from the upstream URLs.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from platformdirs import user_cache_dir
from tqdm import tqdm

from tagbox.errors import UnknownNameError, WeightsError

CACHE_ENV = "TAGBOX_CACHE"
MIRROR_ENV = "TAGBOX_WEIGHTS_MIRROR"
_CHUNK = 1 << 20
_PACKAGE_ROOT = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelEntry:
    """One row of the model registry."""

    id: str
    kind: str
    description: str
    filename: str
    license: str
    citation: str
    urls: tuple[str, ...] = ()
    mirror_path: str | None = None
    bundled: str | None = None
    sha256: str | None = None
    size: int | None = None


@lru_cache(maxsize=1)
def registry() -> dict[str, ModelEntry]:
    """All registered models by id, in registry order."""
    text = resources.files("tagbox").joinpath("data/models.json").read_text()
    entries = {}
    for row in json.loads(text)["models"]:
        row = dict(row, urls=tuple(row.get("urls", ())))
        entries[row["id"]] = ModelEntry(**row)
    return entries


def entry(model_id: str) -> ModelEntry:
    """The registry entry of ``model_id``; unknown ids list the known ones."""
    models = registry()
    if model_id not in models:
        raise UnknownNameError.suggest("model", model_id, models)
    return models[model_id]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("tagbox")) / "weights"


def cached_path(model: ModelEntry) -> Path:
    return cache_dir() / model.id / model.filename


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _pin_path(model: ModelEntry) -> Path:
    return cached_path(model).with_name(model.filename + ".sha256")


def expected_sha256(model: ModelEntry) -> str | None:
    """The registry's hash, or the one pinned in the cache on first download."""
    if model.sha256:
        return model.sha256
    pin = _pin_path(model)
    return pin.read_text().strip() if pin.exists() else None


def verify(model: ModelEntry, path: Path) -> Path:
    """Return ``path`` if its sha256 matches the model's; raise otherwise."""
    expected = expected_sha256(model)
    if expected is None:
        return path
    actual = sha256sum(path)
    if actual != expected:
        raise WeightsError(
            f"checksum mismatch for '{model.id}' at {path}: expected sha256 {expected}, "
            f"got {actual}; the file is corrupt or not the published one and was not used "
            f"(`tagbox download {model.id}` fetches a good copy into the cache)"
        )
    return path


def is_available(model_id: str) -> bool:
    """True if the model can be loaded without a download."""
    return status(model_id) != "missing"


def status(model_id: str) -> str:
    """Where :func:`resolve` would find the model now: bundled, cached, mirror or missing.

    Only presence is checked, not the checksum (that happens when the file is used).
    """
    found = [where for where, path in _local_candidates(entry(model_id)) if path.is_file()]
    return found[0] if found else "missing"


def _local_candidates(model: ModelEntry) -> list[tuple[str, Path]]:
    """Local places for the model's file, labelled, in resolution order."""
    candidates = []
    if model.bundled:
        candidates.append(("bundled", _PACKAGE_ROOT / model.bundled))
    candidates.append(("cached", cached_path(model)))
    mirrored = _mirror_path(model)
    if mirrored is not None:
        candidates.append(("mirror", mirrored))
    return candidates


def _mirror_path(model: ModelEntry) -> Path | None:
    mirror = os.environ.get(MIRROR_ENV)
    return Path(mirror) / model.mirror_path if mirror and model.mirror_path else None


def resolve(model_id: str, path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Path of a verified local copy of ``model_id``'s weights (see module docstring)."""
    model = entry(model_id)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise WeightsError(f"weights file for '{model_id}' not found: {path}")
        return verify(model, path)
    for _, candidate in _local_candidates(model):
        if candidate.is_file():
            return verify(model, candidate)
    if download and model.urls:
        return fetch(model).path
    raise WeightsError(_missing_message(model))


def _missing_message(model: ModelEntry) -> str:
    where = f"{cached_path(model)}"
    if model.mirror_path:
        where += f" or ${MIRROR_ENV}/{model.mirror_path}"
    return (
        f"weights for '{model.id}' are not available: put {model.filename} at {where} "
        f"(cache dir set by ${CACHE_ENV}, mirror folder by ${MIRROR_ENV}), "
        f"or run `tagbox download {model.id}` where the internet is reachable"
    )


class Fetched(NamedTuple):
    """Where :func:`fetch` left a model's file, and where that file came from."""

    path: Path
    source: str  # "bundled", "cached", or the URL it was copied from (file:// for the mirror)


def fetch(model: ModelEntry | str, force: bool = False) -> Fetched:
    """Make sure a verified copy of ``model`` is in the cache (or bundled); return where.

    A cached copy that passes its checksum is kept unless ``force``; one that fails is replaced.
    Sources are tried in order: the mirror (``$TAGBOX_WEIGHTS_MIRROR``), then the upstream
    URLs. Each file is written to a temporary name and renamed only once verified, so an
    interrupted or corrupt transfer never leaves a file that later loads would trust.
    """
    model = entry(model) if isinstance(model, str) else model
    if model.bundled and (_PACKAGE_ROOT / model.bundled).is_file():
        return Fetched(verify(model, _PACKAGE_ROOT / model.bundled), "bundled")
    target = cached_path(model)
    if target.is_file() and not force:
        try:
            return Fetched(verify(model, target), "cached")
        except WeightsError as error:
            logger.warning("%s; fetching it again", error)
    mirrored = _mirror_path(model)
    urls = ([mirrored.resolve().as_uri()] if mirrored is not None and mirrored.is_file() else []) + list(model.urls)
    if not urls:
        raise WeightsError(_missing_message(model))
    created = _make_folders(target.parent)
    errors = []
    for url in urls:
        try:
            tmp = _download(url, target, model)
        except (OSError, ValueError, http.client.HTTPException) as error:
            errors.append(f"{url}: {getattr(error, 'reason', error)}")
            continue
        actual = sha256sum(tmp)
        expected = expected_sha256(model)
        if expected is not None and actual != expected:
            tmp.unlink()
            errors.append(f"{url}: checksum mismatch (expected sha256 {expected}, got {actual}; discarded)")
            continue
        if expected is None:
            logger.warning("'%s' has no published checksum; pinning sha256 %s", model.id, actual)
            _pin_path(model).write_text(actual + "\n")
        os.replace(tmp, target)
        return Fetched(target, url)
    _remove_empty(created)
    raise WeightsError(f"{_missing_message(model)} (tried {'; '.join(errors)})")


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    created = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        created.append(path)
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed fetch created (deepest first), so no empty model folder stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (another process put something there): keep it
            return


def _download(url: str, target: Path, model: ModelEntry) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{model.filename}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or model.size
            with tqdm(total=total, unit="B", unit_scale=True, desc=model.id, leave=False) as bar:
                while block := response.read(_CHUNK):
                    out.write(block)
                    bar.update(len(block))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp

