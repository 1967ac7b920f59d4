import torch

from tagbox.latents.labelling import BOUND, Heard, start_logits


def test_evidence_is_alone_vs_whole_plus_weighted_whole_vs_without():
    probabilities: dict[str, list[int]] = {}

    def hear(clips: torch.Tensor) -> torch.Tensor:  # probability = first sample, one source
        probabilities.setdefault("calls", []).append(clips.shape[0])
        return clips[:, 0][None]

    mixture = torch.tensor([0.5, 0.0])
    components = torch.tensor([[0.4, 0.0], [0.1, 0.0]])
    heard = Heard.listen(components, mixture, hear)
    assert probabilities["calls"] == [1, 2, 2]  # the mixture, each component, the mixture without each
    evidence = heard.evidence(removal_weight=2.0)
    logit = lambda p: torch.log(torch.tensor(p) / (1 - torch.tensor(p)))  # noqa: E731
    expected = [logit(0.4) - logit(0.5) + 2 * (logit(0.5) - logit(0.1)),
                logit(0.1) - logit(0.5) + 2 * (logit(0.5) - logit(0.4))]
    torch.testing.assert_close(evidence[0], torch.stack(expected))
    assert evidence[0, 0] > 0 > evidence[0, 1]


def test_start_logits_standardise_each_sources_evidence_and_put_the_rest_last_at_zero():
    evidence = torch.tensor([[-2.0, 0.0, 3.0, 50.0], [1.0, 2.0, 3.0, 4.0]])
    logits = start_logits(evidence, slope=0.5, offset=1.0)
    assert logits.shape == (3, 4) and (logits[-1] == 0).all()
    standard = (evidence[1] - evidence[1].median()) / evidence[1].std()
    torch.testing.assert_close(logits[1], 0.5 * standard + 1.0)
    # scale-free: evidence ten times as strong gives the same start
    torch.testing.assert_close(start_logits(10 * evidence, slope=0.5, offset=1.0), logits)
    assert logits.abs().max() <= BOUND  # never a gain the refinement cannot move
