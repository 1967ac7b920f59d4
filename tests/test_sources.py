from __future__ import annotations

import json
from importlib import resources

import pytest

from tagbox import sources
from tagbox.errors import UnknownNameError
from tagbox.taggers import VOCABULARIES, vocabulary_tags

DATA = json.loads(resources.files("tagbox").joinpath("data/sources.json").read_text())["sources"]


def test_the_usual_sources_exist():
    required = {"vocals", "guitar", "electric_guitar", "piano", "drums", "bass", "violin", "cello", "strings",
                "flute", "synth", "organ", "harpsichord", "harp", "sitar", "choir", "trumpet", "saxophone"}
    assert required <= set(sources.SOURCE_NAMES)


@pytest.mark.parametrize("name", list(DATA))
def test_every_source_states_every_vocabulary_with_real_tags(name):
    entry = DATA[name]
    assert set(entry["tags"]) == set(VOCABULARIES), "say [] explicitly where a vocabulary has no tag"
    for vocabulary in VOCABULARIES:
        known = set(vocabulary_tags(vocabulary))
        assert set(entry["tags"][vocabulary]) <= known
        assert set(entry.get("negations", {}).get(vocabulary, [])) <= known - set(entry["tags"][vocabulary])
    assert entry["group"] in {"voice", "instrument"}
    if "within" in entry:
        assert DATA[entry["within"]]["group"] == entry["group"]


def test_no_tag_names_two_sources():
    for vocabulary in VOCABULARIES:
        owned = [tag for entry in DATA.values() for tag in entry["tags"][vocabulary]]
        assert len(owned) == len(set(owned)), vocabulary


def test_mtat_vocals_are_every_vocal_tag_but_not_the_negations():
    vocals = set(sources.source_tags("vocals", "mtat"))
    assert {"vocal", "vocals", "voice", "singing", "female", "male", "woman", "man", "female vocal",
            "male vocal", "female voice", "male voice", "choir", "choral"} <= vocals
    assert not vocals & {"no vocal", "no vocals", "no voice"}
    assert {"no vocal", "no vocals", "no voice"} <= set(sources.negative_tags("vocals", "mtat"))


def test_a_broader_source_includes_the_narrower_ones():
    assert set(sources.source_tags("strings", "mtat")) == {"strings", "violin", "cello"}
    assert set(sources.source_tags("guitar", "jamendo")) == {
        "instrument---guitar", "instrument---acousticguitar", "instrument---electricguitar"}


def test_without_an_own_tag_a_source_falls_back_to_the_broader_source_only():
    assert sources.source_tags("organ", "jamendo") == ("instrument---keyboard",)
    assert sources.source_tags("cello", "jamendo") == ("instrument---strings",)  # not violin
    assert sources.source_tags("electric_guitar", "mtat") == ("guitar",)
    assert sources.source_tags("choir", "msd") == ()  # male/female vocalists do not mean a choir


@pytest.mark.parametrize("name, vocabulary", [
    ("bass", "mtat"), ("organ", "mtat"), ("trumpet", "mtat"), ("saxophone", "jamendo"), ("flute", "msd")])
def test_a_source_a_vocabulary_cannot_express_has_no_tags(name, vocabulary):
    assert sources.source_tags(name, vocabulary) == ()


def test_raw_tags_stand_for_themselves():
    assert sources.is_raw_tag("female vocal") and not sources.is_raw_tag("vocals") and not sources.is_raw_tag("x")
    assert sources.source_tags("female vocal", "mtat") == ("female vocal",)
    assert sources.source_tags("instrument---bass", "mtat") == ()  # a Jamendo tag
    assert sources.source_tags("Hip-Hop", "msd") == ("Hip-Hop",)


def test_tags_come_in_model_output_order():
    for vocabulary in VOCABULARIES:
        order = vocabulary_tags(vocabulary)
        tags = sources.instrument_tags(vocabulary)
        assert list(tags) == sorted(tags, key=order.index)


def test_instrument_tags_name_sources_only():
    tags = set(sources.instrument_tags("mtat"))
    assert {"guitar", "drums", "female vocal", "sitar"} <= tags
    assert not tags & {"rock", "classical", "slow", "no vocals"}


def test_negatives_are_other_sources_but_not_related_ones():
    violin = set(sources.negative_tags("violin", "mtat"))
    assert {"cello", "guitar", "vocal", "drums"} <= violin
    assert not violin & {"violin", "strings"}
    female = set(sources.negative_tags("female_vocals", "mtat"))
    assert {"male", "male vocal", "no vocals", "piano"} <= female
    assert not female & {"female", "vocal", "singing"}
    assert not set(sources.negative_tags("violin", "jamendo")) & {"instrument---strings", "instrument---violin"}


def test_names_are_normalised():
    assert sources.canonical_name("Electric guitar") == "electric_guitar"
    assert sources.source_group("female-vocals") == "voice"
    assert sources.source_group("drums") == "instrument"


def test_unknown_name_lists_sources_and_suggests_the_closest():
    with pytest.raises(UnknownNameError, match=r"unknown source 'violn' \(did you mean 'violin'\?\); known: vocals,"):
        sources.source_tags("violn", "mtat")


def test_unknown_vocabulary_is_an_error():
    with pytest.raises(UnknownNameError, match="unknown vocabulary 'magna'"):
        sources.source_tags("vocals", "magna")


def test_the_source_map_needs_no_torch():
    """Sources and vocabularies are plain data at the bottom of the layers."""
    import subprocess
    import sys

    code = "import sys, tagbox.sources, tagbox.vocabularies; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sources_share_tags_where_some_vocabulary_names_both_by_one_tag():
    assert sources.shares_tags("violin", "strings") and sources.shares_tags("electric_guitar", "guitar")
    assert sources.shares_tags("Drums", "drums")
    assert not sources.shares_tags("drums", "violin") and not sources.shares_tags("bass", "drums")


def test_lowest_notes_are_inherited_by_narrower_sources_and_absent_elsewhere():
    assert sources.lowest_frequency("violin") == pytest.approx(196.0, abs=0.01)  # G3
    assert sources.lowest_frequency("Cello") == pytest.approx(65.41, abs=0.01)  # C2
    assert sources.lowest_frequency("electric_guitar") == sources.lowest_frequency("guitar") == pytest.approx(73.42, abs=0.01)
    assert sources.lowest_frequency("piano") is None and sources.lowest_frequency("strings") is None
    assert sources.lowest_frequency("cello") != sources.lowest_frequency("strings")  # not taken from the broader
    assert sources.lowest_frequency("instrument---violin") is None  # a raw tag is no instrument


def test_highest_notes_are_inherited_and_only_drums_and_raw_tags_have_no_pitch():
    assert sources.highest_frequency("cello") == pytest.approx(880.0, abs=0.01)  # A5
    assert sources.highest_frequency("electric_guitar") == sources.highest_frequency("guitar") == pytest.approx(1318.51, abs=0.01)
    assert sources.highest_frequency("piano") is None
    assert not sources.is_pitched("drums") and not sources.is_pitched("beat")
    assert sources.is_pitched("Piano") and sources.is_pitched("vocals")


@pytest.mark.parametrize("name", [name for name, entry in DATA.items() if "highest" in entry])
def test_every_range_rises_from_its_lowest_to_its_highest_note(name):
    assert sources.lowest_frequency(name) < sources.highest_frequency(name) < 4200


@pytest.mark.parametrize("name", [name for name, entry in DATA.items() if "lowest" in entry])
def test_every_lowest_note_is_a_note_within_hearing(name):
    assert 20 < sources.lowest_frequency(name) < 1000
