"""scripts/train_fragment_heads.py: the phrases it renders and the heads it fits (no soundfont needed)."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_fragment_heads.py"


def load():
    spec = importlib.util.spec_from_file_location("train_fragment_heads", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_bundled_heads_are_the_sources_the_script_renders():
    import json

    script = load()
    bundled = json.loads(script.OUT.read_text())
    assert set(bundled["heads"]) == {instrument.source for instrument in script.INSTRUMENTS} - {None}
    assert [dict(item) for item in bundled["instruments"]] == [vars(instrument) for instrument in script.INSTRUMENTS]
