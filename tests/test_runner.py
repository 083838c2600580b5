"""Runner: resume after a crash without re-encoding, batch-size independence, caching keys."""

import numpy as np
import pytest

from mvbench.runner import run_evaluation
from mvbench.submission import Submission


class _Crash(RuntimeError):
    pass


class _CountingEncoder:
    """Wraps an encoder, counts encoded clips and can crash after N batches (a killed run)."""

    def __init__(self, inner, crash_after=None):
        self.inner, self.crash_after, self.batches, self.clips = inner, crash_after, 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode_video(self, clips):
        if self.crash_after is not None and self.batches >= self.crash_after:
            raise _Crash("killed")
        self.batches += 1
        self.clips += clips.shape[0]
        return self.inner.encode_video(clips)


def _scores(res):
    return {k: v["mean"] for k, v in res["metrics"].items()}, {i: r["scores"] for i, r in res["items"].items()}


def test_resume_after_crash_reencodes_nothing_finished(demo_videos, demo_suite, tiny_encoder, tmp_path):
    sub = Submission.open(demo_videos)
    opts = {"encoder": "tiny", "cache_dir": str(tmp_path / "cache"), "batch_size": 4, "progress": False,
            "chunk_items": 2}
    crashing = _CountingEncoder(tiny_encoder, crash_after=2)
    with pytest.raises(_Crash):
        run_evaluation(demo_suite, sub, None, opts, encoders={"tiny": crashing})
    # chunk 1 (2 items x 3 scenes) finished in two batches (4 + 2 clips) before the "kill"
    assert crashing.batches == 2
    assert len(list((tmp_path / "cache" / "tiny").rglob("*.npy"))) == 6  # clip features (prompts: tiny.text)

    resumed = _CountingEncoder(tiny_encoder)
    res = run_evaluation(demo_suite, sub, None, opts, encoders={"tiny": resumed})
    assert res["runtime"]["clips_encoded"] == 12 - 6
    assert res["runtime"]["clips_from_cache"] == 6

    fresh = run_evaluation(demo_suite, sub, None, {**opts, "no_cache": True}, encoders={"tiny": tiny_encoder})
    assert _scores(res) == _scores(fresh)

    again = _CountingEncoder(tiny_encoder)
    res3 = run_evaluation(demo_suite, sub, None, opts, encoders={"tiny": again})
    assert again.batches == 0 and res3["runtime"]["clips_encoded"] == 0


def test_results_do_not_depend_on_batch_size(demo_videos, demo_suite, tiny_encoder):
    sub = Submission.open(demo_videos)
    runs = [run_evaluation(demo_suite, sub, None, {"encoder": "tiny", "no_cache": True, "batch_size": bs,
                                                   "progress": False}, encoders={"tiny": tiny_encoder})
            for bs in (1, 5, 32)]
    assert _scores(runs[0]) == _scores(runs[1]) == _scores(runs[2])


def test_changed_video_is_not_served_from_cache(demo_videos, demo_suite, tiny_encoder, tmp_path):
    import numpy as np

    from mvbench.video.write import write_video

    sub = Submission.open(demo_videos)
    opts = {"encoder": "tiny", "cache_dir": str(tmp_path / "cache"), "progress": False}
    first = run_evaluation(demo_suite, sub, None, opts, encoders={"tiny": tiny_encoder})
    write_video(demo_videos / "demo_01_persistent_pair" / "scene_1.mp4",
                np.random.default_rng(1).integers(0, 255, (12, 48, 48, 3), dtype=np.uint8))
    second = run_evaluation(demo_suite, Submission.open(demo_videos), None, opts, encoders={"tiny": tiny_encoder})
    assert second["runtime"]["clips_encoded"] == 1
    a = first["items"]["demo_01_persistent_pair"]["scores"]["visual_consistency"]
    b = second["items"]["demo_01_persistent_pair"]["scores"]["visual_consistency"]
    assert a != b


def test_results_file_records_provenance(demo_videos, demo_suite, tiny_encoder):
    res = run_evaluation(demo_suite, Submission.open(demo_videos), ["visual_consistency"],
                         {"encoder": "tiny", "no_cache": True, "progress": False}, encoders={"tiny": tiny_encoder})
    assert res["schema"] == "mvbench.results/1"
    assert res["suite"]["content_hash"] == demo_suite.content_hash
    assert res["encoders"]["tiny"]["weights_sha256"]
    assert res["config"]["scorers"]["consistency"]["encoder"] == "tiny"
    assert list(res["metrics"]) == ["visual_consistency"]
    assert res["model"]["name"] == "demo-procedural"


def test_prompt_embeddings_are_cached_with_their_truncation_counts(tmp_path, tiny_encoder):
    from mvbench.suite import parse_suite
    from mvbench.video.write import write_video

    long = "a very long prompt about many things " * 10
    suite = parse_suite({"suite": "t", "version": "1",
                         "items": [{"id": "a", "scenes": [{"prompt": long}, {"prompt": "short"}]}]})
    frames = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    for k in (1, 2):
        write_video(tmp_path / "v" / "a" / f"scene_{k}.mp4", frames, fps=8)
    opts = {"encoder": "tiny", "cache_dir": str(tmp_path / "cache"), "progress": False}
    first = run_evaluation(suite, Submission.open(tmp_path / "v"), None, opts, encoders={"tiny": tiny_encoder})
    counting = _CountingEncoder(tiny_encoder)
    texts = []
    counting.encode_text = lambda prompts: texts.extend(prompts) or tiny_encoder.encode_text(prompts)
    counting.truncated_texts = set()
    counting.note_truncated = lambda p, f: counting.truncated_texts.update(t for t, c in zip(p, f) if c)
    second = run_evaluation(suite, Submission.open(tmp_path / "v"), None, opts, encoders={"tiny": counting})
    assert first["runtime"]["texts_encoded"] == 2 and second["runtime"]["texts_encoded"] == 0
    assert second["runtime"]["texts_from_cache"] == 2 and texts == []
    assert second["truncated_prompts"] == first["truncated_prompts"] == {"tiny": 1}
    assert _scores(first) == _scores(second)
    assert len(list((tmp_path / "cache" / "tiny.text").rglob("*.npy"))) == 2
