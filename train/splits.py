"""One train/validation split by plate text, shared by the detector and the reader.

Splitting by text (not by file) keeps every photo of a plate on one side; sharing
the split means the reader's validation crops come from photos the detector never saw.
"""

from __future__ import annotations

import zlib

VALIDATION_SHARE = 0.15


def is_validation(text: str, share: float = VALIDATION_SHARE) -> bool:
    """Stable, seed-free assignment of a plate text to the validation split."""
    return (zlib.crc32(text.encode("utf-8")) % 10_000) < share * 10_000
