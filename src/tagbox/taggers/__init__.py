"""Pretrained music taggers (Won et al., sota-music-tagging-models), reimplemented to load the
published checkpoints exactly and to be differentiable with respect to the input audio.

>>> tagger = load_tagger("mtat-musicnn")
>>> probs = predict(tagger, wav16k)          # (50,), mean over 3 s windows
>>> dict(zip(tagger.tags, probs.tolist()))
"""

from tagbox.taggers.base import Tagger
from tagbox.taggers.registry import TAGGERS, TaggerConfig, build_tagger, load_tagger
from tagbox.taggers.windows import frame, predict, wrap_to_windows
from tagbox.vocabularies import VOCABULARIES, vocabulary_tags

__all__ = [
    "TAGGERS",
    "VOCABULARIES",
    "Tagger",
    "TaggerConfig",
    "build_tagger",
    "frame",
    "load_tagger",
    "predict",
    "vocabulary_tags",
    "wrap_to_windows",
]
