"""Checkpoint averaging: the mean of the weights, refused across architectures, loadable with weights_only."""

import pytest
import torch

from train.average import average_checkpoints
from train.loop import load_checkpoint, save_checkpoint


def _checkpoint(path, layer: torch.nn.Module, config: dict) -> None:
    save_checkpoint(path, kind="ocr", config=config, model=layer.state_dict(), provenance={"commit": path.stem})


def test_the_average_of_two_runs_is_the_mean_of_their_weights_and_names_both(tmp_path):
    torch.manual_seed(0)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    _checkpoint(tmp_path / "a.pt", a, {"width": 3})
    _checkpoint(tmp_path / "b.pt", b, {"width": 3})
    average_checkpoints(tmp_path / "soup.pt", [tmp_path / "a.pt", tmp_path / "b.pt"], [])
    soup = load_checkpoint(tmp_path / "soup.pt")
    assert torch.allclose(soup["model"]["weight"], (a.weight + b.weight) / 2)
    assert soup["kind"] == "ocr" and soup["config"] == {"width": 3}
    assert [s["commit"] for s in soup["provenance"]["sources"].values()] == ["a", "b"]


def test_checkpoints_of_different_architectures_are_refused(tmp_path):
    _checkpoint(tmp_path / "a.pt", torch.nn.Linear(3, 2), {"width": 3})
    _checkpoint(tmp_path / "b.pt", torch.nn.Linear(4, 2), {"width": 4})
    with pytest.raises(ValueError, match="architecture"):
        average_checkpoints(tmp_path / "soup.pt", [tmp_path / "a.pt", tmp_path / "b.pt"], [])
    assert not (tmp_path / "soup.pt").exists()
