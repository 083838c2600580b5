"""The optional per-scene ``entities`` field of suites (Scene Consistency): validation and round trip."""

from __future__ import annotations

import pytest

from mvbench.errors import SuiteError
from mvbench.suite import parse_suite, suite_to_dict


def _doc(entities):
    return {"suite": "s", "version": "1", "items": [
        {"id": "story_1", "scenes": [{"prompt": "a dog runs", "entities": entities}, {"prompt": "it sleeps"}]}]}


def test_entities_are_parsed_and_round_trip():
    suite = parse_suite(_doc([" dog ", "red ball"]))
    assert suite.items[0].scenes[0].entities == ("dog", "red ball")
    assert suite.items[0].scenes[1].entities == ()
    again = suite_to_dict(suite)
    assert again["items"][0]["scenes"][0]["entities"] == ["dog", "red ball"]
    assert "entities" not in again["items"][0]["scenes"][1]
    assert parse_suite(again).items == suite.items


@pytest.mark.parametrize("bad, message", [
    ("dog", "field 'entities' must be a list of non-empty strings"),
    (["dog", ""], "field 'entities' must be a list of non-empty strings"),
    (["dog", 3], "field 'entities' must be a list of non-empty strings"),
    (["Dog", "dog "], "field 'entities' lists 'dog ' twice"),
])
def test_bad_entities_name_item_scene_and_field(bad, message):
    with pytest.raises(SuiteError) as err:
        parse_suite(_doc(bad), source="my.json")
    assert str(err.value).startswith("my.json, item 'story_1', scene 1: " + message)


def test_null_entities_mean_none_and_entities_are_part_of_the_hash():
    doc = _doc(["dog"])
    del doc["items"][0]["scenes"][0]["entities"]
    a = parse_suite(doc)
    doc["items"][0]["scenes"][0]["entities"] = None
    assert parse_suite(doc).items[0].scenes[0].entities == ()
    assert a.content_hash != parse_suite(_doc(["dog"])).content_hash
