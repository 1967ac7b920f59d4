import numpy as np
import soundfile as sf
import torch

from tagbox.report import figures


def test_a_spectrum_read_in_blocks_is_the_whole_files_pooled(tmp_path, monkeypatch):
    wav = (0.1 * np.random.default_rng(0).standard_normal((30000, 2))).astype(np.float32)
    sf.write(tmp_path / "x.wav", wav, 8000, subtype="FLOAT")
    whole = torch.stft(torch.as_tensor(wav.mean(1)), figures.N_FFT, figures.HOP, window=torch.hann_window(figures.N_FFT),
                       return_complex=True, center=True, pad_mode="constant")
    whole = (20 * torch.log10(whole.abs().clamp_min(1e-7))).numpy()
    monkeypatch.setattr(figures, "BLOCK_SECONDS", 0.5)
    monkeypatch.setattr(figures, "MAX_ROWS", 2000)
    np.testing.assert_allclose(figures.spectrum(tmp_path / "x.wav").db, whole, atol=1e-4)
    monkeypatch.setattr(figures, "MAX_COLUMNS", 10)
    monkeypatch.setattr(figures, "MAX_ROWS", 300)
    pooled = np.stack([whole[:, i: i + 6].max(1) for i in range(0, whole.shape[1], 6)], axis=1)  # 59 frames, 6 a column
    pooled = np.stack([pooled[i: i + 4].max(0) for i in range(0, 1025, 4)])  # 1025 bins, 4 a row
    spectrum = figures.spectrum(tmp_path / "x.wav")
    np.testing.assert_allclose(spectrum.db, pooled, atol=1e-4)
    assert (spectrum.seconds, spectrum.sample_rate) == (30000 / 8000, 8000)
