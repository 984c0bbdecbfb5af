"""Several cameras, one worker process each: a crashed worker is restarted, the others carry on."""
import json
import os
import signal
import subprocess
import sys
import time

import zmq

from tests.conftest import ROOT, free_port, moving_plates_frames, write_video


def test_a_killed_camera_worker_is_restarted_and_the_other_camera_is_unaffected(tmp_path):
    video = write_video(tmp_path / "long.mp4", moving_plates_frames(60) * 8)  # 19 s at 25 fps
    port = free_port()
    config = tmp_path / "two.toml"
    config.write_text(f"""
[detector]
threads = 1
[publish]
endpoint = "tcp://127.0.0.1:{port}"
[[camera]]
id = "a"
source = "{video}"
realtime = true
[[camera]]
id = "b"
source = "{video}"
realtime = true
""")
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{port}")
    sub.setsockopt(zmq.SUBSCRIBE, b"health")
    process = subprocess.Popen([sys.executable, "-m", "stream.cli", "run", "--config", str(config)], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
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
