import torch

from tagbox.nmf import kl_nmf


def _low_rank(rank: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.rand(40, rank, generator=g) @ torch.rand(rank, 60, generator=g)


def test_kl_nmf_recovers_a_low_rank_matrix():
    V = _low_rank()
    W, H = kl_nmf(V, 3, iterations=500)
    assert W.min() >= 0 and H.min() >= 0
    relative_error = (W @ H - V).norm() / V.norm()
    assert relative_error < 0.02
    torch.testing.assert_close(W.sum(0), torch.ones(3), atol=1e-5, rtol=0)


def test_kl_nmf_is_deterministic_per_seed():
    V = _low_rank()
    a = kl_nmf(V, 4, iterations=20, seed=3)
    b = kl_nmf(V, 4, iterations=20, seed=3)
    c = kl_nmf(V, 4, iterations=20, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
