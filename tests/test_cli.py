"""The `lpr` command as a user runs it: clear errors and exit codes, never a traceback."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stream import cli_search
from tests.conftest import ROOT, RUN_DIR, free_port

SAMPLE = ROOT / "samples" / "sample.mp4"


def lpr(*args, timeout=120, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "stream.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=RUN_DIR,
        **kwargs,
    )


@pytest.mark.parametrize(
    "make,message,code",
    [
        (lambda d: d / "missing.mp4", "source not found", 1),
        (lambda d: (d / "notes.mp4").write_text("hello") and d / "notes.mp4", "cannot open", 1),
        (lambda d: (d / "empty.mkv").write_bytes(b"") or d / "empty.mkv", "cannot open", 1),
    ],
)
def test_bad_sources_fail_clearly(tmp_path, make, message, code):
    result = lpr("run", str(make(tmp_path)), "--publish", f"tcp://127.0.0.1:{free_port()}")
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_config_fails_before_anything_starts(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[[camera]]\nid = 'a'\nsource = 'x.mp4'\n[detector]\nthreshold = 2\n")
    result = lpr("run", "--config", str(config))
    assert result.returncode == 2 and "unknown key 'threshold'" in result.stderr and str(config) in result.stderr
    assert "Traceback" not in result.stderr


def test_no_source_at_all():
    result = lpr("run")
    assert result.returncode == 2 and "no source" in result.stderr


def test_unreachable_url_gives_up_cleanly(tmp_path):
    config = tmp_path / "cam.toml"
    config.write_text(f"""
