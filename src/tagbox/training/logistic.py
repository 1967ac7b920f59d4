"""A balanced, L2-penalised logistic regression: how the project's small learned heads are fitted."""

from __future__ import annotations

import torch


def fit_logistic(features: torch.Tensor, labels: torch.Tensor, *, l2: float) -> tuple[torch.Tensor, float]:
    """Weights ``(features,)`` and bias of a logistic regression, positives and negatives weighted
    equally, with an L2 penalty of ``l2`` on the weights (LBFGS to convergence)."""
    x, y = features.double(), labels.double()
    balance = torch.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    weights = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(x @ weights + bias, y, reduction="none")
                * balance).mean() + l2 * weights.pow(2).sum() / len(y)
        loss.backward()
        return loss

    optimiser.step(closure)
    return weights.detach().float(), float(bias.detach())
