"""Face pipeline pieces: distances, crops, MovieBench frame choice, banks and their cache."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.distance import cdist
from test_faces_fakebackend import COLORS, FakeFaceBackend, portrait

from mvbench.errors import MvbenchError
from mvbench.faces import (
    EmbeddingCache,
    FaceBox,
    build_bank,
    discover_portraits,
    face_distance,
    get_protocol,
    interval_indices,
)
from mvbench.faces.bank import character_name
from mvbench.faces.protocol import crop_face, enlarged_box, jpeg_roundtrip


def test_face_distance_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 9)), rng.normal(size=(5, 9))
    np.testing.assert_allclose(face_distance(a, b, "euclidean"), cdist(a, b), atol=1e-6)
    np.testing.assert_allclose(face_distance(a, b, "cosine"), cdist(a, b, "cosine"), atol=1e-6)
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(face_distance(a, b, "euclidean_l2"), cdist(an, bn), atol=1e-6)
    with pytest.raises(ValueError, match="unknown face distance"):
        face_distance(a, b, "manhattan")
    with pytest.raises(ValueError, match="sizes differ"):
        face_distance(a, b[:, :3], "cosine")


def test_interval_indices_follow_moviebench_reader():
    # frames i * (T // 5) while fewer than 5 are taken; every frame when T <= 5
    assert interval_indices(100, 5) == [0, 20, 40, 60, 80]
    assert interval_indices(49, 5) == [0, 9, 18, 27, 36]
    assert interval_indices(7, 5) == [0, 1, 2, 3, 4]
    assert interval_indices(5, 5) == [0, 1, 2, 3, 4]
    assert interval_indices(3, 5) == [0, 1, 2]


def test_enlarged_box_and_crops():
    box = FaceBox(x=30, y=20, w=10, h=8)
    assert enlarged_box(box, 2.0) == (25, 16, 20, 16)  # MovieBench: x - int(2w/4), y - int(2h/4)
    frame = np.arange(64 * 80 * 3, dtype=np.int64).reshape(64, 80, 3)
    np.testing.assert_array_equal(crop_face(frame, box, 2.0, clip=True), frame[16:32, 25:45])
    corner = FaceBox(x=2, y=3, w=10, h=10)
    # clipped: the box reaches outside, the crop is cut at the border
    assert crop_face(frame, corner, 2.0, clip=True).shape[:2] == (18, 17)
    # MovieBench slicing: start -3 counts from the far edge -> rows 61..(-3+20=17) -> empty
    assert crop_face(frame, corner, 2.0, clip=False).shape[0] == 0


def test_jpeg_roundtrip_is_close_not_identical():
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = (200, 100, 50)
    out = jpeg_roundtrip(img, 75)
    assert out.shape == img.shape and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - img)
    assert diff[12:20, 12:20].mean() <= 8 and diff.max() > 0  # lossy, but colours survive


def test_protocol_presets():
    mv, mb = get_protocol("mvbench"), get_protocol("moviebench", num_frames=None)
    assert (mv.frames_used, mv.sampling, mv.clip_crop, mv.num_frames) == ("all", "middle", True, 5)
    assert (mb.frames_used, mb.sampling, mb.clip_crop, mb.min_confidence) == ("last", "interval", False, 0.8)
    assert get_protocol("mvbench", num_frames=3).num_frames == 3
    with pytest.raises(ValueError):
        get_protocol("other")


def _save(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def test_discover_portraits_layouts(tmp_path):
    _save(tmp_path / "Alice.png", portrait(COLORS["Alice"]))
    _save(tmp_path / "Bob" / "front.png", portrait(COLORS["Bob"]))
    _save(tmp_path / "Bob" / "side.jpg", portrait(COLORS["Bob"]))
    _save(tmp_path / "Juno_MacGuff.png", portrait(COLORS["Carol"]))
    (tmp_path / "notes.txt").write_text("not an image")
    found = discover_portraits(tmp_path, known=["Alice", "Bob", "Juno MacGuff"])
    assert sorted(found) == ["Alice", "Bob", "Juno MacGuff"]
    assert [p.name for p in found["Bob"]] == ["front.png", "side.jpg"]
    assert character_name("Juno_MacGuff") == "Juno_MacGuff"
    assert character_name("Juno_MacGuff", underscores_to_spaces=True) == "Juno MacGuff"
    with pytest.raises(MvbenchError, match="does not exist"):
        discover_portraits(tmp_path / "missing")


def test_bank_match_threshold_and_cache(tmp_path):
    _save(tmp_path / "bank" / "Alice.png", portrait(COLORS["Alice"]))
    _save(tmp_path / "bank" / "Bob" / "a.png", portrait(COLORS["Bob"]))
    _save(tmp_path / "bank" / "Bob" / "b.png", portrait((60, 210)))  # a second, slightly different view
    be = FakeFaceBackend()
    cache = EmbeddingCache(tmp_path / "cache")
    bank = build_bank(be, discover_portraits(tmp_path / "bank"), cache)
    assert bank.names == ["Alice", "Bob", "Bob"] and bank.embeddings.shape == (3, 2)
    assert be.embed_calls == 3
    m = bank.match(np.array([62 / 255, 212 / 255]), "euclidean", 0.15)
    assert m.name == "Bob" and m.distance == pytest.approx(np.hypot(2, 2) / 255, abs=1e-6)
    assert bank.match(np.array([0.5, 0.5]), "euclidean", 0.15).name is None  # unknown face
    # the same portraits again: embeddings come from the cache
    again = build_bank(be, discover_portraits(tmp_path / "bank"), cache)
    assert be.embed_calls == 3
    np.testing.assert_array_equal(again.embeddings, bank.embeddings)


def _item(item_id: str, characters: dict, script: list[list[str]]):
    from mvbench.suite import parse_suite

    doc = {"suite": "t", "version": "1", "items": [
        {"id": item_id, "characters": characters,
         "scenes": [{"prompt": f"s{k}", "characters": c} for k, c in enumerate(script)]}]}
    return parse_suite(doc).items[0]


def test_item_without_its_bank_folder_never_gets_another_items_portraits(tmp_path):
    from mvbench.faces import portraits_for_item

    bank = tmp_path / "bank2"
    _save(bank / "item_a" / "Actor1.png", portrait(COLORS["Alice"]))
    _save(bank / "item_a" / "Actor2.png", portrait(COLORS["Bob"]))
    chars = {"Actor1": "a", "Actor2": "b"}
    item_a, item_b = _item("item_a", chars, [["Actor1"]]), _item("item_b", chars, [["Actor1", "Actor2"]])
    got = portraits_for_item(item_a, bank)
    assert {n: [p.name for p in v] for n, v in got.items()} == {"Actor1": ["Actor1.png"], "Actor2": ["Actor2.png"]}
    # recognised from its contents (no suite ids given) ...
    with pytest.raises(MvbenchError, match=r"item 'item_b'.*per item.*item_a.*expected .*bank2/item_b"):
        portraits_for_item(item_b, bank)
    # ... and from the suite's item ids, even when the other item's folder names no character of this one
    _save(bank / "Hero.png", portrait(COLORS["Carol"]))
    lone = _item("item_c", {"Hero": "h"}, [["Hero"]])
    with pytest.raises(MvbenchError, match=r"item 'item_c'.*expected .*bank2/item_c"):
        portraits_for_item(lone, bank, suite_ids=["item_a", "item_b", "item_c"])


def test_suite_portraits_and_bank_folder_merge_per_character(tmp_path):
    from mvbench.faces import portraits_for_item
    from mvbench.faces.bank import unbanked_characters

    _save(tmp_path / "suite_portraits" / "a1.png", portrait(COLORS["Alice"]))
    _save(tmp_path / "bank" / "Actor2.png", portrait(COLORS["Bob"]))
    _save(tmp_path / "bank" / "Actor1" / "side.png", portrait(COLORS["Alice"]))
    chars = {"Actor1": {"portraits": ["suite_portraits/a1.png"]}, "Actor2": "b", "Actor3": "c"}
    item = _item("x", chars, [["Actor1", "Actor2"], ["Actor3"]])
    got = portraits_for_item(item, tmp_path / "bank", suite_dir=tmp_path)
    assert {n: [p.name for p in v] for n, v in got.items()} == {"Actor1": ["a1.png", "side.png"],
                                                                "Actor2": ["Actor2.png"]}
    assert unbanked_characters(item, got) == ["Actor3"]
    # without a bank folder the suite's portraits are used and the others are reported, not invented
    only_suite = portraits_for_item(item, None, suite_dir=tmp_path)
    assert list(only_suite) == ["Actor1"] and unbanked_characters(item, only_suite) == ["Actor2", "Actor3"]
