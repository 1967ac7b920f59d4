import torch

from tagbox.training.logistic import fit_logistic


def test_the_fitted_head_separates_two_clouds_and_weighs_them_evenly():
    g = torch.Generator().manual_seed(0)
    positives = torch.randn(20, 3, generator=g) + torch.tensor([2.0, 0.0, 0.0])
    negatives = torch.randn(200, 3, generator=g) - torch.tensor([2.0, 0.0, 0.0])
    features, labels = torch.cat([positives, negatives]), torch.cat([torch.ones(20), torch.zeros(200)])
    weights, bias = fit_logistic(features, labels, l2=1.0)
    logits = features @ weights + bias
    assert weights[0] > 1.0 and weights[0] > 5 * weights[1:].abs().max()
    assert ((logits > 0) == (labels > 0)).float().mean() > 0.95
    assert (logits[:20] > 0).float().mean() > 0.9  # the few positives are not drowned by the many negatives
    heavier, _ = fit_logistic(features, labels, l2=100.0)
    assert heavier.norm() < weights.norm()
