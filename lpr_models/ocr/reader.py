"""Inference with the reader: rectified plates in, texts with per-character confidences out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from lpr_models.contrast import stretched, stretched_grey, stretched_if_dark
from lpr_models.formats import best_fit, fits_format
from lpr_models.ocr.calibration import Calibration
from lpr_models.ocr.emblems import without_emblems
from lpr_models.ocr.model import MaskOCR, OcrConfig
from lpr_models.ocr.preprocess import crop_size, dark_ground, plate_crop, to_tensor, view
from lpr_models.ocr.stacks import (
    LATIN_AND_DIGITS,
    Characters,
    Stack,
    characters,
    find_stacks,
    glyph_reading,
    glyph_rows,
    without_stacks,
)
from lpr_models.optimize import ShapeCache
from lpr_models.vocab import CHINESE, INDEX, PAD, REGIONS, decode

NO_CALIBRATION = Calibration()
# Classes only a Chinese plate shows: masked out of every plate read as another region.
CHINESE_CLASSES = np.array([INDEX[c] for c in CHINESE])
# A plate is read as Chinese (and may get a province character) only when the reader is at least this sure
# of it: a province invented on a plate from elsewhere is the worst misread a subscriber can receive. Every
# right read of the real and rendered Chinese validation plates, blurred and dark ones included, is at least
# 0.95 sure; a number painted on a kerb was read Chinese at 0.73 (0.5 until then).
CHINESE_MIN = 0.9
# How much less likely than the unconstrained reading the best format-fitting text may be and
# still be preferred: confusions (O/0, B/8) cost a factor of 2-10, a wrong format far more.
FORMAT_PRIOR = 0.1
# A plate whose one-row view reads nothing, or whose least sure character (the end included) is under
# this raw probability, is read in its two-row view too, and the surer view wins: plates read cleanly
# in one row (most of them) cost one read. (Not the product of the characters: label smoothing caps
# each near 0.9, so a clean 8-slot reading multiplies to about 0.43.)
TWO_ROW_RETRY = 0.5
# A plate whose reading has a character under SECOND_LOOK_BELOW (raw probability) is read again in its second looks,
# and the surest of those readings gives the characters where it is surer than the plate's own reading and at least
# as sure as its look demands:
# - stretched, each colour channel over 0-255 (STRETCHED_MIN), where the plate was read as Chinese: a dark or hazy
#   plate given a clear one's contrast. Of the 357 CCPD validation plates darkened as at night, 329 are read from
#   their labelled corners without it, 338 with it. Outside China it read no more real plates and lost two Brazilian
#   ones at found corners, read surer but wrong.
# - inverted (INVERTED_MIN), where the ground is darker than the characters (dark_ground): the reader reads dark on
#   light best outside China; of 200 rendered US plates light on dark, 104 as they are and 174 inverted. The
#   dark-ground test keeps the Spanish plates out, white plates that are doubtful by design at their painted-over
#   positions, where an inverted reading won and misread the visible characters.
# - inverted in stretched grey (GREY_MIN), there too, unless the plate was read as Chinese: light characters on a
#   mid-tone colour (New Mexico's yellow on turquoise) keep little contrast even inverted; of 200, 40 are read as
#   they are, 74 with the inverted look, 102 with this one too. A Chinese plate's colours tell its type, and in grey
#   one was read with another province.
# Each minimum is the lowest at which no real validation plate was lost (docs/training.md). `[ocr] second_looks =
# false` reads every plate as it is.
SECOND_LOOK_BELOW = 0.7
# A plate not read as Chinese whose reading has a character under this (calibrated) confidence, and whose crop shows
# as many characters of its own as its text has, has each such character read again alone, repeated in a row
# (reread_doubtful_characters): 4 more of the 1068 real plates from elsewhere read and none fewer, 4 more of 1500
# rendered ones, and a sixth more of the rendered US plates with an emblem (README).
GLYPH_RECHECK_BELOW = 0.7
# A plate read again with an emblem painted over (read_past_emblems) takes that reading where it is this many times
# surer: half as sure again, so a reading only a little surer, which as often has lost a character, does not.
EMBLEM_GAIN = 1.5
# A crop darker than this on average (grey levels, 0-255) is a plate at night, and is read stretched over every level
# (lpr_models.contrast) instead of as it is, like the refiner's canvas (DARK_CANVAS there): the rendered plates of
# every region pasted into the CCPD validation photos darkened, read end to end, 91.9% -> 93.4% (docs/training.md).
DARK_CROP = 40.0
STRETCHED_MIN = 0.3
INVERTED_MIN = 0.1
GREY_MIN = 0.4
# Besides its own crop, each plate is read in these copies, each (shift, zoom): moved sideways by a share of a strip
# (the encoder's token width) and scaled about its centre, and the readings' probabilities are averaged. Half a strip
# moves every character across a token boundary and a zoom changes every character's size in strips, so the copies err
# apart: on the real validation crops the shifted copies read up to 5 points more plates than one read, and the zoomed
# ones 1 point more again (docs/training.md), for three to six times the reader's work. An empty tuple reads each plate
# once.
COPIES: tuple[tuple[float, float], ...] = ((-0.5, 1.0), (0.5, 1.0), (0.0, 1.06), (-0.5, 1.06), (0.5, 1.06))

Model = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float  # product of the character confidences (end-of-plate slot included)
    char_confidences: tuple[float, ...]
    region: str = "unknown"
    region_confidence: float = 0.0
    format_valid: bool | None = None  # None: the region has no known format
    rows: int = 1  # the view it was read in: 1 (whole plate) or 2 (upper row, then lower)


def decode_reading(
    log_probs: np.ndarray,
    region_probs: np.ndarray,
    calibration: Calibration = NO_CALIBRATION,
    rows: int = 1,
    not_chinese: bool = False,
) -> Reading:
    """One plate's reading from its raw (slots, classes) log-probabilities and its region probabilities.

    No Chinese character on a plate of another region; among the texts, the most probable one
    that fits a format of the region unless it is far less likely than the free reading. A plate
    read as Chinese whose text still fits no Chinese format is read as its next likeliest region:
    a province character appears only on a reading that is a Chinese plate (`not_chinese`: that
    second reading). The text is chosen on the raw probabilities (FORMAT_PRIOR was set on them), so
    a calibration changes what a reading's confidences say, never what it reads.
    """
    order = [int(i) for i in np.argsort(-region_probs)]
    if not_chinese or region_probs[REGIONS.index("cn")] < CHINESE_MIN:  # not sure enough: no province
        order = [i for i in order if REGIONS[i] != "cn"]
    region_index = order[0]
    region = REGIONS[region_index]
    raw_log_probs = log_probs
    if region != "cn":
        log_probs = log_probs.copy()
        log_probs[:, CHINESE_CLASSES] = -np.inf
    ids = log_probs.argmax(-1)
    text = decode(ids.tolist())
    end = len(text) + (1 if len(text) < len(ids) else 0)
    free_score = float(log_probs[np.arange(end), ids[:end]].sum())
    fit = best_fit(log_probs, region)
    format_valid = None
    if fit is not None:
        format_valid = fit[0] == text
        if not format_valid and fit[1] >= free_score + np.log(FORMAT_PRIOR):
            text, format_valid = fit[0], True
    if region == "cn" and format_valid is False:
        return decode_reading(raw_log_probs, region_probs, calibration, rows, not_chinese=True)
    chosen = [INDEX[c] for c in text] + ([PAD] if len(text) < len(ids) else [])
    scaled = raw_log_probs / calibration.temperature
    calibrated = scaled - np.logaddexp.reduce(scaled, axis=-1, keepdims=True)
    confs = np.exp(calibrated[np.arange(len(chosen)), chosen]).astype(float)
    return Reading(
        text,
        calibration.text_confidence(float(np.prod(confs)), region) if len(confs) else 0.0,
        tuple(float(c) for c in confs[: len(text)]),
        region,
        float(region_probs[region_index]),
        format_valid,
        rows,
    )


def view_scores(char_logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(raw confidence, least sure character's probability) of each plate's greedy reading in one view, both 0
    where it reads nothing (not its layout); the end slot counts as a character."""
    probs = char_logits.softmax(-1)
    best, ids = probs.max(-1)
    ends = (ids == PAD).int().argmax(-1)  # first pad; argmax is 0 where there is none
    ends = torch.where((ids == PAD).any(-1), ends, torch.full_like(ends, ids.shape[1] - 1))
    read = torch.where(torch.arange(ids.shape[1])[None] <= ends[:, None], best, torch.ones_like(best))
    confidence, weakest = read.prod(-1), read.min(-1).values
    empty = ids[:, 0] == PAD
    zero = torch.zeros_like(confidence)
    return torch.where(empty, zero, confidence).numpy(), torch.where(empty, zero, weakest).numpy()


