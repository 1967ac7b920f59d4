import json
import re

import matplotlib.image
import numpy as np

from tagbox.cli import main
from tagbox.report import write_report


def test_report_folder_holds_page_pictures_and_audio(batch):
    report = batch["report"]
    page = (report / "index.html").read_text()
    sources = re.findall(r'<(?:audio|img)[^>]* src="([^"]+)"', page)
    assert len(sources) == 2 * (3 + 2)  # per track: mixture, estimate, rest players; two pictures
    assert all((report / src).is_file() for src in sources)
    assert json.loads((report / "results.json").read_text()) == batch["results"]
    assert "broken.wav" in page and "cannot read audio file" in page and "http" not in page


def test_numbers_on_the_page_are_those_of_the_results(batch):
    page = (batch["report"] / "index.html").read_text()
    shown = re.findall(r'data-key="([^"]+)" data-digits="(\d)">([^<]+)<', page)
    assert len(shown) >= 2 * 2 * 2
    for key, digits, text in shown:
        value = batch["results"]
        for part in key.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        assert text == f"{value:.{digits}f}", key


def test_pictures_are_drawn_and_the_curves_cover_every_step(batch, tmp_path):
    entry = batch["results"]["files"][1]
    drums = entry["sources"]["drums"]
    assert len(drums["history"]["probability"]) == 6
    picture = matplotlib.image.imread(batch["report"] / "media" / "001-dev_000" / "drums-spectrograms.png")
    assert picture.shape[0] > 300 and np.std(picture[..., :3]) > 0.05


def test_report_command_finds_the_manifest_in_the_output_folder(batch, tmp_path, capsys):
    assert main(["report", str(batch["manifest"].parents[1]), "-o", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip() == f"report {tmp_path / 'r' / 'index.html'}"
    assert (tmp_path / "r" / "index.html").read_text() == (batch["report"] / "index.html").read_text()
    assert main(["report", str(tmp_path)]) == 1
    assert "no manifest.json" in capsys.readouterr().err


def test_a_report_without_a_finished_file_still_renders(tmp_path, batch):
    results = dict(batch["results"], summary=None, files=[dict(batch["results"]["files"][0])])
    (tmp_path / "manifest.json").write_text(json.dumps(results))
    page = write_report(tmp_path / "manifest.json", tmp_path / "r").read_text()
    assert "batch not finished" in page and "<audio" not in page
