"""Suite format (mvbench/suite.py): parsing, and validator errors that name the file, item and field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from mvbench.errors import MvbenchError, SuiteError
from mvbench.suite import Scene, load_suite, parse_suite

SOURCE = "my_suite.json"


def minimal_doc() -> dict:
    """A small valid suite: two items, one with frame-level prompts and a portrait bank."""
    return {
        "suite": "tiny",
        "version": "2.1",
        "description": "two items",
        "items": [
            {"id": "001_harbor", "global_prompt": "A small harbor at dawn.",
             "characters": {"Actor1": "tall woman, red coat",
                            "Actor2": {"appearance": "old man, gray cap", "portraits": ["bank/a2.jpg"]}},
             "scenes": [{"prompt": "Actor1 (tall woman, red coat) walks the pier.", "characters": ["Actor1"]},
                        {"prompt": "Actor2 (old man, gray cap) waves.", "characters": ["Actor2"],
                         "frame_prompts": ["he lifts his hand", "he smiles"],
                         "frame_ranges": [[0, 40], [40, 81]]}]},
            {"id": "002-forest.v2", "scenes": [{"prompt": "A misty forest."}]},
        ],
    }


def error_of(doc: dict) -> str:
    with pytest.raises(SuiteError) as info:
        parse_suite(doc, SOURCE)
    return str(info.value)


def test_minimal_document_parses_into_the_documented_structure():
    s = parse_suite(minimal_doc(), SOURCE)
    assert (s.name, s.version, s.description, s.source) == ("tiny", "2.1", "two items", SOURCE)
    assert s.ids == ["001_harbor", "002-forest.v2"]
    first = s.item("001_harbor")
    assert first.global_prompt == "A small harbor at dawn."
    assert first.characters["Actor1"].appearance == "tall woman, red coat"
    assert first.characters["Actor1"].portraits == ()
    assert first.characters["Actor2"].portraits == ("bank/a2.jpg",)
    assert first.scenes[1] == Scene("Actor2 (old man, gray cap) waves.", ("Actor2",),
                                    ("he lifts his hand", "he smiles"), ((0, 40), (40, 81)))
    second = s.item("002-forest.v2")
    assert second.global_prompt is None and second.characters == {} and second.scenes[0].characters == ()
    with pytest.raises(KeyError):
        s.item("nope")


def test_version_number_is_kept_as_text():
    doc = minimal_doc()
    doc["version"] = 3
    assert parse_suite(doc).version == "3"


@pytest.mark.parametrize("key", ["suite", "version", "items"])
def test_missing_top_level_field_is_named(key):
    doc = minimal_doc()
    del doc[key]
    msg = error_of(doc)
    assert SOURCE in msg and repr(key) in msg


def test_empty_items_list():
    doc = minimal_doc()
    doc["items"] = []
    msg = error_of(doc)
    assert SOURCE in msg and "'items'" in msg


def test_missing_scene_prompt_names_item_scene_and_field():
    doc = minimal_doc()
    del doc["items"][0]["scenes"][1]["prompt"]
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "scene 2" in msg and "'prompt'" in msg


def test_missing_scenes_names_item_and_field():
    doc = minimal_doc()
    del doc["items"][1]["scenes"]
    msg = error_of(doc)
    assert "item '002-forest.v2'" in msg and "'scenes'" in msg


def test_blank_global_prompt_names_item_and_field():
    doc = minimal_doc()
    doc["items"][1]["global_prompt"] = "   "
    msg = error_of(doc)
    assert "item '002-forest.v2'" in msg and "'global_prompt'" in msg


def test_missing_id_names_item_position_and_field():
    doc = minimal_doc()
    del doc["items"][1]["id"]
    msg = error_of(doc)
    assert "item #1" in msg and "'id'" in msg


@pytest.mark.parametrize("bad_id", ["a/b", "..", "has space", "", "../escape", 7])
def test_bad_id_names_item_position_field_and_value(bad_id):
    doc = minimal_doc()
    doc["items"][0]["id"] = bad_id
    msg = error_of(doc)
    assert SOURCE in msg and "item #0" in msg and "'id'" in msg and repr(bad_id) in msg


def test_duplicate_id_names_the_id():
    doc = minimal_doc()
    doc["items"][1]["id"] = "001_harbor"
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "duplicate item id" in msg


def test_undeclared_character_names_item_scene_field_and_character():
    doc = minimal_doc()
    doc["items"][0]["scenes"][0]["characters"] = ["Actor1", "Actor3"]
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "scene 1" in msg and "'characters'" in msg
    assert "['Actor3']" in msg, "only the undeclared name is reported"


def test_scene_characters_must_be_a_list_of_names():
    doc = minimal_doc()
    doc["items"][0]["scenes"][0]["characters"] = "Actor1"
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "scene 1" in msg and "'characters'" in msg


def test_bad_character_declaration_names_the_character():
    doc = minimal_doc()
    doc["items"][0]["characters"]["Actor2"] = {"appearance": "x", "portraits": "bank/a2.jpg"}
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "Actor2.portraits" in msg
    doc["items"][0]["characters"]["Actor2"] = 5
    assert "characters.Actor2" in error_of(doc)


def test_frame_ranges_length_mismatch_names_both_fields_and_counts():
    doc = minimal_doc()
    doc["items"][0]["scenes"][1]["frame_ranges"] = [[0, 81]]
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "scene 2" in msg
    assert "'frame_ranges' has 1 entries" in msg and "'frame_prompts' has 2" in msg


def test_frame_ranges_without_frame_prompts_is_a_mismatch():
    doc = minimal_doc()
    doc["items"][0]["scenes"][0]["frame_ranges"] = [[0, 10]]
    msg = error_of(doc)
    assert "scene 1" in msg and "'frame_ranges' has 1 entries" in msg and "'frame_prompts' has 0" in msg


@pytest.mark.parametrize("bad_range", [[40, 40], [-1, 40], [0, 40.5], [0], [50, 10]])
def test_bad_frame_range_is_rejected_with_its_value(bad_range):
    doc = minimal_doc()
    doc["items"][0]["scenes"][1]["frame_ranges"][1] = bad_range
    msg = error_of(doc)
    assert "item '001_harbor'" in msg and "scene 2" in msg and repr(bad_range) in msg


def test_blank_frame_prompt_is_rejected():
    doc = minimal_doc()
    doc["items"][0]["scenes"][1]["frame_prompts"][0] = " "
    assert "'frame_prompts'" in error_of(doc)


def test_non_object_document_and_item():
    with pytest.raises(SuiteError, match="JSON object"):
        parse_suite([], SOURCE)
    doc = minimal_doc()
    doc["items"][1] = "not an item"
    assert "item #1" in error_of(doc)


def test_suite_error_is_an_mvbench_error_with_hint_in_text(tmp_path):
    with pytest.raises(SuiteError) as info:
        load_suite("no-such-suite")
    err = info.value
    assert isinstance(err, MvbenchError)
    assert "'no-such-suite'" in str(err) and err.hint and "mvbench-3scene" in err.hint and "hint:" in str(err)


def test_load_from_path_names_the_file_in_errors(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(minimal_doc()), encoding="utf-8")
    assert load_suite(good).source == str(good)
    assert load_suite(str(good)).ids == ["001_harbor", "002-forest.v2"]

    bad = copy.deepcopy(minimal_doc())
    bad["items"][0]["scenes"][0]["characters"] = ["Nobody"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(SuiteError, match="Nobody") as info:
        load_suite(path)
    assert str(path) in str(info.value) and "'001_harbor'" in str(info.value)

    broken = tmp_path / "broken.json"
    broken.write_text('{"suite": "x", ', encoding="utf-8")
    with pytest.raises(SuiteError, match="not valid JSON") as info:
        load_suite(broken)
    assert str(broken) in str(info.value)

    with pytest.raises(SuiteError, match="does not exist"):
        load_suite(tmp_path / "missing.json")


def test_content_hash_ignores_formatting_and_description_but_not_content():
    doc = minimal_doc()
    base = parse_suite(doc).content_hash
    reordered = json.loads(json.dumps(doc, sort_keys=True, indent=4))
    reordered["description"] = "something else"
    assert parse_suite(reordered, "elsewhere").content_hash == base
    changed = minimal_doc()
    changed["items"][0]["characters"]["Actor1"] = "tall woman, red coat."
    assert parse_suite(changed).content_hash != base
    bumped = minimal_doc()
    bumped["version"] = "2.2"
    assert parse_suite(bumped).content_hash != base


def test_the_example_in_docs_suites_md_is_a_valid_suite():
    docs = Path(__file__).resolve().parents[1] / "docs" / "suites.md"
    block = re.search(r"```json\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert block, "docs/suites.md lost its JSON example"
    s = parse_suite(json.loads(block.group(1)), "docs/suites.md")
    assert s.ids == ["001_harbor", "002_forest"]
    assert s.items[0].scenes[1].frame_ranges == ((0, 40), (40, 81))
