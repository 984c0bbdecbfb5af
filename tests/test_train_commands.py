"""The training commands end to end on a handful of real plates: checkpoints, fine-tuning."""
from __future__ import annotations

import torch

from train import ocr_train
from train.loop import load_checkpoint

TINY = ["--embed-dim", "32", "--encoder-layers", "1", "--decoder-layers", "1", "--heads", "2", "--mae-decoder-dim", "16"]


def test_reader_fine_tuning_starts_from_the_whole_trained_reader(data_root, tmp_path):
    common = ["recog", "--data", str(data_root), "--epochs", "1", "--limit", "12", "--batch", "8", "--threads", "1"]
    ocr_train.main([*common, "--out", str(tmp_path / "first"), *TINY])
    first = load_checkpoint(tmp_path / "first" / "last.pt")
    assert first["config"]["embed_dim"] == 32

    # a zero learning rate leaves the weights where fine-tuning found them; size flags give way to the checkpoint's
    ocr_train.main([*common, "--out", str(tmp_path / "tuned"), "--finetune", str(tmp_path / "first" / "last.pt"),
                    "--lr", "0", "--embed-dim", "64"])
    tuned = load_checkpoint(tmp_path / "tuned" / "last.pt")
    assert tuned["config"] == first["config"]
    assert all(torch.equal(tuned["model"][k], v) for k, v in first["model"].items())
