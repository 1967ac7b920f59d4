import json
import re

import matplotlib.image
import numpy as np

from tagbox.cli import main
from tagbox.report import write_report
from tests.report.helpers import assert_numbers_match, page_numbers


def test_report_folder_holds_page_pictures_and_audio(batch):
    report = batch["report"]
    page = (report / "index.html").read_text()
    sources = re.findall(r'<(?:audio|img)[^>]* src="([^"]+)"', page)
    assert len(sources) == 2 * (3 + 2)  # per track: mixture, estimate, rest players; two pictures
    assert all((report / src).is_file() for src in sources)
    assert json.loads((report / "results.json").read_text()) == batch["results"]
    assert "broken.wav" in page and "cannot read audio file" in page and "http" not in page


def test_numbers_on_the_page_are_those_of_the_results(batch):
    shown = page_numbers((batch["report"] / "index.html").read_text())
    assert len(shown) >= 2 * 2 * 2
    assert_numbers_match(shown, batch["results"])


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


def test_eval_report_shows_every_result_and_links_every_track(eval_run, capsys):
    page = (eval_run["report"] / "index.html").read_text()
    results = eval_run["results"]
    assert json.loads((eval_run["report"] / "results.json").read_text()) == results
    assert "<audio" not in page and "<img" not in page and "http" not in page
    shown = page_numbers(page)
    assert {n["key"] for n in shown} >= {f"results.{i}.p_after" for i, r in enumerate(results["results"]) if "p_after" in r}
    assert_numbers_match(shown, results)
    anchors = re.findall(r'href="#([^"]+)"', page)
    assert len(anchors) == 2 and all(f'id="{anchor}"' in page for anchor in anchors)
    assert len(re.findall(r"<section class=\"track\"", page)) == 2 and "Paired comparison with mixture" in page


def test_eval_report_is_kept_unless_forced(eval_run, capsys):
    args = [a for a in eval_run["args"] if a != "--json" and not a.endswith("eval.json")]
    assert main(args) == 1
    assert capsys.readouterr().err.strip() == f"tagbox: error: {eval_run['report'] / 'index.html'} exists; use --force to overwrite it"
    assert main([*args, "--force"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"report {eval_run['report'] / 'index.html'}")
