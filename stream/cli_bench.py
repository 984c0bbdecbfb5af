"""`lpr bench`: how fast the models and the whole pipeline run, as medians and as ratios.

Every figure is measured in one run against a baseline measured in the same run (eager
fp32 for the models, the first configuration for the pipeline), because shared machines
are noisy: compare ratios, not absolute numbers from different runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def add_parser(sub) -> None:
    parser = sub.add_parser("bench", help="measure model latency and pipeline throughput")
    kinds = parser.add_subparsers(dest="kind", required=True)
    models = kinds.add_parser("models", help="detector and reader latency per back-end")
    models.add_argument("--threads", type=int, default=2)
    models.add_argument("--repeats", type=int, default=30)
    models.add_argument("--json", type=Path)
    pipeline = kinds.add_parser("pipeline", help="end-to-end frames per second and time per stage")
    pipeline.add_argument("video", type=Path)
    pipeline.add_argument(
        "--heights", type=int, nargs="+", default=[720, 1080], help="rescale the video to these heights"
    )
    pipeline.add_argument("--input-size", type=int, nargs=2, default=(640, 640), metavar=("H", "W"))
    pipeline.add_argument("--threads", type=int, default=2)
    pipeline.add_argument("--frames", type=int, default=300, help="frames to process (the clip is looped)")
    pipeline.add_argument(
        "--without-refiner",
        action="store_true",
        help="also run each height without the corner refiner, to show what it costs",
    )
    pipeline.add_argument(
        "--outputs",
        action="store_true",
        help="also run each height with every output on (event store, MQTT, a webhook), alternating with runs "
        "without them, to show what they cost",
    )
    pipeline.add_argument(
        "--gated",
        action="store_true",
        help="also run each height with the detector every 3rd frame while tracks are steady and the motion gate on",
    )
    pipeline.add_argument(
        "--mqtt-port", type=int, default=1883, help="the MQTT broker on 127.0.0.1 for --outputs (none: paho queues)"
    )
    pipeline.add_argument("--repeats", type=int, default=1, help="runs of each variant (medians are reported)")
    pipeline.add_argument("--json", type=Path)
    cameras = kinds.add_parser("cameras", help="N cameras replaying a clip as live cameras on this host")
    cameras.add_argument("count", type=int, help="how many cameras")
    cameras.add_argument("video", type=Path)
    cameras.add_argument("--height", type=int, help="rescale the clip to this height first (e.g. 1080)")
    cameras.add_argument("--seconds", type=float, default=20.0, help="loop the clip to this long (with --height)")
    cameras.add_argument("--offline", action="store_true", help="replay as fast as possible instead of in real time")
    cameras.add_argument("--gated", action="store_true", help="detector every 3rd frame and the motion gate")
    cameras.add_argument(
        "--threads",
        type=int,
        help="torch threads of each camera process, or of each shared inference worker (default 1)",
    )
    cameras.add_argument(
        "--design",
        choices=("process", "shared", "both"),
        default="both",
        help="a worker process per camera, one shared inference service, or both in this run (with their ratio)",
    )
    cameras.add_argument("--json", type=Path)
    parser.set_defaults(func=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    import torch

    if args.threads:  # cameras: each design sets its own (see _bench_cameras)
        torch.set_num_threads(args.threads)
    if args.kind == "cameras":
        report = _bench_cameras(args)
    else:
        report = bench_models(args.repeats) if args.kind == "models" else bench_pipeline(args)
    report["threads"] = args.threads
    from stream.cli_eval import print_table

    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


def _bench_cameras(args: argparse.Namespace) -> dict:
    from stream.bench_cameras import bench_cameras
    from stream.config import DetectorSection

    designs = ("process", "shared") if args.design == "both" else (args.design,)
    detector = DetectorSection(threads=args.threads or 1, every_n_frames=3 if args.gated else 1, motion_gate=args.gated)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video
        if args.height:  # written at 25 fps
            video = loop_clip(args.video, args.height, int(args.seconds * 25), Path(tmp) / "clip.mp4")
        return bench_cameras(args.count, str(video), detector, not args.offline, designs)


def median_ms(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_models(repeats: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from lpr_models.detector.detector import PlateDetector
    from lpr_models.ocr.reader import PlateReader
    from lpr_models.optimize import compile_for_inference, onnx_available

    detector, reader = PlateDetector.from_weights(), PlateReader.from_weights()
    report: dict = {}

    def flops(module, x) -> float:
        with torch.enable_grad(), FlopCounterMode(display=False) as counter:
            module(x)
        return counter.get_total_flops() / 2e9  # multiply-adds, in G

    variants = {
        "eager": lambda m, x: m,
        "eager_channels_last": lambda m, x: _channels_last(m),
        "jit_frozen": lambda m, x: compile_for_inference(m, x, "jit"),
    }
    if onnx_available():
        variants["onnxruntime"] = lambda m, x: compile_for_inference(m, x, "onnx")
    net = detector.net
    report["detector"] = {"params_M": sum(p.numel() for p in net.parameters()) / 1e6}
    for h, w in [(640, 640), (384, 640)]:
        x = torch.rand(1, 3, h, w)
        row = {"GMACs": flops(net, x)}
        for name, make in variants.items():
            fn = make(net, x)
            xin = x.contiguous(memory_format=torch.channels_last) if "channels_last" in name else x
            with torch.inference_mode():
                row[f"{name}_ms"] = median_ms(lambda fn=fn, xin=xin: fn(xin), repeats)
            net.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # the stubs lack it
        for name in variants:
            row[f"{name}_speedup"] = row["eager_ms"] / row[f"{name}_ms"]
        report["detector"][f"{h}x{w}"] = row
    if detector.refiner is not None:
        refiner = detector.refiner.net
        report["refiner"] = {"params_M": sum(p.numel() for p in refiner.parameters()) / 1e6}
        for batch in (1, 4):
            report["refiner"][f"batch{batch}"] = _per_plate_row(
                refiner, (batch, 3, refiner.cfg.height, refiner.cfg.width), variants, flops, repeats
            )
    model = reader.model
    report["ocr"] = {"params_M": model.reader_params() / 1e6}
    for batch in (1, 8):
        report["ocr"][f"batch{batch}"] = _per_plate_row(model, (batch, 3, *reader.input_size), variants, flops, repeats)
    report["ocr_reference_design"] = _reference_ocr(variants, repeats)
    report["reading"] = _reading_rows(detector, reader, repeats)
    return report


SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "samples" / "sample.mp4"


def _reading_rows(detector, reader, repeats: int) -> dict:
    """Milliseconds per plate of a whole reading (views, reader, decoding) on a real plate of the sample clip,
    read once and with the shifted reads ([ocr] shifted_reads), and their ratio."""
    from lpr_models.ocr.reader import PlateReader

    plate = _sample_plate(detector, reader)
    readers = {
        "single": PlateReader(reader.model, calibration=reader.calibration, shifted_reads=False),
        "shifted": PlateReader(reader.model, calibration=reader.calibration, shifted_reads=True),
    }
    report = {}
    for batch in (1, 8):
        row = {
            f"{name}_ms_per_plate": median_ms(lambda r=r, plates=[plate] * batch: r.read(plates), repeats) / batch
            for name, r in readers.items()
        }
        row["shifted_cost"] = row["shifted_ms_per_plate"] / row["single_ms_per_plate"]
        report[f"batch{batch}"] = row
    return report


def _sample_plate(detector, reader) -> np.ndarray:
    """The crop of the surest plate in the first frame of the sample clip where one is found at score 0.6."""
    import av

    with av.open(str(SAMPLE_CLIP)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            found = [d for d in detector.detect(image) if d.score >= 0.6]
            if found:
                return reader.crop(image, max(found, key=lambda d: d.score).corners)
    raise ValueError(f"no plate found in {SAMPLE_CLIP}")


def _per_plate_row(module, shape: tuple[int, ...], variants: dict, flops, repeats: int) -> dict:
    """GMACs and latency per plate of a model run on a batch of `shape`, per back-end, with speed-ups over eager."""
    import torch

    x = torch.rand(*shape)
    row = {"GMACs_per_plate": flops(module, x) / shape[0]}
    names = [n for n in variants if "channels_last" not in n]
    for name in names:
        fn = variants[name](module, x)
        with torch.inference_mode():
            row[f"{name}_ms_per_plate"] = median_ms(lambda fn=fn: fn(x), repeats) / shape[0]
    for name in names[1:]:
        row[f"{name}_speedup"] = row["eager_ms_per_plate"] / row[f"{name}_ms_per_plate"]
    return row


def _reference_ocr(variants: dict, repeats: int) -> dict:
    """The reference MaskOCR size with random weights: its latency is what our reader's is
    compared against, in the same run."""
    import torch

    from lpr_models.ocr.model import REFERENCE_CONFIG, MaskOCR

    model = MaskOCR(REFERENCE_CONFIG).eval()
    x = torch.rand(1, 3, REFERENCE_CONFIG.height, REFERENCE_CONFIG.width)
    row = {"params_M": model.reader_params() / 1e6}
    for name in [n for n in variants if "channels_last" not in n]:
        fn = variants[name](model, x)
        with torch.inference_mode():
            row[f"{name}_ms_per_plate"] = median_ms(lambda fn=fn: fn(x), max(5, repeats // 3))
    return row


def _channels_last(module):
    import torch

    return module.to(memory_format=torch.channels_last)


def bench_pipeline(args: argparse.Namespace) -> dict:
    import av

    from lpr_models.detector.detector import PlateDetector
    from lpr_models.geometry import letterbox
    from lpr_models.ocr.reader import PlateReader
    from stream.frames import VideoPicture

    detector = PlateDetector.from_weights(input_size=tuple(args.input_size))
    reader = PlateReader.from_weights()
    variants = {"": detector}
    if args.without_refiner:
        variants["_no_refiner"] = PlateDetector(detector.net, detector.input_size, backend=detector.forward.backend)
    report: dict = {"input_size": list(args.input_size)}
    with tempfile.TemporaryDirectory() as tmp:
        for height in args.heights:
            clip = loop_clip(args.video, height, args.frames, Path(tmp) / f"{height}p.mp4")
            frames_for_letterbox: list[np.ndarray] = []
            with av.open(str(clip)) as container:
                decode_ms = []
                started = time.perf_counter()
                for frame in container.decode(video=0):
                    image = VideoPicture(frame).bgr()  # decoded and converted as the pipeline does a frame it looks at
                    decode_ms.append((time.perf_counter() - started) * 1000)
                    if len(frames_for_letterbox) < 50:
                        frames_for_letterbox.append(image)
                    started = time.perf_counter()
            letterbox_ms = [
                median_ms(lambda f=f: letterbox(f, detector.input_size), 3, 1) for f in frames_for_letterbox
            ]
            runs = [(suffix, variant, "") for suffix, variant in variants.items()]
            if args.outputs:
                runs.append(("_outputs", detector, "outputs"))
            if args.gated:
                runs.append(("_gated", detector, "gated"))
            rows: dict[str, list[dict]] = {suffix: [] for suffix, _, _ in runs}
            for repeat in range(args.repeats):  # the variants take turns: a busy spell of the machine hits each
                for suffix, variant, kind in runs:
                    endpoint = f"ipc://{tmp}/bench-{height}{suffix}-{repeat}.ipc"
                    config = (
                        _outputs_config(args, tmp)
                        if kind == "outputs"
                        else _gated_config()
                        if kind == "gated"
                        else None
                    )
                    rows[suffix].append(_timed_run(clip, (variant, reader), endpoint, config))
            for suffix, _, _ in runs:
                fps = [r["fps"] for r in rows[suffix]]
                row = rows[suffix][int(np.argsort(fps)[len(fps) // 2])]  # the median run
                stages = {"decode": decode_ms, "letterbox": letterbox_ms, **row.pop("stage_ms")}
                for stage, values in stages.items():
                    values = list(values)
                    row[f"{stage}_median_ms"] = float(np.median(values))
                    row[f"{stage}_p95_ms"] = float(np.percentile(values, 95))
                report[f"{height}p{suffix}"] = row
            for extra in ("_outputs", "_gated"):
                if f"{height}p{extra}" in report:
                    report[f"{height}p{extra}"]["fps_ratio"] = (
                        report[f"{height}p{extra}"]["fps"] / report[f"{height}p"]["fps"]
                    )
    report["fps"] = report[f"{args.heights[-1]}p"]["fps"]
    return report


def _gated_config():
    from stream.config import Config, DetectorSection, StoreSection

    return Config(store=StoreSection(enabled=False), detector=DetectorSection(every_n_frames=3, motion_gate=True))


def _outputs_config(args: argparse.Namespace, tmp: str):
    """Every output on: a fresh event store, MQTT to the local broker, a webhook to an in-process receiver."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from integrations.mqtt import MqttSection
    from integrations.webhook import WebhookSpec
    from stream.config import Config, StoreSection

    class Accept(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = tempfile.mkdtemp(dir=tmp)
    return Config(
        store=StoreSection(folder=folder),
        mqtt=MqttSection(enabled=True, port=args.mqtt_port),
        webhook=(WebhookSpec("bench", f"http://127.0.0.1:{server.server_address[1]}/"),),
    )


def _timed_run(clip: Path, models: tuple, endpoint: str, outputs=None) -> dict:
    """One pipeline run over `clip` publishing to `endpoint` (and to every output of the `outputs` config):
    frame rate, CPU, memory and the pipeline's stage laps."""
    from dataclasses import replace

    from stream.config import CameraSection, Config, PublishSection, StoreSection
    from stream.runner import run_camera, warm_up
    from stream.sinks import Sinks

    warm_up(*models)  # back-ends are built outside the timing
    base = outputs or Config(store=StoreSection(enabled=False))
    cfg = replace(base, publish=PublishSection(endpoint=endpoint))
    sinks = Sinks(cfg)
    camera = CameraSection(id="bench", source=str(clip))
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = run_camera(replace(cfg, cameras=(camera,)), camera, sinks.send, threading.Event(), models=models)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sinks.close()
    return {
        "frames": result.pipeline.frames,
        "fps": result.pipeline.frames / wall,
        "events": result.pipeline.events,
        "cpu_percent": 100
        * ((usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime))
        / wall,
        "peak_rss_MB": usage.ru_maxrss / 1024,
        "stage_ms": result.pipeline.stage_ms,
        "detector_skipped_share": result.pipeline.skipped / max(result.pipeline.frames, 1),
    }


def loop_clip(video: Path, height: int, frames: int, out: Path) -> Path:
    """The clip scaled to `height` (aspect kept) and looped to `frames` frames, re-encoded as H.264."""
    import av
    import cv2

    from stream.video_writer import VideoWriter

    with av.open(str(video)) as src:
        images = [f.to_ndarray(format="bgr24") for f in src.decode(video=0)]
    if not images:
        raise ValueError(f"{video} has no decodable frames")
    width = int(round(images[0].shape[1] * height / images[0].shape[0] / 2)) * 2
    with VideoWriter(out, preset="veryfast") as writer:
        for i in range(frames):
            writer.write(cv2.resize(images[i % len(images)], (width, height)))
    return out
