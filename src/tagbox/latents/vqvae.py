"""The ``vqvae`` latent: TagBox's space, a generator's unquantised latents decoded every step."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from tagbox import generators
from tagbox.errors import TagboxError
from tagbox.generators.codebook import CODEBOOK_POLICIES
from tagbox.latents.base import LatentOptions, MaskedLatent
from tagbox.masks import STFT, ratio_mask
from tagbox.settings import choice, flag, int_list


@dataclass(frozen=True)
class VQVAEOptions(LatentOptions):
    """Which generator, which of its levels, how its codebook behaves and how its audio is used."""

    generator: str = field(default="compact", metadata=flag(
        "--generator", "generator id: compact (bundled) or jukebox-5b (`tagbox download jukebox-5b`)"))
    level: int = field(default=0, metadata=flag("--level", "generator level to steer, 0 the finest", type=int))
    codebook: str = field(default="frozen", metadata=flag(
        "--codebook", "codebook policy: frozen (the generator's own) or reference (re-initialised from the song and "
        "updated as it is steered, as TagBox does)"))
    fft_sizes: tuple[int, ...] = field(
        default=(2048, 1024, 512), metadata=flag("--fft-sizes", "mask FFT sizes, e.g. 2048,1024,512", type=int_list))
    mask: bool = field(default=True, metadata=flag(
        "--no-mask", "return the generator's audio itself, as style transfer", action="store_false"))
    # "last": the output is the last FFT size's masked mixture, as the reference does; "all": their mean.
    output_views: str = "all"

    def __post_init__(self) -> None:
        sizes = (self.fft_sizes,) if isinstance(self.fft_sizes, int) else self.fft_sizes  # --config gives one as an int
        object.__setattr__(self, "fft_sizes", tuple(int(size) for size in sizes))
        if not self.fft_sizes or min(self.fft_sizes) < 2:
            raise TagboxError(f"fft_sizes must be one or more sizes of at least 2, got {self.fft_sizes}")
        choice("generator", self.generator, generators.GENERATORS)
        levels = generators.GENERATORS[self.generator].config.levels
        if not 0 <= self.level < levels:
            raise TagboxError(f"generator '{self.generator}' has levels 0 to {levels - 1}, not {self.level}")
        choice("codebook policy", self.codebook, CODEBOOK_POLICIES)
        choice("output_views", self.output_views, ("all", "last"))


class VQVAELatent(MaskedLatent):
    """Each step quantises the latents, decodes them and masks the reference with
    ``|G| / max(|X|, |G|)`` at each FFT size; without masks the decoded audio is the estimate."""

    Options = VQVAEOptions
    default_lr = 5.0
    default_steps = 100

    def __init__(self, mixture: torch.Tensor, sample_rate: int, options: VQVAEOptions, *,
                 model: nn.Module, sources: int = 1, seed: int = 0):
        self.__dict__["generator"] = model  # frozen and shared: not a submodule of this space
        hop = model.hop_length(options.level)
        length = mixture.shape[-1]
        padded = F.pad(mixture, (0, -length % hop)).reshape(1, 1, -1)
        quantiser = model.codebook_session(options.codebook, seed=seed)
        with torch.no_grad():
            z = model.encode(padded, options.level)
            reconstruction = model.decode(quantiser.quantise(z, options.level)[1], options.level)
        self.quantiser = quantiser
        self.level = options.level
        self.use_mask = options.mask
        self.last_view_only = options.output_views == "last"
        stfts = [STFT(n, device=mixture.device) for n in options.fft_sizes]
        super().__init__(reconstruction.reshape(-1)[:length], stfts)
        self.reference_magnitudes = [spec.abs() for spec in self.reference_specs]
        self.z = nn.Parameter(z)

    @classmethod
    def model_name(cls, options: VQVAEOptions) -> str:
        return options.generator

    @classmethod
    def load_model(cls, options: VQVAEOptions, device: torch.device) -> nn.Module:
        return generators.load(options.generator, device=device)

    @staticmethod
    def working_rate(input_rate: int, model: nn.Module) -> int:
        return model.sample_rate

    def decoded(self) -> torch.Tensor:
        """The generator's audio for the current latents, ``(length,)``."""
        _, zq = self.quantiser.quantise(self.z, self.level)
        return self.generator.decode(zq, self.level).reshape(-1)[: self.length]

    def masks(self) -> list[torch.Tensor]:
        audio = self.decoded()
        return [ratio_mask(stft(audio).abs(), mag)[None] for stft, mag in zip(self.stfts, self.reference_magnitudes)]

    def estimates(self) -> torch.Tensor:
        return super().estimates() if self.use_mask else self.decoded()[None, None]

    @torch.no_grad()
    def apply(self, channels: torch.Tensor) -> torch.Tensor:
        if self.use_mask:
            return super().apply(channels)
        return self.decoded().expand_as(channels)[None].clone()
