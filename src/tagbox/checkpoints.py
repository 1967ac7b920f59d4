"""Reading weight files: one helper for taggers and generators.

A checkpoint is a state dict, bare or under ``"model"`` (Jukebox's layout). Jukebox checkpoints
also pickle their hyperparameters, so generators are read with ``trusted=True`` (a full
unpickle): only for files resolved and checksum-verified by :mod:`tagbox.weights`, or chosen by
the user. The taggers' files hold tensors only and are read with ``weights_only``.
"""

from __future__ import annotations

import os

import torch

from tagbox.errors import WeightsError


def read_checkpoint(path: str | os.PathLike, *, trusted: bool = False) -> dict[str, torch.Tensor]:
    """The state dict in ``path``; a file that is no checkpoint is one :class:`WeightsError` line."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trusted)
    except Exception as error:  # torch raises many types for corrupt or foreign files
        raise WeightsError(f"cannot read checkpoint {path}: {' '.join(str(error).split())}") from error
    state = checkpoint.get("model", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise WeightsError(f"{path} holds no state dict (expected a dict, or one under 'model')")
    return state
