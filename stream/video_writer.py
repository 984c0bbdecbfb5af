"""Write BGR frames as H.264 video with PyAV (annotated copies, test clips, benchmark inputs)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np


class VideoWriter:
    """The frame size is taken from the first frame (cropped to even sides, as yuv420p needs)."""

    def __init__(
        self,
        path: str | Path,
        fps: float = 25.0,
        crf: int = 23,
        preset: str = "medium",
        metadata: dict | None = None,
        fragmented: bool = False,
    ) -> None:
        """`metadata`: container tags, e.g. {"creation_time": "2026-11-25T08:00:00Z"} (as cameras and NVRs write).

        `fragmented`: MP4/MOV written as fragments, one per keyframe and a keyframe every 2 s, so a process
        killed mid-write leaves a file that plays up to its last fragment (a plain MP4 writes its index
        only when closed). Matroska (.mkv) is written in clusters and plays after a kill anyway.
        """
        self.path = Path(path)
        self.metadata = metadata or {}
        self.fps, self.options = fps, {"crf": str(crf), "preset": preset}
        self.container_options: dict[str, str] = {}
        if fragmented:
            self.options["g"] = str(max(1, round(2 * fps)))
            if self.path.suffix.lower() in (".mp4", ".mov"):
                self.container_options = {
                    "movflags": "frag_keyframe+empty_moov+default_base_moof",
                    "flush_packets": "1",
                }
        self.container: Any = None  # av's output container and video stream, opened on the first frame
        self.stream: Any = None

    def write(self, image: np.ndarray) -> None:
        if self.container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.container = av.open(str(self.path), "w", options=self.container_options)
            self.container.metadata.update(self.metadata)
            self.stream = self.container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1000))
            self.stream.height, self.stream.width = (s - s % 2 for s in image.shape[:2])
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = self.options
        image = np.ascontiguousarray(image[: self.stream.height, : self.stream.width])
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
            self.container.mux(packet)

    def close(self) -> None:
        if self.container is not None:
            for packet in self.stream.encode():
                self.container.mux(packet)
            self.container.close()
            self.container = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
