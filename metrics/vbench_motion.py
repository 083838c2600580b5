"""VBench's motion dimensions as pure formulas: motion smoothness and dynamic degree (Huang et al.,
CVPR 2024, Sec. 3.1; the constants are those of ``vbench/motion_smoothness.py`` and
``vbench/dynamic_degree.py`` of Vchitect/VBench), plus the frame bookkeeping both need and the
VBench-Long clip split (``vbench2_beta_long/utils.py``).

**Motion smoothness** of a video of ``N`` frames: the even frames ``0, 2, 4, ...`` go to a frame
interpolator (AMT-S) which predicts the frame between each consecutive pair; prediction ``k``
(between frames ``2k`` and ``2k + 2``) is compared with the real odd frame ``2k + 1``::

    err = mean_k mean_pixels |frame[2k+1] - pred_k|      (uint8 values, all three channels)
    motion_smoothness = (255 - err) / 255

There are ``ceil(N/2) - 1`` predictions; with an even ``N`` the last odd frame is unused.

**Dynamic degree**: frames ``0, s, 2s, ...`` with ``s = max(1, round(fps / 8))`` (about 8 fps);
for each consecutive pair, the optical-flow magnitude map (RAFT) of the padded pair, and its
"top-5%" value: the mean of the ``int(0.05 * H * W)`` largest magnitudes. With ``n`` sampled frames
of size ``h x w`` the video is dynamic (1) if at least ``round(4 * n / 16)`` pairs have a top-5%
value above ``6 * min(h, w) / 256``, else static (0). VBench's rounding is Python's (half to even).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: VBench's dynamic-degree constants (``vbench/dynamic_degree.py``)
DD_TARGET_FPS = 8
DD_TOP_FRACTION = 0.05
DD_THRESHOLD_PER_256PX = 6.0
DD_PAIRS_PER_16_FRAMES = 4
#: AMT-S input time step (``embt``) of VBench's motion smoothness: the midpoint
MS_EMBT = 0.5
#: VBench-Long clip duration in seconds for both motion dimensions (``configs/clip_length_mix.yaml``)
LONG_CLIP_SECONDS = 2


def input_padding(height: int, width: int, divisor: int) -> tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` replicate padding that makes ``height`` and ``width`` multiples of
    ``divisor``, the smaller half first (VBench's ``InputPadder``; RAFT's ``'sintel'`` mode):
    ``pad = (ceil(x / d) * d - x)``, split ``pad // 2`` and ``pad - pad // 2``.

    >>> input_padding(480, 720, 16)
    (0, 0, 0, 0)
    >>> input_padding(270, 481, 8)
    (3, 4, 1, 1)
    """
    pad_h = (((height // divisor) + 1) * divisor - height) % divisor
    pad_w = (((width // divisor) + 1) * divisor - width) % divisor
    return pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2


# ----------------------------------------------------------------------------- motion smoothness
def motion_smoothness_frames(num_frames: int) -> tuple[list[int], list[int]]:
    """``(inputs, targets)``: the frame indices fed to the interpolator (every even frame) and the odd
    frames its ``len(inputs) - 1`` predictions are compared with (VBench ``extract_frame(start_from=0)``
    and ``start_from=1``, truncated to the number of predictions).

    >>> motion_smoothness_frames(7)
    ([0, 2, 4, 6], [1, 3, 5])
    >>> motion_smoothness_frames(6)
    ([0, 2, 4], [1, 3])
    """
    inputs = list(range(0, num_frames, 2))
    if len(inputs) < 2:
        raise ValueError(f"motion smoothness needs at least 3 frames (2 interpolator inputs), got {num_frames}")
    return inputs, list(range(1, num_frames, 2))[: len(inputs) - 1]


def amt_scale(height: int, width: int, vram_bytes: float | None = None) -> float:
    """AMT-S working scale of VBench's motion smoothness.

    VBench on CPU uses anchor resolution ``8192**2``, anchor memory 1, bias 0 and "memory" 1; on CUDA
    ``1024 * 512``, ``1500 MiB``, ``2500 MiB`` and the GPU's total memory::

        s = anchor_res / (h * w) * sqrt((vram - bias) / anchor_mem);  s = min(s, 1)
        scale = 16 / floor(16 / sqrt(s))

    ``vram_bytes`` None gives the CPU rule (scale 1 below 67 megapixels).

    >>> amt_scale(480, 720)
    1.0
    >>> amt_scale(1080, 1920, vram_bytes=24 * 1024**3)
    1.0
    >>> amt_scale(2160, 3840, vram_bytes=24 * 1024**3), round(amt_scale(1080, 1920, vram_bytes=8 * 1024**3), 4)
    (0.5, 0.7273)
    """
    if vram_bytes is None:
        anchor_res, anchor_mem, bias, vram = 8192 * 8192, 1.0, 0.0, 1.0
    else:
        anchor_res, anchor_mem, bias, vram = 1024 * 512, 1500 * 1024**2, 2500 * 1024**2, float(vram_bytes)
    scale = anchor_res / (height * width) * np.sqrt((vram - bias) / anchor_mem)
    scale = 1 if scale > 1 else scale
    return float(1 / np.floor(1 / np.sqrt(scale) * 16) * 16)


def amt_padding_divisor(scale: float) -> int:
    """VBench pads AMT inputs to multiples of ``int(16 / scale)``.

    >>> amt_padding_divisor(1.0)
    16
    """
    return int(16 / scale)


def frames_to_uint8(pred: np.ndarray) -> np.ndarray:
    """AMT output in [0, 1] to uint8 as VBench's ``tensor2img``: ``(x * 255).clip(0, 255)`` then a
    *truncating* cast (no rounding).

    >>> frames_to_uint8(np.array([0.0, 0.5, 0.999, 1.0], dtype=np.float32)).tolist()
    [0, 127, 254, 255]
    """
    return (pred * 255.0).clip(0, 255).astype(np.uint8)


def interpolation_error(targets: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """Mean over predictions of the mean absolute uint8 difference to the real frame (VBench
    ``vfi_score``: ``cv2.absdiff`` then ``np.mean`` per frame, then the mean over frames).

    >>> a = np.zeros((2, 2, 3), np.uint8); b = np.full((2, 2, 3), 10, np.uint8)
    >>> interpolation_error([a, a], [a, b])
    5.0
    """
    if len(predictions) == 0:
        raise ValueError("no interpolated frames")
    if len(targets) < len(predictions):
        raise ValueError(f"{len(predictions)} predictions but only {len(targets)} target frames")
    scores = []
    for target, pred in zip(targets, predictions):
        t = np.asarray(target)
        p = np.asarray(pred)
        if t.shape != p.shape or t.dtype != np.uint8 or p.dtype != np.uint8:
            raise ValueError(f"target {t.shape} {t.dtype} and prediction {p.shape} {p.dtype} must be equal-shape uint8")
        diff = np.abs(t.astype(np.int16) - p.astype(np.int16)).astype(np.uint8)
        scores.append(np.mean(diff))
    return float(np.mean(np.array(scores)))


def motion_smoothness(targets: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """VBench motion smoothness in [0, 1]: ``(255 - interpolation_error) / 255``.

    >>> a = np.zeros((2, 2, 3), np.uint8); b = np.full((2, 2, 3), 51, np.uint8)
    >>> motion_smoothness([a], [b])
    0.8
    """
    return (255.0 - interpolation_error(targets, predictions)) / 255.0


# ----------------------------------------------------------------------------- dynamic degree
def dynamic_degree_interval(fps: float) -> int:
    """Frame step of VBench's dynamic degree: ``max(1, round(fps / 8))`` (Python rounding, half to even).

    >>> [dynamic_degree_interval(f) for f in (8, 12, 16, 20, 24, 25, 30, 60)]
    [1, 2, 2, 2, 3, 3, 4, 8]
    """
    return max(1, round(fps / DD_TARGET_FPS))


def dynamic_degree_frames(num_frames: int, fps: float) -> list[int]:
    """Indices of the frames whose consecutive pairs go to RAFT: ``0, s, 2s, ... < num_frames``.

    >>> dynamic_degree_frames(10, 24)
    [0, 3, 6, 9]
    """
    return list(range(0, num_frames, dynamic_degree_interval(fps)))


def dynamic_degree_params(height: int, width: int, num_sampled: int) -> tuple[float, int]:
    """``(threshold, count_needed)``: ``6 * min(h, w) / 256`` pixels of flow and
    ``round(4 * n / 16)`` pairs, for ``n`` sampled frames of ``h x w`` (unpadded) pixels.

    >>> dynamic_degree_params(480, 720, 17)
    (11.25, 4)
    >>> dynamic_degree_params(256, 256, 2)
    (6.0, 0)
    """
    return (DD_THRESHOLD_PER_256PX * (min(height, width) / 256.0),
            round(DD_PAIRS_PER_16_FRAMES * (num_sampled / 16.0)))


def flow_top_magnitude(flow: np.ndarray) -> float:
    """Mean of the largest ``int(0.05 * H * W)`` flow magnitudes ``sqrt(u^2 + v^2)`` of a flow field
    ``[2, H, W]`` (``u`` first), in the field's own precision as VBench (float32 numpy). Fewer than
    20 pixels select nothing and give NaN, as VBench.

    >>> f = np.zeros((2, 4, 5), np.float32); f[0, 0, 0] = 3.0; f[1, 0, 0] = 4.0
    >>> flow_top_magnitude(f)
    5.0
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must be [2, H, W], got {flow.shape}")
    rad = np.sqrt(np.square(flow[0]) + np.square(flow[1]))
    h, w = rad.shape
    cut = int(h * w * DD_TOP_FRACTION)
    if cut == 0:
        return float("nan")
    return float(np.mean(np.abs(np.sort(-rad.flatten()))[:cut]))


def is_dynamic(pair_scores: Sequence[float], threshold: float, count_needed: int) -> bool:
    """VBench ``check_move``: dynamic once ``count_needed`` pair scores exceed ``threshold`` (strictly);
    a video with no pair is static, and with ``count_needed == 0`` any video with a pair is dynamic.

    >>> is_dynamic([1.0, 7.0, 8.0], 6.0, 2), is_dynamic([1.0, 6.0, 8.0], 6.0, 2), is_dynamic([0.0], 6.0, 0)
    (True, False, True)
    """
    count = 0
    for score in pair_scores:
        if score > threshold:
            count += 1
        if count >= count_needed:
            return True
    return False


# ----------------------------------------------------------------------------- VBench-Long
def long_clip_ranges(num_frames: int, fps: float, seconds: int = LONG_CLIP_SECONDS) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` of VBench-Long's fixed-length clips of one video (``split_video_into_clips``):
    ``L = int(fps) * seconds`` frames each, back to back; a remainder becomes one more clip made of the
    last ``L`` frames (it borrows from the previous clip); a video shorter than ``L`` is one clip.

    >>> long_clip_ranges(50, 8.0)
    [(0, 16), (16, 32), (32, 48), (34, 50)]
    >>> long_clip_ranges(12, 8.0)
    [(0, 12)]
    """
    length = int(fps) * int(seconds)
    if length <= 0:
        raise ValueError(f"VBench-Long clips need int(fps) * seconds >= 1 frame (fps {fps}, {seconds} s)")
    if num_frames < length:
        return [(0, num_frames)]
    full, rest = divmod(num_frames, length)
    ranges = [(i * length, (i + 1) * length) for i in range(full)]
    if rest:
        ranges.append((max(0, full * length - (length - rest)), num_frames))
    return ranges


def mean_or_nan(values: Sequence[float]) -> float:
    """Arithmetic mean (float64), NaN for no values.

    >>> mean_or_nan([1, 0, 1, 1]), bool(np.isnan(mean_or_nan([])))
    (0.75, True)
    """
    return float(np.mean(np.asarray(values, dtype=np.float64))) if len(values) else float("nan")
