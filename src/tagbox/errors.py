"""User-facing errors.

Anything a user can cause (a missing file, an unknown tag, corrupt weights) raises a
:class:`TagboxError`. The CLI prints its message as one line and exits non-zero; a
traceback is shown only with ``--verbose``. Programming errors stay ordinary exceptions.
"""

import difflib
from typing import Iterable


class TagboxError(Exception):
    """An error caused by input or environment, explained in one line."""


class WeightsError(TagboxError):
    """Weights are missing, cannot be downloaded, or fail their checksum."""


class AudioError(TagboxError):
    """Audio cannot be read, is empty, silent, non-finite or has the wrong shape or rate."""


class UnknownNameError(TagboxError):
    """A model id, tag, source or option value that tagbox does not know."""

    @classmethod
    def suggest(cls, kind: str, name: str, known: Iterable[str], candidates: Iterable[str] = ()) -> "UnknownNameError":
        """An error listing the known names and suggesting the closest of them and ``candidates``."""
        known = list(known)
        close = difflib.get_close_matches(name, [*known, *candidates], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return cls(f"unknown {kind} '{name}'{hint}; known: {', '.join(known)}")
