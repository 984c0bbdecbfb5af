"""Weights are loaded safely: tensors only, checked digests, the right model."""

import shutil

import pytest
import torch

from lpr_models import weights
from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.reader import PlateReader
from lpr_models.weights import WeightsError


def test_shipped_weights_load_and_match_their_digests():
    assert isinstance(PlateDetector.from_weights().net, torch.nn.Module)
    assert PlateReader.from_weights().input_size == (48, 192)


def test_tampered_shipped_weights_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    shutil.copytree(weights.WEIGHTS_DIR, folder)
    data = bytearray((folder / "ocr.pt").read_bytes())
    data[-100] ^= 0xFF
    (folder / "ocr.pt").write_bytes(bytes(data))
    monkeypatch.setitem(weights.SHIPPED, "ocr", folder / "ocr.pt")
    monkeypatch.setattr(weights, "DIGESTS_FILE", folder / "SHA256SUMS.json")
    with pytest.raises(WeightsError, match="SHA-256"):
        PlateReader.from_weights()


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_with_code_is_never_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "model": Exploit()}, path)
    with pytest.raises(WeightsError, match="cannot load safely|not a weights file"):
        PlateReader.from_weights(path)
    assert "must never run" not in capsys.readouterr().out


def test_not_a_checkpoint_and_missing_file(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"garbage")
    with pytest.raises(WeightsError):
        PlateDetector.from_weights(tmp_path / "junk.pt")
    torch.save({"something": torch.zeros(1)}, tmp_path / "dict.pt")
    with pytest.raises(WeightsError, match="not a checkpoint of this project"):
        PlateDetector.from_weights(tmp_path / "dict.pt")
    with pytest.raises(WeightsError, match="not found"):
        PlateDetector.from_weights(tmp_path / "missing.pt")


def test_weights_of_the_other_model_or_another_architecture_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="holds ocr weights"):
        PlateDetector.from_weights(weights.SHIPPED["ocr"])
    state = torch.load(weights.SHIPPED["detector"], weights_only=True)
    state["config"]["neck_channels"] = 32
    torch.save(state, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match="do not fit"):
        PlateDetector.from_weights(tmp_path / "other.pt")
