"""The training commands end to end on a handful of real plates: checkpoints, fine-tuning."""

from __future__ import annotations

import torch

from tests.test_detector_model import TINY as TINY_DETECTOR
from train import det_train, ocr_train
from train.loop import load_checkpoint

TINY = [
    "--embed-dim",
    "32",
    "--encoder-layers",
    "1",
    "--decoder-layers",
    "1",
    "--heads",
    "2",
    "--mae-decoder-dim",
    "16",
]


def test_reader_fine_tuning_starts_from_the_whole_trained_reader(data_root, tmp_path):
    common = ["recog", "--data", str(data_root), "--epochs", "1", "--limit", "12", "--batch", "8", "--threads", "1"]
    ocr_train.main([*common, "--out", str(tmp_path / "first"), *TINY])
    first = load_checkpoint(tmp_path / "first" / "last.pt")
    assert first["config"]["embed_dim"] == 32

    # a zero learning rate leaves the weights where fine-tuning found them; size flags give way to the checkpoint's
    ocr_train.main(
        [
            *common,
            "--out",
            str(tmp_path / "tuned"),
            "--finetune",
            str(tmp_path / "first" / "last.pt"),
            "--lr",
            "0",
            "--embed-dim",
            "64",
        ]
    )
    tuned = load_checkpoint(tmp_path / "tuned" / "last.pt")
    assert tuned["config"] == first["config"]
    assert all(torch.equal(tuned["model"][k], v) for k, v in first["model"].items())


def test_detector_training_continues_from_a_checkpoint_with_its_own_config(data_root, tmp_path):
    common = [
        "--data",
        str(data_root / "ccpd" / "images"),
        "--epochs",
        "1",
        "--limit",
        "30",
        "--samples-per-epoch",
        "4",
        "--batch",
        "2",
        "--size",
        "128",
        "--eval-size",
        "128",
        "--val-images",
        "2",
        "--threads",
        "1",
    ]
    det_train.main(
        [*common, "--out", str(tmp_path / "first"), "--width", "0.25", "--depth", "1", "--neck-channels", "16"]
    )
    first = load_checkpoint(tmp_path / "first" / "last.pt")
    assert first["kind"] == "detector" and first["config"]["neck_channels"] == 16

    det_train.main(
        [
            *common,
            "--out",
            str(tmp_path / "next"),
            "--init",
            str(tmp_path / "first" / "last.pt"),
            "--lr",
            "0",
            "--neck-channels",
            "32",
        ]
    )
    after = load_checkpoint(tmp_path / "next" / "last.pt")
    assert after["config"] == first["config"]
    assert all(
        torch.equal(after["model"][k], v)
        for k, v in first["model"].items()
        if v.is_floating_point() and "running" not in k
    )


def test_checkpoints_record_their_provenance_and_export_keeps_it(data_root, tmp_path):
    import subprocess
    import sys

    from lpr_models.weights import WeightsError, build_model, describe_weights
    from train.export import export

    common = ["--data", str(data_root), "--epochs", "1", "--limit", "8", "--batch", "8", "--threads", "1", *TINY]
    ocr_train.main(["mae", *common, "--out", str(tmp_path / "mae")])
    ocr_train.main(["recog", *common, "--out", str(tmp_path / "recog"), "--init", str(tmp_path / "mae" / "last.pt")])
    mae, recog = (load_checkpoint(tmp_path / d / "last.pt") for d in ("mae", "recog"))
    assert mae["kind"] == "ocr_mae" and recog["kind"] == "ocr"
    record = recog["provenance"]
    assert len(record["commit"]) == 40 and record["command"].startswith("python -m train.ocr_train recog")
    assert record["settings"]["init"] == str(tmp_path / "mae" / "last.pt") and record["settings"]["limit"] == 8
    assert len(record["data_digest"]) == 64 and record["data_items"] > 0 and record["epoch"] == 1
    assert record["figures"] and all(0 <= f["exact"] <= 1 for f in record["figures"].values())

    shipped = export("ocr", tmp_path / "recog" / "last.pt", tmp_path / "ocr.pt")
    info = describe_weights(shipped)
    assert info["kind"] == "ocr" and info["provenance"]["data_digest"] == record["data_digest"]
    assert info["provenance"]["checkpoint"] == "last.pt"
    printed = subprocess.run([sys.executable, "-m", "stream.cli", "info", str(shipped)], capture_output=True, text=True)
    assert printed.returncode == 0 and record["data_digest"] in printed.stdout

    # a pre-training checkpoint is refused as a reader, by name
    from lpr_models.ocr.model import MaskOCR, OcrConfig

    try:
        build_model("ocr", tmp_path / "mae" / "last.pt", lambda cfg: MaskOCR(OcrConfig(**cfg)))
    except WeightsError as err:
        assert "ocr_mae" in str(err)
    else:
        raise AssertionError("an MAE checkpoint was accepted as reader weights")


