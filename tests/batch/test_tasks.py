import numpy as np
import pytest
import soundfile as sf

import tagbox.batch.tasks as tasks
from tagbox.batch.tasks import SeparateTask, stem_makers
from tagbox.errors import TagboxError


def test_stems_of_a_group_sum_to_the_mixture():
    mix = np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)
    estimates = np.stack([mix * 0.25, mix * 0.5])
    joint = stem_makers(True, ["drums", "bass", "rest"])
    np.testing.assert_allclose(sum(make(mix, estimates) for make in joint.values()), mix, atol=1e-6)
    single = stem_makers(False, ["drums", "no_drums"])
    assert list(single) == ["drums", "no_drums"]
    np.testing.assert_allclose(single["drums"](mix, estimates) + single["no_drums"](mix, estimates), mix, atol=1e-6)


def blocks():
    mix = np.full((1, 800), 0.5, dtype=np.float32)
    yield mix, np.stack([mix * 0.5])


def test_a_group_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    group = {"drums": tmp_path / "drums.wav", "no_drums": tmp_path / "no_drums.wav"}
    task = SeparateTask("default", encoding="float32")
    makers = stem_makers(False, list(group))
    real_save, calls = tasks.save_blocks, []

    def fail_on_second(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(tasks, "save_blocks", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        task._save(group, makers, blocks, 8000, 1)
    assert list(tmp_path.iterdir()) == []  # neither the first stem nor its temporary file
    monkeypatch.setattr(tasks, "save_blocks", real_save)
    task._save(group, makers, blocks, 8000, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drums.wav", "no_drums.wav"]
    np.testing.assert_allclose(sf.read(group["drums"])[0], 0.25)
    np.testing.assert_allclose(sf.read(group["no_drums"])[0], 0.25)
    with pytest.raises(TagboxError, match="already exists"):
        task._save(group, makers, blocks, 8000, 1)
    SeparateTask("default", encoding="float32", force=True)._save(group, makers, blocks, 8000, 1)


def test_settings_record_the_steps_and_runs_each_source_gets():
    options = {"taggers": ["debug-tiny"], "components": 4}
    apart = SeparateTask("default", options, ("drums", "violin")).settings()
    assert apart["steps"] == {"drums": 15, "violin": 0} and apart["runs"] == {"drums": 1, "violin": 2}
    together = SeparateTask("default", options, ("drums", "violin"), joint=True).settings()
    assert together["steps"] == {"drums": 15, "violin": 0} and together["runs"] == {"drums": 2, "violin": 2}


def test_progress_names_the_run_only_when_several_are_averaged():
    record = {"run": 1, "step": 2}
    assert tasks.progress("drums", record, steps=15, runs=1) == "drums step 3/15"
    assert tasks.progress("violin+drums", record, steps=15, runs=2) == "violin+drums run 2/2 step 3/15"
