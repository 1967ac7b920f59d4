from types import SimpleNamespace

import pytest
import soundfile as sf
import torch

from tagbox.config import Output
from tagbox.pipeline import Tools
from tagbox.progress import Progress
from tagbox.run import MixtureRun, file_reader, run_segments
from tagbox.steering import steered_source
from tagbox.taggers.ensemble import TaggerEnsemble
from tests.test_separator import music


def test_file_reader_reads_any_span_as_channels_by_samples(tmp_path):
    audio = music(16000, 1.0, channels=2)
    path = tmp_path / "x.wav"
    sf.write(path, audio.T.numpy(), 16000, subtype="FLOAT")
    with sf.SoundFile(path) as handle:
        read = file_reader(handle, torch.device("cpu"))
        torch.testing.assert_close(read(1000, 500), audio[:, 1000:1500])
        torch.testing.assert_close(read(0, 10), audio[:, :10])


class Halves:
    """A pipeline that keeps half of each segment and finds the source playing with p 0.75."""

    def run(self, piece, index, *, tools):
        return SimpleNamespace(estimate=0.5 * piece[None], presence=torch.tensor([0.75]))


def test_run_segments_releases_the_whole_input_once_and_tags_it():
    audio = music(16000, 3.0)
    ensemble = TaggerEnsemble.load("debug-tiny")
    run = MixtureRun([steered_source(ensemble.taggers, "drums", ["drums"], "reference", (), device="cpu",
                                     warn=lambda _: None)], warnings=[])
    out = torch.zeros(1, *audio.shape)
    progress = Progress(seconds=3.0, segments=4, label="drums", enabled=False)
    covered = torch.zeros(audio.shape[-1])

    def sink(offset, region):
        out[..., offset: offset + region.shape[-1]] = region
        covered[offset: offset + region.shape[-1]] += 1

    run_segments(lambda offset, count: audio[:, offset: offset + count], audio.shape[-1], 16000, run,
                 pipeline=Halves(), tools=Tools(ensemble), segment=1.0, overlap=0.25, sink=sink, progress=progress)
    assert bool((covered == 1).all()) and progress.done == pytest.approx(3.0)
    torch.testing.assert_close(out[0], 0.5 * audio, atol=1e-5, rtol=0)
    result = run.result(0, 16000, Output(absent_threshold=0.0, presence_threshold=0.5))
    assert 0 <= result.probability_before <= 1 and 0 <= result.probability_after <= 1 and run.seconds > 0
    assert result.presence == [0.75] * 4 and not result.absent  # each segment's, in order
    silenced = run.result(0, 16000, Output(absent_threshold=0.0, presence_threshold=0.8))
    assert silenced.absent and "plays in none of 4 segments (p<=0.75 under --presence-threshold 0.8)" in silenced.warnings[-1]
