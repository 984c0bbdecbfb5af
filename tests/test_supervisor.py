"""Several cameras, one worker process each: a crashed worker is restarted, the others carry on."""

import json
import os
import signal
import subprocess
import sys
import time

import zmq

from tests.conftest import RUN_DIR, free_port, moving_plates_frames, write_video


def two_cameras(tmp_path, port: int, video=None, pace: str = "realtime = true", store: bool = True):
    """A config of two cameras replaying `video` (default: a 19 s clip) at `pace`, publishing on `port`."""
    video = video or write_video(tmp_path / "long.mp4", moving_plates_frames(60) * 8)  # 19 s at 25 fps
    config = tmp_path / "two.toml"
    config.write_text(f"""
[detector]
threads = 1
[publish]
endpoint = "tcp://127.0.0.1:{port}"
[store]
enabled = {str(store).lower()}
[[camera]]
id = "a"
source = "{video}"
{pace}
[[camera]]
id = "b"
source = "{video}"
{pace}
""")
    return config


def run_config(config, **popen) -> subprocess.Popen:
    """`lpr run --config CONFIG` in a process of its own, its stderr kept for the test."""
    return subprocess.Popen(
        [sys.executable, "-m", "stream.cli", "run", "--config", str(config)],
        cwd=RUN_DIR,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def subscriber(port: int, prefix: bytes) -> zmq.Socket:
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{port}")
    sub.setsockopt(zmq.SUBSCRIBE, prefix)
    return sub


def test_a_killed_camera_worker_is_restarted_and_the_other_camera_is_unaffected(tmp_path):
    port = free_port()
    config = two_cameras(tmp_path, port)
    sub = subscriber(port, b"health")
    process = run_config(config)
    messages = []

    def wait_for(predicate, timeout=90):
        """The first message so far, or to come, that satisfies `predicate`."""
        deadline = time.time() + timeout
        while True:
            match = next((m for m in messages if predicate(m)), None)
            if match is not None:
                return match
            if time.time() > deadline:
                raise AssertionError(f"timed out; got {messages}")
            if sub.poll(200):
                messages.append(json.loads(sub.recv_multipart()[1]))

    try:
        first_a = wait_for(lambda m: m["camera_id"] == "a" and m["state"] == "connected")
        wait_for(lambda m: m["camera_id"] == "b" and m["state"] == "connected")
        os.kill(first_a["pid"], signal.SIGKILL)
        wait_for(lambda m: m["camera_id"] == "a" and m["state"] == "worker_restart")
        wait_for(lambda m: m["camera_id"] == "a" and m["state"] == "connected" and m["pid"] != first_a["pid"])
        assert not any(m["camera_id"] == "b" and m["state"] == "worker_restart" for m in messages)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        sub.close(0)
    assert process.returncode == 0, err
    assert "worker died" in err and "Traceback" not in err


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"  # a zombie has died; only its parent has not reaped it yet
    except FileNotFoundError:
        return False


def test_kill_9_of_the_supervisor_takes_its_workers_with_it(tmp_path):
    config = two_cameras(tmp_path, free_port())
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = run_config(config, env=env)
    deadline = time.time() + 60
    while len(_children(process.pid)) < 3 and time.time() < deadline:  # the spawn helper and two workers
        time.sleep(0.2)
    workers = _children(process.pid)
    assert len(workers) >= 2
    time.sleep(1.5)  # running or still starting: either way they must not outlive it (stream.runner.die_with_parent)
    process.kill()
    process.wait(timeout=10)
    deadline = time.time() + 20
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    leftover = [w for w in workers if _alive(w)]
    for w in leftover:
        os.kill(w, signal.SIGKILL)
    assert not leftover, "workers outlived their supervisor"
    # that a clean exit leaves no IPC socket behind is checked where a run ends by itself (the replay test below)


def test_a_process_that_asked_to_die_with_its_parent_does_when_the_parent_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent_code = f"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import os, sys, time
from stream.runner import die_with_parent
die_with_parent(os.getppid())
open({str(pid_file)!r}, "w").write(str(os.getpid()))
time.sleep(120)
'''])
time.sleep(120)
"""
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=RUN_DIR)
    deadline = time.time() + 60
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert _alive(child)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.time() + 10
    while _alive(child) and time.time() < deadline:
        time.sleep(0.1)
    orphaned = _alive(child)
    if orphaned:
        os.kill(child, signal.SIGKILL)
    assert not orphaned


def test_a_restarted_replay_worker_goes_on_where_it_stopped_without_publishing_twice(tmp_path):
    from tests.conftest import ROOT

    port = free_port()
    config = two_cameras(tmp_path, port, ROOT / "samples" / "sample.mp4", pace="speed = 2.0", store=False)
    sub = subscriber(port, b"")
    clean_tmp = tmp_path / "tmp"  # where the supervisor keeps its IPC socket
    clean_tmp.mkdir()
    process = run_config(config, env={**os.environ, "TMPDIR": str(clean_tmp)})
    plates: dict[str, list] = {"a": [], "b": []}
    killed = False
    deadline = time.time() + 120
    try:
        while time.time() < deadline and process.poll() is None:
            if not sub.poll(200):
                continue
            topic, payload, *_ = sub.recv_multipart()
            message = json.loads(payload)
            if topic.startswith(b"plate."):
                plates[message["camera_id"]].append((message["first_seen"]["pts"], message["text"]))
            if topic.startswith(b"health.a/") and message["state"] == "connected" and not killed:
                pid = message["pid"]
            if plates["a"] and not killed:
                os.kill(pid, signal.SIGKILL)  # after its first plate: the rest of the clip is still to come
                killed = True
        _, err = process.communicate(timeout=60)
    finally:
        sub.close(0)
    assert killed and process.returncode == 0, err
    assert "worker died" in err and "resumes" in err
    assert sorted(plates["a"]) == sorted(plates["b"])  # the same events as the camera that was not killed
    assert len(set(plates["a"])) == len(plates["a"])  # none twice
    # a clean exit, killed worker and all, leaves no IPC socket behind, and worker lines carry a time
    assert not list(clean_tmp.glob("lpr-*")) and not list(clean_tmp.rglob("*.ipc"))
    assert all(line[:4].isdigit() for line in err.splitlines() if "camera a:" in line)