[publish]
endpoint = "tcp://127.0.0.1:{free_port()}"
[[camera]]
id = "gone"
source = "rtsp://127.0.0.1:9/none"
open_timeout_s = 1.0
backoff_max_s = 0.5
""")
    process = subprocess.Popen(
        [sys.executable, "-m", "stream.cli", "run", "--config", str(config), "--no-store"],
        cwd=RUN_DIR,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.time() + 90  # the models load first; a busy machine takes its time
    while time.time() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if "reconnecting" in line or not line:
            break
    time.sleep(0.5)  # another retry or two
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    err = "".join(seen) + err
    assert "reconnecting" in err and "Traceback" not in err
    assert process.returncode == 0  # stopped on request; a live source is retried, never a crash


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_flush_open_tracks_and_close(sig, tmp_path):
    port = free_port()
    jsonl = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stream.cli",
            "run",
            str(SAMPLE),
            "--realtime",
            "--publish",
            f"tcp://127.0.0.1:{port}",
            "--jsonl",
            str(jsonl),
        ],
        cwd=RUN_DIR,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline:  # the models are loaded and the clip is starting
        line = process.stderr.readline()
        if "camera cam0: reading" in line or not line:
            break
    time.sleep(1.2)  # the first plate is in view for 2.4 s of the clip
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    events = [json.loads(line) for line in jsonl.read_text().splitlines()] if jsonl.exists() else []
    assert process.returncode == 0, err
    assert "flushing open tracks" in err and "Traceback" not in err
    assert any(e["reason"] == "flush" for e in events)


def test_keys_command_writes_a_key_pair(tmp_path):
    result = lpr("keys", str(tmp_path / "keys"), "server")
    assert result.returncode == 0
    assert (tmp_path / "keys" / "server.key").is_file() and (
        tmp_path / "keys" / "server.key_secret"
    ).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "extra,key",
    [
        (
            ["--publish", "tcp://0.0.0.0:5999"],
            "not on loopback",
        ),  # the config file's rule holds on the command line too
        (["--stride", "0"], "stride"),
        (["--stride", "-2"], "stride"),
        (["--camera-id", "../x"], "id"),
        (["--camera-id", "gate/2"], "id"),
    ],
)
def test_command_line_values_are_checked_like_config_values(tmp_path, extra, key):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    result = lpr("run", str(clip), *extra)
    assert result.returncode == 2
    assert key in result.stderr and "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_one_off_job_gives_up_on_an_unreachable_url_with_one_clear_line():
    started = time.monotonic()
    result = lpr(
        "run", "rtsp://127.0.0.1:9/none", "--give-up-after", "1", "--publish", f"tcp://127.0.0.1:{free_port()}"
    )
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert "gave up after" in result.stderr and "give_up_after_s" in result.stderr and "Traceback" not in result.stderr


def test_a_run_keeps_its_events_in_the_store_and_search_finds_them_fuzzily(tmp_path):
    jsonl, store = tmp_path / "events.jsonl", tmp_path / "store"
    where = ("--publish", f"tcp://127.0.0.1:{free_port()}", "--jsonl", str(jsonl), "--store", str(store))
    result = lpr("run", str(SAMPLE), "--stride", "2", *where)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in jsonl.read_text().splitlines()]
    plate = next(e["text"] for e in events if e["readable"])
    misread = plate[:-1] + {"0": "O", "8": "B", "1": "I"}.get(plate[-1], "Q")  # one more character wrong
    found = lpr("search", misread, "--store", str(store), "--json")
    assert found.returncode == 0, found.stderr
    sightings = [json.loads(line) for line in found.stdout.splitlines()]
    assert sightings and sightings[0]["text"] == plate and sightings[0]["camera"] == "cam0"
    assert sightings[0]["distance"] <= 1 and Path(sightings[0]["crop"]).is_file()
    exact = lpr("search", misread, "--store", str(store), "--fuzzy", "0", "--csv")
    assert exact.returncode == 0 and exact.stdout.splitlines() == [",".join(cli_search.COLUMNS)]


def test_search_without_a_store_or_with_a_bad_time_says_so(tmp_path):
    missing = lpr("search", "AB123CD", "--store", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no event store" in missing.stderr and "Traceback" not in missing.stderr
    from store.db import EventStore

    EventStore(tmp_path / "s").close()
    bad = lpr("search", "AB123CD", "--store", str(tmp_path / "s"), "--since", "yesterday")
    assert bad.returncode == 1 and "is not a time" in bad.stderr


def test_video_out_writes_an_annotated_copy_of_every_processed_frame(tmp_path):
    import av

    out = tmp_path / "annotated.mp4"
    args = ("--no-store", "--stride", "4", "--publish", f"ipc://{tmp_path}/bus", "--video-out", str(out))
    result = lpr("run", str(SAMPLE), *args)
    assert result.returncode == 0, result.stderr
    with av.open(str(SAMPLE)) as source, av.open(str(out)) as written:
        frames_in = sum(1 for _ in source.decode(video=0))
        first_out = next(written.decode(video=0))
        frames_out = 1 + sum(1 for _ in written.decode(video=0))
        size_in = (source.streams.video[0].width, source.streams.video[0].height)
    assert (
        frames_out == len(range(0, frames_in, 4)) and (first_out.width, first_out.height) == size_in
    )  # each processed


def test_a_site_config_runs_only_the_cameras_of_the_host_named(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        f"[publish]\nendpoint = 'tcp://127.0.0.1:{free_port()}'\n[store]\nenabled = false\n"
        "[[camera]]\nid = 'north'\nhost = 'box1'\nsource = 'north.mp4'\n"
        "[[camera]]\nid = 'south'\nhost = 'box2'\nsource = 'south.mp4'\n"
    )
    unnamed = lpr("run", "--config", str(site))
    assert unnamed.returncode == 2 and "box1, box2" in unnamed.stderr and "--host" in unnamed.stderr
    unknown = lpr("run", "--config", str(site), "--host", "box3")
    assert unknown.returncode == 2 and "box3" in unknown.stderr
    # neither file exists: the one the run names is the camera it started, alone (one camera runs in-process)
    result = lpr("run", "--config", str(site), "--host", "box2")
    assert result.returncode == 1 and "source not found: south.mp4" in result.stderr and "north" not in result.stderr


def test_jobs_must_be_a_sensible_number_of_parts_of_one_recording(tmp_path):
    refused = lpr("run", str(SAMPLE), "--jobs", "0")
    assert refused.returncode == 2 and "--jobs 0: give 1 to 64 parts" in refused.stderr
    site = tmp_path / "two.toml"
    site.write_text(f"[[camera]]\nid = 'a'\nsource = '{SAMPLE}'\n[[camera]]\nid = 'b'\nsource = '{SAMPLE}'\n")
    several = lpr("run", "--config", str(site), "--jobs", "2")
    assert several.returncode == 2 and "several cameras" in several.stderr
