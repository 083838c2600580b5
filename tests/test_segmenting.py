"""Cutting a video into the segments that frame-level prompts describe."""

from __future__ import annotations

import pytest

from mvbench.errors import SubmissionError
from mvbench.scorers.base import ItemVideos, VideoRef
from mvbench.segmenting import equal_ranges, segment_item, segment_scene
from mvbench.suite import parse_suite


def test_equal_ranges_hand_worked():
    # 10 frames into 3: boundaries floor(0*10/3)=0, floor(10/3)=3, floor(20/3)=6, 10
    assert equal_ranges(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert equal_ranges(8, 8) == [(k, k + 1) for k in range(8)]
    assert equal_ranges(81, 1) == [(0, 81)]


@pytest.mark.parametrize("n,f", [(81, 7), (121, 12), (30, 30), (1000, 9)])
def test_equal_ranges_cover_every_frame_once_with_balanced_lengths(n, f):
    spans = equal_ranges(n, f)
    covered = [i for s, e in spans for i in range(s, e)]
    assert covered == list(range(n))
    lengths = [e - s for s, e in spans]
    assert max(lengths) - min(lengths) <= 1 and min(lengths) >= 1


def test_equal_ranges_too_few_frames():
    with pytest.raises(ValueError, match="cannot cut 5 frames into 8"):
        equal_ranges(5, 8)


def _item(scenes: list[dict], item_id: str = "it") -> ItemVideos:
    suite = parse_suite({"suite": "t", "version": "1", "items": [{"id": item_id, "scenes": scenes}]})
    item = suite.items[0]
    refs = tuple(VideoRef(f"/v/{item_id}/scene_{k}.mp4", 0, n, 8.0)
                 for k, n in enumerate([sc.pop("_frames") for sc in scenes], start=1))
    return ItemVideos(item, refs)


def test_segment_item_single_scene_equal():
    videos = _item([{"prompt": "p", "frame_prompts": ["a", "b", "c"], "_frames": 9}])
    segs = segment_item(videos)
    assert [(s.start, s.end, s.prompt, s.source) for s in segs] == [
        (0, 3, "a", "equal"), (3, 6, "b", "equal"), (6, 9, "c", "equal")]
    assert segs[1].ref == VideoRef("/v/it/scene_1.mp4", 3, 6, 8.0)


def test_segment_item_explicit_ranges_and_equal_override():
    scene = {"prompt": "p", "frame_prompts": ["a", "b"], "frame_ranges": [[0, 5], [20, 40]], "_frames": 40}
    videos = _item([scene])
    segs = segment_item(videos, "auto")
    assert [(s.start, s.end, s.source) for s in segs] == [(0, 5, "ranges"), (20, 40, "ranges")]
    segs = segment_item(videos, "equal")
    assert [(s.start, s.end, s.source) for s in segs] == [(0, 20, "equal"), (20, 40, "equal")]


def test_ranges_outside_the_decoded_video_are_an_error_naming_item_and_scene():
    videos = _item([{"prompt": "p", "frame_prompts": ["a", "b"], "frame_ranges": [[0, 10], [10, 50]],
                     "_frames": 30}], item_id="short")
    with pytest.raises(SubmissionError, match=r"item 'short', scene 1: frame range \[10, 50\)"):
        segment_item(videos)


def test_multi_scene_concatenation_and_scene_prompt_fallback():
    videos = _item([
        {"prompt": "first scene", "frame_prompts": ["a", "b"], "_frames": 10},
        {"prompt": "second scene", "_frames": 7},
        {"prompt": "third scene", "frame_prompts": ["c", "d", "e"], "_frames": 6},
    ])
    segs = segment_item(videos)
    assert [(s.scene, s.prompt, s.start, s.end) for s in segs] == [
        (1, "a", 0, 5), (1, "b", 5, 10), (2, "second scene", 0, 7), (3, "c", 0, 2), (3, "d", 2, 4),
        (3, "e", 4, 6)]
    assert segs[-1].ref.path.endswith("scene_3.mp4")


def test_scene_shorter_than_its_prompt_count():
    ref = VideoRef("x.mp4", 0, 3, 8.0)
    with pytest.raises(SubmissionError, match="shorter than its number of frame-level prompts"):
        segment_scene(ref, ["a", "b", "c", "d"], None, 1)


def test_segments_of_a_scene_inside_a_per_item_file_are_offset():
    ref = VideoRef("item.mp4", 100, 140, 24.0)
    segs = segment_scene(ref, ["a", "b"], None, 2)
    assert [(s.ref.start, s.ref.end) for s in segs] == [(100, 120), (120, 140)]
    assert [(s.start, s.end) for s in segs] == [(0, 20), (20, 40)]
