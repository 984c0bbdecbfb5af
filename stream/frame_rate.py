"""Whether a camera's frames come often enough for `events.min_frames`: said once, in the log.

A track needs `min_frames` frames to count as a vehicle (fewer are clutter flickering). A camera the
pipeline gets 25 frames a second from sees a plate in 5 frames within 0.2 s; one it gets 4 frames a
second from (a low-rate recording, or a live source whose frames are dropped because the CPU cannot
keep up) needs 1.25 s, and a plate in view for less would get no event. The rate is measured over
the first RATE_WINDOW_S seconds (the video's time for files, the wall clock for live sources).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

RATE_WINDOW_S = 10.0
NOISE_SPAN_S = 0.5  # a plate in view this long should be seen in min_frames frames


class FrameRateCheck:
    """Measures one camera's frames a second over its first RATE_WINDOW_S and warns if min_frames needs too long."""

    def __init__(self, camera_id: str, min_frames: int) -> None:
        self.camera_id, self.min_frames = camera_id, min_frames
        self.frames = 0
        self.start: float | None = None
        self.rate: float | None = None  # frames a second, once measured

    def see(self, time_s: float, cut: bool = False) -> None:
        """Count a frame that reached the pipeline at `time_s`; warn once if the rate is too low. `cut`: the first
        frame after a gap in a footage set, where the measurement starts again (the gap is no frame rate)."""
        if self.rate is not None:
            return
        if cut:
            self.start, self.frames = None, 0
        self.start = time_s if self.start is None else self.start
        self.frames += 1
        elapsed = time_s - self.start
        if elapsed < RATE_WINDOW_S:
            return
        self.rate = (self.frames - 1) / elapsed
        if self.min_frames > self.rate * NOISE_SPAN_S:
            log.warning(
                "camera %s: %.1f frames a second reach the pipeline, so a plate must stay in view %.1f s to be seen "
                "in events.min_frames = %d frames and get an event; lower events.min_frames to %d for this camera",
                self.camera_id,
                self.rate,
                self.min_frames / self.rate,
                self.min_frames,
                max(1, int(self.rate * NOISE_SPAN_S)),
            )