def move(crop: np.ndarray, pixels: float, zoom: float = 1.0) -> np.ndarray:
    """`crop` scaled by `zoom` about its centre and moved `pixels` to the right (left when negative), its edge
    pixels repeated into any gap."""
    if pixels == 0 and zoom == 1.0:
        return crop
    h, w = crop.shape[:2]
    matrix = np.array([[zoom, 0, (1 - zoom) * (w - 1) / 2 + pixels], [0, zoom, (1 - zoom) * (h - 1) / 2]], np.float32)
    return cv2.warpAffine(crop, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@torch.inference_mode()
def read_views(
    model: Model,
    crops: np.ndarray,
    cfg: OcrConfig,
    copies: tuple[tuple[float, float], ...] = COPIES,
    second_look_below: float = SECOND_LOOK_BELOW,
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """(character log-probabilities, region log-probabilities, rows) of (B, 2H, W, 3) crops, each from the view
    its plate reads best in (see best_view). A plate whose reading has a character under `second_look_below` (0:
    never) is read again in its `second_looks`, and the surest of those readings gives its characters where it is
    surer than the plate's own and at least as sure as its look demands (compared as decoded, uncalibrated). The
    region is always the plate's as it is: inverted, an old red Brazilian plate looks American."""
    chars, regions, rows = best_view(model, crops, cfg, copies)
    retry = [int(i) for i in np.flatnonzero(view_scores(chars)[1] < second_look_below)]
    if not retry:
        return chars, regions, rows
    own = decode_batch(chars[retry], regions[retry], rows[retry])
    looks = [
        (i, *look)
        for i, reading in zip(retry, own)
        for look in second_looks(crops[i], reading.region == "cn")
        if not np.array_equal(look[0], crops[i])  # a crop read_batch stretched already: nothing new to read
    ]
    if not looks:
        return chars, regions, rows
    owners = np.array([i for i, _, _ in looks])
    chars2, _, rows2 = best_view(model, np.stack([look for _, look, _ in looks]), cfg, copies)
    best = {i: reading.confidence for i, reading in zip(retry, own)}
    for k, ((i, _, minimum), reading) in enumerate(zip(looks, decode_batch(chars2, regions[owners], rows2))):
        if reading.text and reading.confidence > max(best[i], minimum):
            best[i] = reading.confidence
            chars[i], rows[i] = chars2[k], rows2[k]
    return chars, regions, rows


def second_looks(crop: np.ndarray, chinese: bool) -> list[tuple[np.ndarray, float]]:
    """What a doubtful plate is read again as, each with the confidence its reading must reach (see
    SECOND_LOOK_BELOW): read as Chinese, stretched; where its ground is darker than its characters, inverted, and,
    unless read as Chinese, inverted in stretched grey."""
    looks = [(stretched(crop), STRETCHED_MIN)] if chinese else []
    if dark_ground(crop):
        looks.append((255 - crop, INVERTED_MIN))
        if not chinese:
            looks.append((255 - stretched_grey(crop), GREY_MIN))
    return looks


@torch.inference_mode()
def best_view(
    model: Model, crops: np.ndarray, cfg: OcrConfig, copies: tuple[tuple[float, float], ...] = COPIES
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """(character log-probabilities, region log-probabilities, rows) of (B, 2H, W, 3) crops, each from the view
    its plate reads best in: the one-row view, or the two-row view where the one-row reading is empty or
    doubtful. With `copies` ((shift, zoom) pairs, see COPIES), each crop's moved copies are read in the same
    batches as the crop (one call of the model for a plate read in one row), and the probabilities are averaged
    over the crop and its copies, all in the view the crop's own reading chose. A plate read in two rows is
    averaged over its shifted copies only: a zoom moves its rows across the split between the two bands."""
    chars, regions = _read_copies(model, crops, cfg, 1, copies)
    rows = np.ones(len(crops), dtype=int)
    first, weakest = view_scores(chars[0])
    chars, regions = _average(chars), _average(regions)
    retry = np.flatnonzero(weakest < TWO_ROW_RETRY)
    if len(retry):
        chars2, regions2 = _read_copies(model, crops[retry], cfg, 2, unzoomed(copies))
        better = view_scores(chars2[0])[0] > first[retry]
        chosen = retry[better]
        chars[chosen], regions[chosen] = _average(chars2)[better], _average(regions2)[better]
        rows[chosen] = 2
    return chars, regions, rows


def unzoomed(copies: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The copies a plate read in two rows gets: the shifted ones, not the zoomed (see read_views)."""
    return tuple(copy for copy in copies if copy[1] == 1.0)


def _read_copies(
    model: Model, crops: np.ndarray, cfg: OcrConfig, rows: int, copies: tuple[tuple[float, float], ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Character and region logits, (1 + copies, B, ...), of the crops and their moved copies in one view."""
    moved = [np.stack([move(c, s * cfg.strip_width, z) for c in crops]) for s, z in copies]
    stack = np.concatenate([crops, *moved]) if moved else crops
    views = np.stack([view(c, cfg, rows) for c in stack])
    chars, regions = model(to_tensor(views))
    return chars.unflatten(0, (1 + len(copies), len(crops))), regions.unflatten(0, (1 + len(copies), len(crops)))


def _average(logits: torch.Tensor) -> torch.Tensor:
    """The log of the probabilities averaged over the copies (the first axis)."""
    return logits.softmax(-1).mean(0).log()


def night_stretched(plate: np.ndarray) -> np.ndarray:
    """The plate stretched over every level where it is dark (DARK_CROP), as it is otherwise: what the reader is
    shown of a plate at night, in training as in reading."""
    return stretched_if_dark(plate, DARK_CROP)


def read_batch(
    model: Model,
    crops: np.ndarray,
    cfg: OcrConfig,
    calibration: Calibration = NO_CALIBRATION,
    copies: tuple[tuple[float, float], ...] = COPIES,
    second_look_below: float = SECOND_LOOK_BELOW,
    stacked: bool = True,
) -> list[Reading]:
    """Read (B, 2H, W, 3) BGR crops (`plate_crop`) with `model` (or its compiled form), each in its better view, a
    crop at night stretched first (DARK_CROP); with second looks (`second_look_below` > 0), a doubtful character
    of a plate from elsewhere is read again alone (reread_doubtful_characters) and a US plate with an emblem beside
    its characters again with the emblem painted over (read_past_emblems); with `stacked`, a plate read as
    American with small characters stacked at one end is read with them (read_stacked)."""
    if len(crops) == 0:
        return []
    crops = np.stack([night_stretched(crop) for crop in crops])

    def read(looks: list[np.ndarray]) -> list[Reading]:
        return decode_batch(*read_views(model, np.stack(looks), cfg, copies, second_look_below), calibration)

    readings = decode_batch(*read_views(model, crops, cfg, copies, second_look_below), calibration)
    own_characters = OwnCharacters(crops)
    if second_look_below:
        readings = reread_doubtful_characters(crops, readings, read, own_characters)
        readings = read_past_emblems(crops, readings, read, own_characters)
    return read_stacked(crops, readings, read, own_characters) if stacked else readings


class OwnCharacters:
    """Each crop's own characters (lpr_models.ocr.stacks.characters) and the stacks beside them, found when a second
    look first asks for them and kept: the looks at a US plate (its doubtful characters, emblems and stacks) all
    measure the same crop."""

    def __init__(self, crops: np.ndarray) -> None:
        self._crops = crops
        self._found: dict[int, Characters | None] = {}
        self._stacks: dict[int, tuple[Stack, ...]] = {}

    def __getitem__(self, i: int) -> Characters | None:
        if i not in self._found:
            self._found[i] = characters(self._crops[i])
        return self._found[i]

    def stacks(self, i: int) -> tuple[Stack, ...]:
        """The stacks beside crop `i`'s own characters (lpr_models.ocr.stacks.find_stacks); none where it has none."""
        if i not in self._stacks:
            own = self[i]
            self._stacks[i] = find_stacks(own) if own is not None else ()
        return self._stacks[i]


def read_past_emblems(
    crops: np.ndarray,
    readings: list[Reading],
    read: Callable[[list[np.ndarray]], list[Reading]],
    own_characters: OwnCharacters,
) -> list[Reading]:
    """`readings` with each plate read as American in one row whose crop shows an emblem beside its own characters
    and no stack (lpr_models.ocr.emblems) read again with the emblem painted over, all in one batch: that reading
    replaces the plate's where it is EMBLEM_GAIN times surer and only Latin letters and digits. `read` reads crops
    as the plates were; `own_characters` gives each crop's own characters."""
    found = [
        (i, clean)
        for i, r in enumerate(readings)
        if r.region == "us"
        and r.rows == 1
        and (own := own_characters[i]) is not None
        and not own_characters.stacks(i)
        and (clean := without_emblems(crops[i], own)) is not None
    ]
    if not found:
        return readings
    out = list(readings)
    for (i, _), again in zip(found, read([clean for _, clean in found])):
        if (
            again.text
            and set(again.text) <= LATIN_AND_DIGITS
            and again.confidence > EMBLEM_GAIN * readings[i].confidence
        ):
            out[i] = replace(
                readings[i],
                text=again.text,
                confidence=again.confidence,
                char_confidences=again.char_confidences,
                format_valid=again.format_valid,
            )
    return out


def reread_doubtful_characters(
    crops: np.ndarray,
    readings: list[Reading],
    read: Callable[[list[np.ndarray]], list[Reading]],
    own_characters: OwnCharacters,
) -> list[Reading]:
    """`readings` with each doubtful character (under GLYPH_RECHECK_BELOW) of a plate read in one row, not as
    Chinese, read again alone: the crop's own characters (lpr_models.ocr.stacks.characters), where there are as many
    as the text has, give its shape, read repeated in a row (glyph_rows), all in one batch. A Latin letter or digit
    read surer than the plate's reading of it replaces it, unless the plate's text fitted its region's format and
    the new one does not; the confidence is scaled by the characters' gain. `read` reads crops as the plates were,
    `own_characters` gives each crop's own characters."""
    jobs = []  # (plate, its doubtful positions, its own characters)
    for i, reading in enumerate(readings):
        if reading.region == "cn" or reading.rows != 1 or not reading.text:
            continue
        doubtful = [j for j, c in enumerate(reading.char_confidences) if c < GLYPH_RECHECK_BELOW]
        own = own_characters[i] if doubtful else None
        if own is not None and len(own.shapes) == len(reading.text):
            jobs.append((i, doubtful, own))
    if not jobs:
        return readings
    rows = [row for i, doubtful, own in jobs for row in glyph_rows(crops[i], own, [own.boxes[j] for j in doubtful])]
    reread = iter(read(rows))
    out = list(readings)
    for i, doubtful, _ in jobs:
        reading = readings[i]
        text, confidences = list(reading.text), list(reading.char_confidences)
        for j in doubtful:
            glyph = next(reread)
            alone = glyph_reading(glyph.text, glyph.char_confidences)
            if alone is not None and alone[0] != text[j] and alone[1] > confidences[j]:
                text[j], confidences[j] = alone
        if text == list(reading.text):
            continue
        fits = fits_format(reading.region, "".join(text))
        if reading.format_valid and not fits:
            continue
        gain = float(np.prod(confidences)) / max(float(np.prod(reading.char_confidences)), 1e-12)
        out[i] = replace(
            reading,
            text="".join(text),
            confidence=min(1.0, reading.confidence * gain),
            char_confidences=tuple(confidences),
            format_valid=fits,
        )
    return out


def read_stacked(
    crops: np.ndarray,
    readings: list[Reading],
    read: Callable[[list[np.ndarray]], list[Reading]],
    own_characters: OwnCharacters,
) -> list[Reading]:
    """`readings` with each plate read as American whose crop holds stacks (lpr_models.ocr.stacks) read again:
    the plate with its stacks painted over, and each stacked character in a row of its own, all in one batch. A
    stack's characters go before or after the rest, as they stand; a plate with a stack that reads as a jumble, or
    whose rest reads nothing or more than Latin letters and digits, keeps its reading. The confidence is the rest's
    times each stacked character's. `read` reads crops as the plates were, `own_characters` gives each crop's own
    characters."""
    found = [
        (i, own, stacks)
        for i, r in enumerate(readings)
        if r.region == "us" and (stacks := own_characters.stacks(i)) and (own := own_characters[i]) is not None
    ]
    if not found:
        return readings
    looks = [
        look
        for i, own, stacks in found
        for look in (
            without_stacks(crops[i], own, stacks),
            *(row for stack in stacks for row in glyph_rows(crops[i], own, stack.boxes)),
        )
    ]
    reread = iter(read(looks))
    out = list(readings)
    for i, _, stacks in found:
        rest = next(reread)
        alone = [[glyph_reading(g.text, g.char_confidences) for g in (next(reread) for _ in s.boxes)] for s in stacks]
        clear = [[g for g in glyphs if g is not None] for glyphs in alone]
        jumbled = [len(glyphs) for glyphs in clear] != [len(stack.boxes) for stack in stacks]
        if jumbled or not rest.text or not set(rest.text) <= LATIN_AND_DIGITS:
            continue
        parts = [(rest.text, rest.char_confidences)]
        for stack, glyphs in zip(stacks, clear):
            part = ("".join(c for c, _ in glyphs), tuple(p for _, p in glyphs))
            parts = [part, *parts] if stack.at_left else [*parts, part]
        out[i] = replace(
            readings[i],
            text="".join(text for text, _ in parts),
            confidence=rest.confidence * float(np.prod([p for glyphs in clear for _, p in glyphs])),
            char_confidences=tuple(c for _, confidences in parts for c in confidences),
        )
    return out


def decode_batch(
    char_logits: torch.Tensor,
    region_logits: torch.Tensor,
    rows: np.ndarray | None = None,
    calibration: Calibration = NO_CALIBRATION,
) -> list[Reading]:
    """Readings from the reader's raw outputs ((B, slots, classes) and (B, regions) logits, the view of each)."""
    log_probs = char_logits.log_softmax(-1).numpy()
    region_probs = region_logits.softmax(-1).numpy()
    views = np.ones(len(log_probs), dtype=int) if rows is None else rows
    return [decode_reading(lp, rp, calibration, int(r)) for lp, rp, r in zip(log_probs, region_probs, views)]


class PlateReader:
    """`crop(image, corners)` a plate, then `read(plates) -> list[Reading]` a batch of crops; `shifted_reads`
    reads each plate also in shifted and zoomed copies (COPIES), three to six times the work for more plates read;
    `second_looks` reads a doubtful plate again stretched, inverted where light on dark (SECOND_LOOK_BELOW), and
    a doubtful character of a plate from elsewhere alone (GLYPH_RECHECK_BELOW), and a US plate past its emblem
    (EMBLEM_GAIN); `stacked_characters` reads a US plate's small stacked characters (read_stacked)."""

    def __init__(
        self,
        model: MaskOCR,
        max_batch: int = 16,
        backend: str = "auto",
        calibration: Calibration = NO_CALIBRATION,
        shifted_reads: bool = True,
        second_looks: bool = True,
        stacked_characters: bool = True,
    ) -> None:
        self.model = model.eval()
        self.calibration = calibration
        self.copies = COPIES if shifted_reads else ()
        self.second_look_below = SECOND_LOOK_BELOW if second_looks else 0.0
        self.stacked_characters = stacked_characters
        self.forward = ShapeCache(self.model, backend)
        self.input_size = (model.cfg.height, model.cfg.width)
        self.crop_size = crop_size(model.cfg)
        self.max_batch = max_batch

    @classmethod
    def from_weights(cls, path=None, **kwargs) -> PlateReader:
        """Load shipped (default) or given weights; see lpr_models.weights for the checks made."""
        from lpr_models.ocr.model import OcrConfig
        from lpr_models.weights import load_model

        model, state = load_model("ocr", path, lambda cfg: MaskOCR(OcrConfig(**cfg)))
        return cls(model, calibration=Calibration.from_dict(state.get("calibration")), **kwargs)

    def crop(self, image: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Rectify the plate with `corners` (TL, TR, BR, BL) exactly as the reader was trained: (2H, W, 3)."""
        return plate_crop(image, corners, self.model.cfg)

    def read(self, plates: list[np.ndarray]) -> list[Reading]:
        out: list[Reading] = []
        for start in range(0, len(plates), self.max_batch):
            batch = np.stack(plates[start : start + self.max_batch])
            out += read_batch(
                self.forward,
                batch,
                self.model.cfg,
                self.calibration,
                self.copies,
                self.second_look_below,
                self.stacked_characters,
            )
        return out
