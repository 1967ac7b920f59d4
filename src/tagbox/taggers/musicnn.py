"""Musicnn (Pons et al.; Won et al.'s PyTorch version): timbre and temporal front-end branches,
a residual 1-D back end, and max+mean pooling over time. Works on any window length; the
pretrained checkpoints use 3 s."""

from __future__ import annotations

import torch
from torch import nn

from tagbox.taggers.base import Tagger
from tagbox.taggers.frontend import N_MELS
from tagbox.taggers.layers import Conv1dBlock, TemporalBlock, TimbreBlock


class Musicnn(Tagger):
    def __init__(
        self,
        id: str,
        vocabulary: str,
        tags,
        input_length: int,
        timbre_filters: int = 204,
        temporal_filters: int = 51,
        backend_channels: int = 64,
        dense_units: int = 200,
    ):
        super().__init__(id, vocabulary, tags, input_length)
        self.layers = nn.ModuleList([
            TimbreBlock(timbre_filters, int(0.7 * N_MELS)),
            TimbreBlock(timbre_filters, int(0.4 * N_MELS)),
            TemporalBlock(temporal_filters, 129),
            TemporalBlock(temporal_filters, 65),
            TemporalBlock(temporal_filters, 33),
        ])
        front_channels = 2 * timbre_filters + 3 * temporal_filters
        self.layer1 = Conv1dBlock(front_channels, backend_channels, 7)
        self.layer2 = Conv1dBlock(backend_channels, backend_channels, 7)
        self.layer3 = Conv1dBlock(backend_channels, backend_channels, 7)
        self.dense1 = nn.Linear(2 * (front_channels + 3 * backend_channels), dense_units)
        self.bn = nn.BatchNorm1d(dense_units)
        self.dense2 = nn.Linear(dense_units, len(self.tags))

    def classify(self, spec: torch.Tensor) -> torch.Tensor:
        spec = spec.squeeze(1)
        front = torch.cat([branch(spec) for branch in self.layers], dim=1)
        r1 = self.layer1(front)
        r2 = self.layer2(r1) + r1
        r3 = self.layer3(r2) + r2
        features = torch.cat([front, r1, r2, r3], dim=1)
        pooled = torch.cat([features.amax(2), features.mean(2)], dim=1)
        return self.dense2(torch.relu(self.bn(self.dense1(pooled))))
