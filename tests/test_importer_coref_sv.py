"""Coref-SV stories (mvbench's documented layout; no official file exists) -> suites with target entities."""

from __future__ import annotations

import json

import pytest

from mvbench.cli import main
from mvbench.errors import SuiteError
from mvbench.importers.coref_sv import load_coref_sv, read_coref_sv
from mvbench.suite import load_suite

# the two stories VideoDirectorGPT shows for Coref-SV (its supplementary page), in mvbench's layout
STORIES = {"stories": [
    {"episode": "ep07", "entity": "mouse",
     "scenes": ["mouse is holding a book and makes a happy face.", "he looks happy and talks.",
                "he is pulling petals off the flower."],
     "oracle_scenes": ["mouse is holding a book and makes a happy face.", "mouse looks happy and talks.",
                       "mouse is pulling petals off the flower."]},
    {"id": "ep02 dog", "entity": "dog",
     "scenes": ["it's snowing outside.", "dog is singing and dancing.", "its friends are applauding at it."]},
]}


@pytest.fixture
def stories(tmp_path):
    path = tmp_path / "coref_sv.json"
    path.write_text(json.dumps(STORIES), encoding="utf-8")
    return path


def test_stories_become_items_with_the_entity_in_every_scene(stories):
    doc = load_coref_sv(stories)
    assert doc["suite"] == "coref-sv"
    assert [it["id"] for it in doc["items"]] == ["ep07-mouse", "ep02_dog"]
    mouse = doc["items"][0]
    assert [s["prompt"] for s in mouse["scenes"]] == STORIES["stories"][0]["scenes"]
    assert all(s["entities"] == ["mouse"] for s in mouse["scenes"])
    assert mouse["meta"] == {"source": "Coref-SV", "entity": "mouse", "prompts": "co-reference", "episode": "ep07"}


def test_oracle_prompts(stories):
    doc = load_coref_sv(stories, oracle=False)
    assert doc["items"][0]["scenes"][1]["prompt"] == "he looks happy and talks."
    with pytest.raises(SuiteError, match="story 'ep02_dog': no 'oracle_scenes'"):
        load_coref_sv(stories, oracle=True)
    one = {"stories": STORIES["stories"][:1]}
    stories.write_text(json.dumps(one))
    doc = load_coref_sv(stories, oracle=True)
    assert doc["suite"] == "coref-sv-oracle"
    assert doc["items"][0]["scenes"][1]["prompt"] == "mouse looks happy and talks."


def test_list_and_mapping_layouts(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"entity": "cat", "scenes": ["cat sleeps.", "she wakes up."]}]))
    assert [s["id"] for s in read_coref_sv(path)] == ["story-000"]
    path.write_text(json.dumps({"catstory": {"entity": "cat", "scenes": ["cat sleeps.", "she wakes up."]}}))
    assert [s["id"] for s in read_coref_sv(path)] == ["catstory"]


@pytest.mark.parametrize("story, message", [
    ({"scenes": ["a."]}, "'entity' must be"),
    ({"entity": "dog", "scenes": []}, "'scenes' must be a non-empty list"),
    ({"entity": "dog", "scenes": ["a.", "b."], "oracle_scenes": ["a."]}, "'oracle_scenes' has 1 sentences"),
])
def test_malformed_stories_are_named(tmp_path, story, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"stories": [story]}))
    with pytest.raises(SuiteError, match=r"s.json, story #0: " + message):
        read_coref_sv(path)


def test_duplicate_ids(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"id": "a", "entity": "dog", "scenes": ["x."]},
                                {"id": "a", "entity": "cat", "scenes": ["y."]}]))
    with pytest.raises(SuiteError, match="story id 'a' appears twice"):
        read_coref_sv(path)


def test_cli(stories, tmp_path, capsys):
    out = tmp_path / "coref.json"
    assert main(["import", "coref-sv", str(stories), "--out", str(out)]) == 0
    assert "2 items, 6 scenes, 2 items with entities" in capsys.readouterr().out
    suite = load_suite(out)
    assert suite.items[1].scenes[0].entities == ("dog",)
