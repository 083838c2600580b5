"""ActivityNet Captions annotation files (the public val_1.json layout, written here by hand) -> suites."""

from __future__ import annotations

import json

import pytest

from mvbench.cli import main
from mvbench.errors import SuiteError
from mvbench.importers.activitynet import (
    activitynet_suite_dict,
    first_subject,
    load_activitynet,
    read_activitynet,
    select_videos,
)
from mvbench.suite import load_suite

# made-up captions in the exact layout of ActivityNet Captions' train.json / val_1.json / val_2.json
# (captions there often start with a space; events are listed as the annotators wrote them)
ANNOTATIONS = {
    "v_uqiMw7tQ1Cc": {"duration": 55.15,
                      "timestamps": [[0.28, 55.15], [13.79, 54.32]],
                      "sentences": ["A weight lifting tutorial is given.",
                                    "  The coach helps the guy in red with the proper body placement."]},
    "v_bXdq2zI1Ms0": {"duration": 73.1,
                      "timestamps": [[30.2, 60.5], [0.0, 31.1], [58.0, 73.1]],
                      "sentences": [" A man in a red shirt throws a ball to his dog.",
                                    " A dog runs across a large yard.",
                                    " The dog brings the ball back and lies down."]},
    "v_FsS_NCZEfaI": {"duration": 127.97,
                      "timestamps": [[0, 10.5], [10.5, 80.0], [79.0, 127.97]],
                      "sentences": ["A woman ties her skates.", "She glides across the ice.", "She spins and bows."]},
}


@pytest.fixture
def ann(tmp_path):
    path = tmp_path / "val_1.json"
    path.write_text(json.dumps(ANNOTATIONS), encoding="utf-8")
    return path


def test_one_item_per_video_events_in_time_order(ann):
    doc = load_activitynet(ann)
    assert doc["suite"] == "activitynet-val-1"
    assert [it["id"] for it in doc["items"]] == list(ANNOTATIONS)
    dog = doc["items"][1]
    assert [s["prompt"] for s in dog["scenes"]] == ["A dog runs across a large yard.",
                                                    "A man in a red shirt throws a ball to his dog.",
                                                    "The dog brings the ball back and lies down."]
    assert dog["meta"]["timestamps"] == [[0.0, 31.1], [30.2, 60.5], [58.0, 73.1]]
    assert dog["meta"]["annotation_index"] == [1, 0, 2] and dog["meta"]["duration"] == 73.1
    assert doc["items"][0]["scenes"][1]["prompt"].startswith("The coach")  # surrounding spaces removed
    assert all("entities" not in s for it in doc["items"] for s in it["scenes"])


def test_id_lists_and_seeded_sampling(ann, tmp_path):
    videos = read_activitynet(ann)
    ids_json = tmp_path / "val_ids.json"
    ids_json.write_text(json.dumps(["v_FsS_NCZEfaI", "v_uqiMw7tQ1Cc"]))
    doc = load_activitynet(ann, ids=json.loads(ids_json.read_text()))
    assert [it["id"] for it in doc["items"]] == ["v_FsS_NCZEfaI", "v_uqiMw7tQ1Cc"]
    a = [v.id for v in select_videos(videos, sample=2, seed=3)]
    assert a == [v.id for v in select_videos(videos, sample=2, seed=3)] and len(set(a)) == 2
    drawn = {tuple(v.id for v in select_videos(videos, sample=2, seed=s)) for s in range(20)}
    assert len(drawn) > 1  # the seed changes the draw
    with pytest.raises(SuiteError, match="cannot sample 4 videos out of 3"):
        select_videos(videos, sample=4)
    with pytest.raises(SuiteError, match="v_nope"):
        select_videos(videos, ids=["v_nope"])


def test_subject_of_the_first_caption_as_entity(ann):
    class Tok:
        def __init__(self, text, dep):
            self.text, self.dep_ = text, dep

    def fake_nlp(sentence):  # a stand-in for a spaCy pipeline: "A/det <Noun>/nsubj ..."
        words = sentence.split()
        return [Tok(words[0], "det"), Tok(words[1], "nsubj")] + [Tok(w, "dep") for w in words[2:]]

    assert first_subject("A Dog runs", fake_nlp) == "dog"
    assert first_subject("runs", lambda s: [Tok("runs", "ROOT")]) is None
    doc = activitynet_suite_dict(list(read_activitynet(ann).values()), "s", subject_nlp=fake_nlp)
    dog = doc["items"][1]
    assert dog["meta"]["subject"] == "dog"  # first caption in time order: "A dog runs across ..."
    assert [s["entities"] for s in dog["scenes"]] == [["dog"]] * 3


def test_malformed_files_name_the_video(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"v_x": {"duration": 3, "timestamps": [[0, 1]], "sentences": ["a", "b"]}}))
    with pytest.raises(SuiteError, match=r"bad.json, video 'v_x': 'timestamps' must be a list with one"):
        read_activitynet(bad)
    bad.write_text(json.dumps({"v_x": {"duration": 3, "timestamps": [[0, "1"]], "sentences": ["a"]}}))
    with pytest.raises(SuiteError, match=r"video 'v_x', timestamp 0: expected a number"):
        read_activitynet(bad)
    bad.write_text(json.dumps({"v_x": {"duration": 3, "timestamps": [[0, 1]], "sentences": ["  "]}}))
    with pytest.raises(SuiteError, match="sentence 0 is empty"):
        read_activitynet(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(SuiteError, match="non-empty JSON object"):
        read_activitynet(bad)


def test_cli_with_ids_sample_and_entity_side_file(ann, tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("v_bXdq2zI1Ms0\nv_FsS_NCZEfaI\n\n")
    ents = tmp_path / "entities.json"
    ents.write_text(json.dumps({"v_bXdq2zI1Ms0": [["dog"], ["man", "dog"], ["dog", "ball"]],
                                "v_FsS_NCZEfaI": "woman", "v_not_in_suite": "cat"}))
    out = tmp_path / "anet.json"
    assert main(["import", "activitynet", str(ann), "--ids", str(ids), "--entities", str(ents), "--name", "anet",
                 "--out", str(out)]) == 0
    assert "2 items, 6 scenes, 2 items with entities" in capsys.readouterr().out
    suite = load_suite(out)
    assert suite.name == "anet" and suite.ids == ["v_bXdq2zI1Ms0", "v_FsS_NCZEfaI"]
    assert [s.entities for s in suite.items[0].scenes] == [("dog",), ("man", "dog"), ("dog", "ball")]
    assert {s.entities for s in suite.items[1].scenes} == {("woman",)}
    ents.write_text(json.dumps({"v_bXdq2zI1Ms0": [["dog"], ["dog"]]}))
    assert main(["import", "activitynet", str(ann), "--entities", str(ents), "--out", str(out)]) == 2
    assert "2 per-scene entity lists for 3 scenes" in capsys.readouterr().err


def test_subject_parser_without_spacy_is_a_clear_error(ann, tmp_path, capsys):
    # spaCy is not an mvbench dependency: without it the message says how to get it
    try:
        import spacy  # noqa: F401
    except ImportError:
        assert main(["import", "activitynet", str(ann), "--subject-parser", "en_core_web_sm",
                     "--out", str(tmp_path / "s.json")]) == 2
        assert "pip install spacy" in capsys.readouterr().err
    else:  # spaCy present: an unknown pipeline name must fail clearly instead
        assert main(["import", "activitynet", str(ann), "--subject-parser", "no_such_pipeline_xyz",
                     "--out", str(tmp_path / "s.json")]) == 2
        assert "python -m spacy download" in capsys.readouterr().err
