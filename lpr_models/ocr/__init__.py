"""MaskOCR plate reader: ViT over vertical strips, MAE pre-training, parallel decoder."""

from lpr_models.ocr.model import MaskOCR, OcrConfig

__all__ = ["MaskOCR", "OcrConfig"]
