"""CRNN (Choi et al. 2017): four 3×3 conv blocks, then a 2-layer GRU read at its last step."""

from __future__ import annotations

import torch
from torch import nn

from tagbox.taggers.base import Tagger
from tagbox.taggers.layers import Conv2dBlock


class CRNN(Tagger):
    def __init__(self, id: str, vocabulary: str, tags, input_length: int):
        super().__init__(id, vocabulary, tags, input_length)
        self.layer1 = Conv2dBlock(1, 64, (2, 2))
        self.layer2 = Conv2dBlock(64, 128, (3, 3))
        self.layer3 = Conv2dBlock(128, 128, (4, 4))
        self.layer4 = Conv2dBlock(128, 128, (4, 4))
        self.layer5 = nn.GRU(128, 32, num_layers=2, batch_first=True)
        self.dense = nn.Linear(32, len(self.tags))

    def classify(self, spec: torch.Tensor) -> torch.Tensor:
        features = self.layer4(self.layer3(self.layer2(self.layer1(spec))))  # (B, 128, 1, T')
        sequence, _ = self.layer5(features.squeeze(2).transpose(1, 2))
        return self.dense(sequence[:, -1])
