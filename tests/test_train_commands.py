"""The training commands end to end on a handful of real plates: checkpoints, fine-tuning."""
from __future__ import annotations

import torch

from train import det_train, ocr_train
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


def test_detector_training_continues_from_a_checkpoint_with_its_own_config(data_root, tmp_path):
    common = ["--data", str(data_root / "ccpd" / "images"), "--epochs", "1", "--limit", "30", "--samples-per-epoch", "4",
              "--batch", "2", "--size", "128", "--eval-size", "128", "--val-images", "2", "--threads", "1"]
    det_train.main([*common, "--out", str(tmp_path / "first"), "--width", "0.25", "--depth", "1", "--neck-channels", "16"])
    first = load_checkpoint(tmp_path / "first" / "last.pt")
    assert first["kind"] == "detector" and first["config"]["neck_channels"] == 16

    det_train.main([*common, "--out", str(tmp_path / "next"), "--init", str(tmp_path / "first" / "last.pt"),
                    "--lr", "0", "--neck-channels", "32"])
    after = load_checkpoint(tmp_path / "next" / "last.pt")
    assert after["config"] == first["config"]
    assert all(torch.equal(after["model"][k], v) for k, v in first["model"].items() if v.is_floating_point() and "running" not in k)
