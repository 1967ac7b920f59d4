import json
import re
from pathlib import Path

import matplotlib.image
import numpy as np
import soundfile as sf

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


def fake_batch(folder: Path, seconds: float, rate: int = 44100) -> Path:
    """A manifest of one separated stereo file of ``seconds`` (the stems are the mixture's halves), written without separating."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    mixture = (0.1 * rng.standard_normal((round(seconds * rate), 2))).astype(np.float32)
    sf.write(folder / "song.wav", mixture, rate, subtype="FLOAT")
    (folder / "song").mkdir()
    for stem in ("drums", "no_drums"):
        sf.write(folder / "song" / f"{stem}.wav", mixture / 2, rate, subtype="FLOAT")
    history = {"segment": [0, 0], "run": [0, 0], "step": [0, 1], "loss": [1.0, 0.5], "probability": [0.2, 0.4]}
    entry = {"input": str(folder / "song.wav"), "status": "done", "outputs": {"drums": "song/drums.wav",
             "no_drums": "song/no_drums.wav"}, "groups": [["drums", "no_drums"]], "seconds": 1.0, "time": None,
             "error": None, "sources": {"drums": {"probability_before": 0.2, "probability_after": 0.4, "absent": False,
                                                  "warnings": [], "history": history}}}
    manifest = {"format": "tagbox-manifest/1", "command": "separate", "settings": {}, "started": None, "finished": None,
                "interrupted": False, "summary": None, "files": [entry]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder / "manifest.json"


def test_a_reports_memory_does_not_grow_with_the_files_length(tmp_path):
    import tracemalloc

    peaks = {}
    manifests = {seconds: fake_batch(tmp_path / f"{seconds:.0f}", seconds, rate=22050) for seconds in (20.0, 80.0)}
    for seconds, manifest in manifests.items():  # once untraced: caches sized by the input (codecs, FFT plans) fill
        write_report(manifest, tmp_path / f"warm-{seconds:.0f}")
    for seconds, manifest in manifests.items():
        tracemalloc.start()
        write_report(manifest, tmp_path / f"report-{seconds:.0f}")
        peaks[seconds] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    longer = 60 * 22050 * 2 * 4  # bytes the longer file's extra minute holds as float32
    # (the pictures' columns grow until they fill the picture's width: a few hundred kB)
    assert peaks[80.0] - peaks[20.0] < longer / 4, peaks


def test_the_page_plays_compressed_audio_unless_told(tmp_path, capsys):
    manifest = fake_batch(tmp_path / "batch", seconds=3.0)
    assert main(["report", str(manifest), "-o", str(tmp_path / "small")]) == 0
    assert main(["report", str(manifest), "-o", str(tmp_path / "wav"), "--audio-format", "wav"]) == 0
    played = {name: re.findall(r'<audio[^>]* src="([^"]+)"', (tmp_path / name / "index.html").read_text())
              for name in ("small", "wav")}
    assert len(played["small"]) == 3 and all(src.endswith(".ogg") for src in played["small"])
    assert all(src.endswith(".wav") for src in played["wav"])
    size = {name: sum((tmp_path / name / src).stat().st_size for src in played[name]) for name in played}
    assert size["small"] < size["wav"] / 5
    assert sf.info(tmp_path / "small" / played["small"][0]).format == "OGG"


def test_the_page_names_the_taggers_behind_each_number(batch):
    page = (batch["report"] / "index.html").read_text()
    assert [info["taggers"] for entry in batch["results"]["files"] for info in entry.get("sources", {}).values()] == [
        ["mtat-musicnn"]] * 2
    assert page.count("<td>heard by</td><td>mtat-musicnn</td>") == 2


def test_each_source_of_a_joint_request_shows_its_own_steps_warnings_and_rest(batch, tmp_path):
    """A joint request: drums took steps, piano none; the rest is what both leave."""
    entry = json.loads(json.dumps(batch["results"]["files"][1]))
    base = batch["manifest"].parent
    drums = entry["sources"]["drums"]
    entry["outputs"] = {"drums": entry["outputs"]["drums"], "piano": entry["outputs"]["drums"],
                        "rest": entry["outputs"]["no_drums"]}
    entry["sources"] = {"drums": drums, "piano": dict(drums, warnings=["piano is weak"],
                                                      history={key: [] for key in drums["history"]})}
    (tmp_path / "manifest.json").write_text(json.dumps(dict(batch["results"], files=[entry])))
    for path in entry["outputs"].values():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes((base / path).read_bytes())
    page = write_report(tmp_path / "manifest.json", tmp_path / "r").read_text()
    drums_part, piano_part = page.split("<h3>piano</h3>")
    assert "curves.png" in drums_part and "took no steering step" not in drums_part
    assert "took no steering step" in piano_part and "curves.png" not in piano_part
    assert "piano is weak" in piano_part and "piano is weak" not in drums_part
    assert page.count("rest (the mixture minus every requested source)") == 2


def test_presence_is_a_number_for_one_segment_and_a_picture_for_several(batch, tmp_path):
    page = (batch["report"] / "index.html").read_text()
    assert "plays (presence per segment)" in page and "-presence.png" not in page  # 4 s: one segment
    results = json.loads(batch["manifest"].read_text())
    next(entry for entry in results["files"] if entry.get("sources"))["sources"]["drums"]["presence"] = [0.2, 0.9]
    manifest = batch["manifest"].with_name("presence-manifest.json")  # beside the stems it names
    manifest.write_text(json.dumps(results))
    write_report(manifest, tmp_path / "report")
    page = (tmp_path / "report" / "index.html").read_text()
    pictures = re.findall(r'src="([^"]+-presence\.png)"', page)
    assert len(pictures) == 1 and (tmp_path / "report" / pictures[0]).is_file()
    assert_numbers_match(page_numbers(page), results)
