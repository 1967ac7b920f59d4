import pytest
import torch

from tagbox.cli import main
from tagbox.device import DeviceError, resolve_device
from tagbox.errors import TagboxError
from tagbox.separator import Separator

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error of a machine without CUDA")


def test_cpu_and_typos():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(DeviceError, match="not supported"):
        resolve_device("meta")


@no_cuda
def test_cuda_without_cuda_is_a_tagbox_error_before_any_model_loads(monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("a tagger was loaded before the device was checked")

    monkeypatch.setattr("tagbox.taggers.ensemble.load_tagger", no_loading)
    with pytest.raises(TagboxError, match="CUDA is not available"):
        Separator(device="cuda", taggers=["debug-tiny"])


@no_cuda
@pytest.mark.parametrize("command", [["separate", "-s", "drums"], ["tag"], ["eval", "--methods", "mixture"]])
def test_cli_says_so_in_one_line(tmp_path, capsys, command):
    song = tmp_path / "song.wav"
    song.write_bytes(b"")  # never read: the device is checked first
    args = [command[0], str(tmp_path if command[0] == "eval" else song), *command[1:], "-d", "cuda"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tagbox: error: ") and "CUDA is not available" in err and len(err.splitlines()) == 1
