import dataclasses

import pytest

from tagbox.cli import build_parser
from tagbox.cli.separate import separator_options
from tagbox.config import PRESETS, SeparatorConfig, preset, settings
from tagbox.errors import TagboxError, UnknownNameError
from tagbox.latents import NMFOptions, VQVAEOptions
from tagbox.separator import Separator


def test_presets_are_frozen_configs():
    assert isinstance(PRESETS["faithful"], SeparatorConfig) and PRESETS["default"] == SeparatorConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["default"].steering.steps = 3
    assert preset("faithful").replace(steps=7).steering.steps == 7 and preset("faithful").steering.steps == 100


def test_lists_and_single_ids_become_tuples():
    config = SeparatorConfig.of(taggers="debug-tiny", exclude=["vocals"], objective="focused", latent="vqvae",
                                fft_sizes=[512, 256], without="range_floor")
    assert config.steering.taggers == ("debug-tiny",) and config.steering.exclude == ("vocals",)
    assert config.latent_options.fft_sizes == (512, 256) and config.without == ("range_floor",)
    assert SeparatorConfig(latent="vqvae").replace(fft_sizes=1024).latent_options.fft_sizes == (1024,)
    assert SeparatorConfig().steering.tagger_ids == ("mtat-musicnn", "mtat-fcn")


def test_settings_are_nested_by_concern_and_taken_flat():
    config = SeparatorConfig.of(components=8, share_temperature=0.1, steps=3, segment=10.0, runs=1)
    assert (config.latent_options.components, config.labelling.share_temperature) == (8, 0.1)
    assert (config.steering.steps, config.output.segment, config.runs) == (3, 10.0, 1)
    flat = config.flat()
    assert flat["components"] == 8 and flat["share_temperature"] == 0.1 and flat["segment"] == 10.0
    assert set(flat) <= set(settings()) and SeparatorConfig.of(**flat) == config


def test_the_latents_settings_live_in_its_own_options():
    assert SeparatorConfig().latent_options == NMFOptions()
    faithful = preset("faithful")
    assert faithful.latent_options == VQVAEOptions(generator="jukebox-5b", codebook="reference", output_views="last")
    assert faithful.replace(generator="compact").latent_options.codebook == "reference"  # same latent: kept
    assert faithful.replace(latent="nmf").latent_options == NMFOptions()  # another latent: its defaults
    assert faithful.replace(latent="nmf", components=8).latent_options.components == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        faithful.latent_options.level = 1


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"objective": "tagbox"}, "objective 'tagbox' is now called 'reference'"),
        ({"latent": "wavelets"}, "unknown latent 'wavelets'"),
        ({"taggers": ("no-such",)}, "unknown tagger 'no-such'"),
        ({"overlap": 1.0}, "overlap"),
        ({"average": 500}, "average must be at most steps (15), got 500"),
        ({"share_temperature": 0}, "share_temperature must be positive, got 0; to leave the stage out, set without=share"),
        ({"without": ("refine",)}, "unknown stage 'refine'; choose from fragment_prior, share, register_prior, range_floor, presence"),
        ({"add": ("share",)}, "unknown stage to add 'share'; choose from position_prior"),
        ({"exclude": ("vocals",)}, "--not (exclude) names negatives of the focused objective"),
        ({"latent": "vqvae", "register_weight": 0.5}, "register_weight is a setting of the nmf latent's tagged start; the vqvae"),
        ({"runs": 0}, "runs must be at least 1, got 0"),
        ({"stepz": 3}, "unknown setting 'stepz' (did you mean 'steps'?)"),
        ({"componets": 3}, "unknown setting 'componets' (did you mean 'components'?)"),
        ({"codebook": "reference"}, "codebook (--codebook) is a setting of the vqvae latent; the nmf latent does not take it"),
        ({"latent": "mask", "components": 4}, "components (--components) is a setting of the nmf latent; the mask latent"),
        ({"latent": "vqvae", "init_gain": 0.5}, "init_gain (--init-gain) is a setting of the nmf and mask latents; the vqvae"),
        ({"latent_options": VQVAEOptions()}, "the nmf latent takes NMFOptions, not VQVAEOptions"),
        ({"latent": "vqvae", "codebook": "tagbox"}, "codebook policy 'tagbox' is now called 'reference'"),
        ({"latent": "vqvae", "generator": "debug-tiny", "level": 1}, "generator 'debug-tiny' has levels 0 to 0, not 1"),
        ({"latent": "vqvae", "fft_sizes": ()}, "fft_sizes"),
        ({"latent": "vqvae", "output_views": "first"}, "unknown output_views 'first'"),
        ({"init_gain": 1.0}, "init_gain must be between 0 and 1"),
        ({"components": 0}, "components must be at least 1"),
        ({"competitors": ("drumz",)}, "unknown source 'drumz' (did you mean 'drums'?)"),
        ({"competitor_threshold": 1.0}, "competitor_threshold must be between 0 and 1"),
    ],
)
def test_bad_settings_fail_before_any_model_loads(settings, message):
    with pytest.raises(TagboxError) as error:
        SeparatorConfig().replace(**settings)
    assert message in str(error.value)


