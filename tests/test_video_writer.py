"""The annotated video survives a kill: fragmented MP4 plays up to its last fragment."""

import os
import signal

import av
import numpy as np
import pytest

from stream.video_writer import VideoWriter


def _killed_while_writing(path, fragmented: bool, frames: int = 130) -> None:
    pid = os.fork()
    if pid == 0:  # the child writes and is killed with SIGKILL before it can close the file
        writer = VideoWriter(path, 25, fragmented=fragmented)
        rng = np.random.default_rng(0)
        for _ in range(frames):
            writer.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
        os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)


def _decodable_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_fragmented_mp4_plays_after_sigkill_and_a_plain_one_does_not(tmp_path):
    _killed_while_writing(tmp_path / "fragmented.mp4", fragmented=True)
    # 130 frames at 25 fps, a keyframe every 50: the first fragment at least, minus the encoder's lookahead
    assert _decodable_frames(tmp_path / "fragmented.mp4") >= 45
    _killed_while_writing(tmp_path / "plain.mp4", fragmented=False)
    with pytest.raises(av.error.InvalidDataError):
        _decodable_frames(tmp_path / "plain.mp4")


def test_a_closed_fragmented_file_has_every_frame(tmp_path):
    with VideoWriter(tmp_path / "whole.mp4", 25, fragmented=True) as writer:
        for i in range(60):
            writer.write(np.full((120, 160, 3), i * 4, np.uint8))
    assert _decodable_frames(tmp_path / "whole.mp4") == 60
