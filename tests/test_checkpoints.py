import pytest
import torch

from tagbox.checkpoints import read_checkpoint
from tagbox.errors import WeightsError


def test_bare_and_model_wrapped_state_dicts(tmp_path):
    state = {"w": torch.ones(2)}
    torch.save(state, tmp_path / "bare.pt")
    torch.save({"model": state, "hps": {"levels": 3}}, tmp_path / "wrapped.pt")
    assert torch.equal(read_checkpoint(tmp_path / "bare.pt")["w"], state["w"])
    assert torch.equal(read_checkpoint(tmp_path / "wrapped.pt", trusted=True)["w"], state["w"])


def test_files_that_are_no_checkpoint_are_one_line_errors(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save([torch.ones(1)], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="holds no state dict"):
        read_checkpoint(tmp_path / "list.pt")
