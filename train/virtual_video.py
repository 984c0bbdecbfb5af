"""Make test and demo videos from labelled photos with a moving virtual camera.

Each photo is filmed for a few seconds: the camera pans and zooms across it, with
motion blur and changing light; a short empty stretch separates photos so every plate
is a separate track. The ground truth (plate texts and time ranges) is written beside
the video in the format `lpr eval video` reads.

    python -m train.virtual_video OUT.mp4 PHOTO [PHOTO ...] [--size 1280x720] [--seconds 3]
    python -m train.virtual_video OUT.mp4 --validation-from ../shared/data/ccpd/images --count 10
    python -m train.virtual_video OUT.mp4 --validation-from ../shared/data/ccpd/images --count 10 --swap uk vn

With `--swap`, each photo's plate is first replaced by a rendered plate of the next style given (as `lpr eval ccpd
--swap-plates` does), so the video shows plates from elsewhere: a UK or Vietnamese camera's footage, scored the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from stream.video_writer import VideoWriter
from train.ccpd import parse_ccpd_name
from train.evaluate import LabelledImage, load_frame
from train.synth.plates import DEFAULT_ART, STYLES


def camera_path(t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zoom and pan (as fractions of the frame) for times t in [0, 1]."""
    z0, z1 = rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.4)
    zoom = z0 + (z1 - z0) * t
    px = rng.uniform(-0.15, 0.15) * (1 - 2 * t)
    py = rng.uniform(-0.1, 0.1) * np.sin(np.pi * t)
    return zoom, px, py


def film(
    photo: np.ndarray, plate_centre: np.ndarray, size: tuple[int, int], frames: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Frames of a virtual camera moving over `photo`, keeping the plate in view."""
    width, height = size
    base = min(width / photo.shape[1], height / photo.shape[0]) * 1.6
    zoom, px, py = camera_path(np.linspace(0, 1, frames), rng)
    light = 1 + 0.25 * np.sin(np.linspace(0, rng.uniform(2, 6), frames) + rng.uniform(0, 6))
    out = []
    for i in range(frames):
        s = base * zoom[i]
        cx, cy = plate_centre * s
        tx = width / 2 - cx + px[i] * width
        ty = height / 2 - cy + py[i] * height
        matrix = np.array([[s, 0, tx], [0, s, ty]], np.float32)
        frame = cv2.warpAffine(photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(40, 40, 40))
        speed = abs(zoom[min(i + 1, frames - 1)] - zoom[i]) * 200 + abs(px[min(i + 1, frames - 1)] - px[i]) * width
        k = int(min(9, speed)) | 1
        if k > 1:
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2] = 1 / k
            frame = cv2.filter2D(frame, -1, kernel)
        out.append(np.clip(frame.astype(np.float32) * light[i], 0, 255).astype(np.uint8))
    return out


def make_video(
    out: Path,
    photos: list[Path],
    size: tuple[int, int] = (1280, 720),
    seconds: float = 3.0,
    gap_seconds: float = 1.0,
    fps: int = 25,
    seed: int = 0,
    crf: int = 23,
    swap: tuple[str, ...] = (),
    art: Path | None = None,
) -> dict:
    """Write the video and return its ground truth: {"plates": [...], "ranges": [[start_s, end_s], ...]}.

    `swap`: rendered plate styles (train.synth.plates.STYLES) pasted over the photos' plates in turn, from `art`."""
    rng = np.random.default_rng(seed)
    writer = VideoWriter(out, fps, crf)
    blank = np.full((size[1], size[0], 3), 40, np.uint8)
    truth: dict = {"plates": [], "ranges": []}
    t = 0.0
    for n, path in enumerate(photos):
        label = parse_ccpd_name(path.name)
        style = (swap[n % len(swap)], seed * 100_003 + n) if swap else None
        photo, item = load_frame(LabelledImage(path, label.box, label.text, label.corners, swap=style), art)
        assert item.corners is not None  # CCPD names carry them
        frames = film(photo, item.corners.mean(axis=0), size, int(seconds * fps), rng)
        frames += [blank] * int(gap_seconds * fps)
        truth["plates"].append(item.text)
        truth["ranges"].append([round(t, 3), round(t + seconds, 3)])
        t += seconds + gap_seconds
        for frame in frames:
            writer.write(frame)
    writer.close()
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("photos", type=Path, nargs="*", help="CCPD-named photos")
    parser.add_argument("--validation-from", type=Path, help="use photos of the validation split of this CCPD folder")
    parser.add_argument("--count", type=int, default=10, help="how many validation photos (spread over the split)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--gap", type=float, default=1.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--swap", nargs="+", default=[], choices=STYLES, metavar="STYLE",
        help=f"paste rendered plates of these styles over the photos' plates, in turn ({', '.join(STYLES)})",
    )  # fmt: skip
    parser.add_argument("--art", type=Path, default=DEFAULT_ART, help="plate art for --swap")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    photos = list(args.photos)
    if args.validation_from:
        from train.evaluate import ccpd_items

        val = [item.path for item in ccpd_items(args.validation_from, "val")]
        photos += val[:: max(1, len(val) // args.count)][: args.count]
    if not photos:
        parser.error("give photos or --validation-from")
    truth = make_video(
        args.out, photos, (w, h), args.seconds, args.gap, args.fps, args.seed, args.crf, tuple(args.swap), args.art
    )
    truth_path = args.out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {truth_path}: {len(truth['plates'])} plates")


if __name__ == "__main__":
    main()
