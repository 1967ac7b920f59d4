import json
import logging
import math
from importlib import resources

import pytest
import torch

from tagbox import recognisability
from tagbox.recognisability import (
    recognition,
    table,
    weak_recognition_warning,
    weakly_recognised,
)
from tagbox.separator import Separator
from tagbox.sources import SOURCE_NAMES
from tagbox.taggers import TAGGERS


def entry(p_isolated: float, p_mixture: float, recognised: bool) -> dict:
    return {"n": 3, "p_isolated": p_isolated, "p_mixture": p_mixture, "recognised": recognised}


FAKE = {
    "debug-tiny": {"piano": entry(0.28, 0.2, False), "drums": entry(0.8, 0.3, True)},
    "mtat-musicnn": {"piano": entry(0.6, 0.1, True)},
}


@pytest.fixture
def fake_table(monkeypatch):
    monkeypatch.setattr(recognisability, "table", lambda: FAKE)


def test_the_shipped_table_covers_every_pretrained_tagger_and_follows_its_rule():
    document = json.loads(resources.files("tagbox").joinpath("data/recognisability.json").read_text())
    rule = document["rule"]
    assert "bench/recognisability.py" in document["command"]
    assert set(document["taggers"]) == {tid for tid, spec in TAGGERS.items() if spec.pretrained}
    for entries in document["taggers"].values():
        assert entries and set(entries) <= set(SOURCE_NAMES)
        for value in entries.values():
            assert value["n"] >= 1
            assert 0 <= value["p_mixture"] <= 1 and 0 <= value["p_isolated"] <= 1
            expected = (value["p_isolated"] >= rule["min_isolated"]
                        and value["p_isolated"] - value["p_mixture"] >= rule["min_margin"])
            assert value["recognised"] == expected


def test_lookups_use_the_shipped_table():
    tagger_id, entries = next(iter(table().items()))
    source, expected = next(iter(entries.items()))
    assert recognition(tagger_id, source) == expected
    assert recognition("debug-tiny", source) is None
    assert recognition(tagger_id, "instrument---bass") is None  # raw tags are not measured


def test_source_names_are_normalised(fake_table):
    assert recognition("debug-tiny", "Piano") == FAKE["debug-tiny"]["piano"]


def test_only_measured_weak_pairs_are_weak(fake_table):
    assert weakly_recognised(["debug-tiny", "mtat-musicnn"], "piano") == ["debug-tiny"]
    assert weakly_recognised(["debug-tiny"], "drums") == []
    assert weakly_recognised(["debug-tiny", "mtat-fcn"], "violin") == []


def test_the_warning_names_the_weak_taggers_and_their_probabilities(fake_table):
    alone = weak_recognition_warning(["debug-tiny"], "piano")
    assert alone.startswith("the chosen taggers barely recognise 'piano'")
    assert "debug-tiny: p=0.28 isolated, 0.20 in mixtures" in alone
    mixed = weak_recognition_warning(["debug-tiny", "mtat-musicnn"], "piano")
    assert mixed.startswith("some chosen taggers") and "mtat-musicnn" not in mixed
    assert weak_recognition_warning(["mtat-musicnn"], "piano") is None


def tones(seconds: float = 1.0, sample_rate: int = 16000) -> torch.Tensor:
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 97 * t))[None]


@pytest.mark.parametrize("source,warned", [("piano", True), ("drums", False)])
def test_the_separator_warns_about_weakly_recognised_sources(fake_table, caplog, source, warned):
    separator = Separator(latent="nmf", taggers=["debug-tiny"], steps=1, components=4, progress=False)
    with caplog.at_level(logging.WARNING, logger="tagbox.separator"):
        result = separator.separate_tensor(tones(), sample_rate=16000, source=source)
    in_result = [w for w in result.warnings if "barely recognise" in w]
    in_log = [r for r in caplog.records if "barely recognise" in r.getMessage()]
    assert bool(in_result) == warned and bool(in_log) == warned
