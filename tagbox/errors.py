"""User-facing errors.

Anything a user can cause (a missing file, an unknown tag, corrupt weights) raises a
:class:`TagboxError`. The CLI prints its message as one line and exits non-zero; a
traceback is shown only with ``--verbose``. Programming errors stay ordinary exceptions.
"""


class TagboxError(Exception):
    """An error caused by input or environment, explained in one line."""


class WeightsError(TagboxError):
    """Weights are missing, cannot be downloaded, or fail their checksum."""


class AudioError(TagboxError):
    """Audio cannot be read, is empty, silent, non-finite or has the wrong shape or rate."""


class UnknownNameError(TagboxError):
    """A model id, tag, source or option value that tagbox does not know."""
