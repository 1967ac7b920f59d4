import pytest
import torch

from tagbox.apply import PendingSum, crossfade, overlap_add, segment_count, segment_starts


@pytest.mark.parametrize("samples,segment,overlap", [(1000, 0.3, 0.25), (1000, 0.25, 0.5), (999, 0.1, 0.0), (500, None, 0.25)])
def test_identity_returns_the_signal_and_segments_cover_it(samples, segment, overlap):
    x = torch.randn(2, samples)
    calls = []

    def identity(piece, index):
        calls.append((index, piece.shape[-1]))
        return piece[None].expand(3, -1, -1)

    out = overlap_add(identity, x, 1000, outputs=3, segment=segment, overlap=overlap)
    assert out.shape == (3, 2, samples)
    torch.testing.assert_close(out, x.expand(3, -1, -1))
    assert [i for i, _ in calls] == list(range(segment_count(samples, 1000, segment, overlap)))
    starts, length = segment_starts(samples, 1000, segment, overlap)
    assert starts[0] == 0 and starts[-1] + length == samples


def test_fades_of_neighbours_sum_to_one_over_the_overlap():
    a = crossfade(100, 20, first=True, last=False)
    b = crossfade(100, 20, first=False, last=True)
    torch.testing.assert_close(a[-20:] + b[:20], torch.ones(20))
    assert a[:80].eq(1).all() and b[20:].eq(1).all()


def test_each_segment_gets_its_own_result():
    x = torch.ones(1, 4000)
    out = overlap_add(lambda piece, index: torch.full_like(piece, float(index))[None], x, 1000,
                      outputs=1, segment=1.0, overlap=0.0)
    assert out[0, 0, 0] == 0 and out[0, 0, -1] == 3


def test_regions_released_as_segments_arrive_equal_the_whole_overlap_add():
    g = torch.Generator().manual_seed(0)
    total, length, starts = 50, 20, [0, 15, 30]
    estimates = [torch.randn(2, 3, length, generator=g) for _ in starts]
    fades = [torch.rand(length, generator=g) + 0.1 for _ in starts]
    expected, weight = torch.zeros(2, 3, total), torch.zeros(total)
    for start, estimate, fade in zip(starts, estimates, fades):
        expected[..., start: start + length] += estimate * fade
        weight[start: start + length] += fade
    expected /= weight

    overlap, pieces = PendingSum(), []
    for index, (start, estimate, fade) in enumerate(zip(starts, estimates, fades)):
        overlap.add(start, estimate, fade)
        until = starts[index + 1] if index + 1 < len(starts) else total
        offset, region = overlap.release(until)
        assert offset == sum(p.shape[-1] for p in pieces)
        assert overlap.total.shape[-1] <= length  # only the unfinished part is kept
        pieces.append(region)
    assert torch.equal(torch.cat(pieces, -1), expected)


def test_a_segment_before_the_released_samples_is_refused():
    overlap = PendingSum()
    overlap.add(0, torch.ones(1, 10), torch.ones(10))
    overlap.release(8)
    with pytest.raises(ValueError, match="before the released samples"):
        overlap.add(5, torch.ones(1, 10), torch.ones(10))
