"""Train a VQ-VAE generator on a folder of music, the way Jukebox trains its VQ-VAE.

Losses (Jukebox-style): waveform L2 (relative to the crop's energy, so loud and quiet crops
weigh alike), a multi-resolution STFT loss (spectral convergence + log-magnitude L1: the L2
alone ignores the quiet high band) and the commitment loss. The codebook is not learnt by
gradient: it is an EMA of the latents assigned to each code, with dead codes restarted from
random current latents, exactly the update of the ``reference`` codebook policy
(:class:`~tagbox.generators.codebook.ReferenceCodebooks`), which is reused here.

Data: ``DATA_DIR/train/**`` and ``DATA_DIR/valid/**`` audio files (FLAC/WAV/OGG), whole pieces
per split (``scripts/prepare_training_data.py`` makes such a folder). Training reads random
crops; validation scores fixed excerpts of the held-out pieces with the frozen codebook.

Checkpoints (``OUT/last.pt``, ``OUT/best.pt``) hold model, optimiser, codebook EMA state, step,
RNG states and the validation history; they are written atomically, so a run killed at any
moment resumes from its last checkpoint. :func:`export_weights` writes the small
inference-only file that :func:`tagbox.generators.load` reads.

Outside the library core: nothing in ``tagbox`` imports this package; ``tagbox train-generator``
and ``scripts/`` use it.
"""


from tagbox.training.trainer import BEST, LAST, Trainer, TrainOptions, TrainResult, export_weights, train

__all__ = ["BEST", "LAST", "TrainOptions", "TrainResult", "Trainer", "export_weights", "train"]
