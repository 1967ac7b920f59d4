"""The pipeline's composition: which stages a config builds, in which order, and how a segment goes through them."""

from __future__ import annotations

import torch

from tagbox.config import PRESETS, SeparatorConfig
from tagbox.pipeline import Tools, build, resolve
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music

TAGGERS = dict(taggers="debug-tiny")


def _names(config: SeparatorConfig, *sources: str) -> tuple[str, ...]:
    ensemble = TaggerEnsemble.load("debug-tiny")
    return build(config, resolve(config, ensemble, sources, warn=print), 16000).names


def test_the_default_runs_the_tagged_start_then_refines_where_a_source_or_competitor_takes_steps():
    default = SeparatorConfig.of(**TAGGERS)
    labelling = ("decompose", "listen", "evidence", "fragment_prior", "share", "register_prior", "start_gains")
    ending = ("apply", "range_floor", "presence")
    assert _names(default, "violin") == ("competitors", *labelling, "refine", *ending)
    assert _names(default.replace(competitors="none"), "violin") == (*labelling, *ending)
    assert _names(default, "drums") == (*labelling, "refine", *ending)  # drums: its own steps


def test_a_config_leaves_out_the_stages_it_names_and_other_starts_build_their_own():
    default = SeparatorConfig.of(**TAGGERS, competitors="none")
    assert _names(default.replace(without=("share", "range_floor", "presence")), "violin") == (
        "decompose", "listen", "evidence", "fragment_prior", "register_prior", "start_gains", "apply")
    assert _names(default.replace(add="position_prior"), "violin")[5:8] == ("register_prior", "position_prior", "start_gains")
    assert _names(default.replace(start="flat"), "violin") == ("decompose", "flat_gains", "refine", "apply", "range_floor")
    faithful = PRESETS["faithful"].replace(generator="debug-tiny", **TAGGERS)
    assert _names(faithful, "drums") == ("decompose", "refine", "apply")


def test_a_segment_goes_through_every_stage_in_order_and_silence_through_none():
    config = SeparatorConfig.of(**TAGGERS, competitors="none", components=4)
    ensemble = TaggerEnsemble.load("debug-tiny")
    pipeline = build(config, resolve(config, ensemble, ["violin"], warn=print), 16000)
    seen, entered = [], []
    tools = Tools(ensemble, on_stage=lambda index, name: entered.append((index, name)))
    piece = music(16000, 1.0, channels=2)
    state = pipeline.run(piece, 3, tools=tools, record=lambda name, segment: seen.append(name))
    assert tuple(seen) == pipeline.names and entered == [(3, name) for name in pipeline.names]
    assert state.estimate.shape == (1, *piece.shape) and len(state.runs) == 2  # violin takes no step: two runs
    torch.testing.assert_close(pipeline(piece, 3, tools=Tools(ensemble)), state.estimate)
    seen.clear()
    silent = pipeline.run(torch.zeros_like(piece), 0, tools=tools, record=lambda name, segment: seen.append(name))
    assert seen == [] and silent.estimate.shape == (1, *piece.shape) and not silent.estimate.any()
    start = pipeline.before("apply")
    assert start.names == pipeline.names[:-3] and start.run(piece, 3, tools=tools).estimate is None
