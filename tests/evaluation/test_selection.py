"""Track selection over several dataset roots, and the absent-source queries drawn per track."""

from __future__ import annotations

import pytest

from tagbox.errors import TagboxError
from tagbox.evaluation.selection import absent_queries, available_tracks, dataset_roots, locate, select_tracks
from tests.evaluation.helpers import clicks, tone, write_dataset, write_track


@pytest.fixture
def roots(tmp_path):
    write_dataset(tmp_path / "one")
    write_track(tmp_path / "two", "track_a", {"piano": tone(), "drums": clicks()})
    return dataset_roots([tmp_path / "one", tmp_path / "two"])


def test_track_ids_are_prefixed_with_the_folder_name(roots, tmp_path):
    assert available_tracks(roots) == {
        "one/track_a": ("drums", "organ"),
        "one/track_b": ("drums", "organ"),
        "two/track_a": ("drums", "piano"),
    }
    root, track = locate(roots, "two/track_a")
    assert (root.root, root.layout, track) == (str(tmp_path / "two"), "folder", "track_a")


def test_folders_of_the_same_name_are_refused(tmp_path):
    write_dataset(tmp_path / "a" / "data")
    write_dataset(tmp_path / "b" / "data")
    with pytest.raises(TagboxError, match="two dataset folders are named 'data'"):
        dataset_roots([tmp_path / "a" / "data", tmp_path / "b" / "data"])


def test_max_tracks_applies_to_each_root_and_sources_narrow(roots):
    available = available_tracks(roots)
    assert list(select_tracks(available, None, 1)) == ["one/track_a", "two/track_a"]
    assert select_tracks(available, ["piano"], None) == {"two/track_a": ("piano",)}
    with pytest.raises(TagboxError, match="no track has a stem named 'bass'"):
        select_tracks(available, ["bass"], None)


def test_absent_queries_ask_for_nameable_sources_the_track_lacks(roots):
    available = available_tracks(roots)
    pool = ["drums", "organ", "piano"]
    queries = absent_queries(available, available, pool, 2)
    assert queries == {"one/track_a": ("piano",), "one/track_b": ("piano",), "two/track_a": ("organ",)}
    assert absent_queries(available, available, pool, 2, can_name=lambda s: s != "organ") == {
        "one/track_a": ("piano",), "one/track_b": ("piano",)
    }
    assert absent_queries(available, available, pool, 0) == {}


def test_absent_draw_is_seeded_by_the_track_alone():
    pool = [f"s{i}" for i in range(10)]
    available = {"r/a": ("s0",), "r/b": ("s1",)}
    both = absent_queries(available, available, pool, 3)
    alone = absent_queries({"r/a": ("s0",)}, available, pool, 3)
    assert both["r/a"] == alone["r/a"] and len(both["r/a"]) == 3 and "s0" not in both["r/a"]
    assert both == absent_queries(available, available, pool, 3)
    assert both["r/a"] != both["r/b"]  # different tracks, different draws (for this pool)
