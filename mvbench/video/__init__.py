"""Video decoding (PyAV), frame sampling and the clip preprocessing shared by every metric."""

from mvbench.video.decode import VideoInfo, count_frames, decode_frames, probe
from mvbench.video.frames import preprocess_frames, resize, to_float
from mvbench.video.sampling import sample_indices

__all__ = [
    "VideoInfo", "count_frames", "decode_frames", "probe", "preprocess_frames", "resize", "to_float",
    "sample_indices",
]
