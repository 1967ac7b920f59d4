"""What every tagger shares: the spectrogram front end, input checks, and frozen inference mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from tagbox.errors import AudioError, WeightsError
from tagbox.taggers.frontend import SAMPLE_RATE, MelSpectrogram, power_to_db
from tagbox.taggers.layers import flush_subnormals


class Tagger(nn.Module):
    """A pretrained music tagger: (B, input_length) mono 16 kHz windows -> (B, len(tags)) probabilities.

    Always in inference mode with frozen parameters, yet differentiable with respect to its
    input, since steering backpropagates tag probabilities into the audio. ``train()`` is a
    no-op: the reference never switched to eval, and a parent module's ``.train()`` must not
    silently make BatchNorm use batch statistics.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, id: str, vocabulary: str, tags: Sequence[str], input_length: int):
        super().__init__()
        self.id = id
        self.vocabulary = vocabulary
        self.tags = list(tags)
        self.input_length = input_length
        self.spec = MelSpectrogram()
        self.spec_bn = nn.BatchNorm2d(1)
        # Until a checkpoint overwrites them: the pretrained taggers' dB statistics (mean about
        # -10 dB, std about 20 dB), so that random-weight taggers see unit-scale input too.
        self.spec_bn.running_mean.fill_(-10.0)
        self.spec_bn.running_var.fill_(400.0)

    def classify(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, 1, M, T) normalised log-mel spectrogram -> (B, len(tags)) logits."""
        raise NotImplementedError

    def mel_db(self, x: torch.Tensor) -> torch.Tensor:
        """(B, input_length) waveforms -> (B, M, T) log-mel spectrogram in dB, before ``spec_bn``."""
        self.check_input(x)
        return power_to_db(self.spec(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.spec_bn(self.mel_db(x).unsqueeze(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))

    def check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.input_length:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise AudioError(
                f"tagger '{self.id}' takes a (batch, {self.input_length}) tensor of 16 kHz mono windows, "
                f"got {shape}; cut longer audio with tagbox.taggers.frame()"
            )
        if not x.is_floating_point():
            raise AudioError(f"tagger '{self.id}' takes floating-point audio, got {x.dtype}")

    def train(self, mode: bool = True) -> "Tagger":
        return super().train(False)

    def freeze(self) -> "Tagger":
        """Inference mode and no parameter gradients; returns self."""
        self.requires_grad_(False)
        return self.eval()

    def load_weights(self, state_dict: Mapping[str, torch.Tensor], origin: str) -> "Tagger":
        """Load a checkpoint strictly; a mismatch names the offending keys in one line."""
        expected = self.state_dict()
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        reshaped = [
            f"{k} {tuple(state_dict[k].shape)} != {tuple(v.shape)}"
            for k, v in expected.items()
            if k in state_dict and state_dict[k].shape != v.shape
        ]
        problems = [
            f"{label}: {', '.join(keys)}"
            for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", reshaped))
            if keys
        ]
        if problems:
            raise WeightsError(f"{origin} does not fit tagger '{self.id}' ({type(self).__name__}): " + "; ".join(problems))
        self.load_state_dict(state_dict, strict=True)
        self.flush_subnormals()
        return self

    @torch.no_grad()
    def flush_subnormals(self) -> None:
        """Zero subnormal weights in place (see :func:`tagbox.taggers.layers.flush_subnormals`)."""
        for tensor in self.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(flush_subnormals(tensor))
