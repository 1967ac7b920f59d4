import dataclasses

import pytest

from tagbox.cli import build_parser
from tagbox.cli.separate import separator_options
from tagbox.config import PRESETS, SeparatorConfig, preset, settings
from tagbox.errors import TagboxError, UnknownNameError
from tagbox.latents import NMFLatent, NMFOptions, VQVAEOptions
from tagbox.separator import Separator


def test_presets_are_frozen_configs():
    assert isinstance(PRESETS["faithful"], SeparatorConfig) and PRESETS["default"] == SeparatorConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["default"].steps = 3
    assert preset("faithful").replace(steps=7).steps == 7 and preset("faithful").steps == 100


def test_lists_and_single_ids_become_tuples():
    config = SeparatorConfig(taggers="debug-tiny", exclude=["vocals"], latent="vqvae").replace(fft_sizes=[512, 256])
    assert config.taggers == ("debug-tiny",) and config.exclude == ("vocals",)
    assert config.latent_options.fft_sizes == (512, 256)
    assert SeparatorConfig(latent="vqvae").replace(fft_sizes=1024).latent_options.fft_sizes == (1024,)
    assert SeparatorConfig().tagger_ids == ("mtat-musicnn", "mtat-fcn")


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
        ({"average": 500}, "average"),
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
    assert set(options) - {"device"} <= set(settings())
    assert separator_options(parser.parse_args(["separate", "x.wav", "-s", "drums", "--init-gain", "0.5"])) == {
        "device": "cpu", "init_gain": 0.5}


def test_the_separator_takes_a_config_and_keyword_overrides_only():
    separator = Separator(SeparatorConfig(taggers="debug-tiny", steps=2), components=4, progress=False)
    assert separator.config.latent_options.components == 4 and separator.config.steps_for("drums") == 2
    with pytest.raises(TypeError):
        Separator(SeparatorConfig(), "cpu")
    with pytest.raises(UnknownNameError, match="unknown setting"):
        Separator(taggers="debug-tiny", stepz=2)


def test_zero_steps_are_a_separation_only_from_a_tagged_start():
    assert SeparatorConfig(steps=0, latent_options=NMFOptions(start="tagged")).steps_for("drums") == 0
    with pytest.raises(TagboxError, match=r"^steps must be at least 1, got 0$"):
        SeparatorConfig(steps=0, latent_options=NMFOptions(start="flat"))
    with pytest.raises(TagboxError, match=r"^steps must be at least 0 \(the start itself\), got -1$"):
        SeparatorConfig(steps=-1, latent_options=NMFOptions(start="tagged"))


def test_steps_left_unset_follow_the_start_and_the_source():
    assert SeparatorConfig(latent_options=NMFOptions(start="flat")).steps_for("violin") == 150
    tagged = SeparatorConfig(latent_options=NMFOptions(start="tagged"))
    assert tagged.steps_for("drums") == tagged.steps_for("Drums") == NMFLatent.tagged_steps["drums"] > 0
    assert tagged.steps_for("violin") == 0 and "violin" not in NMFLatent.tagged_steps
    assert tagged.replace(steps=7).steps_for("violin") == tagged.replace(steps=7).steps_for("drums") == 7


def test_average_is_checked_against_the_steps_set():
    with pytest.raises(TagboxError, match=r"^average must be at most steps \(3\), got 4$"):
        SeparatorConfig(steps=3, average=4)
    with pytest.raises(TagboxError, match=r"^average must be at least 0, got -1$"):
        SeparatorConfig(average=-1)


def test_unset_components_and_runs_follow_the_start():
    tagged, flat = SeparatorConfig(), SeparatorConfig().replace(start="flat")
    assert tagged.latent_options.component_count == 16 and tagged.runs_for(["violin"]) == 2
    assert tagged.runs_for(["drums"]) == 1 and tagged.runs_for(["drums", "violin"]) == 2  # refined: one run
    assert flat.latent_options.component_count == 32 and flat.runs_for(["violin"]) == 1
    assert tagged.replace(components=8, runs=3).latent_options.component_count == 8
    assert tagged.replace(runs=3).runs_for(["drums"]) == 3 and tagged.replace(steps=5).runs_for(["violin"]) == 1
    assert SeparatorConfig(latent="mask").runs_for(["violin"]) == 1


def test_competitors_join_only_requests_they_share_no_tag_with_and_only_from_a_separated_start():
    config = SeparatorConfig()
    assert config.competitors == ("drums",) and config.competitors_for(["violin", "piano"]) == ("drums",)
    assert config.competitors_for(["drums"]) == () and config.competitors_for(["Drums", "violin"]) == ()
    assert config.replace(competitors=("strings", "bass")).competitors_for(["violin"]) == ("bass",)  # MTAT 'violin'
    assert config.replace(start="flat").competitors_for(["violin"]) == ()
    assert PRESETS["faithful"].competitors == () and config.replace(latent="mask").competitors_for(["violin"]) == ()
    assert config.most_steps(["violin"]) == NMFLatent.tagged_steps["drums"] and config.most_steps(["drums"]) == 15
    assert config.replace(competitors="none").most_steps(["violin"]) == 0
    assert config.replace(competitors=None).competitors == ()  # eval's --config NAME=competitors=none


def test_competitor_none_on_the_command_line_turns_them_off():
    parser = build_parser()
    args = parser.parse_args(["separate", "x.wav", "-s", "violin", "--competitor", "none"])
    assert SeparatorConfig().replace(**{k: v for k, v in separator_options(args).items() if k != "device"}).competitors == ()
    args = parser.parse_args(["separate", "x.wav", "-s", "violin", "--competitor", "bass", "--competitor", "drums"])
    assert separator_options(args)["competitors"] == ["bass", "drums"]


def test_instrument_ranges_are_the_default_and_unknown_to_the_reference():
    assert SeparatorConfig().ranges and not PRESETS["faithful"].ranges
    parser = build_parser()
    assert "ranges" not in separator_options(parser.parse_args(["separate", "x.wav", "-s", "violin"]))
    assert separator_options(parser.parse_args(["separate", "x.wav", "-s", "violin", "--no-ranges"]))["ranges"] is False
