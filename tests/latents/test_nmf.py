import pytest
import torch

from tagbox.errors import UnknownNameError
from tagbox.latents import NMFLatent, NMFOptions
from tests.test_separator import music


def test_components_sum_to_the_reference():
    space = NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=4))
    parts = space.components()
    assert parts.shape == (4, space.length)
    torch.testing.assert_close(parts.sum(0), space.reference, atol=1e-4, rtol=0)


def test_the_gains_start_even_until_set_from_outside():
    space = NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=4), sources=2)
    torch.testing.assert_close(space.gains(), torch.full((2, 4), 1 / 3))
    logits = torch.zeros(3, 4)
    logits[0] = torch.tensor([3.0, -3.0, 0.0, 0.0])
    space.start(logits)
    assert space.gains()[0, 0] > 0.9 and space.gains()[0, 1] < 0.05
    masks = space.masks()[0]
    assert masks.shape == (2, *space.full.shape) and masks.min() >= 0 and masks.sum(0).max() <= 1 + 1e-5


def test_unset_components_follow_the_start_and_an_unknown_start_is_refused():
    assert NMFOptions().component_count == 16 and NMFOptions(start="flat").component_count == 32
    assert NMFOptions(components=8).component_count == 8
    with pytest.raises(UnknownNameError, match="unknown start 'oracle'; choose from flat, tagged"):
        NMFOptions(start="oracle")


def test_more_parts_than_components_are_warned_about():
    assert NMFLatent.crowding_warning(NMFOptions(components=4), 3) is None
    assert "raise --components to at least 5" in NMFLatent.crowding_warning(NMFOptions(components=4), 4)