def test_exported_weights_hold_plain_values_even_from_a_checkpoint_with_paths(tmp_path):
    from pathlib import Path

    from lpr_models.detector.model import PlateDetectorNet
    from lpr_models.weights import describe_weights
    from train.export import export
    from train.loop import save_checkpoint

    net = PlateDetectorNet(TINY_DETECTOR)
    settings = {"scenes": [Path("a/scenes.csv")], "data": Path("b")}  # as an older run stored them
    save_checkpoint(
        tmp_path / "last.pt",
        kind="detector",
        config=net.cfg.to_dict(),
        model=net.state_dict(),
        provenance={"settings": settings, "commit": "x" * 40},
    )
    assert load_checkpoint(tmp_path / "last.pt")["provenance"]["settings"]["scenes"] == [Path("a/scenes.csv")]
    shipped = export("detector", tmp_path / "last.pt", tmp_path / "detector.pt")
    assert describe_weights(shipped)["provenance"]["settings"] == {"scenes": ["a/scenes.csv"], "data": "b"}


def test_export_ships_half_precision_weights_that_the_digest_check_accepts(tmp_path, monkeypatch):
    """Exported into the weights folder, a checkpoint is stored in half precision beside the other models' digests,
    loads as shipped weights and computes what the checkpoint computed; a changed byte, or the wrong kind, is refused."""
    import json

    import pytest

    from lpr_models import weights
    from lpr_models.detector.model import DetectorConfig, PlateDetectorNet
    from train import export as export_module
    from train.loop import save_checkpoint

    folder = tmp_path / "weights"
    folder.mkdir()
    digests = folder / "SHA256SUMS.json"
    digests.write_text(json.dumps({"ocr.pt": "0" * 64}))  # another model's digest, which must be kept
    monkeypatch.setattr(weights, "DIGESTS_FILE", digests)
    monkeypatch.setattr(export_module, "DIGESTS_FILE", digests)
    monkeypatch.setitem(weights.SHIPPED, "detector", folder / "detector.pt")

    torch.manual_seed(0)
    net = PlateDetectorNet(TINY_DETECTOR).eval()
    save_checkpoint(tmp_path / "last.pt", kind="detector", config=net.cfg.to_dict(), model=net.state_dict())
    with pytest.raises(ValueError, match="holds detector weights, not ocr"):
        export_module.export("ocr", tmp_path / "last.pt", folder / "ocr.pt")
    assert not (folder / "ocr.pt").exists()

    shipped = export_module.export("detector", tmp_path / "last.pt")
    assert shipped == folder / "detector.pt"
    assert json.loads(digests.read_text()) == {"ocr.pt": "0" * 64, "detector.pt": weights.sha256(shipped)}
    state = weights.load_weights("detector")  # the shipped path: checked against its digest
    floats = [v for v in state["model"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    loaded = weights.build_model("detector", None, lambda cfg: PlateDetectorNet(DetectorConfig(**cfg))).eval()
    image = torch.rand(1, 3, 128, 128)
    with torch.inference_mode():
        assert torch.allclose(net(image), loaded(image), atol=2e-2, rtol=2e-2)

    data = bytearray(shipped.read_bytes())
    data[-10] ^= 0xFF
    shipped.write_bytes(bytes(data))
    with pytest.raises(weights.WeightsError, match="SHA-256"):
        weights.load_weights("detector")


def test_provenance_names_every_changed_file_whole(tmp_path, monkeypatch):
    """`git status --porcelain` starts an unstaged change with a space: stripping the output cut the first name."""
    import subprocess

    from train import provenance

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "stream").mkdir()
    (tmp_path / "stream" / "cli.py").write_text("a\n")
    (tmp_path / "train.py").write_text("b\n")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x")
    (tmp_path / "stream" / "cli.py").write_text("changed\n")  # unstaged: " M stream/cli.py", the first line
    (tmp_path / "new.py").write_text("c\n")
    monkeypatch.setattr(provenance, "ROOT", tmp_path)
    commit, changed = provenance.code_state()
    assert len(commit) == 40 and changed == ["stream/cli.py", "new.py"]


def test_a_virtual_video_of_plates_from_elsewhere_carries_the_rendered_texts(data_root, tmp_path):
    import json

    import av

    from lpr_models.formats import fits_format
    from lpr_models.vocab import has_chinese
    from train import virtual_video
    from train.evaluate import ccpd_items

    photos = [str(item.path) for item in ccpd_items(data_root / "ccpd" / "images", "val")[:3]]
    out = tmp_path / "world.mp4"
    art = ["--art", str(data_root.parent / "plate_art")]
    virtual_video.main([str(out), *photos, "--swap", "uk", "vn", "--size", "320x180", "--seconds", "0.4", *art])
    truth = json.loads(out.with_suffix(".truth.json").read_text(encoding="utf-8"))
    uk, vn, uk_again = truth["plates"]
    assert fits_format("uk", uk) and fits_format("uk", uk_again) and fits_format("vn", vn)  # the styles, in turn
    assert uk != uk_again and not has_chinese(uk + vn + uk_again)  # no CCPD text left
    with av.open(str(out)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 3 * (10 + 25)  # 0.4 s of each photo, 1 s between, at 25 fps
