"""Separation benchmark: datasets with true stems, metrics, methods to compare, a cached runner.

``tagbox eval`` (tagbox/cli/eval.py) is the command-line front end.
"""

from tagbox.evaluation.datasets import Track, detect_layout, load_track, track_sources
from tagbox.evaluation.methods import METHODS, Estimate, MethodSpec, build_method
from tagbox.evaluation.runner import EvalPlan, run_evaluation
from tagbox.metrics import bss_sdr, si_sdr, si_sdr_improvement

__all__ = [
    "METHODS",
    "Estimate",
    "EvalPlan",
    "MethodSpec",
    "Track",
    "bss_sdr",
    "build_method",
    "detect_layout",
    "load_track",
    "run_evaluation",
    "si_sdr",
    "si_sdr_improvement",
    "track_sources",
]
