from __future__ import annotations

import torch

from tagbox.latents.fragments import FragmentHead, with_fragments
from tagbox.latents.labelling import log_odds, standardised
from tagbox.sources import SOURCE_NAMES
from tagbox.taggers.registry import TAGGERS
from tagbox.vocabularies import vocabulary_tags


def test_a_head_reads_the_log_odds_of_its_taggers_tags():
    head = FragmentHead("fake", (2.0, -1.0), 0.5)
    tags = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]])
    torch.testing.assert_close(head(tags), 2.0 * log_odds(tags[:, 0]) - log_odds(tags[:, 1]) + 0.5)
    assert head(tags).argmax() == 0  # sounds like the first tag: a piece of the source


def test_the_heads_adds_its_standardised_verdict_to_the_standardised_evidence_of_its_row_only():
    evidence = torch.tensor([[1.0, 0.0, 0.0, -1.0], [3.0, 1.0, 2.0, 0.0]])
    tags = {"fake": torch.tensor([[0.2, 0.5], [0.9, 0.5], [0.1, 0.5], [0.5, 0.5]])}
    head = FragmentHead("fake", (1.0, 0.0), 0.0)
    combined = with_fragments(evidence, tags, [head, None], weight=0.5)
    torch.testing.assert_close(combined[0], standardised(evidence[0]) + 0.5 * standardised(log_odds(tags["fake"][:, 0])))
    torch.testing.assert_close(combined[1], evidence[1])  # no head (drums): unchanged
    assert combined[0, 1] > combined[0, 2]  # tied evidence, the head breaks the tie
    # no weight, or a head whose tagger did not listen: nothing changes
    assert with_fragments(evidence, tags, [head, None], weight=0.0) is evidence
    torch.testing.assert_close(with_fragments(evidence, tags, [FragmentHead("other", (1.0, 0.0), 0.0), None], weight=0.5),
                               evidence)


def test_the_bundled_heads_name_sources_and_fit_their_taggers_vocabulary():
    assert FragmentHead.of("cello") is not None and FragmentHead.of("drums") is None and FragmentHead.of("beat") is None
    for name in ("cello", "violin", "flute", "guitar", "electric_guitar", "piano", "strings", "synth", "bass"):
        head = FragmentHead.of(name)
        assert name in SOURCE_NAMES and head.tagger in TAGGERS
        assert len(head.weights) == len(vocabulary_tags(TAGGERS[head.tagger].vocabulary))
