"""Decoded video frames stay in YUV until looked at (stream.frames)."""

import cv2
import numpy as np

from stream.frames import VideoPicture
from stream.sources import FrameGrabber
from tests.conftest import moving_plates_frames, write_video


def test_a_video_frame_converts_to_the_colours_pyav_gives_and_its_luma_is_the_brightness(tmp_path):
    clip = write_video(tmp_path / "plates.mp4", moving_plates_frames(30))
    frame = list(FrameGrabber(str(clip), "cam"))[25]  # both plates in view: red, blue and grey
    assert isinstance(frame.pixels, VideoPicture)
    swscale = frame.pixels.frame.to_ndarray(format="bgr24").astype(int)
    assert np.abs(frame.image.astype(int) - swscale).max() <= 3
    limited = 16 + cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).astype(float) * 219 / 255  # video's luma range
    difference = np.abs(frame.grey() - limited)
    assert difference.mean() < 1 and difference.max() < 10  # chroma is shared by 2x2 pixels: edges differ most
