"""What a running separation shows: seconds of audio done, the segment and stage at work, Adam's steps.

The bar counts the input's seconds as they are released (finished regions of the estimates), so
its rate and time left hold for a long file whatever a segment spends on which stage; the
postfix names the segment and the stage at work (listening and steering are the long ones), and
the step while steering. Log lines go through the bar's own writer, above it, not glued to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


class Progress:
    """One request's bar, and the history of its steps (every step's record, in order)."""

    def __init__(self, *, seconds: float, segments: int, label: str, enabled: bool,
                 callback: Callable[[dict], None] | None = None):
        self.segments, self.callback = segments, callback
        self.history: list[dict] = []
        self.done = 0.0  # seconds of the input finished
        self.bar = tqdm(total=round(seconds, 2), desc=label, unit="s", disable=not enabled, leave=False,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s audio [{elapsed}<{remaining}{postfix}]")
        self._where = ""

    def stage(self, segment: int, name: str) -> None:
        """The segment ``segment`` (0-based) enters stage ``name``."""
        self._where = f"segment {segment + 1}/{self.segments} {name}" if self.segments > 1 else name
        self.bar.set_postfix_str(self._where)

    def step(self, record: dict) -> None:
        """One Adam step's record (segment, run, step, loss, probability): kept, shown, passed on."""
        self.history.append(record)
        self.bar.set_postfix_str(f"{self._where} run {record['run'] + 1} step {record['step'] + 1} "
                                 f"loss {record['loss']:.3f}")
        if self.callback is not None:
            self.callback(record)

    def advance(self, seconds: float) -> None:
        """``seconds`` more of the input are finished."""
        self.done += seconds
        self.bar.update(min(seconds, self.bar.total - self.bar.n))

    @contextlib.contextmanager
    def shown(self) -> Iterator["Progress"]:
        """The bar for the duration of the work, with log lines written above it."""
        with self.bar, logging_redirect_tqdm():
            yield self
