"""Which torch device to run on, checked before any model is loaded.

``torch.device("cuda")`` is accepted by torch on a CPU-only build and fails only at the first
allocation, with an ``AssertionError`` deep inside the first model's ``.to()``. tagbox asks
the backend up front so that an unusable device is one clear line.
"""

from __future__ import annotations

import torch

from tagbox.errors import TagboxError


class DeviceError(TagboxError):
    """The requested device does not exist or is not usable with this torch build."""


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a :class:`torch.device` that this machine can use, else :class:`DeviceError`."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise DeviceError(f"unknown device '{device}'; use cpu, cuda or cuda:N") from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{device}' asked for, but CUDA is not available "
                              f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'})")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise DeviceError(f"device '{device}' asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"device '{device}' asked for, but MPS is not available")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device '{device}' is not supported; use cpu, cuda or cuda:N")
    return resolved
