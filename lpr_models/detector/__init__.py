"""Plate detector: MobileNetV4 + BiFPN + SCRFD-style head predicting score, box and 4 corners."""

from lpr_models.detector.model import DetectorConfig, PlateDetectorNet

__all__ = ["DetectorConfig", "PlateDetectorNet"]
