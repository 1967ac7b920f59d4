"""Batches of audio files: expand inputs, plan outputs, run files on a backend, keep a manifest.

The layer between the library (:mod:`tagbox.separator`, :mod:`tagbox.tagging`) and the CLI: the
command names the inputs and a task; this package finds the files, checks every output before
any work, skips what is already done, runs the rest (in this process, in worker processes, or
on a Ray cluster) and records each file in a manifest as it finishes.
"""

from tagbox.batch.inputs import AUDIO_EXTENSIONS, Input, expand_inputs
from tagbox.batch.manifest import Manifest, load_manifest, recorded_groups
from tagbox.batch.plan import Job, Recorded, check_writable, plan_jobs, track_names
from tagbox.batch.runner import BACKENDS, Summary, run_batch

__all__ = [
    "AUDIO_EXTENSIONS", "BACKENDS", "Input", "Job", "Manifest", "Recorded", "Summary", "check_writable",
    "expand_inputs", "load_manifest", "plan_jobs", "recorded_groups", "run_batch", "track_names",
]
