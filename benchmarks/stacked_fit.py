"""Can a reader learn the small characters some US plates stack at one end? Fine-tune it on those plates alone.

    python benchmarks/stacked_fit.py ../shared/data [READER.pt] [--plates 2000] [--steps 500] [--lr 3e-4]
        [--height 96 | --width 384 | --rows 2]

Renders `--plates` US plates that all carry two or three stacked characters (train.synth.world_plates,
US_STACK_SHARE 1) into CCPD training photos, fine-tunes the reader (the shipped one by default) on them alone, and
every 100 steps reads 100 of them and 100 others pasted into validation photos (from their labelled corners).
A reader that can learn them reads most of its own training plates within a few hundred steps; one whose
input cannot hold them does not. `--height` first makes the reader's input that tall (crops twice that): the strip
embedding is resized to the taller strips (bilinear, scaled so a strip scaled up alike embeds the same), the
rest kept, to ask whether resolution is what is missing; `--width` makes it that wide instead, with as many more
strips of the same width (the position embeddings stretched to them), so a stack spans more tokens; `--rows 2`
cuts half-height strips instead, so each character of a stack has tokens of its own (docs/training.md, "Stacked
characters").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import train.synth.world_plates as world_plates
from lpr_models.ocr.model import MaskOCR, OcrConfig
from lpr_models.ocr.reader import PlateReader
from train.ocr_data import PlateDataset
from train.ocr_eval import matches, read_samples
from train.ocr_train import character_loss
from train.synth.plates import scene_plates, synthetic_samples


def resized(model: MaskOCR, height: int | None = None, width: int | None = None, rows: int | None = None) -> MaskOCR:
    """`model` reading inputs `height` tall (its strip embedding resized), `width` wide (its position embeddings
    stretched over the added strips) or in `rows` rows of shorter strips (the strip embedding squeezed to their
    height, each row's strips starting from the whole strip's position), every other reading weight kept."""
    cfg = model.cfg
    shape = {"height": height or cfg.height, "width": width or cfg.width, "rows": rows or cfg.rows}
    out = MaskOCR(OcrConfig(**{**cfg.to_dict(), **shape}))
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("mae.")}
    if out.cfg.patch_height != cfg.patch_height:  # taller strips (--height) or shorter ones (--rows)
        kernel = state["encoder.embed.weight"]
        resized_kernel = torch.nn.functional.interpolate(
            kernel, size=(out.cfg.patch_height, kernel.shape[-1]), mode="bilinear"
        )
        state["encoder.embed.weight"] = resized_kernel * (kernel.shape[-2] / out.cfg.patch_height)
    if width:
        pos = state["encoder.pos"].transpose(1, 2)  # (1, dim, strips)
        stretched = torch.nn.functional.interpolate(pos, size=out.cfg.num_strips, mode="linear")
        state["encoder.pos"] = stretched.transpose(1, 2)
    if rows:
        state["encoder.pos"] = state["encoder.pos"].repeat(1, rows // cfg.rows, 1)
    out.load_state_dict(state, strict=False)  # the MAE decoder, for pre-training only, starts afresh
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (ccpd/ holds the photos pasted into)")
    parser.add_argument("reader", type=Path, nargs="?", help="reader weights (default: the shipped reader)")
    parser.add_argument("--plates", type=int, default=2000, help="stacked plates to fine-tune on")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=32)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--height", type=int, help="make the reader's input this tall first")
    size.add_argument("--width", type=int, help="or this wide")
    size.add_argument("--rows", type=int, help="or read in this many rows of strips")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in ("US_DARK_SHARE", "US_YELLOW_SHARE", "US_MIDTONE_SHARE", "US_EMBLEM_SHARE", "US_END_EMBLEM_SHARE"):
        setattr(world_plates, name, 0.0)  # stacked plates, dark on light, and nothing else
    world_plates.US_STACK_SHARE = 1.0
    photos = args.data / "ccpd" / "images"
    train = synthetic_samples(args.plates, scene_plates(photos, 600), args.art, seed=50, styles=("us",))
    held_out = synthetic_samples(100, scene_plates(photos, 300, "val"), args.art, seed=51, styles=("us",))
    model = PlateReader.from_weights(args.reader).model
    if args.height or args.width or args.rows:
        model = resized(model, args.height, args.width, args.rows)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    loader = torch.utils.data.DataLoader(PlateDataset(train, model.cfg, 1.0), args.batch, shuffle=True, drop_last=True)

    def read(samples) -> int:
        model.eval()
        right = sum(matches(p, t) for p, t, _, _ in read_samples(model, samples))
        model.train()
        return right

    print(f"step 0: read {read(train[:100])}/100 trained on, {read(held_out)}/100 held out", flush=True)
    step, start = 0, time.time()
    while step < args.steps:
        for images, targets, _ in loader:
            chars, _ = model(images)
            loss = character_loss(chars, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % 100 == 0:
                print(
                    f"step {step}: loss {loss.item():.3f}, read {read(train[:100])}/100 trained on, "
                    f"{read(held_out)}/100 held out ({time.time() - start:.0f} s)",
                    flush=True,
                )
            if step >= args.steps:
                break


if __name__ == "__main__":
    main()
