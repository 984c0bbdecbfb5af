"""Plate detection on whole frames: letterbox, run the network, map plates back to the frame."""

from __future__ import annotations

import math
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

    With `fine_pass`, a frame shrunk to under FINE_BELOW of its size to fit the input is also seen at twice
    the input's scale (with little padding: see fine_size), and the small plates found there (under
    FINE_MAX_WIDTH pixels wide at the input size, at least FINE_MIN_SCORE sure) are added, in place of any small
    one they overlap: a far plate in a large photo (1080p, a phone's) shrinks to a few pixels at the input size,
    too few to be found or boxed well. Photos get it; a stream with far plates is better served by a larger
    input size.
    """

    COARSE_OVERLAP = 0.3  # a coarse plate overlapping a full-size one this much is the same plate
    # The fine pass: of the 357 CCPD validation photos shrunk to 1/8-1/4 in 1920x1080 frames (plates 7-15 px wide at
    # 640x640, `lpr eval small`), 291 plates are found at IoU > 0.5 without it and 344 with it (228 -> 324 at IoU >
    # 0.7); on a second draw, never used to set these, 283 -> 337. At twice the scale the detector also takes small
    # clutter for plates (a sign's characters, a grille) at 0.35-0.6 sure: kept only as sure and as small as below,
    # 4 detections matching no plate are added in the 357 CCPD photos (410 with every fine-pass plate kept).
    FINE_BELOW = 0.75
    FINE_MIN_SCORE = 0.7
    FINE_MAX_WIDTH = 16.0
    # The fine pass's sides are multiples of this: photos of many sizes share a few network shapes, each compiled
    # once and kept (50-80 MB each with ONNX Runtime at these sizes; one per 32 px could reach 40 shapes).
    FINE_STEP = 256

    def __init__(
        self,
        net: PlateDetectorNet,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.35,
        nms_iou: float = 0.5,
        backend: str = "auto",
        refiner: CornerRefiner | None = None,
        coarse_pass: bool = False,
        fine_pass: bool = False,
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
        self.fine: dict[tuple[int, int], torch.Tensor] | None = {} if fine_pass else None  # priors per fine size
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
        if self.fine is not None:
            found = self._add_small(frames, found, self.fine)
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

    def fine_size(self, frame_shape: tuple[int, ...]) -> tuple[int, int]:
        """The fine pass's input for a frame of `frame_shape`: the frame at twice the input's scale, each side
        rounded up to FINE_STEP, so less padding is paid for than at twice the input size (a 1920x1080 frame:
        768x1280, 0.6 of the pixels of 1280x1280; a 720x1160 photo: 1280x1024)."""
        (height, width), step = frame_shape[:2], self.FINE_STEP
        scale = 2 * self._input_scale(frame_shape)
        return (
            min(2 * self.input_size[0], math.ceil(height * scale / step) * step),
            min(2 * self.input_size[1], math.ceil(width * scale / step) * step),
        )

    def _add_small(
        self, frames: list[np.ndarray], found: list[list[Detection]], priors: dict[tuple[int, int], torch.Tensor]
    ) -> list[list[Detection]]:
        """`found`, with the small sure plates the fine pass finds in the frames shrunk most to fit the input; where
        such a plate was found at the input size too, small there, the fine pass's box replaces that one (a few
        pixels wide at the input size, its box is rough). `priors`: the fine sizes' priors, filled as sizes are met."""
        scales = [self._input_scale(f.shape) for f in frames]
        large = [i for i, scale in enumerate(scales) if scale < self.FINE_BELOW]
        if not large:
            return found
        found = list(found)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i in large:
            by_size.setdefault(self.fine_size(frames[i].shape), []).append(i)
        fine: dict[int, list[Detection]] = {}
        for size, indices in by_size.items():
            if size not in priors:
                priors[size] = make_priors(*size, STRIDES)
            fine.update(zip(indices, self._pass([frames[i] for i in indices], size, priors[size])))
        for i in large:
            small = [d for d in fine[i] if d.score >= self.FINE_MIN_SCORE and self._small(d, scales[i])]
            if small and found[i]:
                overlap = box_iou(np.stack([d.box for d in found[i]]), np.stack([d.box for d in small])).max(axis=1)
                found[i] = [
                    d for d, o in zip(found[i], overlap) if o <= self.COARSE_OVERLAP or not self._small(d, scales[i])
                ]
            found[i] = self._add_missing(found[i], small)
        return found

    def _input_scale(self, frame_shape: tuple[int, ...]) -> float:
        """How much a frame of `frame_shape` is scaled to fit the input (as letterbox scales it)."""
        return min(self.input_size[0] / frame_shape[0], self.input_size[1] / frame_shape[1])

    def _small(self, plate: Detection, scale: float) -> bool:
        """Whether `plate` is under FINE_MAX_WIDTH pixels wide in a frame shrunk by `scale` to the input size."""
        return float(plate.box[2] - plate.box[0]) * scale < self.FINE_MAX_WIDTH

    def _add_missing(self, full: list[Detection], coarse: list[Detection]) -> list[Detection]:
        """The full-size plates, and the coarse ones overlapping none of them (their boxes are less exact)."""
        if not full or not coarse:
            return full + coarse
        overlap = box_iou(np.stack([d.box for d in coarse]), np.stack([d.box for d in full])).max(axis=1)
        return full + [d for d, o in zip(coarse, overlap) if o <= self.COARSE_OVERLAP]
