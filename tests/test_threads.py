import os

import pytest
import torch

from tagbox import threads
from tagbox.cli import main
from tagbox.evaluation import runner


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """Four usable cores, no cgroup quota, no OMP_NUM_THREADS; ``machine(load, runnable)`` sets the load."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(threads, "CGROUP_CPU_MAX", str(tmp_path / "cpu.max"))
    monkeypatch.setattr(threads, "LOADAVG", str(tmp_path / "loadavg"))

    def with_load(load: float, runnable: int = 1):
        (tmp_path / "loadavg").write_text(f"{load} {load} {load} {runnable}/100 12345\n")

    return with_load


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_free_cores_subtract_the_running_load(machine):
    machine(0.2)
    assert threads.free_cores() == 4 and threads.default_threads() == 4
    machine(2.6)
    assert threads.free_cores() == 1
    machine(9.0)  # overloaded: still one thread
    assert threads.default_threads() == 1


def test_jobs_started_together_see_each_other_before_the_average_does(machine):
    machine(0.0, runnable=3)  # this process and two others running now
    assert threads.free_cores() == 2


def test_a_cgroup_quota_caps_the_cores(machine, tmp_path):
    machine(0.0)
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert threads.usable_cores() == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads.usable_cores() == 4


def test_workers_share_the_free_cores(machine):
    machine(0.0)
    assert threads.default_threads(workers=2) == 2
    assert threads.default_threads(workers=3) == 1
    assert threads.default_threads(workers=8) == 1


def test_the_environment_wins(machine, monkeypatch):
    machine(0.0)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.default_threads(workers=2) == 3


def test_use_threads_sets_torch(machine, restore_threads):
    machine(2.0)
    assert threads.use_threads() == 2 and torch.get_num_threads() == 2
    assert threads.use_threads(1) == 1 and torch.get_num_threads() == 1


def test_eval_workers_start_with_their_share(monkeypatch, restore_threads):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    runner.worker_threads(3)
    assert os.environ["OMP_NUM_THREADS"] == "3" and torch.get_num_threads() == 3


@pytest.mark.parametrize("command", [["separate", "x.wav", "-s", "drums"], ["tag", "x.wav"], ["eval", "."]])
def test_zero_threads_is_one_error_line(capsys, command):
    assert main([*command, "--threads", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "tagbox: error: --threads must be at least 1, got 0"
