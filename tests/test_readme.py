"""The README's first screen: the two commands a newcomer needs, as CI runs them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```\n(.*?)```", text, re.S)]


def test_the_first_screen_sets_the_weights_mirror_once_then_runs_and_tests():
    first = "\n".join((ROOT / "README.md").read_text().splitlines()[:60])
    blocks = _commands(first)
    separate = next(block for block in blocks if "tagbox separate" in block)
    assert separate.startswith("export TAGBOX_WEIGHTS_MIRROR=../shared/weights\n")
    assert "TAGBOX_WEIGHTS_MIRROR=" not in separate.split("\n", 1)[1]  # set once, not inline
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in blocks, "the README's test command is the one CI runs"
    assert re.search(r"about \d+ minutes", first), "the suite's duration is stated beside the test command"
    assert "| source |" in first, "what quality to expect is on the first screen"
