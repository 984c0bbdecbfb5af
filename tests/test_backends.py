"""Every inference back-end computes what eager PyTorch computes."""

import pytest
import torch

from lpr_models.detector.model import PlateDetectorNet
from lpr_models.detector.refiner import CornerRefinerNet, RefinerConfig
from lpr_models.ocr.model import MaskOCR
from lpr_models.optimize import ShapeCache, compile_for_inference, onnx_available, resolve
from tests.test_detector_model import TINY as TINY_DETECTOR
from tests.test_ocr_model import TINY

BACKENDS = ["jit"] + (["onnx"] if onnx_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_detector_backends_match_eager(backend):
    torch.manual_seed(0)
    net = PlateDetectorNet(TINY_DETECTOR).eval()
    x = torch.rand(1, 3, 96, 160)
    compiled = compile_for_inference(net, x, backend)
    assert compiled is not net, "the back-end fell back to eager"
    with torch.inference_mode():
        torch.testing.assert_close(compiled(x), net(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reader_backends_match_eager_for_each_batch_size(backend):
    torch.manual_seed(0)
    model = MaskOCR(TINY).eval()
    cache = ShapeCache(model, backend)
    for batch in (1, 3):
        x = torch.rand(batch, 3, 16, 64)
        with torch.inference_mode():
            torch.testing.assert_close(cache(x), model(x), atol=1e-4, rtol=1e-4)
    assert len(cache.compiled) == (1 if backend == "onnx" else 2)  # ONNX models take any batch size
    assert all(fn is not model for fn in cache.compiled.values()), "the back-end fell back to eager"


@pytest.mark.parametrize("backend", BACKENDS)
def test_refiner_backends_match_eager_for_each_batch_size(backend):
    torch.manual_seed(0)
    net = CornerRefinerNet(RefinerConfig(height=32, width=80, channels=8)).eval()
    cache = ShapeCache(net, backend)
    for batch in (1, 4):
        x = torch.rand(batch, 3, 32, 80)
        with torch.inference_mode():
            torch.testing.assert_close(cache(x), net(x), atol=1e-4, rtol=1e-4)
    assert all(fn is not net for fn in cache.compiled.values()), "the back-end fell back to eager"


def test_backend_names_are_checked():
    assert resolve("auto") in ("onnx", "jit") and resolve("eager") == "eager"
    with pytest.raises(ValueError, match="unknown backend"):
        resolve("tensorrt")


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime not installed")
def test_an_onnx_export_is_kept_on_disk_and_a_changed_model_never_gets_a_stale_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    torch.manual_seed(0)
    model = MaskOCR(TINY).eval()
    x = torch.rand(2, 3, 16, 64)
    first = compile_for_inference(model, x, "onnx")
    cached = sorted((tmp_path / "lpr" / "onnx").glob("*.onnx"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = compile_for_inference(model, x, "onnx")  # a process starting the same model: read, not exported
    assert cached[0].stat().st_mtime_ns == stamp
    with torch.inference_mode():
        torch.testing.assert_close(again(x), first(x))
        model.head.bias.add_(1.0)  # other weights: another file, and the new model's outputs
        changed = compile_for_inference(model, x, "onnx")
        torch.testing.assert_close(changed(x), model(x), atol=1e-4, rtol=1e-4)
    assert len(list((tmp_path / "lpr" / "onnx").glob("*.onnx"))) == 2
