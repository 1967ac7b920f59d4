"""Latent spaces: the parameters the taggers steer, and the source estimate they define.

The research probe (``shared/research/feasibility.md``) showed that the latent space decides
the quality: a space that can express arbitrary spectrogram detail is gamed by the taggers,
a space of source-like pieces separates. tagbox therefore treats the space as a choice:

``vqvae``
    a generator's unquantised latents, as in TagBox: each step quantises, decodes and masks
    the mixture with ``|G| / max(|X|, |G|)`` at several FFT sizes (or, without masks, returns
    the decoded audio itself: the "style transfer" mode);
``nmf``
    a KL-NMF dictionary of the mixture with one steerable gain per component;
``mask``
    a free per-bin mask, kept as the documented negative control.

Every space works on a mono signal at its working sample rate, returns differentiable
estimates for the taggers (one per source and STFT view), and applies its final state to any
number of channels at that rate. Only ``nmf`` estimates several sources jointly: each
component's gains are a softmax over the sources and an implicit rest, so the sources' masks
and the rest's sum to one in every bin and the stems sum to the mixture by construction.

Each space owns its settings (a frozen options dataclass) and its model; adding a space is one
class (:mod:`tagbox.latents.base`) plus one entry in :data:`LATENTS`.
"""

from __future__ import annotations

import dataclasses

from tagbox.errors import TagboxError
from tagbox.latents.base import LatentOptions, LatentSpace, MaskedLatent
from tagbox.latents.freemask import FreeMaskLatent, FreeMaskOptions
from tagbox.latents.nmf import NMFLatent, NMFOptions
from tagbox.latents.vqvae import VQVAELatent, VQVAEOptions

__all__ = [
    "LATENTS", "FreeMaskLatent", "FreeMaskOptions", "LatentOptions", "LatentSpace", "MaskedLatent",
    "NMFLatent", "NMFOptions", "VQVAELatent", "VQVAEOptions", "check_joint", "latent_settings", "not_taken",
]

LATENTS: dict[str, type[LatentSpace]] = {
    "vqvae": VQVAELatent,
    "nmf": NMFLatent,
    "mask": FreeMaskLatent,
}


def latent_settings() -> dict[str, dataclasses.Field]:
    """Every latent's settings by name (the first latent's field where several share a name)."""
    settings: dict[str, dataclasses.Field] = {}
    for space in LATENTS.values():
        for setting in dataclasses.fields(space.Options):
            settings.setdefault(setting.name, setting)
    return settings


def takers(name: str) -> list[str]:
    """The latents whose options have a setting called ``name``."""
    return [latent for latent, space in LATENTS.items()
            if name in {setting.name for setting in dataclasses.fields(space.Options)}]


def not_taken(name: str, latent: str) -> TagboxError:
    """The error for a setting of other latents given to ``latent``, naming those that take it."""
    owners = takers(name)
    flag = latent_settings()[name].metadata.get("flag")
    shown = f"{name} ({flag})" if flag else name
    plural = "s" if len(owners) > 1 else ""
    return TagboxError(f"{shown} is a setting of the {' and '.join(owners)} latent{plural}; "
                       f"the {latent} latent does not take it")


def check_joint(latent: str, names: list[str] | tuple[str, ...]) -> None:
    """Refuse a joint request the ``latent`` cannot serve: a repeated source, or a space without joint estimates."""
    if len(set(names)) != len(names):
        raise TagboxError("a source was requested twice")
    if not LATENTS[latent].joint:
        able = ", ".join(name for name, space in LATENTS.items() if space.joint)
        raise TagboxError(f"joint separation needs a latent that estimates sources jointly ({able}), not '{latent}'")
