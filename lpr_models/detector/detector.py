"""Plate detection on whole frames: letterbox, run the network, map plates back to the frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lpr_models.detection import Detection
from lpr_models.detector.head import decode, make_priors
from lpr_models.detector.model import STRIDES, DetectorConfig, PlateDetectorNet
from lpr_models.detector.postprocess import select, suppress_overlaps
from lpr_models.detector.preprocess import to_tensor
from lpr_models.detector.refiner import CornerRefiner
from lpr_models.geometry import box_iou, letterbox
from lpr_models.optimize import ShapeCache
from lpr_models.weights import build_model


class PlateDetector:
    """`detect(frame) -> list[Detection]` with the trained network.

    `input_size` is (height, width), each a multiple of 32: (640, 640) by default, or
    for example (384, 640) to letterbox 16:9 video with less padding and work. With a
    `refiner`, each plate's corners are re-estimated from a close-up of the frame.

    With `coarse_pass`, the frame is also seen at half the input size (a quarter of the work), and
    the plates found there that overlap none found at full size are added: a plate filling most of
    a close-up photo is larger than any the network learned at full size, and at half size it is
    an ordinary one. Photos get it (any plate size occurs and time is not short); a stream whose
    camera sees plates that close can turn it on ([detector] coarse_pass).
    """

    COARSE_OVERLAP = 0.3  # a coarse plate overlapping a full-size one this much is the same plate

    def __init__(
        self,
        net: PlateDetectorNet,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.35,
        nms_iou: float = 0.5,
        backend: str = "auto",
        refiner: CornerRefiner | None = None,
        coarse_pass: bool = False,
    ) -> None:
        if any(s % max(net.strides) for s in input_size):
            raise ValueError(f"detector input size {input_size} must be multiples of {max(net.strides)}")
        self.net = net.eval()
        self.forward = ShapeCache(self.net, backend)
        self.priors = make_priors(*input_size, STRIDES)
        self.input_size: tuple[int, int] = (int(input_size[0]), int(input_size[1]))
        self.coarse: tuple[tuple[int, int], torch.Tensor] | None = None  # (input size, priors) of the coarse pass
        if coarse_pass:
            step = max(net.strides)
            half = (
                max(step, round(input_size[0] / 2 / step) * step),
                max(step, round(input_size[1] / 2 / step) * step),
            )
            self.coarse = half, make_priors(*half, STRIDES)
        self.score_threshold, self.nms_iou = score_threshold, nms_iou
        self.refiner = refiner

    @classmethod
    def from_weights(
        cls, path: str | Path | None = None, refiner_path: str | Path | None = None, refine: bool = True, **kwargs
    ) -> PlateDetector:
        """Load shipped (default) or given weights, with the corner refiner unless `refine` is off;
        see lpr_models.weights for the checks made."""
        net = build_model("detector", path, lambda cfg: PlateDetectorNet(DetectorConfig(**cfg)))
        refiner = CornerRefiner.from_weights(refiner_path, backend=kwargs.get("backend", "auto")) if refine else None
        return cls(net, refiner=refiner, **kwargs)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        return self.detect_batch([frame])[0]

    def warm_up(self) -> None:
        """Build the inference back-ends (the refiner's too: a blank frame has no plate to refine)."""
        blank = np.zeros((*self.input_size, 3), np.uint8)
        self.detect(blank)
        if self.refiner is not None:
            h, w = self.input_size
            quad = np.array([[w / 4, h / 3], [3 * w / 4, h / 3], [3 * w / 4, h / 2], [w / 4, h / 2]], np.float32)
            self.refiner.refine(blank, [Detection(0.0, np.zeros(4, np.float32), quad)])

    @torch.inference_mode()
    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        found = self._pass(frames, self.input_size, self.priors)
        if self.coarse is not None:
            coarse = self._pass(frames, *self.coarse)
            found = [self._add_missing(full, extra) for full, extra in zip(found, coarse)]
        if self.refiner is not None:
            found = [self.refiner.refine(frame, plates) for frame, plates in zip(frames, found)]
            found = [suppress_overlaps(plates, self.nms_iou) for plates in found]
        return found

    def _pass(self, frames: list[np.ndarray], size: tuple[int, int], priors: torch.Tensor) -> list[list[Detection]]:
        boxed = [letterbox(f, size) for f in frames]
        logits, boxes, corners = decode(self.forward(to_tensor(np.stack([b[0] for b in boxed]))), priors)
        scores = logits.sigmoid()
        return [
            select(scores[i], boxes[i], corners[i], boxed[i][1], self.score_threshold, self.nms_iou)
            for i in range(len(frames))
        ]

    def _add_missing(self, full: list[Detection], coarse: list[Detection]) -> list[Detection]:
        """The full-size plates, and the coarse ones overlapping none of them (their boxes are less exact)."""
        if not full or not coarse:
            return full + coarse
        overlap = box_iou(np.stack([d.box for d in coarse]), np.stack([d.box for d in full])).max(axis=1)
        return full + [d for d, o in zip(coarse, overlap) if o <= self.COARSE_OVERLAP]
