"""The report pages (a batch's, an eval run's) in a real browser: headless Chromium loads them and says what it saw.

A copy of the page gets ``browser_check.js`` injected; it waits for every audio element and
image and writes the outcome into the DOM, which ``chromium --dump-dom`` returns. Skipped only
where no Chromium is installed (``.ci/run`` installs Debian's ``chromium`` with apt-get).
Set ``TAGBOX_REPORT_SCREENSHOT=docs/report.png`` to keep the screenshot for the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from tests.report.helpers import assert_numbers_match

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]


def chromium(*args: str) -> str:
    done = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def seen(report: Path) -> dict:
    """What the browser saw of ``report/index.html``: audio, images, numbers and script errors."""
    script = (Path(__file__).parent / "browser_check.js").read_text()
    page = (report / "index.html").read_text().replace("<head>", f"<head><script>{script}</script>", 1)
    check = report / "_check.html"
    check.write_text(page)
    try:
        dom = chromium("--virtual-time-budget=30000", "--dump-dom", check.as_uri())
    finally:
        check.unlink()
    found = re.search(r'<pre id="tagbox-check">(.*?)</pre>', dom, re.S)
    assert found, "the check script did not finish"
    return json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def test_every_player_loads_every_picture_shows_and_the_numbers_match(batch):
    state = seen(batch["report"])
    assert state["errors"] == []
    assert len(state["audio"]) == 6 and all(a["ok"] and abs(a["duration"] - 4.0) < 0.01 for a in state["audio"])
    assert len(state["images"]) == 4 and all(i["ok"] and i["colours"] > 10 for i in state["images"])
    assert len(state["numbers"]) >= 8
    assert_numbers_match(state["numbers"], batch["results"])
    assert len(state["links"]) == 3 and all(link["ok"] for link in state["links"])


def test_the_eval_page_shows_the_numbers_of_the_eval_json(eval_run):
    state = seen(eval_run["report"])
    assert state["errors"] == [] and state["audio"] == [] and state["images"] == []
    results = eval_run["results"]
    shown = {number["key"] for number in state["numbers"]}
    assert {f"results.{i}.si_sdri" for i in range(len(results["results"]))} <= shown
    assert {f"summary.{i}.si_sdri_mean" for i in range(len(results["summary"]))} <= shown
    assert {f"paired.{i}.mean_difference" for i in range(len(results["paired"]))} <= shown and results["paired"]
    assert any(key.endswith("p_after") for key in shown)
    assert_numbers_match(state["numbers"], results)
    tracks = {r["track"] for r in results["results"]}
    assert len(state["links"]) == len(tracks) == 2 and all(link["ok"] for link in state["links"])


def test_the_check_sees_a_broken_player_and_a_blank_picture(batch, tmp_path):
    report = tmp_path / "report"
    shutil.copytree(batch["report"], report)
    first = next(report.glob("media/*/mixture.*"))
    first.unlink()
    picture = next(report.glob("media/*/*-curves.png"))
    matplotlib.image.imsave(picture, np.ones((20, 20, 3)))
    state = seen(report)
    broken = [a["src"] for a in state["audio"] if not a["ok"]]
    blank = [i["src"] for i in state["images"] if i["colours"] <= 10]
    assert broken == [first.relative_to(report).as_posix()]
    assert blank == [picture.relative_to(report).as_posix()]


def test_screenshot_shows_the_page(batch, tmp_path):
    shot = tmp_path / "report.png"
    chromium("--window-size=1000,1800", f"--screenshot={shot}", (batch["report"] / "index.html").as_uri())
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1800, 1000) and np.std(pixels[..., :3]) > 0.05
    keep = os.environ.get("TAGBOX_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
