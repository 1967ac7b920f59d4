import dataclasses

import pytest

from tagbox.cli import build_parser
from tagbox.cli.separate import separator_options
from tagbox.config import FIELDS, PRESETS, SeparatorConfig, preset
from tagbox.errors import TagboxError, UnknownNameError
from tagbox.separator import Separator


def test_presets_are_frozen_configs():
    assert isinstance(PRESETS["faithful"], SeparatorConfig) and PRESETS["default"] == SeparatorConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["default"].steps = 3
    assert preset("faithful").replace(steps=7).steps == 7 and preset("faithful").steps == 100


def test_lists_and_single_ids_become_tuples():
    config = SeparatorConfig(taggers="debug-tiny", exclude=["vocals"], fft_sizes=[512, 256])
    assert config.taggers == ("debug-tiny",) and config.exclude == ("vocals",) and config.fft_sizes == (512, 256)
    assert SeparatorConfig().tagger_ids == ("mtat-musicnn", "mtat-fcn")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"objective": "tagbox"}, "objective 'tagbox' is now called 'reference'"),
        ({"codebook": "tagbox"}, "codebook policy 'tagbox' is now called 'reference'"),
        ({"latent": "wavelets"}, "unknown latent 'wavelets'"),
        ({"taggers": ("no-such",)}, "unknown tagger 'no-such'"),
        ({"overlap": 1.0}, "overlap"),
        ({"average": 500}, "average"),
        ({"stepz": 3}, "unknown setting 'stepz' (did you mean 'steps'?)"),
    ],
)
def test_bad_settings_fail_before_any_model_loads(settings, message):
    with pytest.raises(TagboxError) as error:
        SeparatorConfig().replace(**settings)
    assert message in str(error.value)


def test_separate_flags_come_from_the_config_fields():
    parser = build_parser()
    args = parser.parse_args(["separate", "x.wav", "-s", "drums", "--steps", "5", "--fft-sizes", "512,256",
                              "--not", "vocals", "--no-mask", "--objective", "focused"])
    options = separator_options(args)
    assert options == {"device": "cpu", "steps": 5, "fft_sizes": (512, 256), "exclude": ["vocals"],
                       "mask": False, "objective": "focused"}
    assert set(options) - {"device"} <= set(FIELDS)


def test_the_separator_takes_a_config_and_keyword_overrides_only():
    separator = Separator(SeparatorConfig(taggers="debug-tiny", steps=2), components=4, progress=False)
    assert separator.config.components == 4 and separator.steps == 2
    with pytest.raises(TypeError):
        Separator(SeparatorConfig(), "cpu")
    with pytest.raises(UnknownNameError, match="unknown setting"):
        Separator(taggers="debug-tiny", stepz=2)
