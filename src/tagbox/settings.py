"""How a setting is declared: the field metadata that makes it a ``tagbox separate`` flag, and
the checks every setting's value goes through.

Settings live in frozen dataclasses (:class:`~tagbox.config.SeparatorConfig` and each latent's
options); this module is below both, so a latent declares its own flags without importing the
config that collects them.
"""

from __future__ import annotations

from typing import Any, Iterable

from tagbox.errors import UnknownNameError

# Names retired because "tagbox" also names the package and an eval method.
RENAMED = {"tagbox": "reference"}


def flag(flag: str, help: str, **argparse: Any) -> dict:
    """Field metadata: ``tagbox separate`` offers the field as ``flag`` with these argparse options."""
    return {"flag": flag, "help": help, **argparse}


def int_list(text: str) -> tuple[int, ...]:
    """``"2048,1024,512"`` -> ``(2048, 1024, 512)``."""
    return tuple(int(part) for part in text.split(",") if part)


def choice(kind: str, value: str, known: Iterable[str]) -> None:
    """Refuse ``value`` unless it is one of ``known``; a retired name says what it is called now."""
    known = list(known)
    if value in RENAMED and RENAMED[value] in known:
        raise UnknownNameError(f"{kind} '{value}' is now called '{RENAMED[value]}'")
    if value not in known:
        raise UnknownNameError(f"unknown {kind} '{value}'; choose from {', '.join(known)}")
