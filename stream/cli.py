"""The `lpr` command: run cameras, subscribe to their events, evaluate and benchmark the models."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from stream import cli_bench, cli_eval, cli_search
from stream.broker import DEFAULT_BACKEND, DEFAULT_FRONTEND
from stream.config import (
    CameraSection,
    Config,
    ConfigError,
    StoreSection,
    cameras_of_host,
    check_config,
    load_config,
)
from stream.exits import EXIT_FAILED, EXIT_USAGE
from stream.publish import DEFAULT_ENDPOINT

log = logging.getLogger("lpr")


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config) if args.config else Config()
    if args.host and (args.source or not args.config):
        raise ConfigError("--host picks a host's cameras from --config; it does not go with SOURCE")
    if args.config and not args.source:
        cfg = cameras_of_host(cfg, args.host, str(args.config))
    if args.source:
        camera = CameraSection(
            id=args.camera_id,
            source=args.source,
            stride=args.stride,
            realtime=args.realtime,
            speed=args.speed,
            replay_from=args.replay_from,
            replay_to=args.replay_to,
            job=args.job,
            start_time=args.start_time,
            give_up_after_s=args.give_up_after,
        )
        cfg = replace(cfg, cameras=(camera,))
    if not cfg.cameras:
        raise ConfigError("no source: give SOURCE or a config with [[camera]] tables")
    publish = cfg.publish
    if args.publish:
        publish = replace(publish, endpoint=args.publish)
    if args.jsonl:
        publish = replace(publish, jsonl=str(args.jsonl))
    if args.video_out:
        publish = replace(publish, video=str(args.video_out))
    store = cfg.store
    if args.store:
        store = replace(store, folder=str(args.store), enabled=True)
    if args.no_store:
        store = replace(store, enabled=False)
    cfg = check_config(
        replace(cfg, publish=publish, store=store), "command line" + (f" and {args.config}" if args.config else "")
    )
    if not 1 <= args.jobs <= 64:
        raise ConfigError(f"--jobs {args.jobs}: give 1 to 64 parts")
    if args.jobs > 1 and len(cfg.cameras) > 1:
        raise ConfigError("--jobs reads one camera's recording in parts; this config has several cameras")
    from stream.runner import run  # imported here: torch is slow to import and `subscribe` needs none of it

    codes = run(cfg, args.summary, args.jobs)
    return max(codes.values(), default=0)


def _subscribe(args: argparse.Namespace) -> int:
    from stream.subscribe import subscribe

    subscribe(
        args.endpoint,
        args.camera,
        args.save_crops,
        args.health,
        args.count,
        args.timeout,
        args.exit_on_stop,
        args.server_key,
        args.client_key,
        readable_only=args.readable_only,
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from web.server import make_server

    server = make_server(str(args.store), args.bind, args.bus, args.token, args.server_key or "", args.client_key or "")
    log.info("serving the event store %s and the bus %s on http://%s/", args.store, args.bus, args.bind)
    server.run()
    return 0


def _broker(args: argparse.Namespace) -> int:
    import threading

    from stream.broker import check_endpoints, run_broker
    from stream.runner import stop_on_signals

    try:
        check_endpoints(args.frontend, args.backend, args.allow_remote)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    stop = threading.Event()
    stop_on_signals(stop, "stopping the broker")
    run_broker(args.frontend, args.backend, args.curve_secret_key or "", args.curve_clients_dir or "", stop)
    return 0


def _keys(args: argparse.Namespace) -> int:
    from stream.security import generate_keys

    for name in args.names:
        public, secret = generate_keys(args.folder, name)
        print(f"{name}: public {public}, secret {secret}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import json

    from lpr_models.weights import describe_weights

    for path in args.weights:
        print(json.dumps(describe_weights(path), ensure_ascii=False, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpr", description="Real-time license-plate recognition for video streams.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="read plates from a video, stream, webcam, image or folder")
    run.add_argument(
        "source",
        nargs="?",
        help="file, rtsp:// or other FFmpeg URL, /dev/videoN or index, image, folder of images, or a footage set: "
        "a folder of videos, a quoted glob ('cam3_*.mp4') or a .txt list of files, read as one recording",
    )
    run.add_argument("--config", type=Path, help="TOML config (several cameras, model and event options)")
    run.add_argument("--publish", metavar="ENDPOINT", help="ZeroMQ endpoint to bind (default tcp://127.0.0.1:5556)")
    run.add_argument("--camera-id", default="cam0")
    run.add_argument(
        "--host", metavar="NAME", default="", help="run the cameras of --config whose host = NAME (a site-wide config)"
    )
    run.add_argument("--stride", type=int, default=1, help="process every Nth frame")
    run.add_argument("--realtime", action="store_true", help="replay files at their own frame rate")
    run.add_argument("--speed", type=float, default=0.0, metavar="X", help="replay files at X times real time")
    run.add_argument(
        "--from",
        dest="replay_from",
        default="",
        metavar="WHEN",
        help="files: start here, an offset (90, 1:30, 00:01:30) or a recording time (2026-11-25T08:10:00); seeks",
    )
    run.add_argument("--to", dest="replay_to", default="", metavar="WHEN", help="files: stop here (same forms)")
    run.add_argument(
        "--job",
        default="",
        metavar="NAME",
        help="files: record progress as job NAME (in the store folder); rerun the same command after a kill to go on "
        "where it stopped, with no event twice",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="files: read the recording as N parts at once, one shared model (a vehicle crossing a cut between "
        "parts gives two events)",
    )
    run.add_argument(
        "--give-up-after",
        type=float,
        default=0.0,
        metavar="S",
        help="stop a live source after S seconds without frames (default: retry forever; for one-off jobs)",
    )
    run.add_argument(
        "--start-time",
        default="",
        metavar="ISO8601",
        help="when a file's recording started (events carry recording times; default: its metadata)",
    )
    run.add_argument("--jsonl", type=Path, help="also append events to this JSONL file")
    run.add_argument("--video-out", type=Path, help="write an annotated copy of the video")
    run.add_argument(
        "--summary",
        type=Path,
        help="write the run's figures here as JSON (replays: each file's frames, events, errors)",
    )
    stored = run.add_mutually_exclusive_group()
    stored.add_argument("--store", type=Path, help="keep every event in this store folder (default ./lpr-data)")
    stored.add_argument("--no-store", action="store_true", help="keep no event store")
    run.set_defaults(func=_run)

    subp = sub.add_parser("subscribe", help="print the events a running `lpr run` publishes")
    subp.add_argument("endpoint", nargs="?", default=DEFAULT_ENDPOINT)
    subp.add_argument("--camera", help="only this camera's events")
    subp.add_argument("--save-crops", type=Path, help="save each event's plate crop here")
    subp.add_argument("--health", action="store_true", help="print health messages too")
    subp.add_argument("--count", type=int, help="exit after this many plate events")
    subp.add_argument("--timeout", type=float, help="exit after this many seconds without a message")
    subp.add_argument("--exit-on-stop", action="store_true", help="exit when a camera reports that it stopped")
    subp.add_argument(
        "--readable-only",
        action="store_true",
        help="leave out the events of vehicles the reader could not read confidently (readable: false)",
    )
    subp.add_argument("--server-key", help="the publisher's public .key file: talk CURVE-encrypted")
    subp.add_argument(
        "--client-key", help="this subscriber's .key_secret file (when the publisher admits only known keys)"
    )
    subp.set_defaults(func=_subscribe)

    serve = sub.add_parser("serve", help="a web page: live plates, search, camera health (read-only)")
    serve.add_argument(
        "--store", type=Path, default=Path(StoreSection.folder), help="the event store folder (default lpr-data)"
    )
    serve.add_argument("--bind", default="127.0.0.1:8080", help="HOST:PORT (default 127.0.0.1:8080)")
    serve.add_argument("--bus", default=DEFAULT_ENDPOINT, help="the bus to follow for live plates and health")
    serve.add_argument("--token", default="", help="required in every request; needed to bind beyond loopback")
    serve.add_argument("--server-key", help="the publisher's public .key file, for a CURVE bus")
    serve.add_argument("--client-key", help="this page's .key_secret file, where the publisher admits only known keys")
    serve.set_defaults(func=_serve)

    broker = sub.add_parser(
        "broker", help="one bus for many hosts: lpr run instances publish in (connect = true), subscribers read out"
    )
    broker.add_argument("--frontend", default=DEFAULT_FRONTEND, help="where publishers connect")
    broker.add_argument("--backend", default=DEFAULT_BACKEND, help="where subscribers connect")
    broker.add_argument("--allow-remote", action="store_true", help="listen beyond loopback")
    broker.add_argument("--curve-secret-key", help="the broker's .key_secret file: encrypt both sides with CURVE")
    broker.add_argument("--curve-clients-dir", help="admit only the public keys in this folder, on both sides")
    broker.set_defaults(func=_broker)

    keys = sub.add_parser("keys", help="generate CURVE key pairs for an encrypted, authenticated event bus")
    keys.add_argument("folder", type=Path)
    keys.add_argument("names", nargs="*", default=["server", "client"])
    keys.set_defaults(func=_keys)

    info = sub.add_parser(
        "info", help="what a weights file holds and where it came from (commit, command, data, figures)"
    )
    info.add_argument("weights", type=Path, nargs="+")
    info.set_defaults(func=_info)

    cli_search.add_parser(sub)
    cli_eval.add_parser(sub)
    cli_bench.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from store.db import StoreError
    from stream.errors import SourceError  # weights errors are ValueErrors

    try:
        return args.func(args)
    except ConfigError as err:
        log.error("%s", err)
        return EXIT_USAGE
    except (SourceError, StoreError, ValueError, OSError) as err:
        log.error("%s", err)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
