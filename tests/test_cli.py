"""The `lpr` command as a user runs it: clear errors and exit codes, never a traceback."""

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, free_port

SAMPLE = ROOT / "samples" / "sample.mp4"


def lpr(*args, timeout=120, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "stream.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kwargs
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
        [sys.executable, "-m", "stream.cli", "run", "--config", str(config)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
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
        cwd=ROOT,
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
        "run", "rtsp://127.0.0.1:9/none", "--give-up-after", "2", "--publish", f"tcp://127.0.0.1:{free_port()}"
    )
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert "gave up after" in result.stderr and "give_up_after_s" in result.stderr and "Traceback" not in result.stderr