def test_separate_flags_come_from_the_config_fields():
    parser = build_parser()
    args = parser.parse_args(["separate", "x.wav", "-s", "drums", "--steps", "5", "--fft-sizes", "512,256",
                              "--not", "vocals", "--no-mask", "--objective", "focused", "--latent", "vqvae", "--level", "1"])
    options = separator_options(args)
    assert options == {"device": "cpu", "steps": 5, "fft_sizes": (512, 256), "exclude": ["vocals"],
                       "mask": False, "objective": "focused", "latent": "vqvae", "level": 1}
    assert separator_options(parser.parse_args(["separate", "x.wav", "-s", "violin", "--without", "share"]))[
        "without"] == ["share"]
    assert set(options) - {"device"} <= set(settings())
    assert separator_options(parser.parse_args(["separate", "x.wav", "-s", "drums", "--init-gain", "0.5"])) == {
        "device": "cpu", "init_gain": 0.5}


def test_the_separator_takes_a_config_and_keyword_overrides_only():
    separator = Separator(SeparatorConfig.of(taggers="debug-tiny", steps=2), components=4, progress=False)
    assert separator.config.latent_options.components == 4 and separator.request(["drums"]).sources[0].steps == 2
    with pytest.raises(TypeError):
        Separator(SeparatorConfig(), "cpu")
    with pytest.raises(UnknownNameError, match="unknown setting"):
        Separator(taggers="debug-tiny", stepz=2)


def test_zero_steps_are_a_separation_only_from_a_tagged_start():
    assert SeparatorConfig.of(steps=0).steering.steps == 0
    with pytest.raises(TagboxError, match=r"^steps must be at least 1, got 0$"):
        SeparatorConfig.of(steps=0, start="flat")
    with pytest.raises(TagboxError, match=r"^steps must be at least 0 \(the start itself\), got -1$"):
        SeparatorConfig.of(steps=-1)


def test_average_is_checked_against_the_steps_set():
    with pytest.raises(TagboxError, match=r"^average must be at most steps \(3\), got 4$"):
        SeparatorConfig.of(steps=3, average=4)
    with pytest.raises(TagboxError, match=r"^average must be at least 0, got -1$"):
        SeparatorConfig.of(average=-1)


def test_competitors_none_turns_them_off():
    assert SeparatorConfig().steering.competitors == ("drums",)
    assert SeparatorConfig.of(competitors="none").steering.competitors == ()
    assert SeparatorConfig.of(competitors=None).steering.competitors == ()  # eval's --config NAME=competitors=none


def test_competitor_none_on_the_command_line_turns_them_off():
    parser = build_parser()
    args = parser.parse_args(["separate", "x.wav", "-s", "violin", "--competitor", "none"])
    assert SeparatorConfig.of(**{k: v for k, v in separator_options(args).items() if k != "device"}).steering.competitors == ()
    args = parser.parse_args(["separate", "x.wav", "-s", "violin", "--competitor", "bass", "--competitor", "drums"])
    assert separator_options(args)["competitors"] == ["bass", "drums"]


def test_instrument_ranges_are_the_default_and_left_out_by_the_reference():
    assert "range_floor" not in SeparatorConfig().without and "range_floor" in PRESETS["faithful"].without
