"""Window layouts over a long latent video and the averaging of overlapping window predictions.

A long video has ``L`` latent frames; the model sees ``W`` (its native length) at a time. A window is
given by its first frame ``s`` and covers frames ``s .. s + W - 1``.
"""

from __future__ import annotations

import torch


def _check_lengths(num_frames: int, window: int) -> None:
    if window < 1:
        raise ValueError(f"window must be at least 1 latent frame, got {window}")
    if num_frames < window:
        raise ValueError(
            f"the video has {num_frames} latent frames, fewer than the model window of {window}; "
            "generate at least one window's worth of frames"
        )


def pmwd_window_starts(num_frames: int, window: int, stride: int) -> list[int]:
    """Starts of the ``K`` overlapping PMWD windows: ``0, stride, 2*stride, ...`` plus ``L - W``.

    The last window is pinned to the end so every frame is covered for any ``L >= W`` and
    ``1 <= stride <= W`` (a larger stride would leave gaps and is refused).
    ``K = ceil((L - W) / stride) + 1``.
    """
    _check_lengths(num_frames, window)
    if not 1 <= stride <= window:
        raise ValueError(f"stride must be between 1 and the window ({window}) so windows overlap or touch, got {stride}")
    starts = list(range(0, num_frames - window + 1, stride))
    if starts[-1] != num_frames - window:
        starts.append(num_frames - window)
    return starts


def band_window_starts(lo: int, hi: int, num_frames: int, window: int) -> list[int]:
    """Windows tiling the frame band ``[lo, hi)`` from its end backwards (FIFO's latent partitioning).

    Windows are ``[hi - W, hi), [hi - 2W, hi - W), ...`` until ``lo`` is covered; a window that
    would begin before frame 0 is moved to ``[0, W)`` (it then overlaps its neighbour, and the
    overlap is averaged). If ``hi < W`` the single window ``[0, W)`` reaches past the band into frames
    that have not started yet; those frames only serve as context.
    """
    _check_lengths(num_frames, window)
    if not 0 <= lo < hi <= num_frames:
        raise ValueError(f"band [{lo}, {hi}) is empty or outside 0..{num_frames}")
    starts = []
    end = max(hi, window)
    while True:
        start = max(end - window, 0)
        starts.append(start)
        if start <= lo:
            break
        end = start
    return sorted(starts)


def window_frame_index(starts: list[int] | torch.Tensor, window: int) -> torch.Tensor:
    """``(K, W)`` int64 frame indices of the windows: ``starts[k] + j``."""
    starts = torch.as_tensor(starts, dtype=torch.long)
    return starts[:, None] + torch.arange(window, dtype=torch.long)[None, :]


def gather_windows(video: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``(C, L, H, W)`` video -> ``(K, C, W, H, W)`` window batch for a ``(K, W)`` frame index."""
    return video[:, index].permute(1, 0, 2, 3, 4)


def average_window_predictions(
    predictions: torch.Tensor, index: torch.Tensor, num_frames: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average the predictions of overlapping windows per frame (Gen-L-Video / PMWD fusion).

    ``predictions`` ``(K, C, W, H, W)``; returns ``(mean, count)`` with ``mean`` ``(C, L, H, W)``
    where ``mean[:, f] = (1 / n_f) * sum over windows k covering f of predictions[k, :, f - s_k]``
    (zero where ``n_f = 0``) and ``count`` ``(L,)`` = ``n_f``.
    """
    k, c, w, h, wd = predictions.shape
    flat = predictions.permute(1, 0, 2, 3, 4).reshape(c, k * w, h, wd)
    total = predictions.new_zeros(c, num_frames, h, wd).index_add_(1, index.reshape(-1).to(predictions.device), flat)
    count = torch.bincount(index.reshape(-1), minlength=num_frames)
    mean = total / count.clamp(min=1).to(predictions.device, predictions.dtype)[None, :, None, None]
    return mean, count
