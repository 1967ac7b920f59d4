import torch

from tagbox.latents import NMFLatent, NMFOptions
from tests.test_separator import music


def test_time_knots_let_a_components_gain_change_along_the_segment():
    mono = music(16000, 1.0)[0]
    flat = NMFLatent(mono, 16000, NMFOptions(components=4))
    knotted = NMFLatent(mono, 16000, NMFOptions(components=4, time_knots=3))
    assert flat.gain_logits.shape == (2, 4, 1) and knotted.gain_logits.shape == (2, 4, 3)
    with torch.no_grad():
        knotted.gain_logits[0, :, 0] = -3.0  # quiet at the start, the starting gain later
    gains = knotted.gains()
    assert gains.shape == (1, 4, knotted.H.shape[-1])
    assert (gains[..., 0] < 0.1).all() and (gains[..., -1] > 0.9).all()
    torch.testing.assert_close(flat.gains(), torch.full_like(gains, 0.99))


def test_several_sources_start_as_an_even_split_whatever_the_starting_gain():
    space = NMFLatent(music(16000, 1.0)[0], 16000, NMFOptions(components=4, init_gain=0.3), sources=2)
    torch.testing.assert_close(space.gains(), torch.full((2, 4, space.H.shape[-1]), 1 / 3))
