"""tagbox: steer pretrained music models with pretrained music taggers.

The public API is small; submodules are imported on first use so that ``import tagbox``
stays cheap for the CLI.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_tagger": "tagbox.taggers",
    "Separator": "tagbox.separator",
    "SeparationResult": "tagbox.result",
    "SeparatorConfig": "tagbox.config",
    "PRESETS": "tagbox.config",
    "TaggerEnsemble": "tagbox.taggers.ensemble",
    "load_audio": "tagbox.audio",
    "save_audio": "tagbox.audio",
    "TagboxError": "tagbox.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tagbox' has no attribute '{name}'")
