"""Frame-level prompt plumbing: suite items and expanded global prompts mapped to latent frames."""

from __future__ import annotations

import pytest
import torch

from mvbench.suite import parse_suite
from reference_models.pmwd.prompts import (
    latent_frames_for_video_frames,
    plan_from_frame_texts,
    plan_from_global_prompt,
    plan_from_suite_item,
    spread_evenly,
)


def _item(scenes):
    return parse_suite({"suite": "t", "version": "1", "items": [{"id": "a", "scenes": scenes}]}).items[0]


def test_latent_frames_of_wan_vae():
    assert latent_frames_for_video_frames(81) == 21
    assert latent_frames_for_video_frames(1) == 1
    assert latent_frames_for_video_frames(5) == 2
    assert latent_frames_for_video_frames(161) == 41


def test_spread_evenly_hand_worked():
    # 3 prompts over 7 frames: centres (f + .5) * 3 / 7 -> 0.21 0.64 1.07 1.5 1.93 2.36 2.79
    assert spread_evenly(["a", "b", "c"], 7) == ["a", "a", "b", "b", "b", "c", "c"]
    assert spread_evenly(["a", "b"], 2) == ["a", "b"]
    with pytest.raises(ValueError, match="3 prompts cannot"):
        spread_evenly(["a", "b", "c"], 2)


def test_suite_item_scenes_and_frame_prompts():
    item = _item([
        {"prompt": "harbor at dawn", "frame_prompts": ["boats wake", "gulls fly"]},
        {"prompt": "market at noon"},
        {"prompt": "night", "frame_prompts": ["lanterns", "boats wake"], "frame_ranges": [[0, 10], [10, 40]]},
    ])
    plan = plan_from_suite_item(item, 12)
    texts = plan.frame_prompts()
    assert texts == ["boats wake"] * 2 + ["gulls fly"] * 2 + ["market at noon"] * 4 + ["lanterns"] + ["boats wake"] * 3
    # identical captions share one slot (adaptive annotation)
    assert plan.prompts == ("boats wake", "gulls fly", "market at noon", "lanterns")
    assert plan.caption_ids().tolist() == [0, 0, 1, 1, 2, 2, 2, 2, 3, 0, 0, 0]
    assert plan.caption_ids().dtype == torch.long


def test_suite_item_explicit_scene_frames_and_errors():
    item = _item([{"prompt": "one"}, {"prompt": "two"}])
    assert plan_from_suite_item(item, 5, scene_frames=[1, 4]).frame_to_prompt == (0, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="item 'a'"):
        plan_from_suite_item(item, 5, scene_frames=[2, 2])
    with pytest.raises(ValueError, match="scene 2"):
        plan_from_suite_item(item, 5, scene_frames=[5, 0])


def test_global_prompt_expansion():
    def expand(prompt, n):
        return [f"{prompt}, part {i}" for i in range(n)]

    plan = plan_from_global_prompt("a duckling grows", 6, expand, num_prompts=3)
    assert plan.frame_prompts() == ["a duckling grows, part 0"] * 2 + ["a duckling grows, part 1"] * 2 + [
        "a duckling grows, part 2"] * 2
    with pytest.raises(ValueError, match="must return 3"):
        plan_from_global_prompt("x", 6, lambda p, n: ["only one"], num_prompts=3)


def test_plan_from_frame_texts_dedupes_in_order():
    plan = plan_from_frame_texts(["b", "a", "b", "c"])
    assert plan.prompts == ("b", "a", "c") and plan.frame_to_prompt == (0, 1, 0, 2)


def test_causal_grouping_of_wan_latent_frames():
    """Latent frame 0 decodes to video frame 0 alone, frame f >= 1 to frames 4f-3 .. 4f (hand-written)."""
    from reference_models.pmwd.prompts import latent_video_span, video_frame_start

    assert [latent_video_span(f) for f in range(4)] == [(0, 1), (1, 5), (5, 9), (9, 13)]
    assert video_frame_start(21) == 81  # 21 latent frames decode to 81 video frames


def test_frame_ranges_follow_the_causal_grouping():
    """The audit's case: ranges [0, 5) and [5, 81) over 81 frames (21 latents). Latent frame 1 holds video frames
    1-4, all inside the first range, so it takes prompt A (a centre-time rule gave it B)."""
    item = _item([{"prompt": "s", "frame_prompts": ["A", "B"], "frame_ranges": [[0, 5], [5, 81]]}])
    plan = plan_from_suite_item(item, 21)
    assert plan.frame_prompts() == ["A", "A"] + ["B"] * 19


def test_frame_ranges_overlap_ties_gaps_and_scaling():
    from reference_models.pmwd.prompts import latent_video_span, place_by_ranges

    spans = [latent_video_span(f) for f in range(4)]  # video frames [0,1) [1,5) [5,9) [9,13)
    # range A = [0, 3), B = [3, 13): latent 1 has 2 frames in A (1, 2) and 2 in B (3, 4): a tie -> the earlier, A
    assert place_by_ranges(["A", "B"], [(0, 3), (3, 13)], spans) == ["A", "A", "B", "B"]
    # [0, 6) vs [6, 13): latent 2 = frames 5..8 -> 1 in A, 3 in B
    assert place_by_ranges(["A", "B"], [(0, 6), (6, 13)], spans) == ["A", "A", "B", "B"]
    # ranges written for 26 frames are halved onto the 13 frames: [0, 10) -> [0, 5), [10, 26) -> [5, 13)
    assert place_by_ranges(["A", "B"], [(0, 10), (10, 26)], spans) == ["A", "A", "B", "B"]
    # a gap: latent 2 (frames 5..8) lies in neither [0, 3) (2 frames away) nor [10, 13) (1 frame away)
    assert place_by_ranges(["A", "B"], [(0, 3), (10, 13)], spans) == ["A", "A", "B", "B"]
    with pytest.raises(ValueError, match="get no latent frame"):
        place_by_ranges(["A", "B", "C"], [(0, 1), (1, 2), (2, 13)], spans)


def test_second_scene_ranges_are_relative_to_the_scene():
    """Scene 2 starts at latent frame 3 = video frame 9; its ranges count from there."""
    item = _item([{"prompt": "first"},
                  {"prompt": "second", "frame_prompts": ["C", "D"], "frame_ranges": [[0, 4], [4, 12]]}])
    plan = plan_from_suite_item(item, 6)  # scene 2 = latents 3..5 = video frames [9, 21) = relative [0, 12)
    assert plan.frame_prompts() == ["first"] * 3 + ["C", "D", "D"]
