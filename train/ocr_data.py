"""Plate crops for the reader: the shared crop folders and crops cut from CCPD photos.

Every sample keeps its source image and the plate's 4 corners in it, so training warps
each plate exactly as inference does (lpr_models.ocr.preprocess.plate_crop), with corner jitter,
and shows it in the view of its row count. Some plates are shown in the other view with an empty
text: the reader learns to read nothing where the layout is not the plate's, which is how it tells
one- and two-row plates apart (lpr_models.ocr.reader.read_views). The region is learnt in both
views: a plate's family shows in either, and a view the reader never named a region for could
name China and let a province character through.
A `-` in a label is a character that cannot be read (UC3M paints two of every plate's
characters over): that position is ignored by the loss and by the scores.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from lpr_models.formats import fits_format
from lpr_models.geometry import expand_quad
from lpr_models.ocr.model import OcrConfig
from lpr_models.ocr.preprocess import plate_crop, to_tensor, view
from lpr_models.ocr.reader import night_stretched
from lpr_models.vocab import REGIONS, encode, is_supported
from train.augment import harsh, photometric
from train.ccpd import list_ccpd_images, parse_ccpd_name
from train.splits import is_validation

UNREADABLE = "-"  # a label character hidden in the image: ignored in training and scoring
IGNORE = -100  # the loss's ignore index


@dataclass(frozen=True)
class CropFolder:
    """A folder of labelled crops: its labels file, the plate family, and whether labels are machine-read."""

    name: str
    labels: str = "labels.csv"
    region: str | None = None  # None: the labels file's `region` column (vn_crops: vn, cz, hr)
    noisy: bool = False  # labels read by a program: train only on those that fit a known format


CROP_FOLDERS = (
    CropFolder("ccpd_crops", region="cn"),
    CropFolder("br_crops", region="br"),
    CropFolder("us_crops", region="us"),
    CropFolder("vn_crops", noisy=True),
    CropFolder("uc3m", labels="crops.csv", region="eu"),
)
COUNTRY_REGION = {"vn": "vn", "cz": "eu", "hr": "eu"}
# a crop of a region's plate narrower than this (width / height) is a two-row plate where the labels do not say:
# vn_crops marks only motorbike plates (rows_hint 2), yet 413 of its other Vietnamese crops are two-row car
# plates, square or framed with some car beside them up to 2.15:1 (one-row ones are 4.7:1, down to 1.7:1 when cut
# off: those below this are listed in CHECKED_ROWS); Croatian plates overlap, so not there
TWO_ROW_BELOW = {"vn": 2.2}
# labels checked by eye where the machine-read label and the reader disagreed (docs/training.md): every such
# crop of vn_crops, us_crops and br_crops, validation and training alike
CHECKED_LABELS = Path(__file__).with_name("checked_labels.csv")
# rows counted by eye on the crops whose shape says otherwise (TWO_ROW_BELOW): one-row plates cut off to a square
CHECKED_ROWS = Path(__file__).with_name("checked_rows.csv")


@dataclass
class PlateSample:
    image: np.ndarray  # BGR uint8
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL in `image`
    text: str
    source: str
    region: str = "cn"
    rows: int = 1
    file: str = ""  # in its folder, for crops
    country: str = ""  # where the labels name it (vn_crops: CZ, HR), for its own formats


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return image


def full_corners(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)


def readable(text: str) -> str:
    """`text` with its unreadable positions removed (what a reader can be scored on)."""
    return text.replace(UNREADABLE, "")


def load_crop_folder(
    folder: Path, limit: int | None = None, spec: CropFolder | None = None, rows_by_file: dict[str, int] | None = None
) -> list[PlateSample]:
    """A crop folder with a labels file (file, text, ...); unsupported texts are skipped. `rows_by_file`: rows
    counted by eye (`checked_rows`), which win over the labels' hints and the crop's shape."""
    spec = spec or CropFolder(folder.name)
    rows_by_file = rows_by_file or {}
    labels = folder / spec.labels
    if not labels.is_file():
        raise FileNotFoundError(f"no {spec.labels} in {folder}")
    with labels.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("text") and is_supported(readable(r["text"]))]
    samples = []
    for row in rows[:limit]:
        image = read_image(folder / row["file"])
        region = spec.region or COUNTRY_REGION.get(row.get("region", ""), "unknown")
        country = row.get("region", "").upper() if region == "eu" and not spec.region else ""
        two_rows = (
            row.get("rows_hint") == "2"
            or row.get("plate_type") == "B"
            or image.shape[1] < TWO_ROW_BELOW.get(region, 0) * image.shape[0]
        )
        rows_count = rows_by_file.get(row["file"], 2 if two_rows else 1)
        samples.append(
            PlateSample(image, full_corners(image), row["text"], folder.name, region, rows_count, row["file"], country)
        )
    return samples


def checked_labels(path: Path = CHECKED_LABELS) -> dict[tuple[str, str, str], str]:
    """(folder, file, machine-read label) -> the text a person read on the crop ("" where it cannot be read)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {(r["folder"], r["file"], r["label"]): r["text"] for r in csv.DictReader(fh)}


