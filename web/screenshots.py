"""Screenshots of the web page's three views, from a real run, for the docs:

    python -m web.screenshots docs/

What it shows is real, not staged. The shipped sample clip is read live (camera `sample`, at
its own frame rate) into a fresh event store, with its second plate on a watchlist. A second
camera, `gate`, points at an RTSP address where nothing listens, so it is reconnecting. Headless
Chromium (Debian's chromium and chromium-driver) takes the pictures; Debian's fonts-noto-cjk
draws the province characters.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.mp4"
SEARCH = "/search?q=皖AWK12G&fuzzy=1"  # the first plate with a 6 misread as G


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(width: int, height: int, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shoot(driver, path: Path) -> None:
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    from store.watchlist import WatchlistSpec
    from stream.config import CameraSection, Config, PublishSection, StoreSection
    from stream.runner import build_models, run_camera
    from stream.sinks import Sinks
    from web.server import BackgroundServer, make_server

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args(argv)
    truth = json.loads(SAMPLE.with_suffix(".truth.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        endpoint = f"ipc://{tmp}/bus.ipc"
        cfg = Config(
            publish=PublishSection(endpoint=endpoint),
            store=StoreSection(folder=f"{tmp}/store"),
            watchlist=(WatchlistSpec("stolen", plates=(truth["plates"][1],)),),
        )
        sinks = Sinks(cfg)
        port = free_port()
        server = BackgroundServer(make_server(f"{tmp}/store", f"127.0.0.1:{port}", endpoint))
        driver = browser(args.width, args.height, Path(tmp) / "chromium")
        stop = threading.Event()
        models = build_models(cfg)
        cameras = [
            CameraSection(id="sample", source=str(SAMPLE), realtime=True),
            CameraSection(id="gate", source="rtsp://127.0.0.1:9/none", open_timeout_s=1, backoff_max_s=2),
        ]
        workers = [
            threading.Thread(target=run_camera, args=(cfg, camera, sinks.send, stop), kwargs={"models": models})
            for camera in cameras
        ]
        try:
            time.sleep(1.0)
            driver.get(f"http://127.0.0.1:{port}/")
            time.sleep(1.0)  # the page follows the bus before the cameras start
            for worker in workers:
                worker.start()
            args.out.mkdir(parents=True, exist_ok=True)
            deadline = time.time() + 60
            while not driver.find_elements("css selector", ".card.listed") and time.time() < deadline:
                time.sleep(0.1)  # the listed plate has arrived, while the clip still plays
            shoot(driver, args.out / "web-live.png")
            workers[0].join()
            driver.get(f"http://127.0.0.1:{port}{SEARCH}")
            time.sleep(1.5)
            shoot(driver, args.out / "web-search.png")
            driver.get(f"http://127.0.0.1:{port}/cameras")
            time.sleep(6.0)  # two health reports of the reconnecting camera
            shoot(driver, args.out / "web-cameras.png")
        finally:
            stop.set()
            for worker in workers:
                if worker.is_alive():
                    worker.join()
            driver.quit()
            server.close()
            sinks.close()


if __name__ == "__main__":
    main()
