"""A live RTSP camera on loopback (Debian's GStreamer RTSP server) read by the pipeline in real
time: how many frames it must drop to keep up, and the latency from decode to event.

    python benchmarks/rtsp_live.py samples/sample.mp4 --height 1080 --seconds 60 --json rtsp.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.reader import PlateReader
from stream.cli_bench import loop_clip
from stream.config import CameraSection, Config
from stream.runner import run_camera

SERVER = Path(__file__).resolve().parents[1] / "tests" / "rtsp_server.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--input-size", type=int, nargs=2, default=(640, 640))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    models = (PlateDetector.from_weights(input_size=tuple(args.input_size)), PlateReader.from_weights())
    with tempfile.TemporaryDirectory() as tmp:
        clip = loop_clip(args.video, args.height, int(args.seconds * 25) + 100, Path(tmp) / "live.mp4")
        server = subprocess.Popen(
            ["/usr/bin/python3", str(SERVER), str(args.port), str(clip)], stdout=subprocess.PIPE, text=True
        )
        assert server.stdout.readline().strip() == "ready"
        camera = CameraSection(id="live", source=f"rtsp://127.0.0.1:{args.port}/test", queue_size=2)
        stop, events = threading.Event(), []
        timer = threading.Timer(args.seconds, stop.set)
        timer.start()
        started = time.perf_counter()
        try:
            result = run_camera(
                Config(cameras=(camera,)),
                camera,
                lambda kind, _c, payload, _j: events.append(payload) if kind == "plate" else None,
                stop,
                models=models,
            )
        finally:
            timer.cancel()
            server.kill()
        wall = time.perf_counter() - started
    s, p = result.source, result.pipeline
    report = {
        "height": args.height,
        "seconds": round(wall, 1),
        "decoded": s.decoded,
        "processed": p.frames,
        "dropped": s.dropped,
        "dropped_share": round(s.dropped / max(1, s.decoded), 4),
        "processed_fps": round(p.frames / wall, 1),
        "source_fps": 25,
        "events": len(events),
        "texts": sorted({e["text"] for e in events}),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
