"""Find the plate's corners in a crop whose labels give none, as the pipeline finds them in a frame.

The crop folders (br_crops, us_crops, vn_crops, uc3m) label only the text, so a crop's own box stands in for the
plate's corners. That is wrong for a plate turned or slanted in its crop, as are most of the 53 Spanish validation
crops taller than 0.4 of their width: the reader reads 26 of them right from the box. The pipeline reads a plate
at the corners the corner refiner finds from the detector's; here the refiner starts from the crop's box instead,
which is what `lpr eval ocr --find-corners` scores.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from lpr_models.detection import Detection
from lpr_models.detector.refiner import CornerRefiner
from lpr_models.geometry import quad_box
from train.ocr_data import PlateSample, full_corners

# The crop is padded by this share of its longer side, in its mean colour: the refiner's view reaches beyond the
# plate by its margins, and the crop's edge pixels repeated there would look like more plate (with them, the
# refiner cut into level Spanish plates and 27 fewer were read).
PAD = 0.5


def has_labelled_corners(sample: PlateSample) -> bool:
    """Whether the sample's corners were labelled, rather than its crop's own box."""
    return not np.allclose(sample.corners, full_corners(sample.image))


def with_found_corners(samples: list[PlateSample], refiner: CornerRefiner) -> list[PlateSample]:
    """The samples whose corners are their crop's box, padded (PAD) and given the corners `refiner` finds from
    that box; samples with labelled corners as they are."""
    return [sample if has_labelled_corners(sample) else _found(sample, refiner) for sample in samples]


def with_found_copies(samples: list[PlateSample], refiner: CornerRefiner) -> list[PlateSample]:
    """`samples`, then a copy of each one whose corners are its crop's box at the corners `refiner` finds: training
    sees such a plate both whole and as the pipeline crops it."""
    found = with_found_corners(samples, refiner)
    return samples + [sample for sample, whole in zip(found, samples) if sample is not whole]


def _found(sample: PlateSample, refiner: CornerRefiner) -> PlateSample:
    height, width = sample.image.shape[:2]
    pad = round(PAD * max(height, width))
    colour = [float(c) for c in sample.image.reshape(-1, 3).mean(axis=0)]
    padded = cv2.copyMakeBorder(sample.image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=colour)
    box_corners = sample.corners + pad
    (found,) = refiner.refine(padded, [Detection(1.0, quad_box(box_corners), box_corners)])
    return replace(sample, image=padded, corners=found.corners.astype(np.float32))
