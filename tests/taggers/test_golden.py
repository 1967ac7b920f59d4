"""The reimplemented taggers reproduce the reference outputs and input gradients (golden.pt).

Tolerances are the ones recommended in shared/reference/taggers/SPEC.md section 10.
"""

from __future__ import annotations

import pytest
import torch

from tagbox.taggers import TAGGERS, frame, load_tagger

PRETRAINED = [tagger_id for tagger_id, config in TAGGERS.items() if config.pretrained]


@pytest.fixture(scope="module")
def golden(shared):
    return torch.load(shared / "reference" / "taggers" / "golden.pt", weights_only=True)


@pytest.fixture(scope="module", params=PRETRAINED)
def run(request, golden):
    """One forward and backward pass of a checkpoint on the golden input, as the reference did."""
    tagger = load_tagger(request.param)
    reference = golden["models"][request.param.replace("-", "/", 1)]
    x = golden["x"].clone().requires_grad_(True)
    mel_db = tagger.mel_db(frame(x, tagger.input_length))
    logits = tagger.classify(tagger.spec_bn(mel_db.unsqueeze(1)))
    torch.sigmoid(logits)[:, reference["grad_tag_index"]].mean().backward()
    probs = tagger(frame(golden["x"], tagger.input_length))
    return tagger, reference, dict(mel_db=mel_db.detach(), logits=logits.detach(), probs=probs, grad=x.grad)


def test_tags_are_the_reference_output_order(run, golden):
    tagger, reference, _ = run
    assert tagger.tags == golden["tags"][tagger.vocabulary]
    assert tagger.tags[reference["grad_tag_index"]] == reference["grad_tag"]
    assert tagger.input_length == reference["input_length"]


def test_mel_db(run):
    _, reference, out = run
    torch.testing.assert_close(out["mel_db"], reference["mel_db"], atol=1e-2, rtol=0)


def test_logits(run):
    _, reference, out = run
    torch.testing.assert_close(out["logits"], reference["logits"], atol=1e-4, rtol=0)


def test_probabilities(run):
    _, reference, out = run
    assert out["probs"].shape == (reference["n_windows"], 50)
    torch.testing.assert_close(out["probs"], reference["probs"], atol=1e-5, rtol=0)


def test_input_gradient(run):
    _, reference, out = run
    grad, expected = out["grad"].double(), reference["grad"].double()
    assert (grad - expected).norm() / expected.norm() <= 1e-2
    assert torch.nn.functional.cosine_similarity(grad, expected, dim=0) >= 0.9999
