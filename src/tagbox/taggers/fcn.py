"""FCN (Choi et al. 2016): five 3×3 conv blocks pooled down to a single 64-d vector.

The pooling plan only reduces a 29 s window (1813 frames) to 1×1, so the input length is fixed;
floor pooling makes the last ~2 s of each window irrelevant (zero gradient).
"""

from __future__ import annotations

import torch
from torch import nn

from tagbox.taggers.base import Tagger
from tagbox.taggers.layers import Conv2dBlock


class FCN(Tagger):
    def __init__(self, id: str, vocabulary: str, tags, input_length: int):
        super().__init__(id, vocabulary, tags, input_length)
        self.layer1 = Conv2dBlock(1, 64, (2, 4))
        self.layer2 = Conv2dBlock(64, 128, (2, 4))
        self.layer3 = Conv2dBlock(128, 128, (2, 4))
        self.layer4 = Conv2dBlock(128, 128, (3, 5))
        self.layer5 = Conv2dBlock(128, 64, (4, 4))
        self.dense = nn.Linear(64, len(self.tags))

    def classify(self, spec: torch.Tensor) -> torch.Tensor:
        features = self.layer5(self.layer4(self.layer3(self.layer2(self.layer1(spec)))))
        return self.dense(features.flatten(1))