def checked_rows(path: Path = CHECKED_ROWS) -> dict[str, dict[str, int]]:
    """folder -> file -> the rows a person counted on the crop."""
    rows: dict[str, dict[str, int]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.setdefault(r["folder"], {})[r["file"]] = int(r["rows"])
    return rows


def checked_key(sample: PlateSample) -> tuple[str, str, str]:
    """How `CHECKED_LABELS` names a crop: its folder, its file and the machine-read label a check replaces."""
    return sample.source, sample.file, sample.text


def is_checked(sample: PlateSample, checked: dict[tuple[str, str, str], str]) -> bool:
    """Whether a person looked at this crop (its label then need not fit a format to be trusted)."""
    return checked_key(sample) in checked


def with_checked_labels(samples: list[PlateSample], checked: dict[tuple[str, str, str], str]) -> list[PlateSample]:
    """`samples` with the labels a person checked put right, and the crops nobody can read left out."""
    fixed = []
    for sample in samples:
        text = checked.get(checked_key(sample), sample.text)
        if text:
            fixed.append(replace(sample, text=text))
    return fixed


def plausible_label(sample: PlateSample) -> bool:
    """Whether a machine-read label fits its region's formats (the wrong ones mostly do not): its own country's,
    where the labels name one, since a Croatian label that dropped a letter (SI334BM read S334BM) fits another
    country's format (the Dutch L-DDD-LL)."""
    return fits_format(sample.region, sample.text, sample.country) is not False


def cut_box(
    image: np.ndarray, box, margin_x: float, margin_y: float, corners: np.ndarray, end_pad: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The part of `image` around `box` (x1, y1, x2, y2), grown by `margin_x` of its width and `margin_y` of its
    height (and `end_pad` pixels right and below), and `corners` moved into it."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin_x, (y2 - y1) * margin_y
    left, top = int(max(0, x1 - mx)), int(max(0, y1 - my))
    right = int(min(image.shape[1], x2 + mx + end_pad))
    bottom = int(min(image.shape[0], y2 + my + end_pad))
    return image[top:bottom, left:right].copy(), (corners - np.array([left, top], np.float32)).astype(np.float32)


# Margin around a plate cut from a photo, as a share of its box on each side: room for corner jitter to move into.
PHOTO_PLATE_MARGIN = 0.35


def cut_ccpd_plate(path: Path, margin: float = PHOTO_PLATE_MARGIN) -> PlateSample:
    """The plate region of a CCPD photo with a margin, so corner jitter has pixels to move into."""
    label = parse_ccpd_name(path.name)
    crop, corners = cut_box(read_image(path), label.box, margin, margin, label.corners)
    return PlateSample(crop, corners, label.text, "ccpd", "cn")


def load_ccpd_plates(folder: Path, limit: int | None = None) -> list[PlateSample]:
    paths = list_ccpd_images(folder)[:limit]
    return [cut_ccpd_plate(p) for p in tqdm(paths, desc="cutting CCPD plates", leave=False)]


def training_crops(
    samples: list[PlateSample], spec: CropFolder, checked: dict[tuple[str, str, str], str]
) -> list[PlateSample]:
    """The crops of a folder's training side worth training on, with their checked texts: from a noisy folder,
    those whose label fits a format or was checked by eye."""
    kept = [s for s in samples if not spec.noisy or plausible_label(s) or is_checked(s, checked)]
    return with_checked_labels(kept, checked)


def load_splits(data_root: Path, limit: int | None = None) -> tuple[list[PlateSample], dict[str, list[PlateSample]]]:
    """(train samples, validation samples by data set), split by plate text.

    CCPD validation plates are the CCPD photos in the validation split, rectified from
    their labelled corners; crops in `ccpd_crops` with one of their texts are left out.
    Crops whose labels were checked by eye (`CHECKED_LABELS`) carry the checked text, and a checked
    training crop is trained on even where its text fits no format of the country the labels name
    (a German plate among the Croatian ones); the split itself follows the labels as given, so
    checking one moves nothing between splits.
    """
    checked, rows = checked_labels(), checked_rows()
    ccpd = load_ccpd_plates(data_root / "ccpd" / "images", limit)
    val_texts = {s.text for s in ccpd if is_validation(s.text)}
    train = [s for s in ccpd if s.text not in val_texts]
    val: dict[str, list[PlateSample]] = {"ccpd": [s for s in ccpd if s.text in val_texts]}
    for spec in CROP_FOLDERS:
        samples = load_crop_folder(data_root / spec.name, limit, spec, rows.get(spec.name))
        if spec.name == "ccpd_crops":
            train += [s for s in samples if s.text not in val_texts]
            continue
        held_out = with_checked_labels([s for s in samples if is_validation(s.text)], checked)
        train += training_crops([s for s in samples if not is_validation(s.text)], spec, checked)
        if spec.region is None:  # one validation set per family the folder holds
            for region in sorted({s.region for s in held_out}):
                val[f"{spec.name.removesuffix('_crops')}_{region}"] = [s for s in held_out if s.region == region]
        else:
            val[spec.name.removesuffix("_crops")] = held_out
    return train, val


def repeat_regions(samples: list[PlateSample], repeats: dict[str, int]) -> list[PlateSample]:
    """`samples` with those of each region in `repeats` shown that many times in all: the few real plates
    of a region (US, Brazil) would otherwise be a percent or two of an epoch beside CCPD and rendered ones."""
    extra = [s for s in samples for _ in range(repeats.get(s.region, 1) - 1)]
    return samples + extra


def encode_target(text: str, max_len: int) -> list[int]:
    """Class indices for training, IGNORE at unreadable positions."""
    ids = encode(text.replace(UNREADABLE, "0"), max_len)
    return [IGNORE if c == UNREADABLE else i for c, i in zip(text.ljust(max_len), ids)]


# Largest per-corner move in training, as a share of the plate's width and of its height: the
# shipped detector's corners err about 3% of the width and 5.5% of the height on average
# (11% of the height at the 90th percentile), so the reader learns to tolerate as much.
CORNER_JITTER = (0.03, 0.06)
# Share of training plates shown in the view that is not theirs, to be read as nothing.
WRONG_VIEW_SHARE = 0.15
# Largest extra margin of a loosely framed plate, on each side, as a share of its width and of its height. Crops
# from other tools and loose detections hold a plate with its frame and some car around it: the reader trained
# without it (the release before `--loose-share`) read rendered one-row Vietnamese plates of 9 characters 100% framed
# tight, 82% with 8% of the width added on each side, and misread 6 of the 8 real 9-character ones, 4 of them right
# once cropped 2% of the width and 5% of the height tighter.
LOOSE_FRAMING = (0.08, 0.15)


def jitter_corners(corners: np.ndarray, rng: np.random.Generator, amount: float | tuple[float, float]) -> np.ndarray:
    """Err as a detector does: shift and scale the whole quadrilateral, and move each corner a little.

    `amount` is the largest per-corner move as a share of the plate's width (x) and height (y),
    one value for both or one per axis; the whole plate shifts by up to as much again, and
    scales by up to 2 * amount.
    """
    amount = np.broadcast_to(np.asarray(amount, np.float64), (2,))
    width = np.linalg.norm(corners[1] - corners[0])
    height = np.linalg.norm(corners[3] - corners[0])
    size = np.array([width, height])
    centre = corners.mean(axis=0)
    scale = 1 + rng.uniform(-2 * amount, 2 * amount, size=2)
    moved = centre + (corners - centre) * scale + rng.uniform(-amount, amount, size=2) * size
    return (moved + rng.uniform(-amount, amount, size=(4, 2)) * size).astype(np.float32)


def loosen(corners: np.ndarray, rng: np.random.Generator, most: tuple[float, float] = LOOSE_FRAMING) -> np.ndarray:
    """The plate framed loosely: its quadrilateral grown by up to `most` of its width and height on each side."""
    return expand_quad(corners, rng.uniform(0, most[0]), rng.uniform(0, most[1]))


class PlateDataset(torch.utils.data.Dataset):
    """Rectified (as at inference), augmented plates in their view, and their encoded texts and regions."""

    def __init__(
        self,
        samples: list[PlateSample],
        cfg: OcrConfig,
        strength: float = 0.0,
        seed: int = 0,
        corner_jitter: tuple[float, float] = CORNER_JITTER,
        wrong_view_share: float = 0.0,
        harsh_share: float = 0.0,
        loose_share: float = 0.0,
        invert_share: float = 0.0,
    ) -> None:
        """`harsh_share`: the share of plates shown under one harsh condition (train.augment.harsh) instead of the
        usual augmentation; `loose_share`: the share framed loosely (`loosen`) before the corner jitter;
        `invert_share`: the share of plates from outside China shown in inverted colours, light characters on a
        dark ground as Indiana, Vermont and the old red Brazilian plates print them (trained on dark-on-light Latin
        plates, the reader read 29 of 200 clean rendered light-on-dark US plates); Chinese plates keep the colours
        that tell their types."""
        self.samples, self.cfg, self.strength, self.corner_jitter = samples, cfg, strength, corner_jitter
        self.wrong_view_share, self.harsh_share, self.loose_share = wrong_view_share, harsh_share, loose_share
        self.invert_share = invert_share
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.samples)

    def plate(self, index: int, rows: int) -> np.ndarray:
        sample = self.samples[index]
        corners = sample.corners
        if self.rng.random() < self.loose_share:
            corners = loosen(corners, self.rng)
        if self.strength > 0:
            corners = jitter_corners(corners, self.rng, np.multiply(self.corner_jitter, self.strength))
        crop = plate_crop(sample.image, corners, self.cfg)
        plate = view(crop, self.cfg, rows)
        if sample.region != "cn" and self.rng.random() < self.invert_share:
            plate = 255 - plate  # light characters on a dark ground (see invert_share)
        if self.rng.random() < self.harsh_share:  # alone: on top of the usual degradations it can wipe a plate out
            plate = harsh(plate, self.rng)
        else:
            plate = photometric(plate, self.rng, self.strength)
        return night_stretched(plate)  # as the reader is shown a plate at night (read_batch)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        sample = self.samples[index]
        region = REGIONS.index(sample.region)
        if self.rng.random() < self.wrong_view_share:  # not this plate's layout: read nothing, still name its region
            image = self.plate(index, 3 - sample.rows)
            return to_tensor(image[None])[0], torch.tensor(encode("", self.cfg.max_chars)), region
        target = torch.tensor(encode_target(sample.text, self.cfg.max_chars))
        return to_tensor(self.plate(index, sample.rows)[None])[0], target, region
