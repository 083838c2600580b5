"""Decoding, sampling and preprocessing (the protocol part of every metric)."""

import numpy as np
import pytest
import torch

from mvbench.encoders.base import ClipPreprocess
from mvbench.errors import VideoDecodeError
from mvbench.video import (
    count_frames,
    decode_frames,
    preprocess_frames,
    probe,
    resize,
    sample_indices,
    to_float,
)
from mvbench.video.write import write_video


def test_middle_sampling_hand_worked():
    # 16 frames, 8 segments of 2 -> midpoints at 1, 3, ..., 15
    assert sample_indices(16, 8, "middle") == [1, 3, 5, 7, 9, 11, 13, 15]
    # 10 frames, 4 segments of 2.5 -> floor(1.25, 3.75, 6.25, 8.75)
    assert sample_indices(10, 4, "middle") == [1, 3, 6, 8]
    assert sample_indices(3, 5, "middle") == [0, 0, 1, 2, 2]  # fewer frames than samples: repeats
    assert sample_indices(20, 4, "first", stride=2) == [0, 2, 4, 6]
    assert sample_indices(5, 3, "uniform") == [0, 2, 4]
    with pytest.raises(ValueError, match="needs 31 frames"):
        sample_indices(20, 16, "first", stride=2)
    with pytest.raises(ValueError):
        sample_indices(0, 4)


def _gradient_video(n=10, h=32, w=48):
    frames = np.zeros((n, h, w, 3), dtype=np.uint8)
    for t in range(n):
        frames[t, :, :, 0] = (20 * t) % 256  # red channel encodes the frame index
        frames[t, :, :, 1] = 100
        frames[t, :, :, 2] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    return frames


def test_decode_roundtrip_picks_the_right_frames(tmp_path):
    frames = _gradient_video()
    path = write_video(tmp_path / "v.mp4", frames, fps=8, crf=0)
    info = probe(path)
    assert (info.num_frames, info.width, info.height) == (10, 48, 32)
    assert info.fps == pytest.approx(8.0)
    assert count_frames(path) == 10
    got = decode_frames(path, [7, 2, 2])
    assert got.shape == (3, 32, 48, 3) and got.dtype == torch.uint8
    red = got[..., 0].float().mean(dim=(1, 2))
    assert torch.allclose(red, torch.tensor([140.0, 40.0, 40.0]), atol=3.0)  # lossless-ish
    with pytest.raises(VideoDecodeError, match="v.mp4"):
        decode_frames(path, [10])


def test_corrupt_and_truncated_files_raise_named_errors(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoDecodeError, match="bad.mp4"):
        probe(bad)
    good = write_video(tmp_path / "good.mp4", _gradient_video(30), fps=8)
    data = good.read_bytes()
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoDecodeError, match="trunc.mp4"):
        decode_frames(trunc, [29])


def test_to_float_and_resize():
    x = torch.full((2, 8, 8, 3), 255, dtype=torch.uint8)
    f = to_float(x)
    assert f.shape == (2, 3, 8, 8) and f.dtype == torch.float32 and float(f.max()) == 1.0
    with pytest.raises(TypeError):
        to_float(x.float())
    # antialiased downscale of a checkerboard averages to grey (no aliasing to black/white)
    board = ((torch.arange(64)[:, None] + torch.arange(64)[None, :]) % 2).float()
    img = board.expand(1, 3, 64, 64).contiguous()
    small = resize(img, 8)
    assert small.shape == (1, 3, 8, 8)
    assert torch.allclose(small, torch.full_like(small, 0.5), atol=0.02)


def test_preprocess_value_ranges():
    x = torch.full((1, 4, 4, 3), 255, dtype=torch.uint8)
    sym = preprocess_frames(x, ClipPreprocess(1, 2, value_range="symmetric"))
    assert torch.allclose(sym, torch.ones_like(sym))
    norm = preprocess_frames(x, ClipPreprocess(1, 2, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)))
    assert torch.allclose(norm, torch.full_like(norm, 2.0))
