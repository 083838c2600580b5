"""What the consistency scorer keeps per item for the report and the figures: the scene-pair matrix and
the per-scene semantic scores, checked against a numpy computation written independently."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metrics import scene_similarity_matrix
from mvbench.scorers.base import ClipRequest, ItemVideos, TextRequest, VideoRef
from mvbench.scorers.consistency import ConsistencyScorer
from mvbench.suite import parse_suite


def _item(n_scenes: int) -> ItemVideos:
    raw = {"id": "x", "scenes": [{"prompt": f"scene {k}"} for k in range(n_scenes)]}
    item = parse_suite({"suite": "t", "version": "1", "items": [raw]}).items[0]
    return ItemVideos(item, tuple(VideoRef(f"/sub/x/scene_{k + 1}.mp4", 0, 16, 8.0) for k in range(n_scenes)))


def _score(scorer: ConsistencyScorer, videos: ItemVideos, video: np.ndarray, text: np.ndarray):
    answers = {}
    for r in scorer.requests(videos):
        if isinstance(r, ClipRequest):
            answers[r] = torch.tensor(video[videos.scenes.index(r.videos[0])], dtype=torch.float32)
        else:
            assert isinstance(r, TextRequest)
            answers[r] = torch.tensor(text[int(r.text.split()[1])], dtype=torch.float32)
    return scorer.score(videos, answers)


@pytest.mark.parametrize("pairs", ["all", "consecutive"])
def test_pair_matrix_and_scene_semantic_match_numpy(pairs):
    rng = np.random.default_rng(3)
    n, d = 5, 12
    video = rng.normal(size=(n, d))
    text = rng.normal(size=(n, d))
    videos = _item(n)
    result = _score(ConsistencyScorer({"encoder": "tiny", "vc_pairs": pairs}), videos, video, text)
    v = video.astype(np.float32).astype(np.float64)
    t = text.astype(np.float32).astype(np.float64)
    cos = np.array([[v[i] @ v[j] / np.linalg.norm(v[i]) / np.linalg.norm(v[j]) for j in range(n)]
                    for i in range(n)]) * 100
    got = np.array(result.details["scene_similarity"])
    assert got.shape == (n, n)
    np.testing.assert_allclose(got, cos, atol=6e-5)  # rounded to 4 decimals
    np.testing.assert_allclose(np.diag(got), 100.0, atol=1e-4)
    np.testing.assert_array_equal(got, got.T)
    # the matrix is what Visual Consistency averages: all pairs, or the first super-diagonal
    upper = [cos[i, j] for i in range(n) for j in range(i + 1, n)] if pairs == "all" \
        else [cos[i, i + 1] for i in range(n - 1)]
    assert result.values["visual_consistency"] == pytest.approx(np.mean(upper), abs=1e-5)
    sem = [100 * v[k] @ t[k] / np.linalg.norm(v[k]) / np.linalg.norm(t[k]) for k in range(n)]
    np.testing.assert_allclose(result.details["scene_semantic"], sem, atol=6e-5)
    assert result.values["semantic_consistency"] == pytest.approx(np.mean(sem), abs=1e-5)
    json.dumps(result.details, allow_nan=False)


def test_single_scene_item_keeps_a_one_by_one_matrix():
    rng = np.random.default_rng(0)
    result = _score(ConsistencyScorer({"encoder": "tiny"}), _item(1), rng.normal(size=(1, 4)), rng.normal(size=(1, 4)))
    assert result.details["scene_similarity"] == [[pytest.approx(100.0, abs=1e-4)]]
    assert "visual_consistency" not in result.values


def test_matrix_hand_worked():
    # v1 = e1, v2 = (e1 + e2)/sqrt2, v3 = e2: cosines 1/sqrt2, 0, 1/sqrt2
    got = scene_similarity_matrix(np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 0.5]]))
    h = 100 / np.sqrt(2)
    np.testing.assert_allclose(got.numpy(), [[100, h, 0], [h, 100, h], [0, h, 100]], atol=1e-12)


def test_matrix_follows_the_consistency_scale():
    # VBench's protocol reports raw cosines: the details are in the same scale as the metrics
    rng = np.random.default_rng(1)
    video, text = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    pct = _score(ConsistencyScorer({"encoder": "tiny"}), _item(3), video, text)
    raw = _score(ConsistencyScorer({"encoder": "tiny", "consistency_scale": "fraction"}), _item(3), video, text)
    np.testing.assert_allclose(np.array(raw.details["scene_similarity"]) * 100,
                               np.array(pct.details["scene_similarity"]), atol=1e-2)
    assert raw.details["scene_similarity"][0][0] == pytest.approx(1.0, abs=1e-4)
    upper = [raw.details["scene_similarity"][i][j] for i in range(3) for j in range(i + 1, 3)]
    assert raw.values["visual_consistency"] == pytest.approx(np.mean(upper), abs=1e-4)
